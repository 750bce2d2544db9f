//! E4's capability points: setup, the operation, rest, checks and
//! clean-up, `reps` times per variant and operation (see `super`).

use alloc::collections::BTreeSet;
use alloc::vec::Vec;
use core::sync::atomic::Ordering;

use urpc::bench::{self, Summary};

use super::{CapsRam, Layout, Op, slots};
use crate::exp::ExpError;
use crate::exp::experiment::Run;
use crate::exp::net::{self, Net};
use crate::exp::record::emit;
use crate::exp::rest::{Work, settle};
use crate::exp::shared::Control;
use crate::exp::stats::{Centi, median, pooled_per_op, sample_buffer};
use crate::platform::Platform;
use crate::proto::Out;
use crate::proto::caps::{Bug, Caps, CapsEffect, Obj, Outcome, Request, Variant};
use crate::shm::Shared;

use crate::exp::catalog::{CapsCheck, CapsPoint};

slots! {
    /// A core's result words: what it holds after the clean-up, its copies of
    /// the root and the child, failed requests, whether the tree was freed,
    /// the operation's cycles and its start.
    step 8: LEFT COPIES CHILD FAILED FREED SAMPLE START
}

/// A bound no operation reaches: every core of the run answers.
const NEVER: u64 = u64::MAX / 4;
/// Bytes of each tree's root. The protocol names regions; it does not
/// touch them.
pub(super) const ROOT: u64 = 1 << 20;

/// The messages `variant` promises for `op` on `cores` cores, with `r`
/// cores other than the owner holding a copy and the request coming from
/// another core than the owner (`remote`).
pub fn bound(variant: Variant, op: Op, cores: u32, r: u32, remote: bool) -> u64 {
    let others = u64::from(cores.saturating_sub(1));
    match variant {
        Variant::Targeted => 2 * u64::from(r) + 2,
        Variant::Broadcast => match op {
            Op::Revoke => 2 * u64::from(remote) + 4 * others,
            Op::Retype => 2 * u64::from(remote) + 2 * others,
            Op::Delete => u64::from(remote) + 2 * others,
        },
    }
}

/// What a core does in a phase.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Task {
    /// Nothing of its own: it serves the others.
    Serve,
    /// Core 0: create the root, copy it to `1..=r`, and for a delete point
    /// delete its own copy once the copies are out.
    Setup { r: u32, drop_own: bool },
    /// Ask for the measured operation.
    Measure(Op),
    /// Delete every copy held here, and every copy that comes back.
    Clean,
}

/// One core's work in a phase of a point.
pub(super) struct CapsWork<'a> {
    task: Task,
    obj: Obj,
    child: Obj,
    /// With the measured revoke, a retype of this other tree (the failure
    /// point: an operation the silent core is not part of); the phase
    /// ends when both are answered.
    pub(super) then: Option<Obj>,
    /// The follow-up request.
    follow: Option<u64>,
    /// How the measured request and the follow-up ended.
    pub(super) outcomes: [Option<Outcome>; 2],
    started: bool,
    /// Requests of this core not yet answered.
    pending: BTreeSet<u64>,
    /// The measured operation's request and its start.
    measured: Option<(u64, u64)>,
    /// Cycles of the measured operation, once it ended.
    pub(super) sample: Option<u64>,
    /// Outcomes other than done.
    failed: u64,
    freed: bool,
    /// The owner in a delete point: the operation ends when it frees.
    ends_on_freed: bool,
    /// For a delete point: the word where the requester leaves its start.
    start_word: &'a core::sync::atomic::AtomicU64,
    stop: &'a core::sync::atomic::AtomicU64,
}

impl<'a> CapsWork<'a> {
    pub(super) fn new(
        task: Task,
        obj: Obj,
        ctl: &Control<'a>,
        start_word: &'a core::sync::atomic::AtomicU64,
    ) -> Self {
        CapsWork {
            task,
            obj,
            child: child_of(obj),
            then: None,
            follow: None,
            outcomes: [None; 2],
            started: false,
            pending: BTreeSet::new(),
            measured: None,
            sample: None,
            failed: 0,
            freed: false,
            ends_on_freed: false,
            start_word,
            stop: ctl.stop(),
        }
    }

