//! URPC against the physical baseline and other queues, cross-core.
//!
//! ```text
//! cargo run --release -p urpc --example compare
//! ```
//!
//! A thin host driver around `urpc::bench`: it pins the measuring thread to
//! the first core and the other side to the second, wraps the competitor
//! queues in `bench::Tx` / `bench::Rx` so they run the very same loops, and
//! prints a table. Every configuration is measured in several rounds,
//! interleaved, so that slow drift of the host affects all of them alike; the
//! first 10% of each round is discarded and the rest pooled.
//!
//! The last lines compare the default variant (ack line) with the others;
//! see `urpc/README.md` for the meaning of every column.

use std::sync::Arc;
use std::sync::mpsc;
use std::thread;

use crossbeam_queue::ArrayQueue;
use urpc::bench::{self, PingPong, Rx, Stall, Summary, Tx};
use urpc::{AckLine, CacheLine, Duplex, FlowControl, Side, UsedBit, Variant, duplex_region_size};

/// Slots per ring (and capacity of every competitor queue): one 4 KiB page
/// per URPC ring.
const SLOTS: usize = 60;
/// Interleaved rounds per configuration.
const ROUNDS: usize = 10;
/// Round trips per round.
const RTT_ROUND_TRIPS: usize = 20_000;
/// Round trips timed together per sample.
const RTT_BATCH: u64 = bench::DEFAULT_BATCH;
/// Round-trip samples per round.
const RTT_SAMPLES: usize = RTT_ROUND_TRIPS / RTT_BATCH as usize;
/// Messages per throughput sample.
const TP_BATCH: u64 = 1_000;
/// Throughput samples per round.
const TP_SAMPLES: usize = 200;

// ---------------------------------------------------------------- competitors

struct RtrbTx(rtrb::Producer<u64>);
struct RtrbRx(rtrb::Consumer<u64>);
impl Tx for RtrbTx {
    type Msg = u64;
    #[inline(always)]
    fn try_send_msg(&mut self, &v: &u64) -> Result<(), Stall> {
        self.0.push(v).map_err(|_| Stall::Retry)
    }
}
impl Rx for RtrbRx {
    type Msg = u64;
    #[inline(always)]
    fn try_recv_msg(&mut self) -> Result<u64, Stall> {
        self.0.pop().map_err(|_| Stall::Retry)
    }
}

struct AqTx(Arc<ArrayQueue<u64>>);
struct AqRx(Arc<ArrayQueue<u64>>);
impl Tx for AqTx {
    type Msg = u64;
    #[inline(always)]
    fn try_send_msg(&mut self, &v: &u64) -> Result<(), Stall> {
        self.0.push(v).map_err(|_| Stall::Retry)
    }
}
impl Rx for AqRx {
    type Msg = u64;
    #[inline(always)]
    fn try_recv_msg(&mut self) -> Result<u64, Stall> {
        self.0.pop().ok_or(Stall::Retry)
    }
}

struct CbTx(crossbeam_channel::Sender<u64>);
struct CbRx(crossbeam_channel::Receiver<u64>);
impl Tx for CbTx {
    type Msg = u64;
    #[inline(always)]
    fn try_send_msg(&mut self, &v: &u64) -> Result<(), Stall> {
        match self.0.try_send(v) {
            Ok(()) => Ok(()),
            Err(crossbeam_channel::TrySendError::Full(_)) => Err(Stall::Retry),
            Err(_) => Err(Stall::Broken),
        }
    }
}
impl Rx for CbRx {
    type Msg = u64;
    #[inline(always)]
    fn try_recv_msg(&mut self) -> Result<u64, Stall> {
        match self.0.try_recv() {
            Ok(v) => Ok(v),
            Err(crossbeam_channel::TryRecvError::Empty) => Err(Stall::Retry),
            Err(_) => Err(Stall::Broken),
        }
    }
}

