//! Where a URPC round trip's cycles go, cross-core.
//!
//! ```text
//! cargo run --release -p urpc --example anatomy
//! ```
//!
//! Runs the same batched round-trip loop (`urpc::bench`) over a ladder of
//! channels, each adding one thing to the one before, in interleaved
//! rounds, and prints each one's median round trip and its ratio to the
//! physical baseline measured in the same round:
//!
//! 1. `raw lines`: the physical baseline, one 8-byte flag per message
//!    through the slot lines of a duplex region
//!    (`bench::lines_ping_pong_initiator`);
//! 2. `bare ring`: the same slots carrying the full 56-byte payload and an
//!    `seq | full` header written last, and nothing else (no flow control,
//!    no header checks, no length or tag): the least a ring can do;
//! 3. `bare ring + ack line`: 2 plus the ack-line flow control (the
//!    receiver publishes its count when it finds the ring empty, the sender
//!    reads it once per ring's worth of messages, right after a send);
//! 4. `urpc ack line`: the real channel, default variant;
//! 5. `urpc used bit`: the real channel, the other variant.
//!
//! The baseline and both channels use the same region (formatted again
//! before each), so that the same lines, in the same pages, are compared;
//! each side's endpoint state is kept in 128-byte blocks of its own. Nothing
//! here asserts on time.

use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;

use urpc::bench::{self, Rx, Stall, Summary, Tx};
use urpc::{
    AckLine, CacheLine, Duplex, FlowControl, HEADER_FULL, PAYLOAD_WORDS, Side, UsedBit, Variant,
    duplex_region_size,
};

const SLOTS: usize = 60;
const ROUNDS: usize = 20;
const ROUND_TRIPS: usize = 20_000;
const BATCH: u64 = bench::DEFAULT_BATCH;
const SAMPLES: usize = ROUND_TRIPS / BATCH as usize;

/// One slot of the bare ring: payload words, then the header.
#[repr(C, align(64))]
struct Line([AtomicU64; 8]);

/// A bare ring: an ack line on its own 128-byte block, then the slots.
#[repr(C, align(128))]
struct BareRing {
    ack: AtomicU64,
    _pad: [u64; 15],
    slots: [Line; SLOTS],
}

impl BareRing {
    fn new() -> Box<BareRing> {
        Box::new(BareRing {
            ack: AtomicU64::new(0),
            _pad: [0; 15],
            slots: std::array::from_fn(|_| Line(std::array::from_fn(|_| AtomicU64::new(0)))),
        })
    }
}

struct BareTx<'a> {
    ring: &'a BareRing,
    seq: u64,
    idx: usize,
    ack: bool,
}

struct BareRx<'a> {
    ring: &'a BareRing,
    seq: u64,
    idx: usize,
    ack: bool,
    published: u64,
}

impl Tx for BareTx<'_> {
    type Msg = [u64; PAYLOAD_WORDS];
    #[inline(always)]
    fn try_send_msg(&mut self, msg: &Self::Msg) -> Result<(), Stall> {
        let slot = &self.ring.slots[self.idx].0;
        for (w, v) in slot.iter().zip(msg) {
            w.store(*v, Ordering::Relaxed);
        }
        slot[7].store(self.seq | HEADER_FULL, Ordering::Release);
        self.seq += 1;
        self.idx += 1;
        if self.idx == SLOTS {
            self.idx = 0;
            if self.ack {
                // A round trip never fills the ring; read the count anyway,
                // as often as the channel does.
                std::hint::black_box(self.ring.ack.load(Ordering::Acquire));
            }
        }
        Ok(())
    }
}

impl Rx for BareRx<'_> {
    type Msg = [u64; PAYLOAD_WORDS];
    #[inline(always)]
    fn try_recv_msg(&mut self) -> Result<Self::Msg, Stall> {
        let slot = &self.ring.slots[self.idx].0;
        if slot[7].load(Ordering::Acquire) != self.seq | HEADER_FULL {
            if self.ack && self.published != self.seq {
                self.ring.ack.store(self.seq, Ordering::Release);
                self.published = self.seq;
            }
            return Err(Stall::Retry);
        }
        let msg = std::array::from_fn(|i| slot[i].load(Ordering::Relaxed));
        self.seq += 1;
        self.idx += 1;
        if self.idx == SLOTS {
            self.idx = 0;
        }
        Ok(msg)
    }
}

/// Runs `other` on core `there` while this thread runs `measure`.
fn pair<M: Send>(
    there: core_affinity::CoreId,
    measure: impl FnOnce() -> M + Send,
    other: impl FnOnce() + Send,
) -> M {
    thread::scope(|s| {
        s.spawn(move || {
            assert!(core_affinity::set_for_current(there), "pinning failed");
            other()
        });
        measure()
    })
}

/// A value alone in its 128-byte blocks, so that the two sides' endpoint
/// state (made on this thread) shares no line with the other's.
#[repr(C, align(128))]
struct Alone<T>(T);

