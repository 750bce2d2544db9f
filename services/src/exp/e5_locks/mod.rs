//! E5: locks on shared memory against locks by messages.
//!
//! Every point is one lock series (`LOCK_SERIES`), run `rounds` times. A
//! round:
//!
//! 1. core 0 resets the point's state: the lock's words (and its `init`),
//!    the critical section's data, the grant log, the stop flag, and for a
//!    message lock every ring of the mesh (`super::net`);
//! 2. a barrier, which wakes every core, then a start barrier;
//! 3. every participating core acquires the lock, runs the critical
//!    section and releases it, in timed batches of [`BATCH`], until it has
//!    done `acquisitions` or another core raised the stop flag (the first
//!    core done raises it, so every core is measured while all contend);
//! 4. a barrier; core 0 checks the round.
//!
//! **The critical section** (the same for every lock but delegation): it
//! loads the `inside` word and counts a violation if it is set, sets it,
//! adds one to the first word of each of the `cs-lines` shared cache lines
//! and to the counter with plain (relaxed) loads and stores, notes the
//! acquiring core in the grant log, and clears `inside`. Under a correct
//! lock the counter ends equal to the acquisitions and no violation is
//! seen; core 0 checks both after every round (`sync-check`), and a
//! mismatch fails the run. For `msg-delegation` the server runs the
//! critical section on its private copy of the lines, and its counter must
//! equal the operations the clients submitted.
//!
//! **Who takes part.** Shared-memory locks, `msg-token` and `msg-queue`:
//! every core. `msg-server` and `msg-delegation`: core 0 serves and cores
//! 1..N−1 are its clients (with one core these two are skipped,
//! `sync-skip`).
//!
//! **Figures.** Throughput is acquisitions per million cycles over the
//! round's wall time (the slowest core's elapsed cycles). Latency is the
//! cost of one acquisition (with its critical section and release) from
//! timed batches of [`BATCH`], per core, the median over cores.
//! Fairness: the smallest and largest acquisitions of one core, and the
//! longest run of consecutive grants to one core in the grant log. The
//! wall time of a point is the slowest core's elapsed cycles over all its
//! rounds.

use alloc::vec::Vec;
use core::sync::atomic::Ordering;

use urpc::bench::Summary;

use super::ExpError;
use super::catalog::SyncSkip;
use super::declare_exp::{experiment, slots};
use super::experiment::{Experiment, Run};
use super::net;
use super::points::{self, Results};
use super::record::emit;
use super::request::Request;
use super::series_set::SeriesSet;
use super::shared::{BLOCK, Bump, control_bytes};
use super::stats::{pooled, sample_buffer};
use super::sync::LockKind as ShmKind;
use crate::platform::Platform;
use crate::proto::lock::LockKind as MsgKind;

mod args;
mod records;
mod rounds;

pub use super::catalog::{LockPoint, LockStart};
pub use args::{LOCK_SERIES, LockArgs};
use records::{Check, check_round, print_point};
use rounds::{Round, ShmRound, msg_round};

experiment! {
    /// E5 (`exp=locks`).
    Locks = "locks"(LockArgs) run_series;
    plan(req, args, _cores) Ok(Plan::new(req, args));
}

/// Acquisitions per timed sample.
pub const BATCH: u64 = 32;
/// Grants logged per round.
const GRANT_LOG: usize = 4096;
/// The core that serves `msg-server` and `msg-delegation` and keeps the
/// queue's tail.
const SERVER: u32 = 0;
/// Samples a core keeps over all rounds of a point.
const MAX_SAMPLES: usize = 65_536;

slots! {
    ACQUIRED VIOLATIONS ELAPSED MEDIAN_X100 P99_X100 SAMPLES SEEN ROUND_ACQUIRED SLOWEST_X100
}

/// A lock series.
type Series = points::Series<ShmKind, MsgKind>;

impl Series {
    fn served(self) -> bool {
        matches!(self, Series::Msg(MsgKind::Server | MsgKind::Delegation))
    }

    fn participates(self, core: u32) -> bool {
        !self.served() || core != SERVER
    }

    fn participants(self, cores: u32) -> u32 {
        if self.served() { cores - 1 } else { cores }
    }
}

/// E5's parameters, defaults applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    series: Vec<&'static str>,
    cs_lines: u32,
    acquisitions: u64,
    rounds: usize,
}

impl Plan {
    pub(crate) fn new(req: &Request, a: &LockArgs) -> Plan {
        let set = a.series.unwrap_or(SeriesSet::defaults(&LOCK_SERIES));
        Plan {
            series: set.names(&LOCK_SERIES).collect(),
            cs_lines: a.cs_lines.unwrap_or(1),
            acquisitions: u64::from(a.acquisitions.unwrap_or(if req.quick {
                2000
            } else {
                20_000
            })),
            rounds: req.rounds() as usize,
        }
    }
}

/// Where E5's regions are in the arena (byte offsets).
#[derive(Clone, Copy, Debug)]
pub struct Layout {
    lock: usize,
    lock_words: usize,
    inside: usize,
    counter: usize,
    finished: usize,
    lines: usize,
    log: usize,
    results: Results,
    mesh: usize,
    end: usize,
}

impl Layout {
    fn new(plan: &Plan, cores: u32) -> Layout {
        let lock_words = points::most_words(&plan.series, |n| {
            ShmKind::from_name(n).map(|k| k.words(cores))
        });
        let mut b = Bump::at(control_bytes(cores));
        let lock = b.take(lock_words * 8);
        let inside = b.take(BLOCK);
        let counter = b.take(BLOCK);
        let finished = b.take(BLOCK);
        let lines = b.take(plan.cs_lines as usize * 64);
        let log = b.take(GRANT_LOG * 8);
        let results = Results::at(b.take(Results::bytes(plan.series.len(), cores)), cores);
        let mesh = b.take(net::mesh_bytes(cores));
        Layout {
            lock,
            lock_words,
            inside,
            counter,
            finished,
            lines,
            log,
            results,
            mesh,
            end: b.end(),
        }
    }