struct MpscTx(mpsc::SyncSender<u64>);
struct MpscRx(mpsc::Receiver<u64>);
impl Tx for MpscTx {
    type Msg = u64;
    #[inline(always)]
    fn try_send_msg(&mut self, &v: &u64) -> Result<(), Stall> {
        match self.0.try_send(v) {
            Ok(()) => Ok(()),
            Err(mpsc::TrySendError::Full(_)) => Err(Stall::Retry),
            Err(_) => Err(Stall::Broken),
        }
    }
}
impl Rx for MpscRx {
    type Msg = u64;
    #[inline(always)]
    fn try_recv_msg(&mut self) -> Result<u64, Stall> {
        match self.0.try_recv() {
            Ok(v) => Ok(v),
            Err(mpsc::TryRecvError::Empty) => Err(Stall::Retry),
            Err(_) => Err(Stall::Broken),
        }
    }
}

// ---------------------------------------------------------------- driver

#[derive(Clone, Copy, PartialEq, strum::IntoStaticStr)]
enum Queue {
    #[strum(serialize = "raw ping-pong, ring lines")]
    Raw,
    #[strum(serialize = "raw ping-pong, one pair")]
    RawPair,
    #[strum(serialize = "urpc ack line (default)")]
    UrpcAck,
    #[strum(serialize = "urpc used bit")]
    UrpcUsed,
    #[strum(serialize = "rtrb")]
    Rtrb,
    #[strum(serialize = "crossbeam ArrayQueue")]
    CrossbeamArray,
    #[strum(serialize = "crossbeam bounded chan")]
    CrossbeamChannel,
    #[strum(serialize = "std mpsc sync_channel")]
    Mpsc,
}

impl Queue {
    const ALL: [Queue; 8] = [
        Queue::Raw,
        Queue::RawPair,
        Queue::UrpcAck,
        Queue::UrpcUsed,
        Queue::Rtrb,
        Queue::CrossbeamArray,
        Queue::CrossbeamChannel,
        Queue::Mpsc,
    ];

    fn name(self) -> &'static str {
        self.into()
    }
}

struct Pins {
    here: core_affinity::CoreId,
    there: core_affinity::CoreId,
}

/// Runs `other` on the second core while the current (first-core) thread
/// runs `measure`.
fn pair<M: Send, O: Send>(
    pins: &Pins,
    measure: impl FnOnce() -> M + Send,
    other: impl FnOnce() -> O + Send,
) -> (M, O) {
    thread::scope(|s| {
        let there = pins.there;
        let h = s.spawn(move || {
            assert!(core_affinity::set_for_current(there), "pinning failed");
            other()
        });
        let m = measure();
        (m, h.join().expect("other side panicked"))
    })
}

/// A value alone in its 128-byte blocks: the two sides' endpoints are made
/// on this thread, and each side's endpoint state (positions, cached
/// counts) must not share a cache line, or an adjacent-line pair, with the
/// other's.
#[repr(C, align(128))]
struct Alone<T>(T);

fn rtt_pair<M, T1, R1, T2, R2>(pins: &Pins, a: (T1, R1), b: (T2, R2), samples: &mut [u64])
where
    M: bench::BenchMsg,
    T1: Tx<Msg = M> + Send,
    R1: Rx<Msg = M> + Send,
    T2: Tx<Msg = M> + Send,
    R2: Rx<Msg = M> + Send,
{
    let n = bench::batched_ops(samples.len(), RTT_BATCH);
    let (mut a, mut b) = (Alone(a), Alone(b));
    let (bad, done) = pair(
        pins,
        || bench::rtt_initiator(&mut a.0.0, &mut a.0.1, RTT_BATCH, samples),
        || bench::rtt_responder(&mut b.0.1, &mut b.0.0, n),
    );
    done.expect("responder failed");
    assert_eq!(bad.expect("initiator failed"), 0, "corrupted echo");
}