    fn ask(
        &mut self,
        m: &mut Caps,
        obj: Obj,
        what: Request,
        out: &mut Out<CapsEffect>,
    ) -> Result<u64, ExpError> {
        let req = m
            .request(0, obj, what, out)
            .map_err(|_| ExpError::Refused { peer: m.me() })?;
        self.pending.insert(req);
        Ok(req)
    }

    fn end_measure(&mut self, t1: u64, t0: u64) {
        self.sample = Some(t1.saturating_sub(t0));
        self.stop.store(1, Ordering::Release);
    }
}

/// The child a retype point makes: the first half of the root.
pub(super) fn child_of(obj: Obj) -> Obj {
    Obj {
        base: obj.base,
        size: obj.size / 2,
        ty: u16::from(abi::cap::ty::FRAME),
        depth: obj.depth + 1,
    }
}

impl Work<Caps> for CapsWork<'_> {
    fn step(&mut self, m: &mut Caps, out: &mut Out<CapsEffect>) -> Result<(), ExpError> {
        // A copy that comes back (its marks restored) is deleted too.
        if self.started && self.task != Task::Clean {
            return Ok(());
        }
        self.started = true;
        let refused = |m: &Caps| ExpError::Refused { peer: m.me() };
        match self.task {
            Task::Serve => {}
            Task::Setup { r, .. } => {
                m.create(self.obj).map_err(|_| refused(m))?;
                for to in 1..=r {
                    self.ask(m, self.obj, Request::Copy { to }, out)?;
                }
                self.maybe_drop_own(m, out)?;
            }
            Task::Measure(op) => {
                let t0 = bench::tsc_begin();
                match op {
                    Op::Revoke => {
                        let req = self.ask(m, self.obj, Request::Revoke, out)?;
                        self.measured = Some((req, t0));
                        if let Some(other) = self.then {
                            let what = Request::Retype {
                                child: child_of(other),
                            };
                            self.follow = Some(self.ask(m, other, what, out)?);
                        }
                    }
                    Op::Retype => {
                        let what = Request::Retype { child: self.child };
                        let req = self.ask(m, self.obj, what, out)?;
                        self.measured = Some((req, t0));
                    }
                    Op::Delete => {
                        self.start_word.store(t0, Ordering::Release);
                        m.delete(0, self.obj, out).map_err(|_| refused(m))?;
                    }
                }
            }
            Task::Clean => {
                let held: Vec<(Obj, u32)> = m.held().map(|(o, _, n)| (o, n)).collect();
                for (obj, copies) in held {
                    for _ in 0..copies {
                        m.delete(0, obj, out).map_err(|_| refused(m))?;
                    }
                }
            }
        }
        Ok(())
    }

    fn effect(
        &mut self,
        m: &mut Caps,
        e: CapsEffect,
        out: &mut Out<CapsEffect>,
    ) -> Result<(), ExpError> {
        let t1 = bench::tsc_end();
        match e {
            CapsEffect::Answered { req, outcome } => {
                self.pending.remove(&req);
                if outcome != Outcome::Done {
                    self.failed += 1;
                }
                if let Some((r, t0)) = self.measured
                    && r == req
                {
                    self.outcomes[0] = Some(outcome);
                    match self.follow {
                        None => self.end_measure(t1, t0),
                        Some(_) => {
                            self.sample = Some(t1.saturating_sub(t0));
                            if self.outcomes[1].is_some() {
                                self.stop.store(1, Ordering::Release);
                            }
                        }
                    }
                } else if self.follow == Some(req) {
                    self.outcomes[1] = Some(outcome);
                    if self.outcomes[0].is_some() {
                        self.stop.store(1, Ordering::Release);
                    }
                }
                self.maybe_drop_own(m, out)?;
            }
            CapsEffect::Freed { obj } if obj == self.obj => {
                self.freed = true;
                if self.ends_on_freed {
                    let t0 = self.start_word.load(Ordering::Acquire);
                    self.end_measure(t1, t0);
                }
            }
            // Installing, marking and removing copies is the kernel's part
            // (the monitor's effects); the machine counts its copies.
            _ => {}
        }
        Ok(())
    }

    fn done(&self, m: &Caps) -> bool {
        let cleaned = self.task != Task::Clean || m.held().next().is_none();
        self.started && self.pending.is_empty() && m.quiescent() && cleaned
    }
}

