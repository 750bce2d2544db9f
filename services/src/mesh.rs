//! Building the full mesh of URPC channels: a sans-IO protocol.
//!
//! Every monitor `i ≥ 1` starts with one bootstrap channel to monitor 0 (see
//! [`crate::pool`]). Over those, monitor 0's [`Broker`] pairs the cores up
//! until every pair has its own duplex channel: `n·(n−1)/2` channels.
//!
//! 1. Each monitor `i` sends [`BootMsg::Hello`].
//! 2. With every hello in, the broker gives each pair `(a, b)`, `a < b`, two
//!    pool frames and sends [`BootMsg::Connect`] to both: `a` is side A and
//!    formats the channel, `b` is side B and attaches once it is formatted.
//! 3. Each [`Member`] opens its side, sends [`PeerMsg::Ping`] on the new
//!    channel and answers the peer's ping with [`PeerMsg::Pong`]. A link
//!    counts when a message went both ways; the member then sends
//!    [`BootMsg::Linked`].
//! 4. With every link reported by both ends, the broker sends
//!    [`BootMsg::MeshDone`].
//!
//! Consistency: the broker is the only allocator of pool frames, so no two
//! channels share a frame; a link is reported only after a message crossed
//! it in both directions, so `MeshDone` means every channel works both
//! ways. The state machines take messages and return messages to send and
//! channels to open; they never touch memory or block. Unexpected messages
//! (unknown core, duplicate, out of order) are typed [`MeshError`]s that
//! change nothing.

use alloc::vec;
use alloc::vec::Vec;

use urpc::{PAYLOAD_WORDS, RawMessage, Side};

use crate::pool::{CHANNEL_FRAMES, FrameAllocator};

/// Message tags on bootstrap channels.
pub mod tag {
    /// [`super::BootMsg::Hello`].
    pub const HELLO: u16 = 1;
    /// [`super::BootMsg::Connect`].
    pub const CONNECT: u16 = 2;
    /// [`super::BootMsg::Linked`].
    pub const LINKED: u16 = 3;
    /// [`super::BootMsg::MeshDone`].
    pub const MESH_DONE: u16 = 4;
    /// [`super::BootMsg::Arena`].
    pub const ARENA: u16 = 5;
    /// [`super::BootMsg::Done`].
    pub const DONE: u16 = 6;
    /// [`super::PeerMsg::Ping`].
    pub const PING: u16 = 16;
    /// [`super::PeerMsg::Pong`].
    pub const PONG: u16 = 17;
}

/// A message on a bootstrap channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BootMsg {
    /// Monitor `core` is up and attached to its bootstrap channel.
    Hello {
        /// The sender's core.
        core: u32,
    },
    /// Open the channel with `peer` at pool frames `first_frame..+2`.
    Connect {
        /// The other end.
        peer: u32,
        /// This end's side: A formats, B attaches.
        side: Side,
        /// First pool frame of the channel.
        first_frame: u64,
    },
    /// The sender's channel with `peer` carried a message both ways.
    Linked {
        /// The other end.
        peer: u32,
    },
    /// Every pair of cores is linked.
    MeshDone {
        /// Number of channels.
        channels: u64,
    },
    /// The experiment arena: pool frames `first..first + frames`.
    Arena {
        /// First pool frame.
        first: u64,
        /// Number of frames.
        frames: u64,
    },
    /// The sender finished its part of the run.
    Done {
        /// Whether it succeeded.
        ok: bool,
    },
}

/// A message on a mesh channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PeerMsg {
    /// First message on a new channel.
    Ping {
        /// The sender's core.
        from: u32,
    },
    /// The answer to [`PeerMsg::Ping`].
    Pong {
        /// The sender's core.
        from: u32,
    },
}

/// Why a received message was not understood.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Malformed {
    /// No message of this protocol has this tag.
    UnknownTag(u16),
    /// The payload length does not match the tag.
    BadLength {
        /// The tag.
        tag: u16,
        /// The length received.
        len: usize,
    },
    /// A field holds an impossible value.
    BadValue {
        /// The tag.
        tag: u16,
    },
}