fn tp_pair<T: Tx + Send, R: Rx<Msg = T::Msg> + Send>(
    pins: &Pins,
    tx: T,
    rx: R,
    samples: &mut [u64],
) {
    let count = bench::throughput_messages(samples.len(), TP_BATCH);
    let (mut tx, mut rx) = (Alone(tx), Alone(rx));
    let (bad, done) = pair(
        pins,
        || bench::throughput_receiver(&mut rx.0, TP_BATCH, samples),
        || bench::throughput_sender(&mut tx.0, count),
    );
    done.expect("sender failed");
    assert_eq!(
        bad.expect("receiver failed"),
        0,
        "lost or reordered message"
    );
}

fn duplex_bytes() -> Vec<CacheLine> {
    vec![CacheLine::ZERO; duplex_region_size(SLOTS) / 64]
}

fn urpc_rtt<F: FlowControl>(pins: &Pins, samples: &mut [u64]) {
    let mut mem = duplex_bytes();
    let d = Duplex::format(CacheLine::as_bytes_mut(&mut mem), SLOTS, F::VARIANT).unwrap();
    let a = d.endpoint::<F>(Side::A).unwrap();
    let b = d.endpoint::<F>(Side::B).unwrap();
    rtt_pair(pins, (a.tx, a.rx), (b.tx, b.rx), samples);
}

fn urpc_tp<F: FlowControl>(pins: &Pins, samples: &mut [u64]) {
    let mut mem = duplex_bytes();
    let d = Duplex::format(CacheLine::as_bytes_mut(&mut mem), SLOTS, F::VARIANT).unwrap();
    let tx = d.a_to_b.sender::<F>().unwrap();
    let rx = d.a_to_b.receiver::<F>().unwrap();
    tp_pair(pins, tx, rx, samples);
}

fn rtt(q: Queue, pins: &Pins, samples: &mut [u64]) {
    match q {
        Queue::Raw => {
            let mut mem = duplex_bytes();
            let d =
                Duplex::format(CacheLine::as_bytes_mut(&mut mem), SLOTS, Variant::AckLine).unwrap();
            let n = bench::batched_ops(samples.len(), RTT_BATCH);
            pair(
                pins,
                || bench::lines_ping_pong_initiator(d, 0, RTT_BATCH, samples),
                || bench::lines_ping_pong_responder(d, 0, n),
            );
        }
        Queue::RawPair => {
            let lines = PingPong::new();
            let n = bench::batched_ops(samples.len(), RTT_BATCH);
            pair(
                pins,
                || bench::ping_pong_initiator(&lines, RTT_BATCH, samples),
                || bench::ping_pong_responder(&lines, n),
            );
        }
        Queue::UrpcAck => urpc_rtt::<AckLine>(pins, samples),
        Queue::UrpcUsed => urpc_rtt::<UsedBit>(pins, samples),
        Queue::Rtrb => {
            let (p1, c1) = rtrb::RingBuffer::new(SLOTS);
            let (p2, c2) = rtrb::RingBuffer::new(SLOTS);
            rtt_pair(
                pins,
                (RtrbTx(p1), RtrbRx(c2)),
                (RtrbTx(p2), RtrbRx(c1)),
                samples,
            );
        }
        Queue::CrossbeamArray => {
            let q1 = Arc::new(ArrayQueue::new(SLOTS));
            let q2 = Arc::new(ArrayQueue::new(SLOTS));
            rtt_pair(
                pins,
                (AqTx(q1.clone()), AqRx(q2.clone())),
                (AqTx(q2), AqRx(q1)),
                samples,
            );
        }
        Queue::CrossbeamChannel => {
            let (s1, r1) = crossbeam_channel::bounded(SLOTS);
            let (s2, r2) = crossbeam_channel::bounded(SLOTS);
            rtt_pair(pins, (CbTx(s1), CbRx(r2)), (CbTx(s2), CbRx(r1)), samples);
        }
        Queue::Mpsc => {
            let (s1, r1) = mpsc::sync_channel(SLOTS);
            let (s2, r2) = mpsc::sync_channel(SLOTS);
            rtt_pair(
                pins,
                (MpscTx(s1), MpscRx(r2)),
                (MpscTx(s2), MpscRx(r1)),
                samples,
            );
        }
    }
}

