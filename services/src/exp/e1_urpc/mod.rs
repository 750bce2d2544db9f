//! E1: URPC latency and throughput per ordered core pair, beside the raw
//! cache-line ping-pong (Multikernel, Table 2).
//!
//! For each pair `src → dst`, one pair at a time while every other core
//! waits blocked in a barrier:
//!
//! 1. `src` formats the pair's regions (reused from pair to pair): a duplex
//!    region for the raw ping-pong, one ping-pong block per round, a duplex
//!    channel and a throughput ring per flow-control variant;
//! 2. barrier;
//! 3. `src` and `dst` run `rounds` rounds, each: the raw ping-pong
//!    (`src` initiates) over the slot lines of a duplex region, one 8-byte
//!    flag per message moving from slot to slot as the channel's messages
//!    do (`urpc::bench::lines_ping_pong_initiator`: a transfer's cost
//!    depends on the line's address, and the channel moves many lines), the
//!    same on one fixed pair of lines (for reference), the URPC round trip with the ack line and with the
//!    used bit (`src` initiates, `dst` echoes), the pipelined throughput
//!    of both variants (`src` sends, `dst` receives and times batches),
//!    and the raw stream over the ping-pong's lines, the baseline of that
//!    throughput (`urpc::bench::lines_stream_sender`: one store per
//!    message and one credit line, the most the lines carry; the `raw`
//!    row's `tput`).
//!    Every latency sample times `rtt_batch` consecutive round trips, the
//!    raw ping-pong's as well, and is reported per round trip in hundredths
//!    of a cycle (`urpc::bench::Summary::per_op`): the TSC may advance in
//!    steps of tens of cycles, too coarse for one round trip;
//! 4. each side summarises what it timed into the arena's result table;
//!    barrier; `src` prints the pair's three `urpc-pair` records.
//!
//! At the end core 0 prints `urpc-summary` from the whole table.

use alloc::vec;
use alloc::vec::Vec;
use core::sync::atomic::Ordering;

use urpc::bench::{self, PingPong, Summary};
use urpc::{
    AckLine, Duplex, FlowControl, Ring, Side, UsedBit, Variant, duplex_region_size, region_size,
};

use super::ExpError;
use super::declare_exp::experiment;
use super::experiment::Run;
use super::record::emit;
use super::request::{ArgsError, Request};
use super::shared::{Bump, control_bytes};
use super::stats::{Centi, median, pooled, pooled_per_op};
use crate::platform::Platform;
use crate::shm::Shared;

mod args;

pub use super::catalog::{UrpcPair, UrpcStart, UrpcSummary};
pub use args::{Pairs, UrpcArgs};

experiment! {
    /// E1 (`exp=urpc`).
    Urpc = "urpc"(UrpcArgs) run_pairs;
    plan(req, args, cores) Plan::new(req, args, cores);
    fn check(req: &Request, args: &UrpcArgs) -> Result<(), ArgsError> {
        args.check(req)
    }
}

/// The measured rows of a pair, in table order.
const ROWS: [&str; 3] = ["raw", "ack", "used"];
/// Bytes of one row in the result table: the round-trip line (written by
/// `src`) and the throughput line (written by `dst`).
const ROW_BYTES: usize = 128;

const _: () = assert!(core::mem::size_of::<PingPong>() == 256);

/// E1's parameters, defaults applied, for a number of cores.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    pub(crate) pairs: Vec<(u32, u32)>,
    pub(crate) rounds: usize,
    /// Round trips per round (a whole number of `rtt_batch` batches).
    pub(crate) samples: usize,
    /// Round trips per timed latency sample.
    pub(crate) rtt_batch: u64,
    /// Latency samples per round.
    pub(crate) rtt_samples: usize,
    pub(crate) batch: u64,
    pub(crate) tp_samples: usize,
    pub(crate) slots: usize,
    pub(crate) pairs_name: Pairs,
}