fn round_trips<T1, R1, T2, R2>(
    there: core_affinity::CoreId,
    a: (T1, R1),
    b: (T2, R2),
    samples: &mut [u64],
) where
    T1: Tx<Msg = [u64; PAYLOAD_WORDS]> + Send,
    R1: Rx<Msg = [u64; PAYLOAD_WORDS]> + Send,
    T2: Tx<Msg = [u64; PAYLOAD_WORDS]> + Send,
    R2: Rx<Msg = [u64; PAYLOAD_WORDS]> + Send,
{
    let n = bench::batched_ops(samples.len(), BATCH);
    let (mut a, mut b) = (Alone(a), Alone(b));
    let bad = pair(
        there,
        || bench::rtt_initiator(&mut a.0.0, &mut a.0.1, BATCH, samples),
        || bench::rtt_responder(&mut b.0.1, &mut b.0.0, n).expect("responder"),
    );
    assert_eq!(bad.expect("initiator"), 0, "corrupted echo");
}

fn duplex_bytes() -> Vec<CacheLine> {
    vec![CacheLine::ZERO; duplex_region_size(SLOTS) / 64]
}

fn urpc<F: FlowControl>(there: core_affinity::CoreId, mem: &mut [CacheLine], samples: &mut [u64]) {
    let d = Duplex::format(CacheLine::as_bytes_mut(mem), SLOTS, F::VARIANT).unwrap();
    let a = d.endpoint::<F>(Side::A).unwrap();
    let b = d.endpoint::<F>(Side::B).unwrap();
    round_trips(there, (a.tx, a.rx), (b.tx, b.rx), samples);
}

fn bare(there: core_affinity::CoreId, ack: bool, samples: &mut [u64]) {
    let (ab, ba) = (BareRing::new(), BareRing::new());
    let tx = |ring| BareTx {
        ring,
        seq: 0,
        idx: 0,
        ack,
    };
    let rx = |ring| BareRx {
        ring,
        seq: 0,
        idx: 0,
        ack,
        published: 0,
    };
    round_trips(there, (tx(&ab), rx(&ba)), (tx(&ba), rx(&ab)), samples);
}

const NAMES: [&str; 5] = [
    "raw lines",
    "bare ring",
    "bare ring + ack line",
    "urpc ack line",
    "urpc used bit",
];

fn main() {
    let cores = core_affinity::get_core_ids().unwrap_or_default();
    if cores.len() < 2 {
        eprintln!("need two cores to pin to, found {}", cores.len());
        std::process::exit(1);
    }
    assert!(core_affinity::set_for_current(cores[0]), "pinning failed");
    let there = cores[1];
    let timer = bench::timer_resolution(&mut vec![0; 100_000]);
    let mut per_round: Vec<Vec<f64>> = vec![Vec::new(); NAMES.len()];
    let mut buf = vec![0u64; SAMPLES];
    let mut mem = duplex_bytes();
    for _ in 0..ROUNDS {
        for (v, medians) in per_round.iter_mut().enumerate() {
            match v {
                0 => {
                    let d =
                        Duplex::format(CacheLine::as_bytes_mut(&mut mem), SLOTS, Variant::AckLine)
                            .unwrap();
                    let n = bench::batched_ops(buf.len(), BATCH);
                    pair(
                        there,
                        || bench::lines_ping_pong_initiator(d, 0, BATCH, &mut buf),
                        || bench::lines_ping_pong_responder(d, 0, n),
                    );
                }
                1 => bare(there, false, &mut buf),
                2 => bare(there, true, &mut buf),
                3 => urpc::<AckLine>(there, &mut mem, &mut buf),
                _ => urpc::<UsedBit>(there, &mut mem, &mut buf),
            }
            let kept = bench::discard_warmup(&mut buf);
            let s = Summary::per_op(kept, timer.overhead, BATCH).expect("samples");
            medians.push(s.median as f64 / 100.0);
        }
    }
    println!(
        "timer step {} cycles, overhead {} cycles; {ROUNDS} rounds x {SAMPLES} batches of {BATCH} round trips",
        timer.step, timer.overhead
    );
    println!(
        "{:<22} {:>9} {:>9}  (median over rounds; x raw: of the per-round ratios, range)",
        "channel", "rtt", "x raw"
    );
    let sorted = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v
    };
    for (v, name) in NAMES.iter().enumerate() {
        let rtt = sorted(per_round[v].clone());
        let ratio = sorted(
            (0..ROUNDS)
                .map(|r| per_round[v][r] / per_round[0][r])
                .collect(),
        );
        println!(
            "{name:<22} {:>9.2} {:>9.3}  ({:.3}..{:.3})",
            rtt[ROUNDS / 2],
            ratio[ROUNDS / 2],
            ratio[0],
            ratio[ROUNDS - 1]
        );
    }
}
