//! **Guarantee (of the test network):** messages between each ordered pair
//! of cores arrive in the order they were sent, as on a URPC channel; the
//! interleaving across channels is chosen by a seeded generator, so a seed
//! replays exactly.
//!
//! The one test network of the protocols' own tests (lock, barrier,
//! replica, ...): seeded FIFO channels between machines in one thread. The
//! generator is the simulator's; the simulator itself (`services`) adds
//! timing, faults and notifications on top of the same machines.

use alloc::collections::VecDeque;
use alloc::vec;
use alloc::vec::Vec;

use urpc::RawMessage;

use crate::{Inbound, Out, Protocol, Via};

pub(crate) use crate::rng::Rng;

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
        let i = rng.index(self.busy.len());
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

/// Hands machine `to` the message `msg` from core `from` on channel `via`
/// (at time 0): what it gave out, or why it refused.
pub(crate) fn deliver<P: Protocol>(
    to: &mut P,
    from: u32,
    via: Via,
    msg: RawMessage,
) -> Result<Out<P::Effect>, P::Error> {
    let mut out = Out::new();
    to.on_message(0, &Inbound { from, via, msg }, &mut out)
        .map(|()| out)
}