    fn result(&self, point: usize, core: u32, word: usize) -> usize {
        self.results.word(point, core, word)
    }
}

/// On core 0, prints that `series` is skipped, and why.
fn skip<P: Platform>(p: &mut P, me: u32, series: &str, cores: u32, reason: &str) {
    if me == 0 {
        let skip = SyncSkip {
            exp: Locks::NAME,
            series,
            cores,
            reason,
        };
        emit(p, &skip);
    }
}

/// Core 0, before each round.
fn reset(run: &Run<'_, Locks>, series: Series) -> Result<(), ExpError> {
    let (ctl, mem, lay, plan) = (&run.ctl, &run.mem, &run.lay, &run.plan);
    let cores = ctl.cores();
    ctl.stop().store(0, Ordering::Relaxed);
    mem.zero(lay.lock, lay.lock_words * 8);
    mem.zero(lay.inside, BLOCK);
    mem.zero(lay.counter, BLOCK);
    mem.zero(lay.finished, BLOCK);
    mem.zero(lay.lines, plan.cs_lines as usize * 64);
    mem.zero(lay.log, GRANT_LOG * 8);
    match series {
        Series::Shm(kind) => kind.init(mem, lay.lock / 8, cores),
        Series::Msg(_) => net::format(mem, lay.mesh, cores)?,
    }
    Ok(())
}

/// Runs E5 on this core.
fn run_series<P: Platform>(p: &mut P, run: Run<'_, Locks>) -> Result<(), ExpError> {
    let (plan, lay, ctl, mem) = (&run.plan, &run.lay, &run.ctl, &run.mem);
    let (me, cores, overhead) = (run.me, run.cores, run.overhead());
    let own = LockStart {
        acquisitions: plan.acquisitions,
        cs_lines: plan.cs_lines,
        batch: BATCH,
        points: plan.series.len() as u64,
    };
    run.start(p, own);
    for (i, &name) in plan.series.iter().enumerate() {
        if ShmKind::HOSTED_NAMES.contains(&name) && ShmKind::from_name(name).is_none() {
            // A lock of the host's (a futex behind it): not in ring 3.
            skip(p, me, name, cores, "hosted-only");
            continue;
        }
        let series = Series::of(
            name,
            ShmKind::from_name,
            MsgKind::from_name,
            "unknown lock series",
        )?;
        if series.served() && cores < 2 {
            skip(p, me, name, cores, "needs-a-server-and-a-client-core");
            continue;
        }
        let mut samples = sample_buffer(MAX_SAMPLES / plan.rounds.max(1));
        let mut rounds: Vec<Vec<u64>> = Vec::with_capacity(plan.rounds);
        let mut total = Round::default();
        let mut check = Check::default();
        for _ in 0..plan.rounds {
            if me == 0 {
                reset(&run, series)?;
            }
            ctl.barrier(p)?;
            ctl.start_barrier(p)?;
            samples.clear();
            let r = match series {
                Series::Shm(kind) => kind.visit(ShmRound {
                    ctl,
                    mem,
                    lay,
                    plan,
                    samples: &mut samples,
                }),
                Series::Msg(kind) => msg_round(&run, kind, &mut samples)?,
            };
            rounds.push(core::mem::replace(
                &mut samples,
                sample_buffer(MAX_SAMPLES / plan.rounds.max(1)),
            ));
            total.acquired += r.acquired;
            total.violations += r.violations;
            total.elapsed += r.elapsed;
            total.seen += r.seen;
            let at = |w| lay.result(i, me, w);
            mem.word(at(slot::ROUND_ACQUIRED))
                .store(r.acquired, Ordering::Relaxed);
            mem.word(at(slot::SEEN)).store(r.seen, Ordering::Relaxed);
            mem.word(at(slot::ELAPSED))
                .store(r.elapsed, Ordering::Relaxed);
            mem.word(at(slot::VIOLATIONS))
                .store(r.violations, Ordering::Relaxed);
            ctl.barrier(p)?;
            if me == 0 {
                check_round(mem, lay, i, series, cores, &mut check);
            }
            ctl.barrier(p)?;
        }
        let s = pooled(&mut rounds, overhead).unwrap_or(Summary {
            count: 0,
            min: 0,
            median: 0,
            p99: 0,
            max: 0,
        });
        let at = |w| lay.result(i, me, w);
        for (w, v) in [
            (slot::ACQUIRED, total.acquired),
            (slot::ELAPSED, total.elapsed),
            (slot::MEDIAN_X100, s.median * 100 / BATCH),
            (slot::P99_X100, s.p99 * 100 / BATCH),
            (slot::SLOWEST_X100, s.max * 100 / BATCH),
            (slot::SAMPLES, s.count as u64),
        ] {
            mem.word(at(w)).store(v, Ordering::Relaxed);
        }
        ctl.barrier(p)?;
        if me == 0 {
            print_point(p, mem, lay, i, name, series, cores, plan, &check, overhead);
            if check.violations > 0 || check.counted != check.expected {
                return Err(ExpError::SyncViolation {
                    series: name,
                    violations: check.violations + check.expected.abs_diff(check.counted),
                });
            }
        }
        ctl.barrier(p)?;
    }
    run.done(p);
    Ok(())
}