impl Malformed {
    /// A short reason for records.
    pub fn reason(&self) -> &'static str {
        match self {
            Malformed::UnknownTag(_) => "unknown-tag",
            Malformed::BadLength { .. } => "bad-length",
            Malformed::BadValue { .. } => "bad-value",
        }
    }

    /// The tag of the message.
    pub fn tag(&self) -> u16 {
        match *self {
            Malformed::UnknownTag(tag)
            | Malformed::BadLength { tag, .. }
            | Malformed::BadValue { tag } => tag,
        }
    }
}

fn raw(tag: u16, words: &[u64]) -> RawMessage {
    let mut all = [0u64; PAYLOAD_WORDS];
    all[..words.len()].copy_from_slice(words);
    RawMessage::from_words(tag, words.len() * 8, &all)
}

fn words(m: &RawMessage, count: usize) -> Result<[u64; PAYLOAD_WORDS], Malformed> {
    if m.len() != count * 8 {
        return Err(Malformed::BadLength {
            tag: m.tag(),
            len: m.len(),
        });
    }
    Ok(m.to_words())
}

fn core_field(tag: u16, w: u64) -> Result<u32, Malformed> {
    u32::try_from(w).map_err(|_| Malformed::BadValue { tag })
}

impl BootMsg {
    /// Encodes the message.
    pub fn encode(&self) -> RawMessage {
        match *self {
            BootMsg::Hello { core } => raw(tag::HELLO, &[u64::from(core)]),
            BootMsg::Connect {
                peer,
                side,
                first_frame,
            } => raw(
                tag::CONNECT,
                &[u64::from(peer), u64::from(side == Side::B), first_frame],
            ),
            BootMsg::Linked { peer } => raw(tag::LINKED, &[u64::from(peer)]),
            BootMsg::MeshDone { channels } => raw(tag::MESH_DONE, &[channels]),
            BootMsg::Arena { first, frames } => raw(tag::ARENA, &[first, frames]),
            BootMsg::Done { ok } => raw(tag::DONE, &[u64::from(ok)]),
        }
    }

    /// Decodes a message, checking its tag, length and fields.
    pub fn decode(m: &RawMessage) -> Result<BootMsg, Malformed> {
        let t = m.tag();
        Ok(match t {
            tag::HELLO => BootMsg::Hello {
                core: core_field(t, words(m, 1)?[0])?,
            },
            tag::CONNECT => {
                let w = words(m, 3)?;
                let side = match w[1] {
                    0 => Side::A,
                    1 => Side::B,
                    _ => return Err(Malformed::BadValue { tag: t }),
                };
                BootMsg::Connect {
                    peer: core_field(t, w[0])?,
                    side,
                    first_frame: w[2],
                }
            }
            tag::LINKED => BootMsg::Linked {
                peer: core_field(t, words(m, 1)?[0])?,
            },
            tag::MESH_DONE => BootMsg::MeshDone {
                channels: words(m, 1)?[0],
            },
            tag::ARENA => {
                let w = words(m, 2)?;
                BootMsg::Arena {
                    first: w[0],
                    frames: w[1],
                }
            }
            tag::DONE => match words(m, 1)?[0] {
                0 => BootMsg::Done { ok: false },
                1 => BootMsg::Done { ok: true },
                _ => return Err(Malformed::BadValue { tag: t }),
            },
            other => return Err(Malformed::UnknownTag(other)),
        })
    }
}

impl PeerMsg {
    /// Encodes the message.
    pub fn encode(&self) -> RawMessage {
        match *self {
            PeerMsg::Ping { from } => raw(tag::PING, &[u64::from(from)]),
            PeerMsg::Pong { from } => raw(tag::PONG, &[u64::from(from)]),
        }
    }

