//! E7: a replicated map under each consistency model.
//!
//! Every core holds a replica of `crate::proto::replica` and runs a
//! closed-loop client on it: one operation at a time, the next as soon as
//! the last completed. The replicas talk over the mesh of `super::net`.
//!
//! **Clock skew.** First, core 0 measures each other core's TSC against
//! its own by Cristian's method over two words of the arena: it reads its
//! TSC (`t0`), writes a request, core `i` answers with its TSC (`ti`), and
//! core 0 reads its TSC again (`t1`) when the answer arrives. Of
//! [`SKEW_ROUNDS`] rounds (after one warm-up) it keeps the one with the
//! smallest round trip `rtt = t1 − t0`; core `i`'s offset is
//! `ti − (t0 + t1) / 2`, known to within `rtt / 2`. The bound on the skew
//! between any core and core 0 is `tsc_skew_cycles`, the largest
//! `|offset| + rtt / 2` (0 on one core). The history keeps each core's raw
//! TSC: a checker must allow `tsc_skew_cycles` either way when it orders
//! operations of two cores by time.
//!
//! **A model.** For each model of `models=`:
//!
//! 1. core 0 formats the mesh and clears the counters; a barrier, then a
//!    start barrier;
//! 2. every core builds its replica and runs `ops` operations: key and
//!    kind from a generator seeded by the core and the model (key uniform
//!    in `0..keys`, a write with probability `writes` percent), write
//!    values `(core << 32) | n` for its `n`-th operation (unique, never 0:
//!    every key starts at 0). Each operation is timed from before
//!    `invoke` to its completion effect and logged, with its key, value
//!    and both TSC readings, in a buffer written before the loop (no page
//!    fault, no system call, no print in the loop);
//! 3. a core that is done keeps serving the others (polling the mesh)
//!    until every core is done and it is itself quiescent with its outbox
//!    flushed, then until every core got there; a barrier; then it drains
//!    what is still in its rings (the eventual model's gossip, a last
//!    commit or apply), which must leave it quiescent;
//! 4. each core writes a digest of its final map ([`map_digest`]) and its
//!    latency summary to its result slot and prints its history
//!    (`replica-op`); a barrier; core 0 checks that every digest is equal
//!    ([`converged`]) and prints `replica-point`. A divergence fails the
//!    run ([`ExpError::Diverged`]).
//!
//! **Figures.** Latencies are per operation, less `tsc_overhead`: each
//! core's median and 99th percentile of its reads and of its writes;
//! `replica-point` gives the median over cores of the medians and the
//! largest 99th percentile. Throughput is all cores' operations per
//! million cycles of wall time (the slowest core's time from the start
//! barrier to its last completion).

use alloc::vec::Vec;
use core::sync::atomic::Ordering;

use urpc::bench::{self, Summary};

use super::ExpError;
use super::declare_exp::{experiment, slots};
use super::experiment::Run;
use super::net::{self, Net};
use super::record::emit;
use super::request::{ArgsError, Request, SAMPLE_HEAP_BYTES};
use super::shared::{BLOCK, Bump, Control, control_bytes};
use super::stats::{Centi, median, sample_buffer};
use crate::platform::Platform;
use crate::proto::Out;
use crate::proto::replica::{Model, Op, Replica, ReplicaEffect, Store};
use crate::rng::Rng;
use crate::shm::Shared;

mod args;
mod skew;

pub use super::catalog::{ConsistencyStart, ExpSkew, ReplicaOp, ReplicaPoint};
pub use args::{ConsistencyArgs, HISTORY_BYTES_PER_OP, HISTORY_HEAP_BYTES, ModelSet};
use skew::measure_skew;

experiment! {
    /// E7 (`exp=consistency`).
    Consistency = "consistency"(ConsistencyArgs) run_models;
    plan(req, args, _cores) Ok(Plan::new(req, args));
    fn check(req: &Request, args: &ConsistencyArgs) -> Result<(), ArgsError> {
        args.check(req)
    }

    /// One round per model, whatever `rounds=` says.
    fn rounds(_req: &Request) -> u32 {
        1
    }
}