impl Plan {
    pub(crate) fn new(req: &Request, a: &UrpcArgs, cores: u32) -> Result<Plan, ExpError> {
        let q = req.quick;
        let pairs_name = a.pairs.unwrap_or(if cores <= 4 {
            Pairs::All
        } else {
            Pairs::From(0)
        });
        let n = cores;
        let pairs: Vec<(u32, u32)> = match pairs_name {
            Pairs::All => (0..n)
                .flat_map(|a| (0..n).filter(move |&b| b != a).map(move |b| (a, b)))
                .collect(),
            Pairs::Adjacent => (0..n.saturating_sub(1))
                .flat_map(|i| [(i, i + 1), (i + 1, i)])
                .collect(),
            Pairs::From(f) if f >= n => return Err(ExpError::BadRequest("from= names no core")),
            Pairs::From(f) => (0..n).filter(|&b| b != f).map(|b| (f, b)).collect(),
        };
        let rtt_batch = a.rtt_batch_in_effect();
        let rtt_samples = (a.samples_in_effect(q) as usize).div_ceil(rtt_batch as usize);
        Ok(Plan {
            pairs,
            rounds: req.rounds() as usize,
            samples: bench::batched_ops(rtt_samples, rtt_batch),
            rtt_batch,
            rtt_samples,
            batch: u64::from(a.batch.unwrap_or(if q { 100 } else { 1000 })),
            tp_samples: a.tp_samples_in_effect(q) as usize,
            slots: a.slots.unwrap_or(60) as usize,
            pairs_name,
        })
    }
}

/// Where E1's regions are in the arena.
#[derive(Clone, Copy, Debug)]
pub struct Layout {
    table: usize,
    ping_pong: usize,
    duplex: [usize; 2],
    tp_ring: [usize; 2],
    raw: usize,
    end: usize,
}

impl Layout {
    fn new(plan: &Plan, cores: u32) -> Layout {
        let mut b = Bump::at(control_bytes(cores));
        let table = b.take(plan.pairs.len() * ROWS.len() * ROW_BYTES);
        let ping_pong = b.take(plan.rounds * 256);
        let d = duplex_region_size(plan.slots);
        let r = region_size(plan.slots);
        let duplex = [b.take(d), b.take(d)];
        let tp_ring = [b.take(r), b.take(r)];
        let raw = b.take(d);
        Layout {
            table,
            ping_pong,
            duplex,
            tp_ring,
            raw,
            end: b.end(),
        }
    }

    fn row(&self, pair: usize, row: usize) -> usize {
        self.table + (pair * ROWS.len() + row) * ROW_BYTES
    }
}

/// Round-trip results, as stored in a row's first line: cycles per round
/// trip in hundredths.
#[derive(Clone, Copy, Debug, Default)]
struct RttRow {
    median_x100: u64,
    p99_x100: u64,
    min_x100: u64,
    samples: u64,
    overhead: u64,
    /// Raw row: the median on one fixed pair of lines.
    pair_median_x100: u64,
}

/// Throughput results, as stored in a row's second line.
#[derive(Clone, Copy, Debug, Default)]
struct TpRow {
    batch_median: u64,
    tput_x100: u64,
    samples: u64,
}

fn store(mem: &Shared<'_>, at: usize, words: &[u64]) {
    for (i, w) in words.iter().enumerate() {
        mem.word(at + 8 * i).store(*w, Ordering::Relaxed);
    }
}

fn load<const N: usize>(mem: &Shared<'_>, at: usize) -> [u64; N] {
    core::array::from_fn(|i| mem.word(at + 8 * i).load(Ordering::Relaxed))
}

fn rtt_row(s: Option<Summary>, overhead: u64) -> RttRow {
    s.map_or(RttRow::default(), |s| RttRow {
        median_x100: s.median,
        p99_x100: s.p99,
        min_x100: s.min,
        samples: s.count as u64,
        overhead,
        pair_median_x100: 0,
    })
}

