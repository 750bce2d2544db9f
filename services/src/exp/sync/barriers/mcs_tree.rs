//! The MCS tree barrier.

use core::sync::atomic::Ordering::{Relaxed, Release};

use crate::exp::sync::word::spin_until;
use crate::exp::sync::{Mem, ShmBarrier, Word, block, check_core, check_cores};

/// The MCS tree barrier: core `i` is node `i` of two trees. It waits until
/// its children in a 4-ary arrival tree (cores `4i + 1 ..= 4i + 4`) have
/// cleared their "not ready" flags in its node, re-arms the flags, and
/// clears its own flag in its arrival parent's node (core `⌊(i − 1)/4⌋`);
/// core 0 has then seen every arrival. Release runs down a binary wake-up
/// tree: a core waits until its wake-up parent (core `⌊(i − 1)/2⌋`)
/// writes its sense to its node, then writes it to its children's
/// (cores `2i + 1`, `2i + 2`). Only loads and stores; every core spins on
/// its own node; `2(N − 1)` remote writes per episode.
///
/// Words: blocks `2i` and `2i + 1` node `i`: the four child-not-ready flags
/// (written by the children, as the paper packs them into one word), and
/// the parent sense (written by the wake-up parent).
#[derive(Debug)]
pub struct McsTree {
    /// Word index of this core's child-not-ready flags.
    child_not_ready: usize,
    /// Which of the four arrival children exist.
    have_child: [bool; 4],
    /// Word index of this core's flag in its arrival parent (none for the
    /// root).
    parent: Option<usize>,
    /// Word index of this core's parent sense.
    parent_sense: usize,
    /// Word indices of the wake-up children's parent senses.
    wake: [Option<usize>; 2],
    /// This core's sense: starts 1, flips after each episode.
    sense: u64,
}

fn arrival(base: usize, i: usize) -> usize {
    block(base, 2 * i)
}

fn wakeup(base: usize, i: usize) -> usize {
    block(base, 2 * i + 1)
}

impl ShmBarrier for McsTree {
    const NAME: &'static str = "mcs-tree";

    fn words(cores: u32) -> usize {
        check_cores(cores);
        block(0, 2 * cores as usize)
    }

    fn init<M: Mem>(mem: &M, base: usize, cores: u32) {
        check_cores(cores);
        let n = cores as usize;
        for i in 0..n {
            for j in 0..4 {
                let have = 4 * i + j + 1 < n;
                mem.word(arrival(base, i) + j)
                    .store(u64::from(have), Relaxed);
            }
            mem.word(wakeup(base, i)).store(0, Relaxed);
        }
    }

    fn new(base: usize, me: u32, cores: u32) -> Self {
        check_core(me, cores);
        let (i, n) = (me as usize, cores as usize);
        McsTree {
            child_not_ready: arrival(base, i),
            have_child: core::array::from_fn(|j| 4 * i + j + 1 < n),
            parent: (i > 0).then(|| arrival(base, (i - 1) / 4) + (i - 1) % 4),
            parent_sense: wakeup(base, i),
            wake: core::array::from_fn(|j| {
                let c = 2 * i + j + 1;
                (c < n).then(|| wakeup(base, c))
            }),
            sense: 1,
        }
    }

    fn wait<M: Mem>(&mut self, mem: &M) {
        for j in (0..4).filter(|&j| self.have_child[j]) {
            spin_until(mem.word(self.child_not_ready + j), |f| f == 0);
        }
        // Re-arm for the next episode: the children write again only after
        // their wake-up, which follows our arrival below.
        for j in (0..4).filter(|&j| self.have_child[j]) {
            mem.word(self.child_not_ready + j).store(1, Relaxed);
        }
        if let Some(parent) = self.parent {
            // Release: our subtree's arrivals, to the parent.
            mem.word(parent).store(0, Release);
            let sense = self.sense;
            spin_until(mem.word(self.parent_sense), |s| s == sense);
        }
        for child in self.wake.into_iter().flatten() {
            mem.word(child).store(self.sense, Release);
        }
        self.sense ^= 1;
    }
}
