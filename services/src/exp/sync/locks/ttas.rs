//! Test-and-test-and-set with exponential backoff.

use core::sync::atomic::Ordering::{Acquire, Relaxed, Release};

use super::{FREE, HELD};
use crate::exp::sync::word::delay;
use crate::exp::sync::{BLOCK_WORDS, Mem, ShmLock, Word, check_core, check_cores};

/// Pauses after the first failed `swap`.
pub const BACKOFF_MIN: u32 = 1;
/// The cap of the backoff delay, in pauses: the delay doubles after each
/// failed `swap` up to this.
pub const BACKOFF_MAX: u32 = 256;

/// Test-and-test-and-set with exponential backoff (the paper's
/// `test_and_set` lock with backoff, spinning on a load as Anderson and
/// Rudolph–Segall do): waiters read the word in their own cache until it
/// is free, then try `swap(held)`; a core that loses the race waits
/// [`BACKOFF_MIN`] pauses, twice that after the next loss, and so on up to
/// [`BACKOFF_MAX`], so that the losers do not all retry at once.
#[derive(Debug)]
pub struct Ttas {
    lock: usize,
}

impl ShmLock for Ttas {
    const NAME: &'static str = "ttas";

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
        Ttas { lock: base }
    }

    fn acquire<M: Mem>(&mut self, mem: &M) {
        let lock = mem.word(self.lock);
        let mut backoff = BACKOFF_MIN;
        loop {
            // Test: spin on a read, which hits in this core's cache until
            // the holder's release invalidates it.
            while lock.load(Relaxed) != FREE {
                M::W::pause();
            }
            // Test and set.
            if lock.swap(HELD, Acquire) == FREE {
                return;
            }
            delay::<M::W>(backoff);
            backoff = (backoff * 2).min(BACKOFF_MAX);
        }
    }

    fn release<M: Mem>(&mut self, mem: &M) {
        mem.word(self.lock).store(FREE, Release);
    }
}