impl CapsWork<'_> {
    /// Setup of a delete point: once every copy is out, core 0 deletes its
    /// own.
    fn maybe_drop_own(&mut self, m: &mut Caps, out: &mut Out<CapsEffect>) -> Result<(), ExpError> {
        if let Task::Setup { drop_own: true, .. } = self.task
            && self.pending.is_empty()
            && m.copies(&self.obj) > 0
        {
            m.delete(0, self.obj, out)
                .map_err(|_| ExpError::Refused { peer: m.me() })?;
        }
        Ok(())
    }
}

/// One point's figures, gathered by core 0.
#[derive(Default)]
struct Tally {
    samples: Vec<u64>,
    messages: Vec<u64>,
    violations: u64,
    over_bound: u64,
}

/// Runs every capability point of the plan on this core.
pub(super) fn run<P: Platform>(p: &mut P, run: &Run<'_, CapsRam>) -> Result<(), ExpError> {
    let mut index = 0u64;
    for &variant in &run.plan.variants {
        for &op in &run.plan.ops {
            point(p, run, variant, op, index)?;
            index += 1;
        }
    }
    Ok(())
}

/// Runs one point.
fn point<P: Platform>(
    p: &mut P,
    run: &Run<'_, CapsRam>,
    variant: Variant,
    op: Op,
    index: u64,
) -> Result<(), ExpError> {
    let (ctl, mem, lay, me, cores) = (&run.ctl, &run.mem, &run.lay, run.me, run.cores);
    let plan = &run.plan;
    if me == 0 {
        net::format(mem, lay.mesh, cores)?;
        lay.rest.reset(mem);
    }
    ctl.barrier(p)?;
    let mut net = Net::attach(mem, lay.mesh, me, cores)?;
    let mut m = match plan.broken_caps {
        true => Caps::broken(me, cores, variant, NEVER, Bug::RevokeSkipsOne),
        false => Caps::new(me, cores, variant, NEVER),
    };
    let (r, asker) = match op {
        Op::Delete => (u32::from(cores > 1), u32::from(cores > 1)),
        _ => (plan.holders, u32::from(plan.holders > 0)),
    };
    let start_word = mem.word(lay.result(asker, slot::START));
    let mut tally = Tally {
        samples: sample_buffer(plan.reps as usize),
        messages: sample_buffer(plan.reps as usize),
        ..Tally::default()
    };
    let mut phase = 0;
    for rep in 0..plan.reps {
        let obj = Obj {
            base: (index * plan.reps + rep + 1) * ROOT,
            size: ROOT,
            ty: u16::from(abi::cap::ty::RAM),
            depth: 0,
        };
        // Setup.
        let task = if me == 0 {
            Task::Setup {
                r,
                drop_own: op == Op::Delete && cores > 1,
            }
        } else {
            Task::Serve
        };
        let mut w = CapsWork::new(task, obj, ctl, start_word);
        raise_stop(p, ctl, me, 1)?;
        phase += 1;
        settle(ctl, mem, &lay.rest, &mut net, &mut m, &mut w, phase)?;
        let before = lay.rest.sent(mem);
        let mut failed = w.failed;
        // The operation.
        let task = if me == asker {
            Task::Measure(op)
        } else {
            Task::Serve
        };
        let mut w = CapsWork::new(task, obj, ctl, start_word);
        w.ends_on_freed = op == Op::Delete && me == 0;
        raise_stop(p, ctl, me, 0)?;
        ctl.start_barrier(p)?;
        phase += 1;
        settle(ctl, mem, &lay.rest, &mut net, &mut m, &mut w, phase)?;
        let messages = lay.rest.sent(mem) - before;
        failed += w.failed;
        publish(mem, lay, me, &m, &w, obj, failed);
        ctl.barrier(p)?;
        if me == 0 {
            let sample = mem.word(lay.result(sample_core(op, asker), slot::SAMPLE));
            tally.samples.push(sample.load(Ordering::Acquire));
            tally.messages.push(messages);
            let remote = asker != 0;
            if messages > bound(variant, op, cores, r, remote) {
                tally.over_bound += 1;
            }
            tally.violations += u64::from(!after_op_ok(mem, lay, op, asker, &m, obj));
        }
        // Clean-up.
        let mut w = CapsWork::new(Task::Clean, obj, ctl, start_word);
        raise_stop(p, ctl, me, 1)?;
        phase += 1;
        settle(ctl, mem, &lay.rest, &mut net, &mut m, &mut w, phase)?;
        mem.word(lay.result(me, slot::LEFT))
            .store(m.held().count() as u64 + w.failed, Ordering::Relaxed);
        ctl.barrier(p)?;
        if me == 0 {
            let left: u64 = (0..cores)
                .map(|c| mem.word(lay.result(c, slot::LEFT)).load(Ordering::Relaxed))
                .sum();
            tally.violations += u64::from(left != 0 || m.records().next().is_some());
        }
    }
    // Dropping an endpoint writes to its ring: before the barrier after
    // which core 0 formats the rings again.
    drop(net);
    if me == 0 {
        report(p, run, variant, op, r, asker != 0, tally);
    }
    ctl.barrier(p)
}

