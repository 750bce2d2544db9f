//! The software combining tree barrier (Yew, Tzeng and Lawrie).

use core::sync::atomic::Ordering::{AcqRel, Relaxed, Release};

use crate::exp::sync::word::spin_until;
use crate::exp::sync::{MAX_CORES, Mem, ShmBarrier, Word, block, check_core, check_cores};

/// The fan-in of [`Combining`]: each tree node combines up to 4 arrivals.
pub const FAN_IN: usize = 4;

/// The combining tree barrier with fan-in [`FAN_IN`] (4): the `combining`
/// series.
pub type Combining = CombiningTree<FAN_IN>;

/// Levels of the tallest tree: fan-in 2 over [`MAX_CORES`] cores.
const MAX_LEVELS: usize = ceil_log2_usize(MAX_CORES as usize);

const fn ceil_log2_usize(n: usize) -> usize {
    (usize::BITS - (n - 1).leading_zeros()) as usize
}

/// The software combining tree barrier with fan-in `K`: the
/// centralized barrier's counter split into a tree of counters. Cores
/// arrive in groups of `K` at the leaves; the last arriver at a node goes
/// on to arrive at its parent, and the others spin on the node's sense.
/// The last arriver at the root starts the release: it resets and flips
/// every node where it was last, from the top down, and each core it
/// releases does the same for the nodes below where it was last. Each
/// counter sees at most `K` atomic operations per episode.
///
/// The nodes are numbered level by level from the leaves (level 0: node
/// `i` holds cores `K·i .. K·i + K`; level `l + 1`: node `i` combines nodes
/// `K·i ..` of level `l`). Words: blocks `2n` and `2n + 1` node `n`'s
/// arrival count and sense (written by different cores).
#[derive(Debug)]
pub struct CombiningTree<const K: usize> {
    /// The nodes from this core's leaf to the root: (word index of the
    /// count, fan-in).
    path: [(usize, u64); MAX_LEVELS],
    depth: usize,
    /// This core's sense: the value of the node senses after this episode.
    sense: u64,
}

impl<const K: usize> CombiningTree<K> {
    /// Calls `node(n, fan_in)` for the tree nodes of `cores` cores on the
    /// path of core `me` from its leaf up (every node if `me` is `None`);
    /// returns the number of nodes.
    fn walk(cores: u32, me: Option<usize>, mut node: impl FnMut(usize, u64)) -> usize {
        const { assert!(K >= 2, "a combining tree needs a fan-in of 2 or more") };
        let (mut below, mut first, mut me) = (cores as usize, 0, me);
        loop {
            let size = below.div_ceil(K);
            for i in 0..size {
                if me.is_none_or(|m| m / K == i) {
                    node(first + i, (below - i * K).min(K) as u64);
                }
            }
            me = me.map(|m| m / K);
            first += size;
            if size == 1 {
                return first;
            }
            below = size;
        }
    }
}

impl<const K: usize> ShmBarrier for CombiningTree<K> {
    const NAME: &'static str = "combining";

    fn words(cores: u32) -> usize {
        check_cores(cores);
        block(0, 2 * Self::walk(cores, None, |_, _| {}))
    }

    fn init<M: Mem>(mem: &M, base: usize, cores: u32) {
        check_cores(cores);
        Self::walk(cores, None, |n, _| {
            mem.word(block(base, 2 * n)).store(0, Relaxed);
            mem.word(block(base, 2 * n + 1)).store(0, Relaxed);
        });
    }

    fn new(base: usize, me: u32, cores: u32) -> Self {
        check_core(me, cores);
        let mut path = [(0, 0); MAX_LEVELS];
        let mut depth = 0;
        Self::walk(cores, Some(me as usize), |n, fan| {
            path[depth] = (block(base, 2 * n), fan);
            depth += 1;
        });
        CombiningTree {
            path,
            depth,
            sense: 0,
        }
    }

    fn wait<M: Mem>(&mut self, mem: &M) {
        self.sense ^= 1;
        let sense = self.sense;
        // Climb while last: `last` nodes where this core arrived last.
        let mut last = 0;
        for &(count, fan) in &self.path[..self.depth] {
            // AcqRel: the last arriver acquires every arrival below the
            // node and releases them all to its parent.
            if mem.word(count).fetch_add(1, AcqRel) != fan - 1 {
                spin_until(mem.word(count + block(0, 1)), |s| s == sense);
                break;
            }
            last += 1;
        }
        // Release the nodes where this core was last, top down. A reset is
        // ordered before the node's next arrivals by the Release below,
        // which every core under the node waits for.
        for &(count, _) in self.path[..last].iter().rev() {
            mem.word(count).store(0, Relaxed);
            mem.word(count + block(0, 1)).store(sense, Release);
        }
    }
}
