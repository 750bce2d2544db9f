//! **Guarantee:** every spawn request is answered exactly once, with the
//! domain started or with why not, and the end of every started domain is
//! reported to the requester exactly once, after its start; the
//! requester's verdict is a pass only when every domain it asked for
//! started and exited with code 0. A refused message changes nothing.
//!
//! Spawning on another core, as a sans-IO protocol. A requester (monitor 0
//! in a run with `spawn=` items) calls [`Spawns::request`], which sends
//! [`SpawnMsg::Request`] to the monitor of the target core (its own core
//! too: the message then goes through the local queue). That monitor's
//! machine gives [`SpawnEffect::Start`]; the monitor builds the domain
//! through its platform and reports the outcome with [`Spawns::started`],
//! and later the domain's end with [`Spawns::ended`]. The requester's
//! machine turns the answers into [`SpawnEffect::Spawned`],
//! [`SpawnEffect::Failed`] and [`SpawnEffect::Ended`].
//!
//! Refused: an answer for a request that was not made, or from another
//! core than the one asked; a second answer; an end before the start; a
//! request with a bad name or a repeated id; a bad status.
//!
//! [`SpawnModel`] is the reference model and the invariants that the tests
//! and the simulator check runs against; [`Spawns::broken`] is the
//! deliberately wrong server they must catch.

use alloc::vec::Vec;
use core::fmt;

use abi::disp::{MAX_NAME, Status};
use bytemuck::{CheckedBitPattern, NoUninit};
use urpc::RawMessage;

use super::{Handled, Inbound, Out, Protocol};
use crate::wire::registry::SPAWN;
use crate::wire::{self, Malformed, TagRange};

mod model;
#[cfg(test)]
mod tests;

pub use model::{Chosen, Heard, SpawnModel, SpawnViolation};

crate::tag_module! {
    /// The spawn protocol's tags (range [`SPAWN`]).
    SPAWN:
    SpawnMsg::Request => REQUEST, SpawnMsg::Started => STARTED, SpawnMsg::Ended => ENDED,
}

/// A program name: 1 to [`MAX_NAME`] bytes of ASCII letters, digits, `-`,
/// `_` and `.`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Name {
    bytes: [u8; MAX_NAME],
    len: u8,
}

impl Name {
    /// The name `s`, if it is one.
    pub fn new(s: &str) -> Option<Name> {
        let ok = |b: &u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.');
        if s.is_empty() || s.len() > MAX_NAME || !s.bytes().all(|b| ok(&b)) {
            return None;
        }
        let mut bytes = [0; MAX_NAME];
        bytes[..s.len()].copy_from_slice(s.as_bytes());
        Some(Name {
            bytes,
            len: s.len() as u8,
        })
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        // Only ASCII is ever stored.
        core::str::from_utf8(&self.bytes[..usize::from(self.len)]).unwrap_or("")
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.as_str())
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A message of the spawn protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpawnMsg {
    /// Start program `name` on the receiving core.
    Request {
        /// The requester's id for it.
        id: u32,
        /// The program.
        name: Name,
    },
    /// The outcome of request `id`: started (`failure` 0), or the
    /// platform's `crate::platform::SpawnError` code.
    Started {
        /// The request.
        id: u32,
        /// 0, or why it failed.
        failure: u32,
        /// Cycles the start took on the serving core.
        cycles: u64,
    },
    /// The domain of request `id` ended.
    Ended {
        /// The request.
        id: u32,
        /// How (an ended [`Status`]).
        status: Status,
    },
}

#[derive(Clone, Copy, NoUninit, CheckedBitPattern)]
#[repr(C)]
struct Request {
    id: u32,
    len: u32,
    name: [u8; MAX_NAME],
}

#[derive(Clone, Copy, NoUninit, CheckedBitPattern)]
#[repr(C)]
struct Started {
    id: u32,
    failure: u32,
    cycles: u64,
}

#[derive(Clone, Copy, NoUninit, CheckedBitPattern)]
#[repr(C)]
struct Ended {
    id: u32,
    _pad: u32,
    status: u64,
}

crate::pod_messages! {
    Request => tag::REQUEST,
    Started => tag::STARTED,
    Ended => tag::ENDED,
}

impl SpawnMsg {
    /// Encodes the message.
    pub fn encode(&self) -> RawMessage {
        match *self {
            SpawnMsg::Request { id, name } => wire::encode(&Request {
                id,
                len: u32::from(name.len),
                name: name.bytes,
            }),
            SpawnMsg::Started {
                id,
                failure,
                cycles,
            } => wire::encode(&Started {
                id,
                failure,
                cycles,
            }),
            SpawnMsg::Ended { id, status } => wire::encode(&Ended {
                id,
                _pad: 0,
                status: status.encode(),
            }),
        }
    }