    /// Decodes a message, checking its tag, length and fields.
    pub fn decode(m: &RawMessage) -> Result<PeerMsg, Malformed> {
        let t = m.tag();
        match t {
            tag::PING => Ok(PeerMsg::Ping {
                from: core_field(t, words(m, 1)?[0])?,
            }),
            tag::PONG => Ok(PeerMsg::Pong {
                from: core_field(t, words(m, 1)?[0])?,
            }),
            other => Err(Malformed::UnknownTag(other)),
        }
    }
}

/// A message the protocol refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MeshError {
    /// The message names a core that does not exist.
    UnknownCore(u32),
    /// The message repeats one already received.
    Duplicate,
    /// The message does not fit the protocol's current state.
    OutOfOrder,
    /// The pool has too few frames for the mesh.
    PoolExhausted,
}

impl core::fmt::Display for MeshError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            MeshError::UnknownCore(c) => write!(f, "message names unknown core {c}"),
            MeshError::Duplicate => write!(f, "duplicate message"),
            MeshError::OutOfOrder => write!(f, "message out of order"),
            MeshError::PoolExhausted => write!(f, "the shared pool is too small for the mesh"),
        }
    }
}

/// A message for the bootstrap channel of `to` (0: the broker's own core).
pub type Outgoing = (u32, BootMsg);

/// Monitor 0's side of the protocol: pairs the cores up.
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
                    BootMsg::Connect {
                        peer: b,
                        side: Side::A,
                        first_frame,
                    },
                ));
                out.push((
                    b,
                    BootMsg::Connect {
                        peer: a,
                        side: Side::B,
                        first_frame,
                    },
                ));
            }
        }
        Ok(out)
    }

    /// Handles a message from monitor `from`'s bootstrap channel (or from
    /// monitor 0's own member, with `from` = 0).
    pub fn on_message(&mut self, from: u32, msg: BootMsg) -> Result<Vec<Outgoing>, MeshError> {
        let f = self.check_core(from)?;
        match msg {
            BootMsg::Hello { core } => {
                if core != from {
                    return Err(MeshError::UnknownCore(core));
                }
                if self.hello[f] {
                    return Err(MeshError::Duplicate);
                }
                self.hello[f] = true;
                self.connect_if_ready()
            }
            BootMsg::Linked { peer } => {
                let p = self.check_core(peer)?;
                if !self.connected || p == f {
                    return Err(MeshError::OutOfOrder);
                }
                let n = self.cores as usize;
                if core::mem::replace(&mut self.linked[f * n + p], true) {
                    return Err(MeshError::Duplicate);
                }
                self.links += 1;
                if self.links == n * (n - 1) {
                    self.done = true;
                    let channels = (n * (n - 1) / 2) as u64;
                    return Ok((0..self.cores)
                        .map(|c| (c, BootMsg::MeshDone { channels }))
                        .collect());
                }
                Ok(Vec::new())
            }
            _ => Err(MeshError::OutOfOrder),
        }
    }
}

/// What a member asks its driver to do.
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
    /// Send on the channel with `peer`.
    Send {
        /// The other end.
        peer: u32,
        /// The message.
        msg: PeerMsg,
    },
    /// Send to the broker over the bootstrap channel (or hand it to the
    /// local broker on core 0).
    Report(BootMsg),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Link {
    None,
    Opening,
    Open { got_ping: bool, got_pong: bool },
    Linked,
}

