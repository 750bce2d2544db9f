//! Monitor 0's side of the mesh protocol: pairs the cores up.

use alloc::vec;
use alloc::vec::Vec;

use urpc::Side;

use super::{MeshError, MeshMsg};
use crate::frames::{CHANNEL_FRAMES, FrameAllocator};

/// A message for core `to` (the broker's own core included).
pub type Outgoing = (u32, MeshMsg);

/// Monitor 0's side of the protocol.
#[derive(Debug)]
pub struct Broker {
    cores: u32,
    hello: Vec<bool>,
    /// `linked[a * n + b]`: `a` reported its link with `b`.
    linked: Vec<bool>,
    links: usize,
    frames: FrameAllocator,
    connected: bool,
    done: bool,
}

impl Broker {
    /// A broker for `cores` cores, allocating channels from `frames`.
    pub fn new(cores: u32, frames: FrameAllocator) -> Broker {
        let n = cores as usize;
        let mut hello = vec![false; n];
        hello[0] = true;
        Broker {
            cores,
            hello,
            linked: vec![false; n * n],
            links: 0,
            frames,
            connected: false,
            done: n == 1,
        }
    }

    /// Whether every pair is linked.
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// The allocator, after the mesh took its frames.
    pub fn frames(&self) -> FrameAllocator {
        self.frames
    }

    fn check_core(&self, core: u32) -> Result<usize, MeshError> {
        if core < self.cores {
            Ok(core as usize)
        } else {
            Err(MeshError::UnknownCore(core))
        }
    }

    /// The first step: with one core there is nothing to connect.
    pub fn start(&mut self) -> Result<Vec<Outgoing>, MeshError> {
        self.connect_if_ready()
    }

    fn connect_if_ready(&mut self) -> Result<Vec<Outgoing>, MeshError> {
        if self.connected || !self.hello.iter().all(|h| *h) {
            return Ok(Vec::new());
        }
        let pairs = u64::from(self.cores) * u64::from(self.cores - 1) / 2;
        if self.frames.remaining() < pairs * CHANNEL_FRAMES {
            return Err(MeshError::PoolExhausted);
        }
        self.connected = true;
        let mut out = Vec::new();
        for a in 0..self.cores {
            for b in a + 1..self.cores {
                let first_frame = self
                    .frames
                    .take(CHANNEL_FRAMES)
                    .ok_or(MeshError::PoolExhausted)?;
                out.push((
                    a,
                    MeshMsg::Connect {
                        peer: b,
                        side: Side::A,
                        first_frame,
                    },
                ));
                out.push((
                    b,
                    MeshMsg::Connect {
                        peer: a,
                        side: Side::B,
                        first_frame,
                    },
                ));
            }
        }
        Ok(out)
    }

    /// Handles a message from monitor `from` (monitor 0's own member
    /// included).
    pub fn on_message(&mut self, from: u32, msg: MeshMsg) -> Result<Vec<Outgoing>, MeshError> {
        let f = self.check_core(from)?;
        match msg {
            MeshMsg::Hello { core } => {
                if core != from {
                    return Err(MeshError::UnknownCore(core));
                }
                if self.hello[f] {
                    return Err(MeshError::Duplicate);
                }
                self.hello[f] = true;
                self.connect_if_ready()
            }
            MeshMsg::Linked { peer } => {
                let p = self.check_core(peer)?;
                if !self.connected || p == f {
                    return Err(MeshError::OutOfOrder);
                }
                let n = self.cores as usize;
                if self.linked[f * n + p] {
                    return Err(MeshError::Duplicate);
                }
                self.linked[f * n + p] = true;
                self.links += 1;
                if self.links == n * (n - 1) {
                    self.done = true;
                    let channels = (n * (n - 1) / 2) as u64;
                    return Ok((0..self.cores)
                        .map(|c| (c, MeshMsg::MeshDone { channels }))
                        .collect());
                }
                Ok(Vec::new())
            }
            _ => Err(MeshError::OutOfOrder),
        }
    }
}
