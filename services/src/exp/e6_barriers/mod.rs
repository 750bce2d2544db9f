//! E6: barriers on shared memory against barriers by messages.
//!
//! Every point is one barrier series (`BARRIER_SERIES`), run `rounds`
//! times. A round:
//!
//! 1. core 0 resets the point's state: the barrier's words (and its
//!    `init`), the episode words, and for a message barrier every ring of
//!    the mesh (`super::net`);
//! 2. a barrier of the experiment's control block, then a start barrier;
//! 3. every core runs **checked episodes** of the barrier under test: it
//!    writes the episode's number into its own episode word, waits, and
//!    then reads every core's word; a word still below the episode means
//!    that core had not arrived yet, a violation. Then it runs `episodes`
//!    **timed episodes** (no check inside, so the check costs no cycles)
//!    in batches of [`BATCH`];
//! 4. a barrier; core 0 adds up the violations (`sync-check`); any
//!    violation fails the run.
//!
//! **Figures.** Cycles per episode from timed batches of [`BATCH`] episodes,
//! per core; the record gives the median over cores, the largest 99th
//! percentile and the smallest and largest per-core median.

use alloc::vec::Vec;
use core::sync::atomic::Ordering;

use urpc::bench::{self, Summary};

use super::ExpError;
use super::catalog::SyncCheck;
use super::declare_exp::{experiment, slots};
use super::experiment::{Experiment, Run};
use super::net::{self, Net};
use super::points::{self, Results};
use super::record::emit;
use super::request::Request;
use super::series_set::SeriesSet;
use super::shared::{BLOCK, Bump, control_bytes};
use super::stats::{Centi, median, pooled, sample_buffer};
use super::sync::{BarrierKind as ShmKind, BarrierVisitor, ShmBarrier};
use crate::platform::Platform;
use crate::proto::Out;
use crate::proto::barrier::{BarrierKind as MsgKind, MsgBarrier};
use crate::shm::Shared;

mod args;

pub use super::catalog::{BarrierPoint, BarrierStart};
pub use args::{BARRIER_SERIES, BarrierArgs};

experiment! {
    /// E6 (`exp=barriers`).
    Barriers = "barriers"(BarrierArgs) run_series;
    plan(req, args, _cores) Ok(Plan::new(req, args));
}

/// Episodes per timed sample.
pub const BATCH: u64 = 32;
/// Samples a core keeps over all rounds of a point.
const MAX_SAMPLES: usize = 65_536;

slots! {
    VIOLATIONS MEDIAN_X100 P99_X100 SAMPLES EPISODES
}

/// A barrier series.
type Series = points::Series<ShmKind, MsgKind>;

/// E6's parameters, defaults applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    series: Vec<&'static str>,
    episodes: u64,
    checked: u64,
    arity: u32,
    rounds: usize,
}

impl Plan {
    pub(crate) fn new(req: &Request, a: &BarrierArgs) -> Plan {
        let set = a.series.unwrap_or(SeriesSet::defaults(&BARRIER_SERIES));
        let episodes = u64::from(a.episodes.unwrap_or(if req.quick { 2000 } else { 20_000 }));
        Plan {
            series: set.names(&BARRIER_SERIES).collect(),
            episodes,
            checked: (episodes / 4).clamp(1, 1000),
            arity: a.arity.unwrap_or(4),
            rounds: req.rounds() as usize,
        }
    }
}

/// Where E6's regions are in the arena (byte offsets).
#[derive(Clone, Copy, Debug)]
pub struct Layout {
    barrier: usize,
    barrier_words: usize,
    episodes: usize,
    results: Results,
    mesh: usize,
    end: usize,
}

impl Layout {
    fn new(plan: &Plan, cores: u32) -> Layout {
        let barrier_words = points::most_words(&plan.series, |n| {
            ShmKind::from_name(n).map(|k| k.words(cores))
        });
        let mut b = Bump::at(control_bytes(cores));
        let barrier = b.take(barrier_words * 8);
        let episodes = b.take(cores as usize * BLOCK);
        let results = Results::at(b.take(Results::bytes(plan.series.len(), cores)), cores);
        let mesh = b.take(net::mesh_bytes(cores));
        Layout {
            barrier,
            barrier_words,
            episodes,
            results,
            mesh,
            end: b.end(),
        }
    }

    fn episode(&self, core: u32) -> usize {
        self.episodes + core as usize * BLOCK
    }

    fn result(&self, point: usize, core: u32, word: usize) -> usize {
        self.results.word(point, core, word)
    }
}

/// Episode `e`'s check after this core left it: every core must have
/// arrived, so every episode word is at least `e`.
fn check_episode(mem: &Shared<'_>, lay: &Layout, cores: u32, e: u64) -> u64 {
    (0..cores)
        .filter(|&c| mem.word(lay.episode(c)).load(Ordering::Relaxed) < e)
        .count() as u64
}

/// One core's episodes: the checked ones, then the timed ones. `wait`
/// runs one episode of the barrier under test.
fn episodes(
    mem: &Shared<'_>,
    lay: &Layout,
    plan: &Plan,
    me: u32,
    cores: u32,
    samples: &mut Vec<u64>,
    mut wait: impl FnMut() -> Result<(), ExpError>,
) -> Result<u64, ExpError> {
    let mine = mem.word(lay.episode(me));
    let mut violations = 0;
    for e in 1..=plan.checked {
        mine.store(e, Ordering::Relaxed);
        wait()?;
        violations += check_episode(mem, lay, cores, e);
    }
    let mut done = 0;
    while done < plan.episodes {
        let t0 = bench::tsc_begin();
        for _ in 0..BATCH {
            wait()?;
        }
        let t1 = bench::tsc_end();
        if samples.len() < samples.capacity() {
            samples.push(t1.wrapping_sub(t0));
        }
        done += BATCH;
    }
    Ok(violations)
}