/// Runs E1 on this core.
fn run_pairs<P: Platform>(p: &mut P, run: Run<'_, Urpc>) -> Result<(), ExpError> {
    let (plan, lay, ctl, mem, me) = (&run.plan, &run.lay, &run.ctl, &run.mem, run.me);
    let overhead = run.overhead();
    let pairs = match plan.pairs_name {
        Pairs::All => "all",
        Pairs::Adjacent => "adjacent",
        Pairs::From(_) => "from",
    };
    let own = UrpcStart {
        samples: plan.samples as u64,
        rtt_batch: plan.rtt_batch,
        batch: plan.batch,
        tp_samples: plan.tp_samples as u64,
        slots: plan.slots as u64,
        pairs,
        npairs: plan.pairs.len() as u64,
    };
    run.start(p, own);
    ctl.barrier(p)?;
    for (i, &(src, dst)) in plan.pairs.iter().enumerate() {
        if me == src {
            format_pair(mem, lay, plan)?;
        }
        ctl.barrier(p)?;
        if me == src {
            let rows = measure_src(mem, lay, plan, dst, overhead)?;
            for (r, row) in rows.iter().enumerate() {
                let at = lay.row(i, r);
                store(
                    mem,
                    at,
                    &[
                        row.median_x100,
                        row.p99_x100,
                        row.min_x100,
                        row.samples,
                        row.overhead,
                        row.pair_median_x100,
                    ],
                );
            }
        } else if me == dst {
            let rows = measure_dst(mem, lay, plan, src, overhead)?;
            for (r, row) in rows.iter().enumerate() {
                let at = lay.row(i, r) + 64;
                store(mem, at, &[row.batch_median, row.tput_x100, row.samples]);
            }
        }
        ctl.barrier(p)?;
        if me == src {
            print_pair(p, mem, lay, i, src, dst);
        }
    }
    // Every pair record is out before the summary.
    ctl.barrier(p)?;
    if me == 0 {
        print_summary(p, mem, lay, plan);
    }
    run.done(p);
    ctl.barrier(p)
}

/// Formats the pair regions: zeroed ping-pong blocks, both duplex
/// channels, both throughput rings.
fn format_pair(mem: &Shared<'_>, lay: &Layout, plan: &Plan) -> Result<(), ExpError> {
    mem.zero(lay.ping_pong, plan.rounds * 256);
    let one = region_size(plan.slots);
    for at in [lay.raw, lay.raw + one] {
        mem.format_ring(at, one, plan.slots, Variant::AckLine)?;
    }
    for (v, variant) in [Variant::AckLine, Variant::UsedBit].into_iter().enumerate() {
        for at in [lay.duplex[v], lay.duplex[v] + one, lay.tp_ring[v]] {
            // No endpoint of it exists now: the previous pair dropped theirs
            // before the last barrier.
            mem.format_ring(at, one, plan.slots, variant)?;
        }
    }
    Ok(())
}

/// The duplex region of the raw ping-pong (no endpoint is attached to it).
fn raw_lines<'a>(mem: &Shared<'a>, lay: &Layout, plan: &Plan) -> Result<Duplex<'a>, ExpError> {
    Ok(mem.attach_duplex(lay.raw, duplex_region_size(plan.slots))?)
}

fn ping_pong<'a>(mem: &Shared<'a>, lay: &Layout, round: usize) -> &'a PingPong {
    mem.ping_pong(lay.ping_pong + round * 256)
}

fn duplex<'a>(
    mem: &Shared<'a>,
    lay: &Layout,
    plan: &Plan,
    v: usize,
) -> Result<Duplex<'a>, ExpError> {
    let len = duplex_region_size(plan.slots);
    // Formatted by `src` before the barrier.
    Ok(mem.attach_duplex(lay.duplex[v], len)?)
}

fn tp_ring<'a>(
    mem: &Shared<'a>,
    lay: &Layout,
    plan: &Plan,
    v: usize,
) -> Result<Ring<'a>, ExpError> {
    let len = region_size(plan.slots);
    Ok(mem.attach_ring(lay.tp_ring[v], len)?)
}

