//! The centralized sense-reversing barrier, and a counting barrier that
//! releases one arrival early, wrong on purpose.

use core::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed, Release};

use crate::exp::sync::word::spin_until;
use crate::exp::sync::{Mem, ShmBarrier, Word, block, check_core};

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
    const BLOCKS: usize = 2;

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
    const BLOCKS: usize = 2;

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
            match released.compare_exchange(now, opened, [AcqRel, Acquire]) {
                Ok(_) => break,
                Err(seen) => now = seen,
            }
        }
        let episode = self.episode;
        spin_until(released, |r| r >= episode);
    }
}
