//! The MCS list-based queue lock.

use core::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed, Release};

use crate::exp::sync::word::spin_until;
use crate::exp::sync::{Mem, ShmLock, Word, block, check_core, check_cores};

/// Nil: no node is at word 0 of any memory (the tail comes first).
const NIL: u64 = 0;
/// A node's `next` word, relative to its block.
const NEXT: usize = 0;
/// A node's `locked` word.
const LOCKED: usize = 1;

/// The MCS lock: a queue of per-core nodes. A core clears its node's
/// `next`, swaps the node into the tail and, if there was a predecessor,
/// links itself behind it and spins on its own `locked`; the holder hands
/// over by clearing its successor's `locked`, or, with no successor,
/// compare-and-swaps the tail back to nil (and, if a successor is just
/// linking itself in, waits for it). FIFO; every core spins on its own
/// node, and a hand-over writes one remote word.
///
/// Words: block 0 the tail (nil or the word index of the last node), block
/// `1 + c` core `c`'s node (`next`, `locked`).
#[derive(Debug)]
pub struct Mcs {
    tail: usize,
    /// Word index of this core's node.
    node: usize,
}

impl ShmLock for Mcs {
    const NAME: &'static str = "mcs";

    fn words(cores: u32) -> usize {
        check_cores(cores);
        block(0, 1 + cores as usize)
    }

    fn init<M: Mem>(mem: &M, base: usize, cores: u32) {
        check_cores(cores);
        mem.word(block(base, 0)).store(NIL, Relaxed);
        for c in 0..cores as usize {
            mem.word(block(base, 1 + c) + NEXT).store(NIL, Relaxed);
            mem.word(block(base, 1 + c) + LOCKED).store(0, Relaxed);
        }
    }

    fn new(base: usize, me: u32, cores: u32) -> Self {
        check_core(me, cores);
        Mcs {
            tail: block(base, 0),
            node: block(base, 1 + me as usize),
        }
    }

    fn acquire<M: Mem>(&mut self, mem: &M) {
        let me = self.node;
        mem.word(me + NEXT).store(NIL, Relaxed);
        // Release: a successor that finds our node in the tail sees `next`
        // cleared before it links itself in. Acquire: with no predecessor,
        // the last holder's release (its tail CAS) is ours.
        let pred = mem.word(self.tail).swap(me as u64, AcqRel);
        if pred != NIL {
            mem.word(me + LOCKED).store(1, Relaxed);
            // Release: the predecessor sees `locked` set before it can
            // clear it.
            mem.word(pred as usize + NEXT).store(me as u64, Release);
            spin_until(mem.word(me + LOCKED), |l| l == 0);
        }
    }

    fn release<M: Mem>(&mut self, mem: &M) {
        let me = self.node;
        let mut next = mem.word(me + NEXT).load(Acquire);
        if next == NIL {
            // No successor yet: free the lock if we are still the tail.
            if mem
                .word(self.tail)
                .compare_exchange(me as u64, NIL, [Release, Relaxed])
                .is_ok()
            {
                return;
            }
            // A successor swapped itself in; wait until it links itself.
            next = spin_until(mem.word(me + NEXT), |n| n != NIL);
        }
        mem.word(next as usize + LOCKED).store(0, Release);
    }
}