/// `src`'s side: initiates the ping-pong and both round trips, sends both
/// throughput streams. Returns the raw, ack and used round-trip rows.
fn measure_src(
    mem: &Shared<'_>,
    lay: &Layout,
    plan: &Plan,
    dst: u32,
    overhead: u64,
) -> Result<[RttRow; 3], ExpError> {
    let (n, rounds, batch) = (plan.rtt_samples, plan.rounds, plan.rtt_batch);
    let mut raw = vec![vec![0u64; n]; rounds];
    let mut pair = vec![vec![0u64; n]; rounds];
    let lines = raw_lines(mem, lay, plan)?;
    let mut rtt = [vec![vec![0u64; n]; rounds], vec![vec![0u64; n]; rounds]];
    let mut ack = duplex(mem, lay, plan, 0)?.endpoint::<AckLine>(Side::A)?;
    let mut used = duplex(mem, lay, plan, 1)?.endpoint::<UsedBit>(Side::A)?;
    let mut tp_ack = tp_ring(mem, lay, plan, 0)?.sender::<AckLine>()?;
    let mut tp_used = tp_ring(mem, lay, plan, 1)?.sender::<UsedBit>()?;
    let count = bench::throughput_messages(plan.tp_samples, plan.batch);
    let broken = |_| ExpError::Broken {
        what: "urpc round trip",
        peer: dst,
    };
    for r in 0..rounds {
        let first = (r * plan.samples) as u64;
        bench::lines_ping_pong_initiator(lines, first, batch, &mut raw[r]);
        bench::ping_pong_initiator(ping_pong(mem, lay, r), batch, &mut pair[r]);
        let bad = bench::rtt_initiator(&mut ack.tx, &mut ack.rx, batch, &mut rtt[0][r])
            .map_err(broken)?;
        corrupt(bad, "ack-line echo", dst)?;
        let bad = bench::rtt_initiator(&mut used.tx, &mut used.rx, batch, &mut rtt[1][r])
            .map_err(broken)?;
        corrupt(bad, "used-bit echo", dst)?;
        send_stream(&mut tp_ack, count, dst)?;
        send_stream(&mut tp_used, count, dst)?;
        bench::lines_stream_sender(lines, stream_first(plan, r, count), count);
    }
    let pair = pooled_per_op(&mut pair, overhead, batch).map_or(0, |s| s.median);
    Ok([
        RttRow {
            pair_median_x100: pair,
            ..rtt_row(pooled_per_op(&mut raw, overhead, batch), overhead)
        },
        rtt_row(pooled_per_op(&mut rtt[0], overhead, batch), overhead),
        rtt_row(pooled_per_op(&mut rtt[1], overhead, batch), overhead),
    ])
}

/// The number before the first message of round `r`'s raw stream: past
/// every ping-pong round of the run, so that no number on these lines
/// repeats.
fn stream_first(plan: &Plan, r: usize, count: u64) -> u64 {
    (plan.rounds * plan.samples) as u64 + r as u64 * count
}

fn send_stream<F: FlowControl>(
    tx: &mut urpc::Sender<'_, F>,
    count: u64,
    dst: u32,
) -> Result<(), ExpError> {
    bench::throughput_sender(tx, count).map_err(|_| ExpError::Broken {
        what: "urpc throughput",
        peer: dst,
    })
}

fn corrupt(bad: u64, what: &'static str, peer: u32) -> Result<(), ExpError> {
    if bad == 0 {
        Ok(())
    } else {
        Err(ExpError::Corrupt { what, peer, bad })
    }
}

/// `dst`'s side: answers the ping-pong and both round trips, times both
/// throughput streams and the raw stream over the ping-pong's lines.
/// Returns the raw, ack and used throughput rows.
fn measure_dst(
    mem: &Shared<'_>,
    lay: &Layout,
    plan: &Plan,
    src: u32,
    overhead: u64,
) -> Result<[TpRow; 3], ExpError> {
    let (n, rounds) = (plan.samples, plan.rounds);
    let count = bench::throughput_messages(plan.tp_samples, plan.batch);
    let mut tp_raw = vec![vec![0u64; plan.tp_samples]; rounds];
    let mut tp_a = vec![vec![0u64; plan.tp_samples]; rounds];
    let mut tp_u = vec![vec![0u64; plan.tp_samples]; rounds];
    let mut ack = duplex(mem, lay, plan, 0)?.endpoint::<AckLine>(Side::B)?;
    let mut used = duplex(mem, lay, plan, 1)?.endpoint::<UsedBit>(Side::B)?;
    let mut tp_ack = tp_ring(mem, lay, plan, 0)?.receiver::<AckLine>()?;
    let mut tp_used = tp_ring(mem, lay, plan, 1)?.receiver::<UsedBit>()?;
    let lines = raw_lines(mem, lay, plan)?;
    let broken = |what| move |_| ExpError::Broken { what, peer: src };
    for (r, (round_a, round_u)) in tp_a.iter_mut().zip(tp_u.iter_mut()).enumerate() {
        bench::lines_ping_pong_responder(lines, (r * n) as u64, n);
        bench::ping_pong_responder(ping_pong(mem, lay, r), n);
        bench::rtt_responder(&mut ack.rx, &mut ack.tx, n).map_err(broken("urpc round trip"))?;
        bench::rtt_responder(&mut used.rx, &mut used.tx, n).map_err(broken("urpc round trip"))?;
        let bad = bench::throughput_receiver(&mut tp_ack, plan.batch, round_a)
            .map_err(broken("urpc throughput"))?;
        corrupt(bad, "ack-line stream", src)?;
        let bad = bench::throughput_receiver(&mut tp_used, plan.batch, round_u)
            .map_err(broken("urpc throughput"))?;
        corrupt(bad, "used-bit stream", src)?;
        let first = stream_first(plan, r, count);
        let bad = bench::lines_stream_receiver(lines, first, plan.batch, &mut tp_raw[r]);
        corrupt(bad, "raw stream", src)?;
    }
    let row = |s: Option<Summary>| {
        s.map_or(TpRow::default(), |s| TpRow {
            batch_median: s.median,
            tput_x100: bench::msgs_per_kcycle_x100(plan.batch, s.median),
            samples: s.count as u64,
        })
    };
    Ok([
        row(pooled(&mut tp_raw, overhead)),
        row(pooled(&mut tp_a, overhead)),
        row(pooled(&mut tp_u, overhead)),
    ])
}

