//! The monitor's channels: bootstrap and mesh links, their outboxes, the
//! ends still waiting for the other side to format them, and the doorbells
//! that decide whether a send needs a notification.

use alloc::collections::VecDeque;
use alloc::vec::Vec;
use core::sync::atomic::{Ordering, fence};

use urpc::{AckLine, Endpoint, RawMessage, RecvError, SendError, Side, Variant};

use super::MonitorError;
use crate::platform::Platform;
use crate::proto::Via;
use crate::shm::{Arena, Doorbell, Doorbells, SLOTS};

type Link = Endpoint<'static, AckLine>;

/// One core's channels to every other core.
pub(crate) struct Links {
    cores: u32,
    doorbells: Doorbells,
    /// Bootstrap channels, by the core at the other end.
    boot: Vec<Option<Link>>,
    /// Mesh channels, by peer.
    mesh: Vec<Option<Link>>,
    /// Channels whose other end has not formatted them yet, with the side
    /// this end takes.
    boot_opening: Vec<Option<Arena>>,
    mesh_opening: Vec<Option<Arena>>,
    boot_out: Vec<VecDeque<RawMessage>>,
    mesh_out: Vec<VecDeque<RawMessage>>,
    /// Messages sent and received.
    pub sent: u64,
    pub received: u64,
}

fn none<T>(n: u32) -> Vec<Option<T>> {
    (0..n).map(|_| None).collect()
}

impl Links {
    /// No channel yet.
    pub(crate) fn new(cores: u32, doorbells: Doorbells) -> Links {
        Links {
            cores,
            doorbells,
            boot: none(cores),
            mesh: none(cores),
            boot_opening: none(cores),
            mesh_opening: none(cores),
            boot_out: (0..cores).map(|_| VecDeque::new()).collect(),
            mesh_out: (0..cores).map(|_| VecDeque::new()).collect(),
            sent: 0,
            received: 0,
        }
    }

    /// Core `core`'s doorbell.
    pub(crate) fn doorbell(&self, core: u32) -> &Doorbell {
        self.doorbells.get(core)
    }

    /// Formats the bootstrap channel with core 0 in `arena` (side B).
    pub(crate) fn format_bootstrap(&mut self, arena: Arena) -> Result<(), MonitorError> {
        let duplex = arena.format_duplex(SLOTS, Variant::AckLine)?;
        self.boot[0] = Some(duplex.endpoint(Side::B)?);
        Ok(())
    }

    /// Core 0: core `peer` formats its bootstrap channel in `arena`.
    pub(crate) fn expect_bootstrap(&mut self, peer: u32, arena: Arena) {
        self.boot_opening[peer as usize] = Some(arena);
    }

    /// Formats the mesh channel with `peer` in `arena` (side A).
    pub(crate) fn format_mesh(&mut self, peer: u32, arena: Arena) -> Result<(), MonitorError> {
        let duplex = arena.format_duplex(SLOTS, Variant::AckLine)?;
        self.mesh[peer as usize] = Some(duplex.endpoint(Side::A)?);
        Ok(())
    }

    /// `peer` formats the mesh channel in `arena`; this end attaches (side
    /// B) once it has.
    pub(crate) fn expect_mesh(&mut self, peer: u32, arena: Arena) {
        self.mesh_opening[peer as usize] = Some(arena);
    }

    /// Attaches to the channels whose other end formatted them since the
    /// last look; returns the mesh peers newly linked.
    pub(crate) fn attach_ready(&mut self) -> Result<Vec<u32>, MonitorError> {
        let mut opened = Vec::new();
        for c in 0..self.cores as usize {
            for bootstrap in [true, false] {
                let slot = if bootstrap {
                    &mut self.boot_opening[c]
                } else {
                    &mut self.mesh_opening[c]
                };
                let Some(arena) = *slot else {
                    continue;
                };
                let duplex = match arena.attach_duplex() {
                    Ok(duplex) => duplex,
                    Err(urpc::SetupError::NotFormatted { .. }) => continue,
                    Err(e) => return Err(e.into()),
                };
                *slot = None;
                if bootstrap {
                    self.boot[c] = Some(duplex.endpoint(Side::A)?);
                } else {
                    self.mesh[c] = Some(duplex.endpoint(Side::B)?);
                    opened.push(c as u32);
                }
            }
        }
        Ok(opened)
    }

    /// Queues `msg` for core `to`: on the mesh channel once there is one,
    /// else on the bootstrap channel (which only links a core with core 0).
    pub(crate) fn queue(&mut self, me: u32, to: u32, msg: RawMessage) -> Result<(), MonitorError> {
        let t = to as usize;
        if to >= self.cores || to == me {
            return Err(MonitorError::NoRoute { to });
        }
        if self.mesh[t].is_some() {
            self.mesh_out[t].push_back(msg);
        } else if me == 0 || to == 0 {
            self.boot_out[t].push_back(msg);
        } else {
            return Err(MonitorError::NoRoute { to });
        }
        Ok(())
    }

    /// Queues `msg` for core `to` on the bootstrap channel, whatever else
    /// exists (the deliberate malformed messages of a test).
    pub(crate) fn queue_bootstrap(&mut self, to: u32, msg: RawMessage) {
        self.boot_out[to as usize].push_back(msg);
    }

    /// The next message on the `via` channel with core `c`, if any.
    pub(crate) fn recv(&mut self, via: Via, c: u32) -> Result<Option<RawMessage>, MonitorError> {
        let link = match via {
            Via::Bootstrap => self.boot[c as usize].as_mut(),
            Via::Mesh => self.mesh[c as usize].as_mut(),
            Via::Local => None,
        };
        let Some(link) = link else {
            return Ok(None);
        };
        match link.rx.try_recv_raw() {
            Ok(raw) => {
                self.received += 1;
                Ok(Some(raw))
            }
            Err(RecvError::Empty) => Ok(None),
            Err(_) => Err(MonitorError::Corrupt { peer: c }),
        }
    }

    /// Sends what the outboxes hold (as far as the rings take it); rings
    /// the doorbell of a receiver that sleeps. Returns whether anything was
    /// sent.
    pub(crate) fn flush<P: Platform>(&mut self, p: &mut P) -> Result<bool, MonitorError> {
        let mut progress = false;
        for c in 0..self.cores as usize {
            for mesh in [false, true] {
                let (link, queue) = if mesh {
                    (self.mesh[c].as_mut(), &mut self.mesh_out[c])
                } else {
                    (self.boot[c].as_mut(), &mut self.boot_out[c])
                };
                let Some(link) = link else {
                    continue;
                };
                let mut sent = false;
                while let Some(msg) = queue.front() {
                    match link.tx.try_send_raw(msg) {
                        Ok(()) => {
                            queue.pop_front();
                            sent = true;
                            self.sent += 1;
                        }
                        Err(SendError::Full) => break,
                        Err(_) => return Err(MonitorError::Corrupt { peer: c as u32 }),
                    }
                }
                if sent {
                    progress = true;
                    fence(Ordering::SeqCst);
                    if self.doorbells.get(c as u32).sleeping.load(Ordering::SeqCst) != 0 {
                        p.notify(c as u32)?;
                    }
                }
            }
        }
        Ok(progress)
    }

    /// Whether every outbox is empty.
    pub(crate) fn all_sent(&self) -> bool {
        self.boot_out
            .iter()
            .chain(&self.mesh_out)
            .all(VecDeque::is_empty)
    }
}
