//! Anderson's array-based queueing lock.

use core::sync::atomic::Ordering::{AcqRel, Relaxed, Release};

use crate::exp::sync::word::spin_until;
use crate::exp::sync::{Mem, ShmLock, Word, block, check_core, check_cores};

const MUST_WAIT: u64 = 0;
const HAS_LOCK: u64 = 1;

/// Anderson's array-based queueing lock: a core takes a place with
/// `fetch_add` on a counter and spins on its own slot of an array of N
/// flags (one block each); the holder hands over by clearing its slot and
/// setting the next one. FIFO; each waiter spins on its own line, and a
/// release touches two lines. N slots suffice because each core waits for
/// one acquire at a time.
///
/// Words: block 0 the place counter, block `1 + s` slot `s` (initially slot
/// 0 has the lock). The place is taken modulo N; the 64-bit counter never
/// wraps in practice.
#[derive(Debug)]
pub struct Anderson {
    base: usize,
    cores: u32,
    /// The slot this core waits on or holds.
    slot: u32,
}

impl Anderson {
    fn slot(&self, s: u32) -> usize {
        block(self.base, 1 + s as usize)
    }
}

impl ShmLock for Anderson {
    const NAME: &'static str = "anderson";

    fn words(cores: u32) -> usize {
        check_cores(cores);
        block(0, 1 + cores as usize)
    }

    fn init<M: Mem>(mem: &M, base: usize, cores: u32) {
        check_cores(cores);
        mem.word(block(base, 0)).store(0, Relaxed);
        for s in 0..cores as usize {
            let flag = if s == 0 { HAS_LOCK } else { MUST_WAIT };
            mem.word(block(base, 1 + s)).store(flag, Relaxed);
        }
    }

    fn new(base: usize, me: u32, cores: u32) -> Self {
        check_core(me, cores);
        Anderson {
            base,
            cores,
            slot: 0,
        }
    }

    fn acquire<M: Mem>(&mut self, mem: &M) {
        // AcqRel, not Relaxed: our slot was last cleared by the holder of
        // place `place − N`, and our poll must not return the "has lock"
        // that let that holder in (which this core may have written
        // itself). If this core held one of the places `place − N ..
        // place`, it made or saw the clear; otherwise the other N − 1 cores
        // took those N places, one of them two, the second after its
        // release and so after the clear, and our `fetch_add` reads from
        // after its `fetch_add`.
        let place = mem.word(self.base).fetch_add(1, AcqRel);
        self.slot = (place % u64::from(self.cores)) as u32;
        spin_until(mem.word(self.slot(self.slot)), |f| f == HAS_LOCK);
    }

    fn release<M: Mem>(&mut self, mem: &M) {
        // Clear our slot for the core that gets it N places later (see
        // `acquire`), then hand over.
        mem.word(self.slot(self.slot)).store(MUST_WAIT, Relaxed);
        let next = (self.slot + 1) % self.cores;
        mem.word(self.slot(next)).store(HAS_LOCK, Release);
    }
}