/// Timed rounds of the skew measurement per core (after one warm-up).
pub const SKEW_ROUNDS: u64 = 16;
/// Words of one history entry: key (bit 63 set for a write), value,
/// invocation TSC, response TSC.
const ENTRY_WORDS: usize = 4;
/// Bit of the first word that marks a write.
const WRITE_BIT: u64 = 1 << 63;
/// Heap bytes a map entry may take (its share of a B-tree node).
const MAP_ENTRY_BYTES: u64 = 64;
/// Empty spins between two looks at the abort flag.
const CHECK_EVERY: u32 = 4096;

slots! {
    DIGEST OPS READS WRITES READ_MEDIAN READ_P99 WRITE_MEDIAN WRITE_P99 ELAPSED
}

/// E7's parameters, defaults applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    models: Vec<Model>,
    ops: u64,
    keys: u64,
    writes: u64,
}

impl Plan {
    pub(crate) fn new(req: &Request, a: &ConsistencyArgs) -> Plan {
        Plan {
            models: a.models_in_effect().iter().collect(),
            ops: u64::from(a.ops_in_effect(req.quick)),
            keys: u64::from(a.keys_in_effect(req.quick)),
            writes: u64::from(a.writes_in_effect()),
        }
    }
}

/// Where E7's regions are in the arena (byte offsets).
#[derive(Clone, Copy, Debug)]
pub struct Layout {
    finished: usize,
    flushed: usize,
    skew: usize,
    results: usize,
    mesh: usize,
    end: usize,
}

impl Layout {
    /// The layout for `cores` cores (the same for every plan).
    fn new(_plan: &Plan, cores: u32) -> Layout {
        let n = cores as usize;
        let mut b = Bump::at(control_bytes(cores));
        let finished = b.take(BLOCK);
        let flushed = b.take(BLOCK);
        // Per core: a request block (core 0 writes) and an answer block.
        let skew = b.take(2 * n * BLOCK);
        let results = b.take(n * BLOCK);
        let mesh = b.take(net::mesh_bytes(cores));
        Layout {
            finished,
            flushed,
            skew,
            results,
            mesh,
            end: b.end(),
        }
    }

    fn request(&self, core: u32) -> usize {
        self.skew + 2 * core as usize * BLOCK
    }

    fn answer(&self, core: u32) -> usize {
        self.request(core) + BLOCK
    }

    fn result(&self, core: u32, word: usize) -> usize {
        self.results + core as usize * BLOCK + word * 8
    }
}

