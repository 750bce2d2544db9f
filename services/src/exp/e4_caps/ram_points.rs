//! E4's RAM points: the RAM protocol between the cores (`msg`) and one
//! global free list under a lock (`global`), on the same demand (see
//! `super`).

use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};

use urpc::bench::{self, Summary};

use super::{BATCH, BLOCK_BYTES, CapsRam, Layout, slots};
use crate::exp::ExpError;
use crate::exp::experiment::Run;
use crate::exp::net::{self, Net};
use crate::exp::record::emit;
use crate::exp::rest::{Work, settle};
use crate::exp::shared::{BLOCK, Control};
use crate::exp::stats::{Centi, median, sample_buffer};
use crate::platform::Platform;
use crate::proto::Out;
use crate::proto::ram::{Ram, RamEffect, Region};
use crate::shm::Shared;

use crate::exp::catalog::{MemCheck, RamPoint};

slots! {
    /// A core's result words: blocks allocated and borrowed, blocks held
    /// twice or not given, the medians and 99th percentiles, its RAM at the
    /// end and its blocks not home.
    step 8: ALLOCS BORROWED BAD ALLOC ALLOC_P99 BORROW BORROW_P99 FREE END NOT_HOME
}

/// A bound no request reaches: every core of the run answers.
const NEVER: u64 = u64::MAX / 4;

/// Blocks core `core` of `cores` needs, with `blocks` in each partition:
/// even cores one and a half partitions, odd cores half of one, the last
/// core of an odd count its own. The demands add up to the RAM there is.
pub fn demand(core: u32, cores: u32, blocks: u64) -> u64 {
    let half = blocks / 2;
    match core % 2 {
        0 if core + 1 < cores => blocks + half,
        0 => blocks,
        _ => blocks - half,
    }
}

/// Runs the RAM points of the plan on this core.
pub(super) fn run<P: Platform>(p: &mut P, run: &Run<'_, CapsRam>) -> Result<(), ExpError> {
    if run.plan.msg {
        msg_point(p, run)?;
    }
    if run.plan.global {
        global_point(p, run)?;
    }
    Ok(())
}

/// One core's figures of a series.
#[derive(Default)]
struct Figures {
    allocs: u64,
    borrowed: u64,
    held_twice: u64,
    exhausted: u64,
    alloc: Option<Summary>,
    borrow: Option<Summary>,
    free: Option<Summary>,
}

/// Stamps `block` as held by `me`; whether it was free.
fn stamp(mem: &Shared<'_>, block: u64, me: u32) -> bool {
    mem.word(block as usize)
        .compare_exchange(0, u64::from(me) + 1, Ordering::AcqRel, Ordering::Acquire)
        .is_ok()
}

/// Clears `me`'s stamp on `block`; whether it was there.
fn unstamp(mem: &Shared<'_>, block: u64, me: u32) -> bool {
    mem.word(block as usize)
        .compare_exchange(u64::from(me) + 1, 0, Ordering::AcqRel, Ordering::Acquire)
        .is_ok()
}

/// Core `core`'s partition.
fn partition(lay: &Layout, blocks: u64, core: u32) -> Region {
    let size = blocks * BLOCK_BYTES;
    Region {
        base: lay.ram as u64 + u64::from(core) * size,
        size,
    }
}

/// Core 0 clears every block's stamp.
fn clear_stamps(mem: &Shared<'_>, lay: &Layout, blocks: u64) {
    for b in 0..blocks * u64::from(lay.cores) {
        mem.word(lay.ram + (b * BLOCK_BYTES) as usize)
            .store(0, Ordering::Relaxed);
    }
}

/// The allocation phase of `msg` on one core.
struct Alloc<'m> {
    mem: Shared<'m>,
    me: u32,
    own: Region,
    want: u64,
    have: Vec<Region>,
    waiting: Option<(u64, u64)>,
    local: Vec<u64>,
    borrow: Vec<u64>,
    /// Whether this round's samples count (not the warm-up round).
    timed: bool,
    f: Figures,
}

