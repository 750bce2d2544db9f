//! Core 0's checks of a point's rounds and the point's records
//! (`lock-point`, `sync-check`).

use alloc::vec::Vec;
use core::sync::atomic::Ordering;

use super::{GRANT_LOG, Layout, Plan, Series, slot};
use super::{LockPoint, Locks};
use crate::exp::Experiment;
use crate::exp::catalog::SyncCheck;
use crate::exp::record::{Centi, emit};
use crate::exp::stats::median;
use crate::platform::Platform;
use crate::proto::lock::LockKind as MsgKind;
use crate::shm::Shared;

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
pub(super) struct Check {
    pub(super) expected: u64,
    pub(super) counted: u64,
    pub(super) violations: u64,
    pub(super) max_run: u64,
}

/// Core 0, after a round: the counter against the acquisitions.
pub(super) fn check_round(
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
pub(super) fn print_point<P: Platform>(
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
    let slowest = who
        .iter()
        .map(|&c| get(c, slot::SLOWEST_X100))
        .max()
        .unwrap_or(0);
    let latency = median(&mut medians);
    let tput = Centi::ratio(total.saturating_mul(1_000_000), wall.max(1));
    let min = acquired.iter().copied().min().unwrap_or(0);
    let max = acquired.iter().copied().max().unwrap_or(0);
    let max_run = (series != Series::Msg(MsgKind::Delegation)).then_some(check.max_run);
    let point = LockPoint {
        series: name,
        cores,
        cs_lines: plan.cs_lines,
        participants: who.len() as u32,
        acquisitions: total,
        cycles: wall,
        tput,
        latency: Centi(latency),
        p99: Centi(p99),
        min_core: min,
        max_core: max,
        max_run,
        samples,
        tsc_overhead: overhead,
        slowest: Some(Centi(slowest)),
    };
    emit(p, &point);
    let check = SyncCheck {
        exp: Locks::NAME,
        series: name,
        cores,
        expected: check.expected,
        counted: check.counted,
        violations: check.violations,
        ok: check.violations == 0 && check.counted == check.expected,
    };
    emit(p, &check);
}
