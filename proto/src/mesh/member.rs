//! Every monitor's side of the mesh protocol: opens and checks its
//! channels.

use alloc::vec;
use alloc::vec::Vec;

use urpc::Side;

use super::{MeshError, MeshMsg};

/// What a member asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Open this end of the channel with `peer` (format it on side A,
    /// attach once formatted on side B), then call [`Member::on_open`].
    Open {
        /// The other end.
        peer: u32,
        /// First pool frame.
        first_frame: u64,
        /// This end's side.
        side: Side,
    },
    /// Send on the (now open) mesh channel with `peer`.
    Send {
        /// The other end.
        peer: u32,
        /// The message.
        msg: MeshMsg,
    },
    /// Report to the broker on core 0.
    Report(MeshMsg),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Link {
    None,
    Opening,
    Open { got_ping: bool, got_pong: bool },
    Linked,
}

/// Every monitor's side of the protocol.
#[derive(Debug)]
pub struct Member {
    core: u32,
    links: Vec<Link>,
    linked: usize,
}

impl Member {
    /// The member on core `core` of `cores`.
    pub fn new(core: u32, cores: u32) -> Member {
        Member {
            core,
            links: vec![Link::None; cores as usize],
            linked: 0,
        }
    }

    /// Number of peers linked both ways.
    pub fn linked(&self) -> usize {
        self.linked
    }

    /// Whether every peer is linked.
    pub fn all_linked(&self) -> bool {
        self.linked + 1 == self.links.len()
    }

    fn peer(&self, peer: u32) -> Result<usize, MeshError> {
        if (peer as usize) < self.links.len() && peer != self.core {
            Ok(peer as usize)
        } else {
            Err(MeshError::UnknownCore(peer))
        }
    }

    /// The broker assigned a channel.
    pub fn on_connect(
        &mut self,
        peer: u32,
        side: Side,
        first_frame: u64,
    ) -> Result<Vec<Action>, MeshError> {
        let p = self.peer(peer)?;
        if self.links[p] != Link::None {
            return Err(MeshError::Duplicate);
        }
        let expected = if self.core < peer { Side::A } else { Side::B };
        if side != expected {
            return Err(MeshError::OutOfOrder);
        }
        self.links[p] = Link::Opening;
        Ok(vec![Action::Open {
            peer,
            first_frame,
            side,
        }])
    }

    /// The monitor opened this end of the channel with `peer`.
    pub fn on_open(&mut self, peer: u32) -> Result<Vec<Action>, MeshError> {
        let p = self.peer(peer)?;
        if self.links[p] != Link::Opening {
            return Err(MeshError::OutOfOrder);
        }
        self.links[p] = Link::Open {
            got_ping: false,
            got_pong: false,
        };
        Ok(vec![Action::Send {
            peer,
            msg: MeshMsg::Ping { from: self.core },
        }])
    }

    /// A ping or pong arrived on the mesh channel with `peer`.
    pub fn on_peer(&mut self, peer: u32, msg: MeshMsg) -> Result<Vec<Action>, MeshError> {
        let p = self.peer(peer)?;
        let Link::Open {
            mut got_ping,
            mut got_pong,
        } = self.links[p]
        else {
            return Err(MeshError::OutOfOrder);
        };
        let mut out = Vec::new();
        match msg {
            MeshMsg::Ping { from } | MeshMsg::Pong { from } if from != peer => {
                return Err(MeshError::UnknownCore(from));
            }
            MeshMsg::Ping { .. } if !got_ping => {
                got_ping = true;
                out.push(Action::Send {
                    peer,
                    msg: MeshMsg::Pong { from: self.core },
                });
            }
            MeshMsg::Pong { .. } if !got_pong => got_pong = true,
            MeshMsg::Ping { .. } | MeshMsg::Pong { .. } => return Err(MeshError::Duplicate),
            _ => return Err(MeshError::OutOfOrder),
        }
        if got_ping && got_pong {
            self.links[p] = Link::Linked;
            self.linked += 1;
            out.push(Action::Report(MeshMsg::Linked { peer }));
        } else {
            self.links[p] = Link::Open { got_ping, got_pong };
        }
        Ok(out)
    }
}
