//! The dissemination barrier (Hensgen, Finkel and Manber; as the MCS paper
//! gives it).

use core::sync::atomic::Ordering::Release;

use crate::exp::sync::word::spin_until;
use crate::exp::sync::{
    BLOCK_WORDS, Mem, ShmBarrier, Word, block, ceil_log2, check_core, check_cores,
};

/// The dissemination barrier: in round `k` (0 .. ⌈log2 N⌉) core `i` sets
/// the round's flag of core `(i + 2^k) mod N` and waits for its own, which
/// core `(i − 2^k) mod N` sets; after the last round every core has heard,
/// directly or not, from every other. There is no tree and no last
/// arriver: every core does ⌈log2 N⌉ remote writes and spins on its own
/// flags. Two sets of flags, used in alternate episodes (the parity), keep
/// a fast core's next-episode write from landing on a flag not yet seen,
/// and the sense flips every second episode, so that each flag's value
/// alternates each time it is used.
///
/// Words: block `(2i + p)·R + k` (R = ⌈log2 N⌉ rounds) core `i`'s flag of
/// parity `p` and round `k`.
#[derive(Debug)]
pub struct Dissemination {
    base: usize,
    me: usize,
    cores: usize,
    rounds: usize,
    parity: usize,
    /// This core's sense: starts 1, flips after each odd-parity episode.
    sense: u64,
}

fn flag(base: usize, rounds: usize, i: usize, parity: usize, k: usize) -> usize {
    block(base, (2 * i + parity) * rounds + k)
}

impl ShmBarrier for Dissemination {
    const NAME: &'static str = "dissemination";

    fn words(cores: u32) -> usize {
        check_cores(cores);
        block(0, 2 * cores as usize * ceil_log2(cores) as usize).max(BLOCK_WORDS)
    }

    fn new(base: usize, me: u32, cores: u32) -> Self {
        check_core(me, cores);
        Dissemination {
            base,
            me: me as usize,
            cores: cores as usize,
            rounds: ceil_log2(cores) as usize,
            parity: 0,
            sense: 1,
        }
    }

    fn wait<M: Mem>(&mut self, mem: &M) {
        let (sense, parity, rounds) = (self.sense, self.parity, self.rounds);
        for k in 0..rounds {
            let partner = (self.me + (1 << k)) % self.cores;
            // Release: everything this core has heard of so far, onwards.
            mem.word(flag(self.base, rounds, partner, parity, k))
                .store(sense, Release);
            spin_until(mem.word(flag(self.base, rounds, self.me, parity, k)), |f| {
                f == sense
            });
        }
        if parity == 1 {
            self.sense ^= 1;
        }
        self.parity ^= 1;
    }
}