/// A digest of a map's contents: every written key and its value, in key
/// order. Two replicas that hold the same map have the same digest,
/// whatever order they applied the writes in.
pub fn map_digest(store: &Store) -> u64 {
    let mut h: u64 = 0xCBF2_9CE4_8422_2325;
    let mut entries = 0u64;
    for (key, value, _) in store.entries() {
        entries += 1;
        for word in [key, value] {
            h = (h ^ word).wrapping_mul(0x100_0000_01B3).rotate_left(31);
        }
    }
    (h ^ entries).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

/// Whether every replica's digest equals core 0's: `Err(core)` names the
/// first core that differs.
pub fn converged(digests: &[u64]) -> Result<(), u32> {
    let Some(&first) = digests.first() else {
        return Ok(());
    };
    match digests.iter().position(|&d| d != first) {
        Some(core) => Err(core as u32),
        None => Ok(()),
    }
}

/// What one core did under one model.
#[derive(Clone, Copy, Debug, Default)]
struct Outcome {
    elapsed: u64,
    digest: u64,
}

/// One core's part of a model's run (steps 2 and 3 of the module
/// documentation); the history goes to `history`.
fn run_model<P: Platform>(
    p: &mut P,
    ctl: &Control<'_>,
    mem: &Shared<'_>,
    lay: &Layout,
    plan: &Plan,
    (index, model): (usize, Model),
    history: &mut Vec<u64>,
) -> Result<Outcome, ExpError> {
    let (me, cores) = (ctl.me(), ctl.cores());
    let mut net = Net::attach(mem, lay.mesh, me, cores)?;
    let mut replica = Replica::new(model, me, cores);
    let mut out = Out::new();
    let mut rng = Rng::stream(index as u64, u64::from(me));
    let refused = |_| ExpError::Refused { peer: me };
    let start = bench::tsc_begin();
    for n in 1..=plan.ops {
        let x = rng.next_u64();
        let key = (x >> 1) % plan.keys;
        let write = (x >> 40) % 100 < plan.writes;
        let op = if write {
            Op::Write {
                key,
                value: (u64::from(me) << 32) | n,
            }
        } else {
            Op::Read { key }
        };
        let invoke = bench::tsc_begin();
        replica.invoke(op, &mut out).map_err(refused)?;
        let mut polled = false;
        let done = loop {
            if let Some(ReplicaEffect::Completed(c)) = out.effects.pop() {
                break c;
            }
            net.send(&mut out.sends)?;
            net.poll(ctl, &mut replica, &mut out)?;
            polled = true;
        };
        let response = bench::tsc_end();
        net.send(&mut out.sends)?;
        if !polled {
            // Keep the mesh moving when the operation completed at once.
            net.poll(ctl, &mut replica, &mut out)?;
        }
        if history.len() + ENTRY_WORDS <= history.capacity() {
            history.extend_from_slice(&[
                key | if write { WRITE_BIT } else { 0 },
                done.value,
                invoke,
                response,
            ]);
        }
    }
    let elapsed = bench::tsc_end().wrapping_sub(start);
    // The client is done: the replica sends what it held back.
    replica.flush(&mut out);
    net.send(&mut out.sends)?;
    let finished = mem.word(lay.finished);
    let flushed = mem.word(lay.flushed);
    let all = u64::from(cores);
    finished.fetch_add(1, Ordering::AcqRel);
    // Serve the others until every core is done and this replica owes
    // nobody anything, then until every core got there (so that no core
    // stops reading while another still has messages for it).
    while !(finished.load(Ordering::Acquire) == all && replica.quiescent() && net.flushed()) {
        net.poll(ctl, &mut replica, &mut out)?;
        out.effects.clear();
    }
    flushed.fetch_add(1, Ordering::AcqRel);
    while flushed.load(Ordering::Acquire) != all {
        net.poll(ctl, &mut replica, &mut out)?;
        out.effects.clear();
    }
    // From here on no core sends: apply what is still in the rings.
    ctl.barrier(p)?;
    while net.poll(ctl, &mut replica, &mut out)? {}
    out.effects.clear();
    if !(replica.quiescent() && net.flushed() && out.sends.is_empty()) {
        return Err(ExpError::Unsettled {
            model: model.name(),
            core: me,
        });
    }
    Ok(Outcome {
        elapsed,
        digest: map_digest(replica.store()),
    })
}

/// A core's latency summary of one kind of operation, in cycles less
/// `overhead`: (count, median, p99).
fn latencies(history: &[u64], write: bool, overhead: u64, buf: &mut Vec<u64>) -> (u64, u64, u64) {
    buf.clear();
    buf.extend(
        history
            .chunks_exact(ENTRY_WORDS)
            .filter(|e| (e[0] & WRITE_BIT != 0) == write)
            .map(|e| e[3].wrapping_sub(e[2])),
    );
    match Summary::of(buf, overhead) {
        Some(s) => (s.count as u64, s.median, s.p99),
        None => (0, 0, 0),
    }
}

/// Runs E7 on this core.
fn run_models<P: Platform>(p: &mut P, run: Run<'_, Consistency>) -> Result<(), ExpError> {
    let (plan, lay, ctl, mem) = (&run.plan, &run.lay, &run.ctl, &run.mem);
    let (me, cores, overhead) = (run.me, run.cores, run.overhead());
    // The map holds at most every key, or every write of every core.
    let entries = plan.keys.min(plan.ops.saturating_mul(u64::from(cores)));
    if entries.saturating_mul(MAP_ENTRY_BYTES) > SAMPLE_HEAP_BYTES / 4 {
        return Err(ExpError::BadRequest(
            "the map of keys= (or of every write) does not fit a core's heap",
        ));
    }
    ctl.barrier(p)?;
    let skews = measure_skew(p, ctl, mem, lay)?;
    ctl.barrier(p)?;
    let bound = skews.iter().map(|s| s.bound()).max().unwrap_or(0);
    let models = alloc::format!("{}", run.args.models_in_effect());
    let own = ConsistencyStart {
        ops: plan.ops,
        keys: plan.keys,
        writes: plan.writes,
        models: &models,
        points: plan.models.len() as u64,
        skew_rounds: SKEW_ROUNDS,
        tsc_skew_cycles: bound,
    };
    run.start(p, own);
    if me == 0 {
        for s in &skews {
            emit(p, s);
        }
    }
    let ops = usize::try_from(plan.ops).unwrap_or(usize::MAX);
    for (index, &model) in plan.models.iter().enumerate() {
        let mut history = sample_buffer(ops * ENTRY_WORDS);
        if me == 0 {
            net::format(mem, lay.mesh, cores)?;
            mem.word(lay.finished).store(0, Ordering::Relaxed);
            mem.word(lay.flushed).store(0, Ordering::Relaxed);
        }
        ctl.barrier(p)?;
        ctl.start_barrier(p)?;
        let o = run_model(p, ctl, mem, lay, plan, (index, model), &mut history)?;
        // After the measured phase: summaries, the result slot, the history.
        let mut buf = Vec::with_capacity(ops);
        let (reads, read_median, read_p99) = latencies(&history, false, overhead, &mut buf);
        let (writes, write_median, write_p99) = latencies(&history, true, overhead, &mut buf);
        drop(buf);
        let at = |w| lay.result(me, w);
        for (w, v) in [
            (slot::DIGEST, o.digest),
            (slot::OPS, (history.len() / ENTRY_WORDS) as u64),
            (slot::READS, reads),
            (slot::WRITES, writes),
            (slot::READ_MEDIAN, read_median),
            (slot::READ_P99, read_p99),
            (slot::WRITE_MEDIAN, write_median),
            (slot::WRITE_P99, write_p99),
            (slot::ELAPSED, o.elapsed),
        ] {
            mem.word(at(w)).store(v, Ordering::Relaxed);
        }
        let name = model.name();
        for e in history.chunks_exact(ENTRY_WORDS) {
            let write = e[0] & WRITE_BIT != 0;
            let op = ReplicaOp {
                model: name,
                core: me,
                write,
                key: e[0] & !WRITE_BIT,
                value: e[1],
                invoke: e[2],
                response: e[3],
            };
            emit(p, &op);
        }
        drop(history);
        ctl.barrier(p)?;
        if me == 0 {
            print_point(p, mem, lay, plan, model, cores)?;
        }
        ctl.barrier(p)?;
    }
    run.done(p);
    Ok(())
}

/// Core 0, after a model's run: the convergence check and `replica-point`.
fn print_point<P: Platform>(
    p: &mut P,
    mem: &Shared<'_>,
    lay: &Layout,
    plan: &Plan,
    model: Model,
    cores: u32,
) -> Result<(), ExpError> {
    let get = |c: u32, w| mem.word(lay.result(c, w)).load(Ordering::Relaxed);
    let digests: Vec<u64> = (0..cores).map(|c| get(c, slot::DIGEST)).collect();
    let verdict = converged(&digests);
    let ops: u64 = (0..cores).map(|c| get(c, slot::OPS)).sum();
    let reads: u64 = (0..cores).map(|c| get(c, slot::READS)).sum();
    let writes: u64 = (0..cores).map(|c| get(c, slot::WRITES)).sum();
    let kind = |count: usize, med: usize, p99: usize| {
        let who: Vec<u32> = (0..cores).filter(|&c| get(c, count) > 0).collect();
        let mut medians: Vec<u64> = who.iter().map(|&c| get(c, med)).collect();
        let worst = who.iter().map(|&c| get(c, p99)).max().unwrap_or(0);
        (Centi(median(&mut medians) * 100), Centi(worst * 100))
    };
    let (read_median, read_p99) = kind(slot::READS, slot::READ_MEDIAN, slot::READ_P99);
    let (write_median, write_p99) = kind(slot::WRITES, slot::WRITE_MEDIAN, slot::WRITE_P99);
    let wall = (0..cores).map(|c| get(c, slot::ELAPSED)).max().unwrap_or(0);
    let tput = Centi::ratio(ops.saturating_mul(1_000_000), wall.max(1));
    let min_core = (0..cores).map(|c| get(c, slot::OPS)).min().unwrap_or(0);
    let point = ReplicaPoint {
        model: model.name(),
        cores,
        ops,
        per_core: plan.ops,
        min_core,
        reads,
        writes,
        read_median,
        read_p99,
        write_median,
        write_p99,
        cycles: wall,
        tput,
        digest: digests.first().copied().unwrap_or(0),
        converged: verdict.is_ok(),
    };
    emit(p, &point);
    match verdict {
        Ok(()) if min_core == plan.ops => Ok(()),
        Ok(()) => Err(ExpError::BadRequest(
            "a core did not complete all its operations",
        )),
        Err(core) => Err(ExpError::Diverged {
            model: model.name(),
            core,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_digests_converge_and_a_different_one_is_named() {
        assert_eq!(converged(&[]), Ok(()));
        assert_eq!(converged(&[7]), Ok(()));
        assert_eq!(converged(&[7, 7, 7]), Ok(()));
        assert_eq!(converged(&[7, 7, 8, 9]), Err(2));
        assert_eq!(converged(&[1, 2]), Err(1));
    }

    #[test]
    fn the_digest_is_of_the_contents_not_the_order() {
        use crate::proto::replica::Stamp;
        let s = |version, origin| Stamp { version, origin };
        let mut a = Store::new();
        let mut b = Store::new();
        a.put(1, 10, s(1, 0));
        a.put(2, 20, s(2, 1));
        b.put(2, 20, s(2, 1));
        b.put(1, 10, s(1, 0));
        assert_eq!(map_digest(&a), map_digest(&b));
        b.put(2, 21, s(3, 1));
        assert_ne!(map_digest(&a), map_digest(&b));
        assert_ne!(map_digest(&Store::new()), map_digest(&a));
        // Two replicas that diverge are caught by the check.
        assert_eq!(converged(&[map_digest(&a), map_digest(&b)]), Err(1));
    }

    #[test]
    fn the_generator_differs_per_core_and_model_and_repeats() {
        let first = |core: u32, model: usize| Rng::stream(model as u64, u64::from(core)).next_u64();
        assert_ne!(first(0, 0), first(1, 0));
        assert_ne!(first(0, 0), first(0, 1));
        assert_eq!(first(3, 2), first(3, 2));
    }

    #[test]
    fn skew_bounds_and_layout() {
        let s = ExpSkew {
            core: 1,
            offset: -30,
            rtt: 101,
        };
        assert_eq!(s.bound(), 80);
        let req = Request::new(crate::exp::ExpKind::Consistency);
        let plan = Plan::new(&req, &ConsistencyArgs::default());
        let lay = Layout::new(&plan, 4);
        assert!(lay.answer(3) + BLOCK <= lay.results);
        assert!(lay.result(3, slot::ELAPSED) < lay.mesh);
        assert_eq!(lay.end, lay.mesh + net::mesh_bytes(4));
    }
}
