//! A full mesh of URPC channels inside an experiment's arena, and the loop
//! that carries a protocol machine's messages over it.
//!
//! The message-passing locks and barriers of E5/E6 are the sans-IO
//! machines of `crate::proto::lock` and `crate::proto::barrier`. Here each
//! core drives its own machine: what the machine sends goes into the
//! channel to its destination (through a per-peer outbox, so that a full
//! ring never blocks a core that must keep receiving), and every message
//! that arrives is handed to the machine. The measured loops call only
//! this module and the machine: no platform call.
//!
//! Layout: one duplex channel of [`SLOTS`] slots per unordered pair of
//! cores `a < b`, side A at `a`, in pair order, each region 128-byte
//! aligned. Core 0 formats every ring before a round (between two
//! barriers); each core then attaches its ends.

use alloc::collections::VecDeque;
use alloc::vec::Vec;

use urpc::{AckLine, Endpoint, RawMessage, RecvError, SendError, Side, Variant, region_size};

use super::ExpError;
use super::shared::{BLOCK, Control};
use crate::proto::host::Machines;
use crate::proto::{Inbound, Out, Via};
use crate::shm::Shared;

/// Slots per ring: the protocols keep few messages in flight per pair.
pub(crate) const SLOTS: usize = 16;
/// Empty polls between two looks at the abort flag.
const CHECK_EVERY: u32 = 4096;

/// Bytes of one pair's duplex region.
const fn pair_bytes() -> usize {
    (2 * region_size(SLOTS)).next_multiple_of(BLOCK)
}

/// Bytes of the mesh of `cores` cores.
pub(crate) const fn mesh_bytes(cores: u32) -> usize {
    let n = cores as usize;
    n * n.saturating_sub(1) / 2 * pair_bytes()
}

/// Index of the pair `a < b` among all pairs of `cores` cores.
fn pair_index(a: u32, b: u32, cores: u32) -> usize {
    let (a, b, n) = (a as usize, b as usize, cores as usize);
    a * (2 * n - a - 1) / 2 + (b - a - 1)
}

/// Formats every ring of the mesh at `base` (core 0, while no endpoint is
/// in use).
pub(crate) fn format(mem: &Shared<'_>, base: usize, cores: u32) -> Result<(), ExpError> {
    let one = region_size(SLOTS);
    for p in 0..mesh_bytes(cores) / pair_bytes() {
        let at = base + p * pair_bytes();
        mem.format_ring(at, one, SLOTS, Variant::AckLine)?;
        mem.format_ring(at + one, one, SLOTS, Variant::AckLine)?;
    }
    Ok(())
}

/// One core's ends of the mesh.
pub(crate) struct Net<'a> {
    me: u32,
    eps: Vec<Option<Endpoint<'a, AckLine>>>,
    outbox: Vec<VecDeque<RawMessage>>,
    /// Messages a machine sent to its own core.
    local: VecDeque<RawMessage>,
    idle: u32,
    /// Messages queued for other cores so far.
    pub(crate) sent: u64,
    /// Messages taken from other cores' rings so far.
    pub(crate) received: u64,
    /// Messages queued for each core so far.
    pub(crate) sent_to: Vec<u64>,
    /// The time handed to the machine with each message.
    pub(crate) now: u64,
}

