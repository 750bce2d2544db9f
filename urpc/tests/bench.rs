//! The measurement helpers of `urpc::bench`: batching, per-operation
//! division and rounding, warm-up, the timer's resolution. Nothing here
//! asserts on time: the loops run, and their bookkeeping is checked.

#![cfg(target_arch = "x86_64")]

use std::collections::VecDeque;
use std::sync::Arc;
use std::thread;

use urpc::bench::{self, PingPong, Rx, Stall, Summary, Tx};
use urpc::{
    AckLine, CacheLine, Duplex, DuplexMem, HEADER_FULL, SLOT_BYTES, SLOT_HEADER_OFFSET,
    SLOTS_OFFSET, Side, UsedBit, Variant, duplex_region_size, region_size,
};

#[test]
fn per_op_divides_and_rounds_to_nearest_hundredth() {
    // 1001 cycles over 4 operations: 250.25 cycles each.
    assert_eq!(bench::per_op_x100(1001, 4), 25_025);
    assert_eq!(bench::per_op_x100(1003, 4), 25_075);
    // 1/3 = 0.333.. -> 0.33; 2/3 = 0.666.. -> 0.67; 1/8 = 0.125 -> 0.13.
    assert_eq!(bench::per_op_x100(1, 3), 33);
    assert_eq!(bench::per_op_x100(2, 3), 67);
    assert_eq!(bench::per_op_x100(1, 8), 13);
    assert_eq!(bench::per_op_x100(9600, 32), 30_000);
    assert_eq!(bench::per_op_x100(7, 1), 700);
    assert_eq!(bench::per_op_x100(0, 32), 0);
    assert_eq!(bench::per_op_x100(5, 0), 0);
    assert_eq!(bench::per_op_x100(u64::MAX, 1), u64::MAX);
}

#[test]
fn per_op_summary_subtracts_the_overhead_once_per_batch() {
    // Overhead 10 per sample of 4 operations: (1011 - 10) / 4 = 250.25,
    // (1013 - 10) / 4 = 250.75, and a sample under the overhead is 0.
    let mut samples = [1013, 5, 1011, 1011, 1013];
    let s = Summary::per_op(&mut samples, 10, 4).unwrap();
    assert_eq!(s.count, 5);
    assert_eq!((s.min, s.median, s.p99, s.max), (0, 25_025, 25_075, 25_075));
    assert_eq!(
        samples,
        [0, 25_025, 25_025, 25_075, 25_075],
        "sorted in place"
    );
    assert_eq!(Summary::per_op(&mut [], 10, 4), None);
}

#[test]
fn warm_up_is_dropped_from_batched_samples_before_they_are_summarised() {
    // 20 batches in time order: the first 10% (two) are warm-up.
    let mut samples: Vec<u64> = (0..20)
        .map(|i| if i < 2 { 100_000 } else { 3200 })
        .collect();
    let kept = bench::discard_warmup(&mut samples);
    assert_eq!(kept.len(), 18);
    let s = Summary::per_op(kept, 0, 32).unwrap();
    assert_eq!((s.min, s.max), (10_000, 10_000));
    assert_eq!(bench::batched_ops(20, 32), 640);
    assert_eq!(bench::batched_ops(0, 32), 0);
}

#[test]
fn the_smallest_step_ignores_zero_differences() {
    assert_eq!(bench::smallest_step(&[0, 49, 24, 0, 25, 73]), 24);
    assert_eq!(bench::smallest_step(&[1]), 1);
    assert_eq!(bench::smallest_step(&[0, 0]), 0);
    assert_eq!(bench::smallest_step(&[]), 0);
}

#[test]
fn the_timer_resolution_runs_on_any_slice() {
    let r = bench::timer_resolution(&mut []);
    assert_eq!((r.step, r.overhead), (0, 0));
    let mut samples = vec![0; 1000];
    let r = bench::timer_resolution(&mut samples);
    // The overhead is the smallest begin/end pair kept after warm-up, which
    // `tsc_overhead` leaves sorted at the front of the kept samples.
    assert_eq!(r.overhead, bench::discard_warmup(&mut samples)[0]);
}

/// A loopback queue: what is sent comes straight back, so a round trip
/// runs on one thread. It counts the messages and can damage one.
#[derive(Default)]
struct Loopback {
    queue: VecDeque<u64>,
    sent: Vec<u64>,
    damage: Option<u64>,
}

struct LoopTx<'a>(&'a std::cell::RefCell<Loopback>);
struct LoopRx<'a>(&'a std::cell::RefCell<Loopback>);

impl Tx for LoopTx<'_> {
    type Msg = u64;
    fn try_send_msg(&mut self, &v: &u64) -> Result<(), Stall> {
        let mut l = self.0.borrow_mut();
        l.sent.push(v);
        let v = if l.damage == Some(v) { v ^ 1 } else { v };
        l.queue.push_back(v);
        Ok(())
    }
}

impl Rx for LoopRx<'_> {
    type Msg = u64;
    fn try_recv_msg(&mut self) -> Result<u64, Stall> {
        self.0.borrow_mut().queue.pop_front().ok_or(Stall::Retry)
    }
}

