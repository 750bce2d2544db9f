//! A centralized barrier that opens one arrival early: wrong on purpose.

use core::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed};

use crate::exp::sync::word::spin_until;
use crate::exp::sync::{Mem, ShmBarrier, Word, block, check_core, check_cores};

/// Not a barrier: a centralized barrier that releases an episode when
/// N − 1 of its N cores have arrived, so that a core can leave before the
/// last one arrived. Kept to show that the tests find it.
///
/// Its sense is generalised to an episode count, so that the early release
/// confuses no episode with another and every core still finishes every
/// episode (a test can run it to the end): arrivals are counted and never
/// reset, and the `a`-th arrival raises the released-episode word to
/// `⌊(a + 1) / N⌋` (a correct barrier: `⌊a / N⌋`); a core waits in
/// episode `e` until that word is at least `e`.
///
/// Words: block 0 the arrivals so far, block 1 the last released episode.
#[derive(Debug)]
pub struct BrokenSense {
    count: usize,
    released: usize,
    cores: u64,
    /// The episode this core is in (1 in the first).
    episode: u64,
}

impl ShmBarrier for BrokenSense {
    const NAME: &'static str = "broken-sense";

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
        BrokenSense {
            count: block(base, 0),
            released: block(base, 1),
            cores: u64::from(cores),
            episode: 0,
        }
    }

    fn wait<M: Mem>(&mut self, mem: &M) {
        self.episode += 1;
        let arrivals = mem.word(self.count).fetch_add(1, AcqRel) + 1;
        // The bug: one arrival short of the N that end an episode.
        let opened = (arrivals + 1) / self.cores;
        let released = mem.word(self.released);
        let mut now = released.load(Relaxed);
        while now < opened {
            match released.compare_exchange(now, opened, AcqRel, Acquire) {
                Ok(_) => break,
                Err(seen) => now = seen,
            }
        }
        let episode = self.episode;
        spin_until(released, |r| r >= episode);
    }
}