impl<'a> Net<'a> {
    /// Attaches core `me`'s ends of the mesh at `base` (formatted).
    pub(crate) fn attach(
        mem: &Shared<'a>,
        base: usize,
        me: u32,
        cores: u32,
    ) -> Result<Net<'a>, ExpError> {
        let len = 2 * region_size(SLOTS);
        let mut eps = Vec::with_capacity(cores as usize);
        for peer in 0..cores {
            if peer == me {
                eps.push(None);
                continue;
            }
            let (a, b, side) = if me < peer {
                (me, peer, Side::A)
            } else {
                (peer, me, Side::B)
            };
            let at = base + pair_index(a, b, cores) * pair_bytes();
            let duplex = mem.attach_duplex(at, len)?;
            eps.push(Some(duplex.endpoint::<AckLine>(side)?));
        }
        Ok(Net {
            me,
            eps,
            outbox: (0..cores).map(|_| VecDeque::new()).collect(),
            local: VecDeque::new(),
            idle: 0,
            sent: 0,
            received: 0,
            sent_to: alloc::vec![0; cores as usize],
            now: 0,
        })
    }

    /// Queues what a machine gave out and sends as much as the rings take.
    /// A message to this core itself is handed back to the machine by the
    /// next [`Net::poll`], as the monitor does.
    pub(crate) fn send(&mut self, sends: &mut Vec<(u32, RawMessage)>) -> Result<(), ExpError> {
        for (to, msg) in sends.drain(..) {
            if to == self.me {
                self.local.push_back(msg);
                continue;
            }
            let queue = self
                .outbox
                .get_mut(to as usize)
                .ok_or(ExpError::BadRequest("a protocol sent to no such core"))?;
            queue.push_back(msg);
            self.sent += 1;
            self.sent_to[to as usize] += 1;
        }
        self.flush()
    }

    fn flush(&mut self) -> Result<(), ExpError> {
        for (peer, (ep, queue)) in self.eps.iter_mut().zip(&mut self.outbox).enumerate() {
            let Some(ep) = ep else { continue };
            while let Some(msg) = queue.front() {
                match ep.tx.try_send_raw(msg) {
                    Ok(()) => {
                        queue.pop_front();
                    }
                    Err(SendError::Full) => break,
                    Err(_) => {
                        return Err(ExpError::Broken {
                            what: "sync channel",
                            peer: peer as u32,
                        });
                    }
                }
            }
        }
        Ok(())
    }

    /// Whether every outbox but `core`'s (and the local queue) is empty.
    pub(crate) fn flushed_but(&self, core: u32) -> bool {
        self.local.is_empty()
            && self
                .outbox
                .iter()
                .enumerate()
                .all(|(c, q)| c == core as usize || q.is_empty())
    }

    /// Whether every outbox (and the local queue) is empty.
    pub(crate) fn flushed(&self) -> bool {
        self.local.is_empty() && self.outbox.iter().all(VecDeque::is_empty)
    }

    /// One pass: flushes the outboxes, then hands every message that
    /// arrived to `machine` (one machine or a set, through the one host),
    /// and sends what it gives out; effects go to `out`. Looks at the abort
    /// flag now and then when nothing moves.
    pub(crate) fn poll<M: Machines>(
        &mut self,
        ctl: &Control<'_>,
        machine: &mut M,
        out: &mut Out<M::Effect>,
    ) -> Result<bool, ExpError> {
        self.flush()?;
        let mut moved = false;
        while let Some(msg) = self.local.pop_front() {
            moved = true;
            let inbound = Inbound {
                from: self.me,
                via: Via::Local,
                msg,
            };
            machine
                .on_message(self.now, &inbound, out)
                .map_err(|_| ExpError::Refused { peer: self.me })?;
        }
        for peer in 0..self.eps.len() {
            let Some(ep) = self.eps[peer].as_mut() else {
                continue;
            };
            // One message per peer and pass: no peer starves the others.
            let msg = match ep.rx.try_recv_raw() {
                Ok(msg) => msg,
                Err(RecvError::Empty) => continue,
                Err(_) => {
                    return Err(ExpError::Broken {
                        what: "sync channel",
                        peer: peer as u32,
                    });
                }
            };
            moved = true;
            self.received += 1;
            let inbound = Inbound {
                from: peer as u32,
                via: Via::Mesh,
                msg,
            };
            machine
                .on_message(self.now, &inbound, out)
                .map_err(|_| ExpError::Refused { peer: peer as u32 })?;
        }
        if !out.sends.is_empty() {
            self.send(&mut out.sends)?;
        }
        if !moved {
            self.idle = self.idle.wrapping_add(1);
            if self.idle.is_multiple_of(CHECK_EVERY) {
                ctl.check()?;
            }
        }
        Ok(moved)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_are_numbered_densely() {
        for cores in [2u32, 3, 5, 8] {
            let mut seen = Vec::new();
            for a in 0..cores {
                for b in a + 1..cores {
                    seen.push(pair_index(a, b, cores));
                }
            }
            let n = seen.len();
            seen.sort_unstable();
            seen.dedup();
            assert_eq!(seen, (0..n).collect::<Vec<_>>());
            assert_eq!(n * pair_bytes(), mesh_bytes(cores));
        }
        assert_eq!(mesh_bytes(1), 0);
    }
}
