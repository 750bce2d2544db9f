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
use core::fmt;
use core::sync::atomic::Ordering;

use urpc::bench::{self, Summary};

use super::ExpError;
use super::experiment::{Experiment, Run};
use super::net::{self, Net};
use super::points::{self, Results};
use super::request::{ArgsError, Request};
use super::series_set::SeriesSet;
use super::shared::{BLOCK, Bump, Control, control_bytes};
use super::stats::{Centi, median, pooled, sample_buffer};
use super::sync::{LockKind as ShmKind, LockVisitor, ShmLock};
use crate::platform::Platform;
use crate::proto::Out;
use crate::proto::lock::{LockEffect, LockKind as MsgKind, MsgLock};
use crate::shm::Shared;

mod args;

pub use args::{LOCK_SERIES, LockArgs};

/// E5 (`exp=locks`).
#[derive(Clone, Copy, Debug)]
pub struct Locks;

impl Experiment for Locks {
    const NAME: &'static str = "locks";
    const KEYS: &'static [&'static str] = &args::KEYS;
    type Args = LockArgs;
    type Plan = Plan;
    type Layout = Layout;

    fn parse_key(args: &mut LockArgs, key: &str, value: &str) -> Result<bool, ArgsError> {
        args.parse_key(key, value)
    }

    fn write_args(args: &LockArgs, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        args.write(f)
    }

    fn plan(req: &Request, args: &LockArgs, _cores: u32) -> Result<Plan, ExpError> {
        Ok(Plan::new(req, args))
    }

    fn layout(plan: &Plan, cores: u32) -> Layout {
        Layout::new(plan, cores)
    }

    fn arena_bytes(lay: &Layout) -> usize {
        lay.end
    }

    fn run<P: Platform>(p: &mut P, run: Run<'_, Locks>) -> Result<(), ExpError> {
        run_series(p, run)
    }
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

