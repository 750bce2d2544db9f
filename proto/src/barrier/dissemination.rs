//! **Guarantee:** a core leaves episode `e` only after hearing, in each of
//! the `⌈log2 N⌉` rounds, from the partner of that round, which means that
//! every core arrived at `e`; a message of `e + 1` that comes while the core
//! is still in `e` is kept for `e + 1`.
//!
//! The dissemination barrier (`msg-dissemination`). Round `r` of episode
//! `e`: core `i` sends [`BarrierMsg::Round`] to `(i + 2^r) mod N` and waits
//! for the one from `(i − 2^r) mod N`; it starts round `r + 1` only after
//! that. After round `r` core `i` has heard, directly or not, from the
//! `2^(r+1) − 1` cores before it, so after the last round from every core.
//!
//! A core can be at most one episode ahead of another, so messages name the
//! current episode or the next: each is kept in a per-round flag of its
//! episode's parity, and a flag is cleared when its round is consumed.

use alloc::vec;
use alloc::vec::Vec;

use super::{BarrierError, BarrierMsg, Base, Fx, Kind, Step};

/// One core's machine of the dissemination barrier.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Dissemination {
    rounds: u32,
    /// The round this core waits in (while arrived).
    round: u32,
    /// Messages in, per episode parity and round.
    got: [Vec<bool>; 2],
}

impl Dissemination {
    pub(crate) fn new(cores: u32) -> Dissemination {
        // ⌈log2 cores⌉: 0 for one core.
        let rounds = u32::BITS - (cores - 1).leading_zeros();
        Dissemination {
            rounds,
            round: 0,
            got: [vec![false; rounds as usize], vec![false; rounds as usize]],
        }
    }

    /// The partner `2^r` away from `me`, forwards (`to`) or backwards.
    fn partner(b: &Base, r: u32, to: bool) -> u32 {
        let n = u64::from(b.cores);
        let d = (1u64 << r) % n;
        let me = u64::from(b.me);
        (if to { (me + d) % n } else { (me + n - d) % n }) as u32
    }

    fn send_round(b: &Base, round: u32, out: &mut Fx) {
        let to = Self::partner(b, round, true);
        b.send(to, |episode| BarrierMsg::Round { episode, round }, out);
    }

    /// Consumes the rounds whose messages are in, sending the next round's
    /// message after each, and leaves the episode after the last.
    fn advance(&mut self, b: &mut Base, out: &mut Fx) {
        let parity = (b.released % 2) as usize;
        while b.arrived && self.got[parity][self.round as usize] {
            self.got[parity][self.round as usize] = false;
            self.round += 1;
            if self.round == self.rounds {
                b.release(out);
                return;
            }
            Self::send_round(b, self.round, out);
        }
    }
}

impl Kind for Dissemination {
    fn arrive(&mut self, b: &mut Base, out: &mut Fx) {
        self.round = 0;
        if self.rounds == 0 {
            b.release(out);
            return;
        }
        Self::send_round(b, 0, out);
        self.advance(b, out);
    }

    fn on_message(&mut self, b: &mut Base, from: u32, msg: BarrierMsg, out: &mut Fx) -> Step {
        let BarrierMsg::Round { episode, round } = msg else {
            return Err(BarrierError::OutOfOrder);
        };
        if round >= self.rounds || from != Self::partner(b, round, false) {
            return Err(BarrierError::OutOfOrder);
        }
        if episode < b.released || (episode == b.released && b.arrived && round < self.round) {
            return Err(BarrierError::Duplicate);
        }
        if episode > b.released + 1 {
            return Err(BarrierError::WrongEpisode {
                expected: b.released,
                got: episode,
            });
        }
        let flag = &mut self.got[(episode % 2) as usize][round as usize];
        if *flag {
            return Err(BarrierError::Duplicate);
        }
        *flag = true;
        if episode == b.released {
            self.advance(b, out);
        }
        Ok(())
    }
}
