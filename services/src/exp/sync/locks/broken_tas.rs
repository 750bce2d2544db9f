//! A test-and-set lock without the atomic test-and-set: wrong on purpose.

use core::sync::atomic::Ordering::{Acquire, Relaxed, Release};

use super::{FREE, HELD};
use crate::exp::sync::{BLOCK_WORDS, Mem, ShmLock, Word, check_core, check_cores};

/// Not a lock: [`Tas`](super::Tas) with its `swap` split into a load and a
/// store, so that two cores can both read "free" before either writes
/// "held" and both enter. Kept to show that the tests find the lost mutual
/// exclusion.
#[derive(Debug)]
pub struct BrokenTas {
    lock: usize,
}

impl ShmLock for BrokenTas {
    const NAME: &'static str = "broken-tas";

    fn words(cores: u32) -> usize {
        check_cores(cores);
        BLOCK_WORDS
    }

    fn init<M: Mem>(mem: &M, base: usize, cores: u32) {
        check_cores(cores);
        mem.word(base).store(FREE, Relaxed);
    }

    fn new(base: usize, me: u32, cores: u32) -> Self {
        check_core(me, cores);
        BrokenTas { lock: base }
    }

    fn acquire<M: Mem>(&mut self, mem: &M) {
        let lock = mem.word(self.lock);
        while lock.load(Acquire) != FREE {
            M::W::pause();
        }
        // The bug: another core may have read "free" too.
        lock.store(HELD, Relaxed);
    }

    fn release<M: Mem>(&mut self, mem: &M) {
        mem.word(self.lock).store(FREE, Release);
    }
}