/// Every monitor's side of the protocol: opens and checks its channels.
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

    /// The driver opened this end of the channel with `peer`.
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
            msg: PeerMsg::Ping { from: self.core },
        }])
    }

    /// A message arrived on the channel with `peer`.
    pub fn on_peer(&mut self, peer: u32, msg: PeerMsg) -> Result<Vec<Action>, MeshError> {
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
            PeerMsg::Ping { from } if from == peer && !got_ping => {
                got_ping = true;
                out.push(Action::Send {
                    peer,
                    msg: PeerMsg::Pong { from: self.core },
                });
            }
            PeerMsg::Pong { from } if from == peer && !got_pong => got_pong = true,
            PeerMsg::Ping { from } | PeerMsg::Pong { from } if from != peer => {
                return Err(MeshError::UnknownCore(from));
            }
            _ => return Err(MeshError::Duplicate),
        }
        if got_ping && got_pong {
            self.links[p] = Link::Linked;
            self.linked += 1;
            out.push(Action::Report(BootMsg::Linked { peer }));
        } else {
            self.links[p] = Link::Open { got_ping, got_pong };
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::collections::VecDeque;

    #[test]
    fn boot_messages_round_trip_and_malformed_ones_are_typed_errors() {
        let all = [
            BootMsg::Hello { core: 3 },
            BootMsg::Connect {
                peer: 9,
                side: Side::B,
                first_frame: 77,
            },
            BootMsg::Linked { peer: 1 },
            BootMsg::MeshDone { channels: 28 },
            BootMsg::Arena {
                first: 5,
                frames: 6,
            },
            BootMsg::Done { ok: true },
        ];
        for m in all {
            assert_eq!(BootMsg::decode(&m.encode()), Ok(m));
        }
        assert_eq!(
            BootMsg::decode(&RawMessage::new(0x7777, &[1]).unwrap()),
            Err(Malformed::UnknownTag(0x7777))
        );
        assert_eq!(
            BootMsg::decode(&RawMessage::new(tag::HELLO, &[1, 2, 3]).unwrap()),
            Err(Malformed::BadLength {
                tag: tag::HELLO,
                len: 3
            })
        );
        let bad_side = raw(tag::CONNECT, &[1, 7, 0]);
        assert_eq!(
            BootMsg::decode(&bad_side),
            Err(Malformed::BadValue { tag: tag::CONNECT })
        );
        let huge_core = raw(tag::HELLO, &[u64::MAX]);
        assert_eq!(
            BootMsg::decode(&huge_core),
            Err(Malformed::BadValue { tag: tag::HELLO })
        );
        for m in [PeerMsg::Ping { from: 2 }, PeerMsg::Pong { from: 0 }] {
            assert_eq!(PeerMsg::decode(&m.encode()), Ok(m));
        }
        assert!(PeerMsg::decode(&BootMsg::Hello { core: 1 }.encode()).is_err());
    }

    /// Runs brokers and members of `n` cores to completion in a simulated
    /// network that delivers messages in FIFO order per channel.
    fn simulate(n: u32) -> (Broker, Vec<Member>) {
        let mut broker = Broker::new(n, FrameAllocator::new(100, 100 + u64::from(n * n) * 2));
        let mut members: Vec<Member> = (0..n).map(|c| Member::new(c, n)).collect();
        // (to, from, message): bootstrap to broker, bootstrap to member, peer.
        let mut to_broker: VecDeque<(u32, BootMsg)> = VecDeque::new();
        let mut to_member: VecDeque<(u32, BootMsg)> = VecDeque::new();
        let mut to_peer: VecDeque<(u32, u32, PeerMsg)> = VecDeque::new();
        let mut opened: Vec<(u32, u32, u64)> = Vec::new();
        for c in 1..n {
            to_broker.push_back((c, BootMsg::Hello { core: c }));
        }
        to_member.extend(broker.start().unwrap());
        let mut steps = 0;
        loop {
            steps += 1;
            assert!(steps < 100_000, "no progress");
            let actions = if let Some((from, m)) = to_broker.pop_front() {
                to_member.extend(broker.on_message(from, m).unwrap());
                continue;
            } else if let Some((to, m)) = to_member.pop_front() {
                match m {
                    BootMsg::Connect {
                        peer,
                        side,
                        first_frame,
                    } => (
                        to,
                        members[to as usize]
                            .on_connect(peer, side, first_frame)
                            .unwrap(),
                    ),
                    BootMsg::MeshDone { .. } => continue,
                    other => panic!("unexpected {other:?}"),
                }
            } else if let Some((to, from, m)) = to_peer.pop_front() {
                (to, members[to as usize].on_peer(from, m).unwrap())
            } else {
                break;
            };
            let (me, actions) = actions;
            for a in actions {
                match a {
                    Action::Open {
                        peer,
                        first_frame,
                        side,
                    } => {
                        opened.push((me, peer, first_frame));
                        assert_eq!(side == Side::A, me < peer);
                        let more = members[me as usize].on_open(peer).unwrap();
                        for m in more {
                            let Action::Send { peer, msg } = m else {
                                panic!()
                            };
                            to_peer.push_back((peer, me, msg));
                        }
                    }
                    Action::Send { peer, msg } => to_peer.push_back((peer, me, msg)),
                    Action::Report(m) => to_broker.push_back((me, m)),
                }
            }
        }
        // Both ends of every pair used the same frames, and no two pairs did.
        let mut frames: Vec<u64> = Vec::new();
        for &(a, b, f) in &opened {
            assert!(opened.contains(&(b, a, f)));
            if a < b {
                frames.push(f);
            }
        }
        frames.sort_unstable();
        frames.dedup();
        assert_eq!(frames.len() as u32, n * (n - 1) / 2);
        (broker, members)
    }

    #[test]
    fn every_pair_links_and_the_broker_finishes() {
        for n in [1, 2, 3, 4, 8, 16] {
            let (broker, members) = simulate(n);
            assert!(broker.is_done(), "{n} cores");
            for m in &members {
                assert!(m.all_linked());
                assert_eq!(m.linked() as u32, n - 1);
            }
        }
    }

    #[test]
    fn unexpected_messages_are_refused_without_effect() {
        let mut b = Broker::new(3, FrameAllocator::new(0, 100));
        assert_eq!(
            b.on_message(5, BootMsg::Hello { core: 5 }),
            Err(MeshError::UnknownCore(5))
        );
        assert_eq!(
            b.on_message(1, BootMsg::Linked { peer: 2 }),
            Err(MeshError::OutOfOrder)
        );
        assert_eq!(b.on_message(1, BootMsg::Hello { core: 1 }), Ok(vec![]));
        assert_eq!(
            b.on_message(1, BootMsg::Hello { core: 1 }),
            Err(MeshError::Duplicate)
        );
        assert_eq!(
            b.on_message(2, BootMsg::Hello { core: 1 }),
            Err(MeshError::UnknownCore(1))
        );
        let connects = b.on_message(2, BootMsg::Hello { core: 2 }).unwrap();
        assert_eq!(connects.len(), 6);
        let mut m = Member::new(1, 3);
        assert_eq!(m.on_connect(1, Side::A, 0), Err(MeshError::UnknownCore(1)));
        assert_eq!(m.on_connect(0, Side::A, 0), Err(MeshError::OutOfOrder));
        assert_eq!(m.on_open(0), Err(MeshError::OutOfOrder));
        assert_eq!(
            m.on_peer(0, PeerMsg::Ping { from: 0 }),
            Err(MeshError::OutOfOrder)
        );
        m.on_connect(0, Side::B, 0).unwrap();
        m.on_open(0).unwrap();
        assert_eq!(
            m.on_peer(0, PeerMsg::Ping { from: 2 }),
            Err(MeshError::UnknownCore(2))
        );
        assert_eq!(m.on_peer(0, PeerMsg::Ping { from: 0 }).unwrap().len(), 1);
        assert_eq!(
            m.on_peer(0, PeerMsg::Ping { from: 0 }),
            Err(MeshError::Duplicate)
        );
    }

    #[test]
    fn a_pool_without_room_is_reported() {
        let mut b = Broker::new(3, FrameAllocator::new(0, 3));
        b.on_message(1, BootMsg::Hello { core: 1 }).unwrap();
        assert_eq!(
            b.on_message(2, BootMsg::Hello { core: 2 }),
            Err(MeshError::PoolExhausted)
        );
    }
}