    /// Decodes a message, checking its tag, length and fields.
    pub fn decode(m: &RawMessage) -> Result<SpawnMsg, Malformed> {
        let bad = Malformed::BadValue { tag: m.tag() };
        match m.tag() {
            tag::REQUEST => {
                let r = wire::decode::<Request>(m)?;
                let text = r
                    .name
                    .get(..r.len as usize)
                    .and_then(|b| core::str::from_utf8(b).ok())
                    .ok_or(bad)?;
                let name = Name::new(text).ok_or(bad)?;
                if r.name[r.len as usize..].iter().any(|b| *b != 0) {
                    return Err(bad);
                }
                Ok(SpawnMsg::Request { id: r.id, name })
            }
            tag::STARTED => {
                let s = wire::decode::<Started>(m)?;
                Ok(SpawnMsg::Started {
                    id: s.id,
                    failure: s.failure,
                    cycles: s.cycles,
                })
            }
            tag::ENDED => {
                let e = wire::decode::<Ended>(m)?;
                let status = Status::decode(e.status).ok_or(bad)?;
                if !ended(status) || e._pad != 0 {
                    return Err(bad);
                }
                Ok(SpawnMsg::Ended { id: e.id, status })
            }
            other => Err(Malformed::UnknownTag(other)),
        }
    }
}

/// Whether `s` is the state of a domain that ended.
fn ended(s: Status) -> bool {
    matches!(
        s,
        Status::Exited(_) | Status::Killed(_) | Status::Revoked | Status::Panicked
    )
}

/// Why the machine refused a message or a call; its reason
/// ([`Refusal::reason`](crate::Refusal::reason)) is its variant's name in kebab case (a bad name is
/// a `bad-value`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, strum::IntoStaticStr)]
#[strum(serialize_all = "kebab-case")]
pub enum SpawnProtoError {
    /// The message does not decode.
    Malformed(Malformed),
    /// A core that does not exist.
    UnknownCore(u32),
    /// A program name that is not one.
    #[strum(serialize = "bad-value")]
    BadName,
    /// An answer for a request that was not made (or not to the sender).
    UnknownRequest,
    /// A request id already used, or a second answer.
    Duplicate,
    /// An answer out of order (an end before the start, a start report for
    /// a request that is not starting).
    OutOfOrder,
}

crate::refusal! {
    SpawnProtoError:
    UnknownCore(c) => "no core {c}",
    BadName => "a program name is 1 to 32 ASCII letters, digits, '-', '_' or '.'",
    UnknownRequest => "no such request", Duplicate => "duplicate", OutOfOrder => "out of order",
}

/// What the spawn protocol asks its monitor to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpawnEffect {
    /// Start `name` on this core for request `id` of core `from`, then
    /// call [`Spawns::started`].
    Start {
        /// The requesting core.
        from: u32,
        /// Its id.
        id: u32,
        /// The program.
        name: Name,
    },
    /// Requester: the domain of request `id` started on `core`.
    Spawned {
        /// The request.
        id: u32,
        /// Where.
        core: u32,
        /// The program.
        name: Name,
        /// Cycles the start took there.
        cycles: u64,
    },
    /// Requester: request `id` failed on `core`.
    Failed {
        /// The request.
        id: u32,
        /// Where.
        core: u32,
        /// The program.
        name: Name,
        /// The serving platform's code (`crate::platform::SpawnError`).
        failure: u32,
    },
    /// Requester: the domain of request `id` on `core` ended.
    Ended {
        /// The request.
        id: u32,
        /// Where.
        core: u32,
        /// The program.
        name: Name,
        /// How.
        status: Status,
    },
}

/// A request this core made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Asked {
    /// Sent, not answered.
    Requested,
    /// Started, not ended.
    Running,
    /// Failed to start.
    Failed,
    /// Ended.
    Ended(Status),
}

/// One core's spawn machine: requester and server at once.
#[derive(Clone, Debug)]
pub struct Spawns {
    cores: u32,
    /// Requests made here: (id, core, name, state), by id.
    asked: Vec<(u32, Name, Asked)>,
    /// Requests served here: (from, id, started).
    served: Vec<(u32, u32, bool)>,
    /// The deliberately wrong server of [`Spawns::broken`].
    hides_ends: bool,
}

impl Spawns {
    /// The machine of a core of `cores`.
    pub fn new(cores: u32) -> Spawns {
        Spawns {
            cores,
            asked: Vec::new(),
            served: Vec::new(),
            hides_ends: false,
        }
    }

    /// A deliberately wrong machine, for the tests that must catch it: as
    /// a server it reports every domain's end as an exit with 0, whatever
    /// it was, so a requester would pass a run whose domain failed.
    pub fn broken(cores: u32) -> Spawns {
        Spawns {
            hides_ends: true,
            ..Spawns::new(cores)
        }
    }

    /// Asks core `core` to start `name`; returns the request's id.
    pub fn request(
        &mut self,
        name: &str,
        core: u32,
        out: &mut Out<SpawnEffect>,
    ) -> Result<u32, SpawnProtoError> {
        if core >= self.cores {
            return Err(SpawnProtoError::UnknownCore(core));
        }
        let name = Name::new(name).ok_or(SpawnProtoError::BadName)?;
        let id = self.asked.len() as u32;
        self.asked.push((core, name, Asked::Requested));
        out.send_raw(core, SpawnMsg::Request { id, name }.encode());
        Ok(id)
    }