mod slot {
    pub const ACQUIRED: usize = 0;
    pub const VIOLATIONS: usize = 1;
    pub const ELAPSED: usize = 2;
    pub const MEDIAN_X100: usize = 3;
    pub const P99_X100: usize = 4;
    pub const SAMPLES: usize = 5;
    pub const SEEN: usize = 6;
    pub const ROUND_ACQUIRED: usize = 7;
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
        let lock_words = plan
            .series
            .iter()
            .filter_map(|n| ShmKind::from_name(n))
            .map(|k| k.words(cores))
            .max()
            .unwrap_or(0);
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

/// The critical section (see the module documentation).
#[inline(always)]
fn critical(mem: &Shared<'_>, lay: &Layout, cs_lines: u32, me: u32, violations: &mut u64) {
    let inside = mem.word(lay.inside);
    if inside.load(Ordering::Relaxed) != 0 {
        *violations += 1;
    }
    inside.store(1, Ordering::Relaxed);
    for line in 0..cs_lines as usize {
        let w = mem.word(lay.lines + line * 64);
        w.store(w.load(Ordering::Relaxed).wrapping_add(1), Ordering::Relaxed);
    }
    let counter = mem.word(lay.counter);
    let n = counter.load(Ordering::Relaxed);
    if (n as usize) < GRANT_LOG {
        mem.word(lay.log + n as usize * 8)
            .store(u64::from(me) + 1, Ordering::Relaxed);
    }
    counter.store(n.wrapping_add(1), Ordering::Relaxed);
    inside.store(0, Ordering::Relaxed);
}

/// What one core did in one round.
#[derive(Clone, Copy, Debug, Default)]
struct Round {
    acquired: u64,
    violations: u64,
    elapsed: u64,
    /// Delegation: the largest server count a reply carried.
    seen: u64,
}

/// One core's part of a round with a shared-memory lock.
struct ShmRound<'r, 'a> {
    ctl: &'r Control<'a>,
    mem: &'r Shared<'a>,
    lay: &'r Layout,
    plan: &'r Plan,
    samples: &'r mut Vec<u64>,
}

impl LockVisitor for ShmRound<'_, '_> {
    type Output = Round;
    fn visit<L: ShmLock>(self) -> Round {
        let (me, cores) = (self.ctl.me(), self.ctl.cores());
        let mut lock = L::new(self.lay.lock / 8, me, cores);
        let stop = self.ctl.stop();
        let mut r = Round::default();
        let start = bench::tsc_begin();
        while r.acquired < self.plan.acquisitions {
            let t0 = bench::tsc_begin();
            for _ in 0..BATCH {
                lock.acquire(self.mem);
                critical(
                    self.mem,
                    self.lay,
                    self.plan.cs_lines,
                    me,
                    &mut r.violations,
                );
                lock.release(self.mem);
            }
            let t1 = bench::tsc_end();
            if self.samples.len() < self.samples.capacity() {
                self.samples.push(t1.wrapping_sub(t0));
            }
            r.acquired += BATCH;
            if stop.load(Ordering::Relaxed) != 0 {
                break;
            }
        }
        stop.store(1, Ordering::Relaxed);
        r.elapsed = bench::tsc_end().wrapping_sub(start);
        r
    }
}

/// Puts a shared-memory lock's words in their initial state.
struct Init<'r, 'a> {
    mem: &'r Shared<'a>,
    base: usize,
    cores: u32,
}

impl LockVisitor for Init<'_, '_> {
    type Output = ();
    fn visit<L: ShmLock>(self) {
        L::init(self.mem, self.base, self.cores);
    }
}

/// Waits, polling the mesh, until the machine gives an effect.
fn await_effect(
    ctl: &Control<'_>,
    net: &mut Net<'_>,
    m: &mut MsgLock,
    out: &mut Out<LockEffect>,
) -> Result<LockEffect, ExpError> {
    loop {
        if let Some(e) = out.effects.pop() {
            return Ok(e);
        }
        net.poll(ctl, m, out)?;
    }
}

/// One core's part of a round with a message lock: its acquisitions, then
/// serving the others until every participant finished.
fn msg_round(
    ctl: &Control<'_>,
    mem: &Shared<'_>,
    lay: &Layout,
    plan: &Plan,
    kind: MsgKind,
    samples: &mut Vec<u64>,
) -> Result<Round, ExpError> {
    let (me, cores) = (ctl.me(), ctl.cores());
    let series = Series::Msg(kind);
    let mut net = Net::attach(mem, lay.mesh, me, cores)?;
    let mut m = MsgLock::new(kind, me, cores, SERVER, plan.cs_lines);
    let mut out = Out::new();
    let refused = |_| ExpError::Refused { peer: me };
    let stop = ctl.stop();
    let finished = mem.word(lay.finished);
    let mut r = Round::default();
    let start = bench::tsc_begin();
    if series.participates(me) {
        while r.acquired < plan.acquisitions {
            let t0 = bench::tsc_begin();
            for _ in 0..BATCH {
                m.acquire(&mut out).map_err(refused)?;
                net.send(&mut out.sends)?;
                match await_effect(ctl, &mut net, &mut m, &mut out)? {
                    LockEffect::Granted => {
                        critical(mem, lay, plan.cs_lines, me, &mut r.violations);
                        m.release(&mut out).map_err(refused)?;
                        net.send(&mut out.sends)?;
                    }
                    LockEffect::Executed { count } => r.seen = r.seen.max(count),
                }
            }
            let t1 = bench::tsc_end();
            if samples.len() < samples.capacity() {
                samples.push(t1.wrapping_sub(t0));
            }
            r.acquired += BATCH;
            if stop.load(Ordering::Relaxed) != 0 {
                break;
            }
        }
        stop.store(1, Ordering::Relaxed);
        r.elapsed = bench::tsc_end().wrapping_sub(start);
        m.finish(&mut out);
        net.send(&mut out.sends)?;
        finished.fetch_add(1, Ordering::AcqRel);
    }
    // Serve the others (pass the token on, answer as the server) until
    // every participant is done and this machine owes nobody anything.
    let all = u64::from(series.participants(cores));
    while !(finished.load(Ordering::Acquire) == all && m.quiescent() && net.flushed()) {
        net.poll(ctl, &mut m, &mut out)?;
        out.effects.clear();
    }
    Ok(r)
}

/// Core 0, before each round.
fn reset(
    ctl: &Control<'_>,
    mem: &Shared<'_>,
    lay: &Layout,
    plan: &Plan,
    series: Series,
) -> Result<(), ExpError> {
    let cores = ctl.cores();
    ctl.stop().store(0, Ordering::Relaxed);
    mem.zero(lay.lock, lay.lock_words * 8);
    mem.zero(lay.inside, BLOCK);
    mem.zero(lay.counter, BLOCK);
    mem.zero(lay.finished, BLOCK);
    mem.zero(lay.lines, plan.cs_lines as usize * 64);
    mem.zero(lay.log, GRANT_LOG * 8);
    match series {
        Series::Shm(kind) => kind.visit(Init {
            mem,
            base: lay.lock / 8,
            cores,
        }),
        Series::Msg(_) => net::format(mem, lay.mesh, cores)?,
    }
    Ok(())
}

/// The longest run of consecutive grants to one core in the log.
fn longest_run(mem: &Shared<'_>, lay: &Layout, grants: u64) -> u64 {
    let (mut best, mut run, mut last) = (0, 0, 0);
    for i in 0..(grants as usize).min(GRANT_LOG) {
        let who = mem.word(lay.log + i * 8).load(Ordering::Relaxed);
        run = if who == last { run + 1 } else { 1 };
        last = who;
        best = best.max(run);
    }
    best
}

/// What core 0 checks across a point's rounds.
#[derive(Clone, Copy, Debug, Default)]
struct Check {
    expected: u64,
    counted: u64,
    violations: u64,
    max_run: u64,
}

/// Runs E5 on this core.
fn run_series<P: Platform>(p: &mut P, run: Run<'_, Locks>) -> Result<(), ExpError> {
    let (plan, lay, ctl, mem) = (&run.plan, &run.lay, &run.ctl, &run.mem);
    let (me, cores, overhead) = (run.me, run.cores, run.overhead());
    run.start(
        p,
        format_args!(
            "acquisitions={} cs_lines={} batch={BATCH} points={}",
            plan.acquisitions,
            plan.cs_lines,
            plan.series.len(),
        ),
    );
    for (i, &name) in plan.series.iter().enumerate() {
        let series = Series::of(
            name,
            ShmKind::from_name,
            MsgKind::from_name,
            "unknown lock series",
        )?;
        if series.served() && cores < 2 {
            if me == 0 {
                p.record(
                    "sync-skip",
                    format_args!(
                        "exp=locks series={name} cores={cores} reason=needs-a-server-and-a-client-core"
                    ),
                );
            }
            continue;
        }
        let mut samples = sample_buffer(MAX_SAMPLES / plan.rounds.max(1));
        let mut rounds: Vec<Vec<u64>> = Vec::with_capacity(plan.rounds);
        let mut total = Round::default();
        let mut check = Check::default();
        for _ in 0..plan.rounds {
            if me == 0 {
                reset(ctl, mem, lay, plan, series)?;
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
                Series::Msg(kind) => msg_round(ctl, mem, lay, plan, kind, &mut samples)?,
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

/// Core 0, after a round: the counter against the acquisitions.
fn check_round(
    mem: &Shared<'_>,
    lay: &Layout,
    i: usize,
    series: Series,
    cores: u32,
    check: &mut Check,
) {
    let get = |c: u32, w| mem.word(lay.result(i, c, w)).load(Ordering::Relaxed);
    let expected: u64 = (0..cores).map(|c| get(c, slot::ROUND_ACQUIRED)).sum();
    let counted = match series {
        Series::Msg(MsgKind::Delegation) => {
            (0..cores).map(|c| get(c, slot::SEEN)).max().unwrap_or(0)
        }
        _ => mem.word(lay.counter).load(Ordering::Relaxed),
    };
    check.expected += expected;
    check.counted += counted;
    check.violations += (0..cores).map(|c| get(c, slot::VIOLATIONS)).sum::<u64>();
    if series != Series::Msg(MsgKind::Delegation) {
        check.max_run = check.max_run.max(longest_run(mem, lay, counted));
    }
}

#[allow(clippy::too_many_arguments)]
fn print_point<P: Platform>(
    p: &mut P,
    mem: &Shared<'_>,
    lay: &Layout,
    i: usize,
    name: &str,
    series: Series,
    cores: u32,
    plan: &Plan,
    check: &Check,
    overhead: u64,
) {
    let get = |c: u32, w| mem.word(lay.result(i, c, w)).load(Ordering::Relaxed);
    let who: Vec<u32> = (0..cores).filter(|&c| series.participates(c)).collect();
    let acquired: Vec<u64> = who.iter().map(|&c| get(c, slot::ACQUIRED)).collect();
    let total: u64 = acquired.iter().sum();
    let wall = who
        .iter()
        .map(|&c| get(c, slot::ELAPSED))
        .max()
        .unwrap_or(0);
    let mut medians: Vec<u64> = who.iter().map(|&c| get(c, slot::MEDIAN_X100)).collect();
    let p99 = who
        .iter()
        .map(|&c| get(c, slot::P99_X100))
        .max()
        .unwrap_or(0);
    let samples: u64 = who.iter().map(|&c| get(c, slot::SAMPLES)).sum();
    let latency = median(&mut medians);
    let tput = Centi::ratio(total.saturating_mul(1_000_000), wall.max(1));
    let min = acquired.iter().copied().min().unwrap_or(0);
    let max = acquired.iter().copied().max().unwrap_or(0);
    let max_run = if series == Series::Msg(MsgKind::Delegation) {
        alloc::string::String::from("na")
    } else {
        alloc::format!("{}", check.max_run)
    };
    p.record(
        "lock-point",
        format_args!(
            "series={name} cores={cores} cs_lines={} participants={} acquisitions={total} cycles={wall} tput={tput} latency={} p99={} min_core={min} max_core={max} max_run={max_run} samples={samples} tsc_overhead={overhead}",
            plan.cs_lines,
            who.len(),
            Centi(latency),
            Centi(p99),
        ),
    );
    p.record(
        "sync-check",
        format_args!(
            "exp=locks series={name} cores={cores} expected={} counted={} violations={} ok={}",
            check.expected,
            check.counted,
            check.violations,
            u8::from(check.violations == 0 && check.counted == check.expected)
        ),
    );
}