fn throughput(q: Queue, pins: &Pins, samples: &mut [u64]) -> bool {
    match q {
        Queue::Raw | Queue::RawPair => return false,
        Queue::UrpcAck => urpc_tp::<AckLine>(pins, samples),
        Queue::UrpcUsed => urpc_tp::<UsedBit>(pins, samples),
        Queue::Rtrb => {
            let (p, c) = rtrb::RingBuffer::new(SLOTS);
            tp_pair(pins, RtrbTx(p), RtrbRx(c), samples);
        }
        Queue::CrossbeamArray => {
            let q = Arc::new(ArrayQueue::new(SLOTS));
            tp_pair(pins, AqTx(q.clone()), AqRx(q), samples);
        }
        Queue::CrossbeamChannel => {
            let (s, r) = crossbeam_channel::bounded(SLOTS);
            tp_pair(pins, CbTx(s), CbRx(r), samples);
        }
        Queue::Mpsc => {
            let (s, r) = mpsc::sync_channel(SLOTS);
            tp_pair(pins, MpscTx(s), MpscRx(r), samples);
        }
    }
    true
}

struct Row {
    /// Per round trip, hundredths of a cycle.
    rtt: Summary,
    tp: Option<Summary>,
}

/// Cycles from hundredths of a cycle.
fn cyc(x100: u64) -> f64 {
    x100 as f64 / 100.0
}

fn kcycle(cycles: u64) -> f64 {
    TP_BATCH as f64 * 1000.0 / cycles as f64
}

