//! The centralized sense-reversing barrier.

use core::sync::atomic::Ordering::{AcqRel, Relaxed, Release};

use crate::exp::sync::word::spin_until;
use crate::exp::sync::{Mem, ShmBarrier, Word, block, check_core, check_cores};

/// The centralized sense-reversing barrier: every core flips its private
/// sense and counts itself in with `fetch_add` on one counter; the last
/// arriver resets the counter and writes its sense to the shared sense
/// word, on which the others spin. Flipping the sense every episode makes
/// the barrier reusable without a second counter. Every arrival is an
/// atomic operation on one word, and every waiter polls one word.
///
/// Words: block 0 the arrivals of this episode, block 1 the sense (both
/// start 0; a core's sense starts 0 and is 1 in the first episode).
#[derive(Debug)]
pub struct Sense {
    count: usize,
    sense: usize,
    cores: u64,
    /// This core's sense: the value of the sense word after this episode.
    local: u64,
}

impl ShmBarrier for Sense {
    const NAME: &'static str = "sense";

    fn words(cores: u32) -> usize {
        check_cores(cores);
        block(0, 2)
    }

    fn init<M: Mem>(mem: &M, base: usize, cores: u32) {
        check_cores(cores);
        mem.word(block(base, 0)).store(0, Relaxed);
        mem.word(block(base, 1)).store(0, Relaxed);
    }

    fn new(base: usize, me: u32, cores: u32) -> Self {
        check_core(me, cores);
        Sense {
            count: block(base, 0),
            sense: block(base, 1),
            cores: u64::from(cores),
            local: 0,
        }
    }

    fn wait<M: Mem>(&mut self, mem: &M) {
        self.local ^= 1;
        // AcqRel: the arrivals form one release sequence, so the last
        // arriver acquires every earlier arrival.
        if mem.word(self.count).fetch_add(1, AcqRel) == self.cores - 1 {
            // The reset is ordered before the next episode's arrivals by
            // the Release below, which every core waits for.
            mem.word(self.count).store(0, Relaxed);
            mem.word(self.sense).store(self.local, Release);
        } else {
            let local = self.local;
            spin_until(mem.word(self.sense), |s| s == local);
        }
    }
}