fn print_pair<P: Platform>(
    p: &mut P,
    mem: &Shared<'_>,
    lay: &Layout,
    pair: usize,
    src: u32,
    dst: u32,
) {
    for (r, name) in ROWS.iter().enumerate() {
        let [
            median_x100,
            p99_x100,
            min_x100,
            samples,
            overhead,
            pair_x100,
        ] = load::<6>(mem, lay.row(pair, r));
        let [batch_median, tput_x100, tp_samples] = load::<3>(mem, lay.row(pair, r) + 64);
        let [median, p99, min] = [median_x100, p99_x100, min_x100].map(whole);
        let oneway = Centi::ratio(median, 2);
        let (fine, oneway_fine) = (Centi(median_x100), Centi::ratio(median_x100, 200));
        // The raw row also has the ping-pong on one fixed pair of lines.
        let raw = r == 0;
        let rec = UrpcPair {
            src,
            dst,
            variant: name,
            rtt_median: median,
            rtt_p99: p99,
            rtt_min: min,
            oneway_median: oneway,
            rtt_fine: Some(fine),
            oneway_fine: Some(oneway_fine),
            one_pair_rtt: raw.then_some(Centi(pair_x100)),
            tput: Some(Centi(tput_x100)),
            tp_batch_median: Some(batch_median),
            samples,
            tp_samples,
            tsc_overhead: overhead,
        };
        emit(p, &rec);
    }
}

/// Whole cycles, rounded to nearest, from hundredths.
fn whole(x100: u64) -> u64 {
    x100.saturating_add(50) / 100
}

fn print_summary<P: Platform>(p: &mut P, mem: &Shared<'_>, lay: &Layout, plan: &Plan) {
    let n = plan.pairs.len();
    let column = |r: usize, word: usize| -> Vec<u64> {
        (0..n)
            .map(|i| mem.word(lay.row(i, r) + 8 * word).load(Ordering::Relaxed))
            .collect()
    };
    let rtt: [u64; 3] = core::array::from_fn(|r| median(&mut column(r, 0)));
    let tput: [u64; 3] = core::array::from_fn(|r| median(&mut column(r, 9)));
    let faster = if rtt[2] < rtt[1] { 2 } else { 1 };
    let [raw, ack, used] = rtt.map(whole);
    let one_pair = median(&mut column(0, 5));
    let summary = UrpcSummary {
        pairs: n as u64,
        rtt: [raw, ack, used],
        oneway: rtt.map(|r| Centi::ratio(r, 200)),
        tput: [Centi(tput[1]), Centi(tput[2])],
        faster: ROWS[faster],
        ratio: Centi::ratio(rtt[faster], rtt[0]),
        one_pair_oneway: Centi::ratio(one_pair, 200),
    };
    emit(p, &summary);
}
