//! The measured loop: one core's part of a round, with a shared-memory
//! lock or a message lock, and the critical section.

use alloc::vec::Vec;
use core::sync::atomic::Ordering;

use urpc::bench;

use super::{BATCH, GRANT_LOG, Layout, Locks, Plan, SERVER, Series};
use crate::exp::ExpError;
use crate::exp::Run;
use crate::exp::net::Net;
use crate::exp::shared::Control;
use crate::exp::sync::{LockVisitor, ShmLock};
use crate::proto::Out;
use crate::proto::lock::{LockEffect, LockKind as MsgKind, MsgLock};
use crate::shm::Shared;

/// The critical section (see the module documentation).
#[inline(always)]
pub(super) fn critical(
    mem: &Shared<'_>,
    lay: &Layout,
    cs_lines: u32,
    me: u32,
    violations: &mut u64,
) {
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
pub(super) struct Round {
    pub(super) acquired: u64,
    pub(super) violations: u64,
    pub(super) elapsed: u64,
    /// Delegation: the largest server count a reply carried.
    pub(super) seen: u64,
}

/// One core's part of a round with a shared-memory lock.
pub(super) struct ShmRound<'r, 'a> {
    pub(super) ctl: &'r Control<'a>,
    pub(super) mem: &'r Shared<'a>,
    pub(super) lay: &'r Layout,
    pub(super) plan: &'r Plan,
    pub(super) samples: &'r mut Vec<u64>,
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
pub(super) fn msg_round(
    run: &Run<'_, Locks>,
    kind: MsgKind,
    samples: &mut Vec<u64>,
) -> Result<Round, ExpError> {
    let (ctl, mem, lay, plan) = (&run.ctl, &run.mem, &run.lay, &run.plan);
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