    /// The serving monitor's outcome for request `id` of `from`: `Ok` with
    /// the cycles the start took, or a `crate::platform::SpawnError` code
    /// (not 0).
    pub fn started(
        &mut self,
        from: u32,
        id: u32,
        result: Result<u64, u32>,
        out: &mut Out<SpawnEffect>,
    ) -> Result<(), SpawnProtoError> {
        let at = self
            .served
            .iter()
            .position(|s| (s.0, s.1) == (from, id))
            .ok_or(SpawnProtoError::UnknownRequest)?;
        if self.served[at].2 {
            return Err(SpawnProtoError::Duplicate);
        }
        let (failure, cycles) = match result {
            Ok(cycles) => (0, cycles),
            Err(0) => return Err(SpawnProtoError::OutOfOrder),
            Err(code) => (code, 0),
        };
        if failure == 0 {
            self.served[at].2 = true;
        } else {
            self.served.remove(at);
        }
        let msg = SpawnMsg::Started {
            id,
            failure,
            cycles,
        };
        out.send_raw(from, msg.encode());
        Ok(())
    }

    /// The serving monitor saw the domain of request `id` of `from` end.
    pub fn ended(
        &mut self,
        from: u32,
        id: u32,
        status: Status,
        out: &mut Out<SpawnEffect>,
    ) -> Result<(), SpawnProtoError> {
        if !ended(status) {
            return Err(SpawnProtoError::OutOfOrder);
        }
        let at = self
            .served
            .iter()
            .position(|s| (s.0, s.1) == (from, id))
            .ok_or(SpawnProtoError::UnknownRequest)?;
        if !self.served[at].2 {
            return Err(SpawnProtoError::OutOfOrder);
        }
        self.served.remove(at);
        let status = if self.hides_ends {
            Status::Exited(0)
        } else {
            status
        };
        out.send_raw(from, SpawnMsg::Ended { id, status }.encode());
        Ok(())
    }

    /// Requests made here that are not finished (answered with a failure,
    /// or started and ended).
    pub fn pending(&self) -> usize {
        self.asked
            .iter()
            .filter(|a| matches!(a.2, Asked::Requested | Asked::Running))
            .count()
    }

    /// Whether every request made here is finished and was a domain that
    /// exited with 0.
    pub fn all_passed(&self) -> bool {
        self.asked
            .iter()
            .all(|a| a.2 == Asked::Ended(Status::Exited(0)))
    }

    fn answer(&mut self, from: u32, id: u32) -> Result<&mut (u32, Name, Asked), SpawnProtoError> {
        match self.asked.get_mut(id as usize) {
            Some(a) if a.0 == from => Ok(a),
            _ => Err(SpawnProtoError::UnknownRequest),
        }
    }
}

impl Protocol for Spawns {
    type Effect = SpawnEffect;
    type Error = SpawnProtoError;
    const TAGS: TagRange = SPAWN;

    fn on_message(&mut self, _now: u64, m: &Inbound, out: &mut Out<SpawnEffect>) -> Handled<Self> {
        if m.from >= self.cores {
            return Err(SpawnProtoError::UnknownCore(m.from));
        }
        match SpawnMsg::decode(&m.msg).map_err(SpawnProtoError::Malformed)? {
            SpawnMsg::Request { id, name } => {
                if self.served.iter().any(|s| (s.0, s.1) == (m.from, id)) {
                    return Err(SpawnProtoError::Duplicate);
                }
                self.served.push((m.from, id, false));
                out.effect(SpawnEffect::Start {
                    from: m.from,
                    id,
                    name,
                });
            }
            SpawnMsg::Started {
                id,
                failure,
                cycles,
            } => {
                let a = self.answer(m.from, id)?;
                if a.2 != Asked::Requested {
                    return Err(SpawnProtoError::Duplicate);
                }
                let (core, name) = (a.0, a.1);
                if failure == 0 {
                    a.2 = Asked::Running;
                    out.effect(SpawnEffect::Spawned {
                        id,
                        core,
                        name,
                        cycles,
                    });
                } else {
                    a.2 = Asked::Failed;
                    out.effect(SpawnEffect::Failed {
                        id,
                        core,
                        name,
                        failure,
                    });
                }
            }
            SpawnMsg::Ended { id, status } => {
                let a = self.answer(m.from, id)?;
                match a.2 {
                    Asked::Running => {}
                    Asked::Requested => return Err(SpawnProtoError::OutOfOrder),
                    Asked::Failed | Asked::Ended(_) => return Err(SpawnProtoError::Duplicate),
                }
                a.2 = Asked::Ended(status);
                let (core, name) = (a.0, a.1);
                out.effect(SpawnEffect::Ended {
                    id,
                    core,
                    name,
                    status,
                });
            }
        }
        Ok(())
    }
}