fn main() {
    let cores = core_affinity::get_core_ids().unwrap_or_default();
    if cores.len() < 2 {
        eprintln!("need two cores to pin to, found {}", cores.len());
        std::process::exit(1);
    }
    let pins = Pins {
        here: cores[0],
        there: cores[1],
    };
    assert!(core_affinity::set_for_current(pins.here), "pinning failed");

    let timer = bench::timer_resolution(&mut vec![0u64; 100_000]);
    let overhead = timer.overhead;

    let mut rtt_pool: Vec<Vec<u64>> = vec![Vec::new(); Queue::ALL.len()];
    let mut tp_pool: Vec<Vec<u64>> = vec![Vec::new(); Queue::ALL.len()];
    let mut rtt_buf = vec![0u64; RTT_SAMPLES];
    let mut tp_buf = vec![0u64; TP_SAMPLES];
    let mut round_medians: Vec<Vec<f64>> = vec![Vec::new(); Queue::ALL.len()];
    for _ in 0..ROUNDS {
        for (i, &q) in Queue::ALL.iter().enumerate() {
            rtt(q, &pins, &mut rtt_buf);
            let warm = bench::discard_warmup(&mut rtt_buf);
            rtt_pool[i].extend_from_slice(warm);
            let mut copy = warm.to_vec();
            round_medians[i].push(
                Summary::per_op(&mut copy, overhead, RTT_BATCH).map_or(0.0, |s| cyc(s.median)),
            );
            if throughput(q, &pins, &mut tp_buf) {
                tp_pool[i].extend_from_slice(bench::discard_warmup(&mut tp_buf));
            }
        }
    }

    let rows: Vec<Row> = (0..Queue::ALL.len())
        .map(|i| Row {
            rtt: Summary::per_op(&mut rtt_pool[i], overhead, RTT_BATCH).expect("no samples"),
            // One timestamp pair per batch: its overhead is negligible but
            // subtracted all the same.
            tp: Summary::of(&mut tp_pool[i], overhead),
        })
        .collect();

    println!(
        "cores {} and {}; ring/queue capacity {SLOTS}; timer step {} cycles, \
         rdtsc overhead {overhead} cycles (subtracted once per timed batch)",
        pins.here.id, pins.there.id, timer.step
    );
    println!(
        "round trip: {ROUNDS} rounds x {RTT_SAMPLES} batches of {RTT_BATCH} round trips, \
         first 10% of each round discarded; \
         throughput: {ROUNDS} rounds x {TP_SAMPLES} batches of {TP_BATCH} messages"
    );
    println!("all figures in TSC cycles; throughput in messages per 1000 cycles (kcycle)");
    println!();
    println!(
        "{:<26} {:>9} {:>9} {:>9} {:>9} {:>12} {:>12}",
        "queue", "rtt_med", "rtt_p99", "rtt_min", "one_way", "tput_med", "tput_p99"
    );
    for (q, r) in Queue::ALL.iter().zip(&rows) {
        let (tm, tp) = match r.tp {
            Some(s) => (
                format!("{:.2}", kcycle(s.median)),
                format!("{:.2}", kcycle(s.p99)),
            ),
            None => ("-".into(), "-".into()),
        };
        println!(
            "{:<26} {:>9.2} {:>9.2} {:>9.2} {:>9.2} {:>12} {:>12}",
            q.name(),
            cyc(r.rtt.median),
            cyc(r.rtt.p99),
            cyc(r.rtt.min),
            cyc(r.rtt.median) / 2.0,
            tm,
            tp
        );
    }
    println!();
    for (q, m) in Queue::ALL.iter().zip(&round_medians).take(4) {
        println!("{:<26} rtt_med per round: {m:?}", q.name());
    }
    let raw = &round_medians[0];
    let lo = raw.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = raw.iter().copied().fold(0.0, f64::max);
    if hi > 1.3 * lo {
        println!(
            "warning: the raw baseline changed between rounds ({lo}..{hi} cycles): the host \
             moved the vCPUs during the run; rerun for a stable comparison"
        );
    }
    // The same ratio round by round (each round measures both within
    // moments of each other), less sensitive to the host moving the vCPUs.
    let ack = Queue::ALL
        .iter()
        .position(|&q| q == Queue::UrpcAck)
        .unwrap();
    let mut per_round: Vec<f64> = (0..ROUNDS)
        .map(|r| round_medians[ack][r] / round_medians[0][r])
        .collect();
    per_round.sort_by(f64::total_cmp);
    let row = |q: Queue| &rows[Queue::ALL.iter().position(|&x| x == q).unwrap()];
    let urpc = row(Queue::UrpcAck);
    let ratio = |q: Queue| urpc.rtt.median as f64 / row(q).rtt.median as f64;
    println!();
    println!(
        "urpc = {:?} flow control (the default variant); targets: rtt <= 1.10x raw, \
         <= 1.00x rtrb, <= 0.80x crossbeam ArrayQueue; throughput >= 12 msgs/kcycle",
        Variant::AckLine
    );
    println!("urpc_rtt/raw_rtt = {:.2}", ratio(Queue::Raw));
    println!(
        "urpc_rtt/raw_rtt per round = {:.2} (median; {:.2}..{:.2})",
        per_round[ROUNDS / 2],
        per_round[0],
        per_round[ROUNDS - 1]
    );
    println!(
        "urpc_rtt/raw_rtt (one pair of lines) = {:.2}",
        ratio(Queue::RawPair)
    );
    println!("urpc_rtt/rtrb_rtt = {:.2}", ratio(Queue::Rtrb));
    println!(
        "urpc_rtt/crossbeam_rtt = {:.2}",
        ratio(Queue::CrossbeamArray)
    );
    println!(
        "urpc_throughput = {:.2} msgs/kcycle",
        kcycle(urpc.tp.expect("urpc throughput").median)
    );
}
