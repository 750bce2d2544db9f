//! The test-and-set lock: the baseline every other lock improves on.

use core::sync::atomic::Ordering::{Acquire, Relaxed, Release};

use super::{FREE, HELD};
use crate::exp::sync::{BLOCK_WORDS, Mem, ShmLock, Word, check_core, check_cores};

/// The test-and-set lock: one word, `swap(held)` until the swap returns
/// "free", with no backoff (the paper's `test_and_set` lock without its
/// backoff). Every attempt is a write, so the waiters keep the lock's line
/// moving between their caches, and the holder's release waits its turn.
#[derive(Debug)]
pub struct Tas {
    lock: usize,
}

impl ShmLock for Tas {
    const NAME: &'static str = "tas";

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
        Tas { lock: base }
    }

    fn acquire<M: Mem>(&mut self, mem: &M) {
        let lock = mem.word(self.lock);
        while lock.swap(HELD, Acquire) != FREE {
            M::W::pause();
        }
    }

    fn release<M: Mem>(&mut self, mem: &M) {
        mem.word(self.lock).store(FREE, Release);
    }
}
