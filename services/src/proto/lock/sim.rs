//! **Guarantee (of the test network):** messages between each ordered pair
//! of cores arrive in the order they were sent, as on a URPC channel; the
//! interleaving across channels is chosen by a seeded generator, so a seed
//! replays exactly.
//!
//! A simulated network and a tiny random number generator for the tests of
//! the lock and barrier protocols.

use alloc::collections::VecDeque;
use alloc::vec;
use alloc::vec::Vec;

use urpc::RawMessage;

use crate::proto::{Inbound, Via};

/// xorshift64*: small, fast, and good enough to pick schedules.
#[derive(Clone, Debug)]
pub(crate) struct Rng(u64);

impl Rng {
    /// A generator for `seed` (any value, zero included).
    pub(crate) fn new(seed: u64) -> Rng {
        // splitmix64 of the seed, so that nearby seeds diverge at once.
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        Rng((z ^ (z >> 31)) | 1)
    }

    /// The next 64 random bits.
    pub(crate) fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n` (`n > 0`).
    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// In-flight messages: one FIFO queue per ordered pair of cores.
#[derive(Debug)]
pub(crate) struct Net {
    cores: u32,
    chans: Vec<VecDeque<RawMessage>>,
    /// Channels that hold a message.
    busy: Vec<usize>,
    in_flight: usize,
}

impl Net {
    /// An empty network of `cores` cores.
    pub(crate) fn new(cores: u32) -> Net {
        Net {
            cores,
            chans: vec![VecDeque::new(); (cores * cores) as usize],
            busy: Vec::new(),
            in_flight: 0,
        }
    }

    /// Puts what core `from` sent on the wire.
    pub(crate) fn send(&mut self, from: u32, sends: Vec<(u32, RawMessage)>) {
        for (to, msg) in sends {
            assert!(to < self.cores, "core {from} sent to core {to}");
            let ch = (from * self.cores + to) as usize;
            if self.chans[ch].is_empty() {
                self.busy.push(ch);
            }
            self.chans[ch].push_back(msg);
            self.in_flight += 1;
        }
    }

    /// Messages on the wire.
    pub(crate) fn in_flight(&self) -> usize {
        self.in_flight
    }

    /// Takes the oldest message of a channel chosen at random: the
    /// receiver and what it receives.
    pub(crate) fn deliver(&mut self, rng: &mut Rng) -> Option<(u32, Inbound)> {
        if self.busy.is_empty() {
            return None;
        }
        let i = rng.below(self.busy.len());
        let ch = self.busy[i];
        let msg = self.chans[ch].pop_front()?;
        if self.chans[ch].is_empty() {
            self.busy.swap_remove(i);
        }
        self.in_flight -= 1;
        let (from, to) = (ch as u32 / self.cores, ch as u32 % self.cores);
        let via = if from == to { Via::Local } else { Via::Mesh };
        Some((to, Inbound { from, via, msg }))
    }
}
