//! The CLH list-based queue lock.

use core::sync::atomic::Ordering::{AcqRel, Relaxed, Release};

use crate::exp::sync::word::spin_until;
use crate::exp::sync::{Mem, ShmLock, Word, block, check_core, check_cores};

/// A node's word while its owner holds or waits for the lock.
const WAITING: u64 = 1;
/// A node's word once its owner released the lock.
const RELEASED: u64 = 0;

/// The CLH lock (Craig; Magnusson, Landin and Hagersten), which the MCS
/// paper predates: an implicit queue of nodes. A core marks its node
/// waiting, swaps it into the tail and spins on the node it got back, its
/// predecessor's; it releases by marking its own node released, and then
/// takes the predecessor's node, which nobody else uses any more, as its
/// node for the next acquire. FIFO; one swap per acquire, no CAS, and the
/// release is a single store, but a core spins on a node that moves
/// between cores.
///
/// Words: block 0 the tail (the word index of the last node), blocks
/// `1 ..= N` the nodes (one word each), where core `c` starts with node
/// `c` and node `N` is the initial tail, released. Since nodes move,
/// a handle is only valid for the `init` it was made after.
#[derive(Debug)]
pub struct Clh {
    tail: usize,
    /// Word index of the node this core owns.
    node: usize,
    /// Word index of the node this core spun on: its node after release.
    pred: usize,
}

impl ShmLock for Clh {
    const NAME: &'static str = "clh";

    fn words(cores: u32) -> usize {
        check_cores(cores);
        block(0, 2 + cores as usize)
    }

    fn init<M: Mem>(mem: &M, base: usize, cores: u32) {
        check_cores(cores);
        for n in 0..=cores as usize {
            mem.word(block(base, 1 + n)).store(RELEASED, Relaxed);
        }
        mem.word(block(base, 0))
            .store(block(base, 1 + cores as usize) as u64, Relaxed);
    }

    fn new(base: usize, me: u32, cores: u32) -> Self {
        check_core(me, cores);
        Clh {
            tail: block(base, 0),
            node: block(base, 1 + me as usize),
            pred: 0,
        }
    }

    fn acquire<M: Mem>(&mut self, mem: &M) {
        mem.word(self.node).store(WAITING, Relaxed);
        // Release: the successor that gets our node sees it waiting.
        // Acquire: for the predecessor's node index (its node's contents
        // are acquired by the spin).
        self.pred = mem.word(self.tail).swap(self.node as u64, AcqRel) as usize;
        spin_until(mem.word(self.pred), |n| n == RELEASED);
    }

    fn release<M: Mem>(&mut self, mem: &M) {
        mem.word(self.node).store(RELEASED, Release);
        self.node = self.pred;
    }
}
