//! The bound on the TSC skew between the cores, by Cristian's method (see
//! the experiment's documentation).

use alloc::vec::Vec;
use core::sync::atomic::Ordering;

use urpc::bench;

use super::{CHECK_EVERY, ExpSkew, Layout, SKEW_ROUNDS};
use crate::exp::ExpError;
use crate::exp::shared::{Control, POLL_CYCLES};
use crate::platform::Platform;
use crate::shm::Shared;

/// Spins until `done()`, looking at the abort flag now and then.
fn spin_until(ctl: &Control<'_>, done: impl Fn() -> bool) -> Result<(), ExpError> {
    let mut spins = 0u32;
    while !done() {
        spins = spins.wrapping_add(1);
        if spins.is_multiple_of(CHECK_EVERY) {
            ctl.check()?;
        }
        core::hint::spin_loop();
    }
    Ok(())
}

/// Cristian's method (see the module documentation): on core 0, each
/// other core's offset and round trip; elsewhere, nothing.
pub(super) fn measure_skew<P: Platform>(
    p: &mut P,
    ctl: &Control<'_>,
    mem: &Shared<'_>,
    lay: &Layout,
) -> Result<Vec<ExpSkew>, ExpError> {
    let (me, cores) = (ctl.me(), ctl.cores());
    let mut skews = Vec::new();
    if me == 0 {
        for i in 1..cores {
            let req = mem.word(lay.request(i));
            let tsc = mem.word(lay.answer(i));
            let seq = mem.word(lay.answer(i) + 8);
            let mut best: Option<ExpSkew> = None;
            // Round 1 is a warm-up and is not kept. Core i may have gone to
            // sleep between rounds (a slow or preempted virtual CPU): such a
            // round is slow and loses to the others.
            for r in 1..=SKEW_ROUNDS + 1 {
                let t0 = bench::tsc_begin();
                req.store(r, Ordering::Release);
                ctl.wake(p, i);
                spin_until(ctl, || seq.load(Ordering::Acquire) == r)?;
                let t1 = bench::tsc_end();
                let ti = tsc.load(Ordering::Relaxed);
                let rtt = t1.wrapping_sub(t0);
                let mid = t0.wrapping_add(rtt / 2);
                let s = ExpSkew {
                    core: i,
                    offset: ti.wrapping_sub(mid) as i64,
                    rtt,
                };
                if r > 1 && best.is_none_or(|b| s.rtt < b.rtt) {
                    best = Some(s);
                }
            }
            skews.push(best.unwrap_or(ExpSkew {
                core: i,
                offset: 0,
                rtt: 0,
            }));
        }
    } else {
        let req = mem.word(lay.request(me));
        let tsc = mem.word(lay.answer(me));
        let seq = mem.word(lay.answer(me) + 8);
        for r in 1..=SKEW_ROUNDS + 1 {
            ctl.poll_then_block(p, POLL_CYCLES, || req.load(Ordering::Acquire) == r)?;
            tsc.store(bench::tsc_begin(), Ordering::Relaxed);
            seq.store(r, Ordering::Release);
        }
    }
    Ok(skews)
}