/// The core whose clock ends the operation: the owner for a delete.
fn sample_core(op: Op, asker: u32) -> u32 {
    if op == Op::Delete { 0 } else { asker }
}

/// Core 0 sets the stop flag to `value`, then a barrier.
pub(super) fn raise_stop<P: Platform>(
    p: &mut P,
    ctl: &Control<'_>,
    me: u32,
    value: u64,
) -> Result<(), ExpError> {
    if me == 0 {
        ctl.stop().store(value, Ordering::Release);
    }
    ctl.barrier(p)
}

/// Leaves what core 0 checks after the operation in this core's slots.
fn publish(
    mem: &Shared<'_>,
    lay: &Layout,
    me: u32,
    m: &Caps,
    w: &CapsWork<'_>,
    obj: Obj,
    failed: u64,
) {
    let at = |word| mem.word(lay.result(me, word));
    at(slot::COPIES).store(u64::from(m.copies(&obj)), Ordering::Relaxed);
    at(slot::CHILD).store(u64::from(m.copies(&w.child)), Ordering::Relaxed);
    at(slot::FAILED).store(failed, Ordering::Relaxed);
    at(slot::FREED).store(u64::from(w.freed), Ordering::Relaxed);
    if let Some(s) = w.sample {
        at(slot::SAMPLE).store(s, Ordering::Release);
    }
}

/// Core 0: whether the operation left what it promises.
fn after_op_ok(mem: &Shared<'_>, lay: &Layout, op: Op, asker: u32, owner: &Caps, obj: Obj) -> bool {
    let word = |c: u32, w| mem.word(lay.result(c, w)).load(Ordering::Relaxed);
    let cores = lay.cores;
    let failed: u64 = (0..cores).map(|c| word(c, slot::FAILED)).sum();
    let copies: u64 = (0..cores).map(|c| word(c, slot::COPIES)).sum();
    failed == 0
        && match op {
            Op::Revoke => copies == 1 && word(asker, slot::COPIES) == 1,
            Op::Retype => word(asker, slot::CHILD) == 1,
            Op::Delete => copies == 0 && word(0, slot::FREED) == 1 && owner.record(&obj).is_none(),
        }
}

/// Core 0 prints the point's records.
fn report<P: Platform>(
    p: &mut P,
    run: &Run<'_, CapsRam>,
    variant: Variant,
    op: Op,
    r: u32,
    remote: bool,
    mut t: Tally,
) {
    let cores = run.cores;
    let overhead = run.overhead();
    // The first operations of a point warm the caches: dropped.
    let s = pooled_per_op(core::slice::from_mut(&mut t.samples), overhead, 1).unwrap_or(Summary {
        count: 0,
        min: 0,
        median: 0,
        p99: 0,
        max: 0,
    });
    let messages_max = t.messages.iter().copied().max().unwrap_or(0);
    let reps = t.messages.len() as u64;
    let variant_name: &'static str = variant.into();
    emit(
        p,
        &CapsPoint {
            variant: variant_name,
            op: op.name(),
            cores,
            r,
            reps,
            messages: median(&mut t.messages),
            messages_max,
            bound: bound(variant, op, cores, r, remote),
            cycles: Centi(s.median),
            p99: Centi(s.p99),
            tsc_overhead: overhead,
        },
    );
    emit(
        p,
        &CapsCheck {
            variant: variant_name,
            op: op.name(),
            cores,
            reps,
            violations: t.violations,
            over_bound: t.over_bound,
            ok: t.violations == 0 && t.over_bound == 0,
        },
    );
}