/// One core's part of a round with a shared-memory barrier.
struct ShmRound<'r, 'a> {
    mem: &'r Shared<'a>,
    lay: &'r Layout,
    plan: &'r Plan,
    me: u32,
    cores: u32,
    samples: &'r mut Vec<u64>,
}

impl BarrierVisitor for ShmRound<'_, '_> {
    type Output = u64;
    fn visit<B: ShmBarrier>(self) -> u64 {
        let mut b = B::new(self.lay.barrier / 8, self.me, self.cores);
        let mem = self.mem;
        episodes(
            mem,
            self.lay,
            self.plan,
            self.me,
            self.cores,
            self.samples,
            || {
                b.wait(mem);
                Ok(())
            },
        )
        .unwrap_or(0)
    }
}

/// One core's part of a round with a message barrier.
fn msg_round(
    run: &Run<'_, Barriers>,
    kind: MsgKind,
    samples: &mut Vec<u64>,
) -> Result<u64, ExpError> {
    let (ctl, mem, lay, plan) = (&run.ctl, &run.mem, &run.lay, &run.plan);
    let (me, cores) = (ctl.me(), ctl.cores());
    let mut net = Net::attach(mem, lay.mesh, me, cores)?;
    let mut b = MsgBarrier::new(kind, me, cores, plan.arity);
    let mut out = Out::new();
    episodes(mem, lay, plan, me, cores, samples, || {
        b.arrive(&mut out)
            .map_err(|_| ExpError::Refused { peer: me })?;
        net.send(&mut out.sends)?;
        while out.effects.pop().is_none() {
            net.poll(ctl, &mut b, &mut out)?;
        }
        Ok(())
    })
}

/// Runs E6 on this core.
fn run_series<P: Platform>(p: &mut P, run: Run<'_, Barriers>) -> Result<(), ExpError> {
    let (plan, lay, ctl, mem) = (&run.plan, &run.lay, &run.ctl, &run.mem);
    let (me, cores, overhead) = (run.me, run.cores, run.overhead());
    let own = BarrierStart {
        episodes: plan.episodes,
        checked: plan.checked,
        arity: plan.arity,
        batch: BATCH,
        points: plan.series.len() as u64,
    };
    run.start(p, own);
    for (i, &name) in plan.series.iter().enumerate() {
        let series = Series::of(
            name,
            ShmKind::from_name,
            MsgKind::from_name,
            "unknown barrier series",
        )?;
        let mut rounds: Vec<Vec<u64>> = Vec::with_capacity(plan.rounds);
        let mut violations = 0;
        for _ in 0..plan.rounds {
            if me == 0 {
                mem.zero(lay.barrier, lay.barrier_words * 8);
                mem.zero(lay.episodes, cores as usize * BLOCK);
                match series {
                    Series::Shm(kind) => kind.init(mem, lay.barrier / 8, cores),
                    Series::Msg(_) => net::format(mem, lay.mesh, cores)?,
                }
            }
            let mut samples = sample_buffer(MAX_SAMPLES / plan.rounds.max(1));
            ctl.barrier(p)?;
            ctl.start_barrier(p)?;
            violations += match series {
                Series::Shm(kind) => kind.visit(ShmRound {
                    mem,
                    lay,
                    plan,
                    me,
                    cores,
                    samples: &mut samples,
                }),
                Series::Msg(kind) => msg_round(&run, kind, &mut samples)?,
            };
            rounds.push(samples);
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
            (slot::VIOLATIONS, violations),
            (slot::MEDIAN_X100, s.median * 100 / BATCH),
            (slot::P99_X100, s.p99 * 100 / BATCH),
            (slot::SAMPLES, s.count as u64),
            (
                slot::EPISODES,
                plan.rounds as u64 * (plan.episodes.div_ceil(BATCH) * BATCH + plan.checked),
            ),
        ] {
            mem.word(at(w)).store(v, Ordering::Relaxed);
        }
        ctl.barrier(p)?;
        if me == 0 {
            let get = |c: u32, w| mem.word(lay.result(i, c, w)).load(Ordering::Relaxed);
            let mut medians: Vec<u64> = (0..cores).map(|c| get(c, slot::MEDIAN_X100)).collect();
            let min = medians.iter().copied().min().unwrap_or(0);
            let max = medians.iter().copied().max().unwrap_or(0);
            let p99 = (0..cores)
                .map(|c| get(c, slot::P99_X100))
                .max()
                .unwrap_or(0);
            let samples: u64 = (0..cores).map(|c| get(c, slot::SAMPLES)).sum();
            let bad: u64 = (0..cores).map(|c| get(c, slot::VIOLATIONS)).sum();
            let episodes = get(0, slot::EPISODES);
            let point = BarrierPoint {
                series: name,
                cores,
                arity: plan.arity,
                episodes,
                cycles: Centi(median(&mut medians)),
                p99: Centi(p99),
                min_core: Centi(min),
                max_core: Centi(max),
                samples,
                tsc_overhead: overhead,
            };
            emit(p, &point);
            let check = SyncCheck {
                exp: Barriers::NAME,
                series: name,
                cores,
                expected: plan.rounds as u64 * plan.checked,
                counted: plan.rounds as u64 * plan.checked,
                violations: bad,
                ok: bad == 0,
            };
            emit(p, &check);
            if bad > 0 {
                return Err(ExpError::SyncViolation {
                    series: name,
                    violations: bad,
                });
            }
        }
        ctl.barrier(p)?;
    }
    run.done(p);
    Ok(())
}
