//! The tournament barrier (Hensgen, Finkel and Manber; as the MCS paper
//! modifies it).

use core::sync::atomic::Ordering::Release;

use crate::exp::sync::word::spin_until;
use crate::exp::sync::{
    BLOCK_WORDS, Mem, ShmBarrier, Word, block, ceil_log2, check_core, check_cores,
};

/// Rounds of the largest tournament: ⌈log2 MAX_CORES⌉.
const MAX_ROUNDS: usize = 8;

/// What a core does in one round of the tournament.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    /// Waits for its loser, then plays on; wakes the loser on the way back.
    Winner {
        /// Word index of the loser's flag.
        opponent: usize,
    },
    /// Tells the winner it arrived, then waits to be woken.
    Loser {
        /// Word index of the winner's flag.
        opponent: usize,
    },
    /// Has no opponent this round.
    Bye,
    /// Core 0 in the last round: the winner of the tournament.
    Champion {
        /// Word index of the last loser's flag.
        opponent: usize,
    },
}

/// The tournament barrier: in round `k` (1 ..= ⌈log2 N⌉) core `i` with
/// `i mod 2^k = 0` plays core `i + 2^(k−1)` (a bye if there is none), and
/// the loser, decided in advance, tells the winner it arrived and then
/// spins on its own flag; the winner goes on to round `k + 1`. Core 0, the
/// champion, has then seen every arrival, and wakes its losers, who wake
/// theirs, down the same tree. Only loads and stores; every flag is
/// written by one core and polled by one.
///
/// Words: block `i·R + k − 1` (R = ⌈log2 N⌉ rounds) core `i`'s flag of round
/// `k`, written by its opponent.
#[derive(Debug)]
pub struct Tournament {
    base: usize,
    me: usize,
    /// This core's roles in rounds 1 ..= `rounds`; rounds after it lost
    /// are never reached.
    roles: [Role; MAX_ROUNDS],
    rounds: usize,
    /// This core's sense: starts 1, flips after each episode.
    sense: u64,
}

fn flag(base: usize, rounds: usize, i: usize, k: usize) -> usize {
    block(base, i * rounds + k - 1)
}

impl ShmBarrier for Tournament {
    const NAME: &'static str = "tournament";

    fn words(cores: u32) -> usize {
        check_cores(cores);
        block(0, cores as usize * ceil_log2(cores) as usize).max(BLOCK_WORDS)
    }

    fn new(base: usize, me: u32, cores: u32) -> Self {
        check_core(me, cores);
        let (i, n) = (me as usize, cores as usize);
        let rounds = ceil_log2(cores) as usize;
        // Rounds after the one a core loses, and after the last, are never
        // reached: `Bye` there.
        let roles = core::array::from_fn(|r| {
            let (k, half) = (r + 1, 1 << r);
            let flag = |core| flag(base, rounds, core, k);
            let place = i % (2 * half);
            if k > rounds || (place != 0 && place != half) {
                Role::Bye
            } else if place == half {
                Role::Loser {
                    opponent: flag(i - half),
                }
            } else if i + half >= n {
                Role::Bye
            } else if 2 * half >= n {
                Role::Champion {
                    opponent: flag(i + half),
                }
            } else {
                Role::Winner {
                    opponent: flag(i + half),
                }
            }
        });
        Tournament {
            base,
            me: i,
            roles,
            rounds,
            sense: 1,
        }
    }

    fn wait<M: Mem>(&mut self, mem: &M) {
        let sense = self.sense;
        let own = |k: usize| mem.word(flag(self.base, self.rounds, self.me, k));
        // Arrival: play rounds until this core loses or wins it all (with
        // one core, there is no round).
        let mut k = 1;
        while k <= self.rounds {
            match self.roles[k - 1] {
                Role::Loser { opponent } => {
                    mem.word(opponent).store(sense, Release);
                    spin_until(own(k), |f| f == sense);
                    break;
                }
                Role::Winner { .. } => {
                    spin_until(own(k), |f| f == sense);
                }
                Role::Bye => {}
                Role::Champion { opponent } => {
                    spin_until(own(k), |f| f == sense);
                    mem.word(opponent).store(sense, Release);
                    break;
                }
            }
            k += 1;
        }
        // Wake-up: wake the losers of the rounds this core won, last first.
        for r in (1..k.min(self.rounds + 1)).rev() {
            if let Role::Winner { opponent } = self.roles[r - 1] {
                mem.word(opponent).store(sense, Release);
            }
        }
        self.sense ^= 1;
    }
}