impl Work<Ram> for Alloc<'_> {
    fn step(&mut self, m: &mut Ram, out: &mut Out<RamEffect>) -> Result<(), ExpError> {
        if self.waiting.is_some() || self.have.len() as u64 >= self.want {
            return Ok(());
        }
        let refused = |_: &Ram| ExpError::Refused { peer: self.me };
        let left = self.want - self.have.len() as u64;
        let here = m.free_bytes() / BLOCK_BYTES;
        if here >= BATCH.min(left) && here > 0 {
            let n = BATCH.min(left);
            let t0 = bench::tsc_begin();
            for _ in 0..n {
                m.alloc(0, BLOCK_BYTES, out).map_err(|_| refused(m))?;
            }
            let t1 = bench::tsc_end();
            if n == BATCH && self.timed {
                self.local.push(t1.wrapping_sub(t0));
            }
        } else if here > 0 {
            m.alloc(0, BLOCK_BYTES, out).map_err(|_| refused(m))?;
        } else {
            let t0 = bench::tsc_begin();
            let req = m.alloc(0, BLOCK_BYTES, out).map_err(|_| refused(m))?;
            self.waiting = Some((req, t0));
        }
        Ok(())
    }

    fn effect(
        &mut self,
        _m: &mut Ram,
        e: RamEffect,
        _out: &mut Out<RamEffect>,
    ) -> Result<(), ExpError> {
        let t1 = bench::tsc_end();
        let req = match e {
            RamEffect::Allocated { req, region } => {
                if !stamp(&self.mem, region.base, self.me) {
                    self.f.held_twice += 1;
                }
                if !(region.base >= self.own.base && region.end() <= self.own.end()) {
                    self.f.borrowed += 1;
                }
                self.have.push(region);
                self.f.allocs += 1;
                req
            }
            RamEffect::Exhausted { req } => {
                self.f.exhausted += 1;
                self.want = self.have.len() as u64;
                req
            }
        };
        if let Some((r, t0)) = self.waiting
            && r == req
        {
            if self.timed {
                self.borrow.push(t1.wrapping_sub(t0));
            }
            self.waiting = None;
        }
        Ok(())
    }

    fn done(&self, m: &Ram) -> bool {
        self.waiting.is_none() && self.have.len() as u64 >= self.want && m.quiescent()
    }
}

/// The free phase of `msg` on one core.
struct Free<'m> {
    mem: Shared<'m>,
    me: u32,
    have: Vec<Region>,
    samples: Vec<u64>,
    timed: bool,
    held_twice: u64,
}

impl Work<Ram> for Free<'_> {
    fn step(&mut self, m: &mut Ram, out: &mut Out<RamEffect>) -> Result<(), ExpError> {
        if self.have.is_empty() {
            return Ok(());
        }
        for r in &self.have {
            if !unstamp(&self.mem, r.base, self.me) {
                self.held_twice += 1;
            }
        }
        let have = core::mem::take(&mut self.have);
        for chunk in have.chunks(BATCH as usize) {
            let t0 = bench::tsc_begin();
            for r in chunk {
                m.free(*r, out)
                    .map_err(|_| ExpError::Refused { peer: self.me })?;
            }
            let t1 = bench::tsc_end();
            if chunk.len() as u64 == BATCH && self.timed {
                self.samples.push(t1.wrapping_sub(t0));
            }
        }
        Ok(())
    }

    fn effect(
        &mut self,
        _m: &mut Ram,
        _e: RamEffect,
        _out: &mut Out<RamEffect>,
    ) -> Result<(), ExpError> {
        Ok(())
    }

    fn done(&self, m: &Ram) -> bool {
        self.have.is_empty() && m.quiescent()
    }
}

/// Core 0 sets the stop flag, then a barrier.
fn barrier_stop<P: Platform>(p: &mut P, ctl: &Control<'_>, me: u32) -> Result<(), ExpError> {
    if me == 0 {
        ctl.stop().store(1, Ordering::Release);
    }
    ctl.barrier(p)
}

