//! E4's failure point (`silent=C`): the monitor of core `C`, a holder of
//! the capability, stops answering, and a revoke that needs it must be
//! abandoned with a typed error while every replica stays as it was;
//! an operation on another tree, which `C` is not part of, goes on.
//!
//! For each variant, `reps` times: core 0 makes two trees, the first
//! copied to cores `1..=R` (`C` among them), the second to core 1 only.
//! Then core `C` falls silent (it takes no message: `super::super::rest`)
//! and core 1 asks, at once, for a revoke of the first tree and a retype
//! of the second. The revoke must end in `timeout (core C)` after the
//! machine's bound, the retype in `done` (in the targeted variant: the
//! broadcast baseline asks every core, the silent one too, so its retype
//! times out as well, and the record says so); every other core must still
//! hold its one copy of the first tree (the marks were restored). Then
//! `C` answers again, takes what waited in its rings (a mark and its
//! restore), and every core deletes what it holds: at rest nothing is
//! left anywhere. `caps-fault` gives the counts and the median cycles
//! from the revoke's request to its abandonment.

use alloc::vec::Vec;
use core::sync::atomic::Ordering;

use super::caps_points::{CapsWork, ROOT, Task, raise_stop};
use super::{CapsRam, Op, slots};
use crate::exp::ExpError;
use crate::exp::experiment::Run;
use crate::exp::net::{self, Net};
use crate::exp::record::emit;
use crate::exp::rest::settle;
use crate::exp::stats::{Centi, median};
use crate::platform::Platform;
use crate::proto::caps::{Caps, Obj, Outcome, Variant};

use crate::exp::catalog::CapsFault;

slots! {
    /// A core's result words: what it holds after the clean-up, its copies of
    /// the first tree, how the revoke and the retype ended, the revoke's
    /// cycles and its start.
    step 8: LEFT COPIES REVOKED RETYPED SAMPLE START
}

/// The bound after which an owner abandons an operation, cycles: far
/// above a healthy operation, even with the cores' threads preempted.
pub const FAULT_BOUND: u64 = 200_000_000;
/// Where the failure point's trees start (above every other point's).
const BASE: u64 = 1 << 52;

/// An outcome as a word of a result slot.
fn code(o: Option<Outcome>) -> u64 {
    match o {
        None => 0,
        Some(Outcome::Done) => 1,
        Some(Outcome::Timeout { core }) => 2 | u64::from(core) << 8,
        Some(_) => 3,
    }
}

/// Runs the failure point of every variant, if `silent=` asks for it
/// and the silent core holds a copy (`silent <= holders`; the arguments
/// refuse core 0 and core 1).
pub(super) fn run<P: Platform>(p: &mut P, run: &Run<'_, CapsRam>) -> Result<(), ExpError> {
    let Some(silent) = run.plan.silent else {
        return Ok(());
    };
    // On too few cores the silent core holds no copy: no failure point.
    if silent > run.plan.holders {
        return Ok(());
    }
    for &variant in &run.plan.variants {
        point(p, run, variant, silent)?;
    }
    Ok(())
}

fn point<P: Platform>(
    p: &mut P,
    run: &Run<'_, CapsRam>,
    variant: Variant,
    silent: u32,
) -> Result<(), ExpError> {
    let (ctl, mem, lay, me, cores) = (&run.ctl, &run.mem, &run.lay, run.me, run.cores);
    let (r, reps) = (run.plan.holders, run.plan.reps);
    if me == 0 {
        net::format(mem, lay.mesh, cores)?;
        lay.rest.reset(mem);
    }
    ctl.barrier(p)?;
    let mut net = Net::attach(mem, lay.mesh, me, cores)?;
    let mut m = Caps::new(me, cores, variant, FAULT_BOUND);
    let start_word = mem.word(lay.result(1, slot::START));
    let word = |c: u32, w| mem.word(lay.result(c, w));
    let (mut timeouts, mut restored, mut others_done, mut left) = (0u64, 0u64, 0u64, 0u64);
    let mut samples = Vec::with_capacity(reps as usize);
    let mut phase = 0;
    for rep in 0..reps {
        let obj = Obj {
            base: BASE + rep * 2 * ROOT,
            size: ROOT,
            ty: u16::from(abi::cap::ty::RAM),
            depth: 0,
        };
        let other = Obj {
            base: obj.base + ROOT,
            ..obj
        };
        for (tree, holders) in [(obj, r), (other, 1)] {
            let task = match me {
                0 => Task::Setup {
                    r: holders,
                    drop_own: false,
                },
                _ => Task::Serve,
            };
            let mut w = CapsWork::new(task, tree, ctl, start_word);
            raise_stop(p, ctl, me, 1)?;
            phase += 1;
            settle(ctl, mem, &lay.rest, &mut net, &mut m, &mut w, phase)?;
        }
        let task = match me {
            1 => Task::Measure(Op::Revoke),
            _ => Task::Serve,
        };
        let mut w = CapsWork::new(task, obj, ctl, start_word);
        w.then = Some(other);
        raise_stop(p, ctl, me, 0)?;
        ctl.start_barrier(p)?;
        phase += 1;
        let quiet = lay.rest.with_silent(silent);
        settle(ctl, mem, &quiet, &mut net, &mut m, &mut w, phase)?;
        word(me, slot::COPIES).store(u64::from(m.copies(&obj)), Ordering::Relaxed);
        word(me, slot::REVOKED).store(code(w.outcomes[0]), Ordering::Relaxed);
        word(me, slot::RETYPED).store(code(w.outcomes[1]), Ordering::Relaxed);
        word(me, slot::SAMPLE).store(w.sample.unwrap_or(0), Ordering::Relaxed);
        ctl.barrier(p)?;
        if me == 0 {
            let at = |c: u32, s| word(c, s).load(Ordering::Relaxed);
            timeouts +=
                u64::from(at(1, slot::REVOKED) == code(Some(Outcome::Timeout { core: silent })));
            others_done += u64::from(at(1, slot::RETYPED) == code(Some(Outcome::Done)));
            let kept = (0..=r)
                .filter(|&c| c != silent)
                .all(|c| at(c, slot::COPIES) == 1);
            restored += u64::from(kept);
            samples.push(at(1, slot::SAMPLE));
        }
        // Core `silent` answers again; everything is deleted.
        let mut w = CapsWork::new(Task::Clean, obj, ctl, start_word);
        raise_stop(p, ctl, me, 1)?;
        phase += 1;
        settle(ctl, mem, &lay.rest, &mut net, &mut m, &mut w, phase)?;
        word(me, slot::LEFT).store(m.held().count() as u64, Ordering::Relaxed);
        ctl.barrier(p)?;
        if me == 0 {
            let held: u64 = (0..cores)
                .map(|c| word(c, slot::LEFT).load(Ordering::Relaxed))
                .sum();
            left += held + u64::from(m.records().next().is_some());
        }
    }
    // Dropping an endpoint writes to its ring: before the last barrier.
    drop(net);
    if me == 0 {
        // The broadcast baseline asks every core for every operation: the
        // other tree's retype waits for the silent core as well.
        let others_ok = variant == Variant::Broadcast || others_done == reps;
        let ok = timeouts == reps && restored == reps && others_ok && left == 0;
        emit(
            p,
            &CapsFault {
                variant: variant.into(),
                cores,
                silent,
                reps,
                timeouts,
                restored,
                others_done,
                left,
                cycles: Centi(median(&mut samples) * 100),
                bound: FAULT_BOUND,
                ok,
            },
        );
    }
    ctl.barrier(p)
}