#[test]
fn each_round_trip_sample_runs_a_whole_batch_of_distinct_messages() {
    let l = std::cell::RefCell::new(Loopback::default());
    let mut samples = [0u64; 5];
    let bad = bench::rtt_initiator(&mut LoopTx(&l), &mut LoopRx(&l), 8, &mut samples).unwrap();
    assert_eq!(bad, 0);
    let expected: Vec<u64> = (0..bench::batched_ops(5, 8) as u64).collect();
    assert_eq!(l.borrow().sent, expected, "5 samples of 8 round trips");
    assert!(l.borrow().queue.is_empty());

    let l = std::cell::RefCell::new(Loopback {
        damage: Some(13),
        ..Loopback::default()
    });
    let bad = bench::rtt_initiator(&mut LoopTx(&l), &mut LoopRx(&l), 8, &mut samples).unwrap();
    assert_eq!(bad, 1, "the damaged echo in the second batch is counted");
}

#[test]
fn batched_ping_pong_and_round_trips_complete_across_threads() {
    // Few: with more spinning threads than free cores, each round trip may
    // wait for a scheduler quantum.
    const SAMPLES: usize = 3;
    const BATCH: u64 = 4;
    let rounds = bench::batched_ops(SAMPLES, BATCH);

    let lines = PingPong::new();
    let mut samples = [0u64; SAMPLES];
    thread::scope(|s| {
        s.spawn(|| bench::ping_pong_responder(&lines, rounds));
        bench::ping_pong_initiator(&lines, BATCH, &mut samples);
    });

    fn urpc<F: urpc::FlowControl>(variant: Variant, rounds: usize) {
        let mem: Arc<DuplexMem<4>> = Arc::new(DuplexMem::new(variant));
        let d = urpc::Duplex::attach(&mem).unwrap();
        let mut a = d.endpoint::<F>(Side::A).unwrap();
        let mut b = d.endpoint::<F>(Side::B).unwrap();
        let mut samples = [0u64; SAMPLES];
        let bad = thread::scope(|s| {
            s.spawn(|| bench::rtt_responder(&mut b.rx, &mut b.tx, rounds).unwrap());
            bench::rtt_initiator(&mut a.tx, &mut a.rx, BATCH, &mut samples).unwrap()
        });
        assert_eq!(bad, 0);
        assert_eq!(a.tx.sent(), rounds as u64);
        assert_eq!(b.tx.sent(), rounds as u64);
    }
    urpc::<AckLine>(Variant::AckLine, rounds);
    urpc::<UsedBit>(Variant::UsedBit, rounds);
}

#[test]
fn the_lines_ping_pong_moves_through_every_slot_of_both_rings_in_turn() {
    const SLOTS: usize = 3;
    const BATCH: u64 = 2;
    let mut mem = vec![CacheLine::ZERO; duplex_region_size(SLOTS) / 64];
    let bytes = CacheLine::as_bytes_mut(&mut mem);
    let d = Duplex::format(bytes, SLOTS, Variant::AckLine).unwrap();
    let mut samples = [0u64; 4];
    let rounds = bench::batched_ops(samples.len(), BATCH);
    // Two runs on the same lines: the second starts after the first's rounds.
    for first in [0, rounds as u64] {
        thread::scope(|s| {
            s.spawn(|| bench::lines_ping_pong_responder(d, first, rounds));
            bench::lines_ping_pong_initiator(d, first, BATCH, &mut samples);
        });
    }
    // 16 rounds over 3 slots: round r used slot r mod 3, so the last rounds
    // to touch slots 0, 1, 2 were 15, 16, 14, in both rings.
    let header = |ring: usize, slot: usize| {
        let at = ring * region_size(SLOTS) + SLOTS_OFFSET + slot * SLOT_BYTES + SLOT_HEADER_OFFSET;
        u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap())
    };
    for ring in 0..2 {
        let last: Vec<u64> = (0..SLOTS).map(|i| header(ring, i) & !HEADER_FULL).collect();
        assert_eq!(last, [15, 16, 14], "ring {ring}");
        assert!((0..SLOTS).all(|i| header(ring, i) & HEADER_FULL != 0));
    }
}

#[test]
fn the_lines_stream_carries_every_message_in_order_within_the_credit() {
    const SLOTS: usize = 4;
    const BATCH: u64 = 8;
    let mut mem = vec![CacheLine::ZERO; duplex_region_size(SLOTS) / 64];
    let bytes = CacheLine::as_bytes_mut(&mut mem);
    let d = Duplex::format(bytes, SLOTS, Variant::AckLine).unwrap();
    let mut samples = [0u64; 64];
    let count = bench::throughput_messages(samples.len(), BATCH);
    // A ping-pong first, then two streams on the same lines, each starting
    // after every earlier run's rounds.
    let rounds = bench::batched_ops(2, BATCH);
    thread::scope(|s| {
        s.spawn(|| bench::lines_ping_pong_responder(d, 0, rounds));
        bench::lines_ping_pong_initiator(d, 0, BATCH, &mut [0u64; 2]);
    });
    let mut first = rounds as u64;
    for _ in 0..2 {
        let bad = thread::scope(|s| {
            s.spawn(|| bench::lines_stream_sender(d, first, count));
            bench::lines_stream_receiver(d, first, BATCH, &mut samples)
        });
        assert_eq!(bad, 0, "a message was overwritten before it was read");
        assert!(samples.iter().all(|&c| c > 0));
        first += count;
    }
}