/// The RAM protocol.
fn msg_point<P: Platform>(p: &mut P, run: &Run<'_, CapsRam>) -> Result<(), ExpError> {
    let (ctl, mem, lay, me, cores) = (&run.ctl, &run.mem, &run.lay, run.me, run.cores);
    let blocks = run.plan.blocks;
    if me == 0 {
        net::format(mem, lay.mesh, cores)?;
        lay.rest.reset(mem);
        clear_stamps(mem, lay, blocks);
    }
    barrier_stop(p, ctl, me)?;
    let mut net = Net::attach(mem, lay.mesh, me, cores)?;
    let own = partition(lay, blocks, me);
    let mut m = match run.plan.broken_ram {
        true => Ram::broken(me, cores, &[], &[own], NEVER),
        false => Ram::new(me, cores, &[], &[own], NEVER),
    };
    let word = |c: u32, w| mem.word(lay.result(c, w));
    word(me, slot::ALLOCS).store(m.free_bytes() + m.used_bytes(), Ordering::Relaxed);
    ctl.barrier(p)?;
    let total: u64 = (0..cores)
        .map(|c| word(c, slot::ALLOCS).load(Ordering::Relaxed))
        .sum();
    let want = demand(me, cores, blocks);
    let rounds = run.plan.ram_rounds;
    let per_round = want as usize / BATCH as usize + 1;
    let mut a = Alloc {
        mem: *mem,
        me,
        own,
        want,
        have: Vec::with_capacity(want as usize),
        waiting: None,
        local: sample_buffer(per_round * rounds as usize),
        borrow: sample_buffer(want as usize * rounds as usize),
        timed: false,
        f: Figures::default(),
    };
    let mut fr = Free {
        mem: *mem,
        me,
        samples: sample_buffer(per_round * rounds as usize),
        have: Vec::with_capacity(want as usize),
        timed: false,
        held_twice: 0,
    };
    let mut phase = 0;
    for round in 0..rounds {
        // The first round warms the caches and the heap: not timed.
        a.timed = round > 0;
        fr.timed = round > 0;
        a.want = want;
        ctl.barrier(p)?;
        ctl.start_barrier(p)?;
        phase += 1;
        settle(ctl, mem, &lay.rest, &mut net, &mut m, &mut a, phase)?;
        core::mem::swap(&mut a.have, &mut fr.have);
        ctl.barrier(p)?;
        ctl.start_barrier(p)?;
        phase += 1;
        settle(ctl, mem, &lay.rest, &mut net, &mut m, &mut fr, phase)?;
    }
    let overhead = run.overhead();
    let mut f = a.f;
    f.allocs /= u64::from(rounds).max(1);
    f.borrowed /= u64::from(rounds).max(1);
    f.held_twice += fr.held_twice;
    f.alloc = Summary::per_op(&mut a.local, overhead, BATCH);
    f.borrow = Summary::per_op(&mut a.borrow, overhead, 1);
    f.free = Summary::per_op(&mut fr.samples, overhead, BATCH);
    let not_home = own.size.abs_diff(m.free_bytes()) / BLOCK_BYTES;
    let messages = lay.rest.sent(mem) / u64::from(rounds).max(1);
    // Dropping an endpoint writes to its ring: before the next barrier.
    drop(net);
    let end = m.free_bytes() + m.used_bytes();
    finish(p, run, "msg", &f, total, end, not_home, messages)
}

/// A ticket lock and a stack of free blocks in the arena.
struct List<'m> {
    next: &'m AtomicU64,
    serving: &'m AtomicU64,
    count: &'m AtomicU64,
    mem: Shared<'m>,
    items: usize,
}

impl<'m> List<'m> {
    fn at(mem: &Shared<'m>, lay: &Layout) -> List<'m> {
        List {
            next: mem.word(lay.list),
            serving: mem.word(lay.list + BLOCK),
            count: mem.word(lay.list + 2 * BLOCK),
            mem: *mem,
            items: lay.list + 3 * BLOCK,
        }
    }

    fn item(&self, i: u64) -> &'m AtomicU64 {
        self.mem.word(self.items + 8 * i as usize)
    }

    #[inline(always)]
    fn locked<T>(&self, f: impl FnOnce() -> T) -> T {
        let ticket = self.next.fetch_add(1, Ordering::Relaxed);
        while self.serving.load(Ordering::Acquire) != ticket {
            core::hint::spin_loop();
        }
        let v = f();
        self.serving
            .store(ticket.wrapping_add(1), Ordering::Release);
        v
    }

    /// Takes a block, if any is left.
    fn pop(&self) -> Option<u64> {
        self.locked(|| {
            let n = self.count.load(Ordering::Relaxed);
            (n > 0).then(|| {
                self.count.store(n - 1, Ordering::Relaxed);
                self.item(n - 1).load(Ordering::Relaxed)
            })
        })
    }

    /// Gives a block back.
    fn push(&self, block: u64) {
        self.locked(|| {
            let n = self.count.load(Ordering::Relaxed);
            self.item(n).store(block, Ordering::Relaxed);
            self.count.store(n + 1, Ordering::Relaxed);
        });
    }
}

/// The baseline: one global free list under a lock.
fn global_point<P: Platform>(p: &mut P, run: &Run<'_, CapsRam>) -> Result<(), ExpError> {
    let (ctl, mem, lay, me, cores) = (&run.ctl, &run.mem, &run.lay, run.me, run.cores);
    let blocks = run.plan.blocks;
    let list = List::at(mem, lay);
    let all = blocks * u64::from(cores);
    if me == 0 {
        clear_stamps(mem, lay, blocks);
        mem.zero(lay.list, 3 * BLOCK);
        for b in 0..all {
            list.item(b)
                .store(lay.ram as u64 + b * BLOCK_BYTES, Ordering::Relaxed);
        }
        list.count.store(all, Ordering::Release);
    }
    ctl.barrier(p)?;
    let total = list.count.load(Ordering::Acquire) * BLOCK_BYTES;
    let want = demand(me, cores, blocks);
    let rounds = run.plan.ram_rounds;
    let per_round = want as usize / BATCH as usize + 1;
    let mut f = Figures::default();
    let mut have = Vec::with_capacity(want as usize);
    let mut allocs = sample_buffer(per_round * rounds as usize);
    let mut frees = sample_buffer(per_round * rounds as usize);
    for round in 0..rounds {
        // The first round warms the caches: not timed.
        let timed = round > 0;
        ctl.barrier(p)?;
        ctl.start_barrier(p)?;
        while (have.len() as u64) < want {
            let n = BATCH.min(want - have.len() as u64);
            let t0 = bench::tsc_begin();
            for _ in 0..n {
                match list.pop() {
                    Some(b) => have.push(b),
                    None => f.exhausted += 1,
                }
            }
            let t1 = bench::tsc_end();
            if n == BATCH && timed {
                allocs.push(t1.wrapping_sub(t0));
            }
            if f.exhausted > 0 {
                break;
            }
        }
        f.allocs += have.len() as u64;
        for &b in &have {
            f.held_twice += u64::from(!stamp(mem, b, me));
        }
        ctl.barrier(p)?;
        for &b in &have {
            f.held_twice += u64::from(!unstamp(mem, b, me));
        }
        ctl.start_barrier(p)?;
        for chunk in have.chunks(BATCH as usize) {
            let t0 = bench::tsc_begin();
            for &b in chunk {
                list.push(b);
            }
            let t1 = bench::tsc_end();
            if chunk.len() as u64 == BATCH && timed {
                frees.push(t1.wrapping_sub(t0));
            }
        }
        have.clear();
    }
    let overhead = run.overhead();
    f.allocs /= u64::from(rounds).max(1);
    f.alloc = Summary::per_op(&mut allocs, overhead, BATCH);
    f.free = Summary::per_op(&mut frees, overhead, BATCH);
    ctl.barrier(p)?;
    // Core 0 counts the whole list once; the others add nothing.
    let end = if me == 0 {
        list.count.load(Ordering::Acquire) * BLOCK_BYTES
    } else {
        0
    };
    finish(p, run, "global", &f, total, end, 0, 0)
}

/// Every core leaves its figures; core 0 prints `ram-point` and
/// `mem-check`. `total` is the RAM at the start, all cores; `end` this
/// core's share of it at the end; `not_home` its blocks not back with
/// their owner.
#[allow(clippy::too_many_arguments)]
fn finish<P: Platform>(
    p: &mut P,
    run: &Run<'_, CapsRam>,
    series: &'static str,
    f: &Figures,
    total: u64,
    end: u64,
    not_home: u64,
    messages: u64,
) -> Result<(), ExpError> {
    let (ctl, mem, lay, me, cores) = (&run.ctl, &run.mem, &run.lay, run.me, run.cores);
    let word = |c: u32, w| mem.word(lay.result(c, w));
    let med = |s: &Option<Summary>| s.map_or(0, |s| s.median);
    let p99 = |s: &Option<Summary>| s.map_or(0, |s| s.p99);
    ctl.barrier(p)?;
    for (w, v) in [
        (slot::ALLOCS, f.allocs),
        (slot::BORROWED, f.borrowed),
        (slot::BAD, f.held_twice + f.exhausted),
        (slot::ALLOC, med(&f.alloc)),
        (slot::ALLOC_P99, p99(&f.alloc)),
        (slot::BORROW, med(&f.borrow)),
        (slot::BORROW_P99, p99(&f.borrow)),
        (slot::FREE, med(&f.free)),
        (slot::END, end),
        (slot::NOT_HOME, not_home),
    ] {
        word(me, w).store(v, Ordering::Relaxed);
    }
    ctl.barrier(p)?;
    if me == 0 {
        let all = |w| (0..cores).map(move |c| word(c, w).load(Ordering::Relaxed));
        let mut alloc: Vec<u64> = all(slot::ALLOC).collect();
        let mut borrow: Vec<u64> = all(slot::BORROW).filter(|&v| v > 0).collect();
        let mut free: Vec<u64> = all(slot::FREE).collect();
        let bad: u64 = all(slot::BAD).sum();
        let not_home: u64 = all(slot::NOT_HOME).sum();
        let end: u64 = all(slot::END).sum();
        emit(
            p,
            &RamPoint {
                series,
                cores,
                allocs: all(slot::ALLOCS).sum(),
                borrowed: all(slot::BORROWED).sum(),
                alloc: Centi(median(&mut alloc)),
                alloc_p99: Centi(all(slot::ALLOC_P99).max().unwrap_or(0)),
                borrow: Centi(median(&mut borrow)),
                borrow_p99: Centi(all(slot::BORROW_P99).max().unwrap_or(0)),
                free: Centi(median(&mut free)),
                messages,
                tsc_overhead: run.overhead(),
            },
        );
        emit(
            p,
            &MemCheck {
                series,
                cores,
                total,
                end,
                held_twice: bad,
                not_home,
                conserved: total == end && bad == 0 && not_home == 0,
            },
        );
    }
    ctl.barrier(p)
}
