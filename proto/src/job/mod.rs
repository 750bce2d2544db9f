//! **Guarantee:** every monitor is handed the same arena exactly once, and
//! monitor 0 reports the job finished only when every monitor has reported
//! its own end exactly once; the verdict is the conjunction of theirs.
//!
//! The job phase, as a sans-IO protocol. After the mesh is up, monitor 0
//! takes an arena of pool frames and calls [`JobPhase::start`]: every
//! monitor, monitor 0 included, receives [`JobMsg::Start`] with the arena
//! and gives the effect [`JobEffect::Run`]. When its part ends, each
//! monitor calls [`JobPhase::finished`], which sends [`JobMsg::Done`] to
//! monitor 0; with every core's `Done` in, monitor 0's machine gives
//! [`JobEffect::AllDone`]. A second `Start`, a `Start` from another core
//! than 0, a `Done` on another core than 0 and a second `Done` from one
//! core are refused and change nothing.

use alloc::vec;
use alloc::vec::Vec;
use core::fmt;

use bytemuck::{CheckedBitPattern, NoUninit};
use urpc::RawMessage;

use super::{Inbound, Out, Protocol, Refusal};
use crate::wire::{self, JOB, Malformed, TagRange};

/// The job phase's tags (range [`JOB`]).
pub mod tag {
    use super::JOB;

    /// [`super::JobMsg::Start`].
    pub const START: u16 = JOB.tag(0);
    /// [`super::JobMsg::Done`].
    pub const DONE: u16 = JOB.tag(1);
    /// Every tag of the protocol.
    pub const ALL: [u16; 2] = [START, DONE];
}

/// A message of the job phase.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobMsg {
    /// Run the job in pool frames `first..first + frames` (0 frames: no
    /// arena).
    Start {
        /// First pool frame.
        first: u64,
        /// Number of frames.
        frames: u64,
    },
    /// The sender's part ended.
    Done {
        /// Whether it succeeded.
        ok: bool,
    },
}

#[derive(Clone, Copy, NoUninit, CheckedBitPattern)]
#[repr(C)]
struct Start {
    first: u64,
    frames: u64,
}

#[derive(Clone, Copy, NoUninit, CheckedBitPattern)]
#[repr(C)]
struct Done {
    ok: bool,
}

crate::pod_messages! {
    Start => tag::START,
    Done => tag::DONE,
}

impl JobMsg {
    /// Encodes the message.
    pub fn encode(&self) -> RawMessage {
        match *self {
            JobMsg::Start { first, frames } => wire::encode(&Start { first, frames }),
            JobMsg::Done { ok } => wire::encode(&Done { ok }),
        }
    }

    /// Decodes a message, checking its tag, length and fields.
    pub fn decode(m: &RawMessage) -> Result<JobMsg, Malformed> {
        match m.tag() {
            tag::START => {
                let s = wire::decode::<Start>(m)?;
                Ok(JobMsg::Start {
                    first: s.first,
                    frames: s.frames,
                })
            }
            tag::DONE => Ok(JobMsg::Done {
                ok: wire::decode::<Done>(m)?.ok,
            }),
            other => Err(Malformed::UnknownTag(other)),
        }
    }
}

/// A message the job phase refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobError {
    /// The message does not decode.
    Malformed(Malformed),
    /// The message names a core that does not exist.
    UnknownCore(u32),
    /// The message repeats one already received.
    Duplicate,
    /// The message does not fit the phase's state (a `Start` not from
    /// core 0, a `Done` on another core than 0, a `finished` before
    /// `Start`).
    OutOfOrder,
}

impl fmt::Display for JobError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JobError::Malformed(m) => write!(f, "{m}"),
            JobError::UnknownCore(c) => write!(f, "message from unknown core {c}"),
            JobError::Duplicate => f.write_str("duplicate message"),
            JobError::OutOfOrder => f.write_str("message out of order"),
        }
    }
}

impl Refusal for JobError {
    fn reason(&self) -> &'static str {
        match self {
            JobError::Malformed(m) => m.reason(),
            JobError::UnknownCore(_) => "unknown-core",
            JobError::Duplicate => "duplicate",
            JobError::OutOfOrder => "out-of-order",
        }
    }
}

/// What the job phase asks its monitor to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobEffect {
    /// Run this core's part of the job in pool frames `first..+frames`.
    Run {
        /// First pool frame.
        first: u64,
        /// Number of frames.
        frames: u64,
    },
    /// Every core reported (monitor 0 only).
    AllDone {
        /// Whether every core succeeded.
        ok: bool,
    },
}

/// One core's job-phase machine.
#[derive(Clone, Debug)]
pub struct JobPhase {
    core: u32,
    arena: Option<(u64, u64)>,
    started: bool,
    finished: bool,
    /// Monitor 0: each core's verdict.
    done: Vec<Option<bool>>,
}

impl JobPhase {
    /// The machine of core `core` of `cores`.
    pub fn new(core: u32, cores: u32) -> JobPhase {
        JobPhase {
            core,
            arena: None,
            started: false,
            finished: false,
            done: if core == 0 {
                vec![None; cores as usize]
            } else {
                Vec::new()
            },
        }
    }

    /// Monitor 0: hands every core (itself included) the arena.
    pub fn start(
        &mut self,
        first: u64,
        frames: u64,
        out: &mut Out<JobEffect>,
    ) -> Result<(), JobError> {
        if self.core != 0 || self.started {
            return Err(JobError::OutOfOrder);
        }
        self.started = true;
        for c in 0..self.done.len() as u32 {
            out.send(c, &Start { first, frames });
        }
        Ok(())
    }

    /// The arena this core was handed, once it was.
    pub fn arena(&self) -> Option<(u64, u64)> {
        self.arena
    }

    /// This core's part ended with `ok`.
    pub fn finished(&mut self, ok: bool, out: &mut Out<JobEffect>) -> Result<(), JobError> {
        if self.arena.is_none() {
            return Err(JobError::OutOfOrder);
        }
        if core::mem::replace(&mut self.finished, true) {
            return Err(JobError::Duplicate);
        }
        out.send(0, &Done { ok });
        Ok(())
    }

    /// Monitor 0: whether every core reported, and if so whether all
    /// succeeded.
    pub fn verdict(&self) -> Option<bool> {
        if self.core != 0 || self.done.iter().any(Option::is_none) {
            return None;
        }
        Some(self.done.iter().all(|d| *d == Some(true)))
    }
}

impl Protocol for JobPhase {
    type Effect = JobEffect;
    type Error = JobError;
    const TAGS: TagRange = JOB;

    fn on_message(
        &mut self,
        _now: u64,
        m: &Inbound,
        out: &mut Out<JobEffect>,
    ) -> Result<(), JobError> {
        match JobMsg::decode(&m.msg).map_err(JobError::Malformed)? {
            JobMsg::Start { first, frames } => {
                if m.from != 0 {
                    return Err(JobError::OutOfOrder);
                }
                if self.arena.is_some() {
                    return Err(JobError::Duplicate);
                }
                self.arena = Some((first, frames));
                out.effect(JobEffect::Run { first, frames });
            }
            JobMsg::Done { ok } => {
                if self.core != 0 {
                    return Err(JobError::OutOfOrder);
                }
                let slot = self
                    .done
                    .get_mut(m.from as usize)
                    .ok_or(JobError::UnknownCore(m.from))?;
                if slot.is_some() {
                    return Err(JobError::Duplicate);
                }
                *slot = Some(ok);
                if let Some(ok) = self.verdict() {
                    out.effect(JobEffect::AllDone { ok });
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Via;

    fn deliver(to: &mut JobPhase, from: u32, msg: RawMessage) -> Result<Out<JobEffect>, JobError> {
        let mut out = Out::new();
        let m = Inbound {
            from,
            via: Via::Bootstrap,
            msg,
        };
        to.on_message(0, &m, &mut out).map(|()| out)
    }

    /// Runs the phase on `n` cores with the given verdicts; returns monitor
    /// 0's effects.
    fn run(verdicts: &[bool]) -> Vec<JobEffect> {
        let n = verdicts.len() as u32;
        let mut cores: Vec<JobPhase> = (0..n).map(|c| JobPhase::new(c, n)).collect();
        let mut out = Out::new();
        cores[0].start(3, 2, &mut out).unwrap();
        assert_eq!(out.sends.len(), n as usize);
        let mut zero = Vec::new();
        for (to, msg) in out.sends {
            let got = deliver(&mut cores[to as usize], 0, msg).unwrap();
            assert_eq!(
                got.effects,
                [JobEffect::Run {
                    first: 3,
                    frames: 2
                }]
            );
            let mut done = Out::new();
            cores[to as usize]
                .finished(verdicts[to as usize], &mut done)
                .unwrap();
            for (dest, msg) in done.sends {
                assert_eq!(dest, 0);
                zero.extend(deliver(&mut cores[0], to, msg).unwrap().effects);
            }
        }
        zero
    }

    #[test]
    fn every_core_runs_once_and_the_verdict_is_the_conjunction() {
        assert_eq!(run(&[true]), [JobEffect::AllDone { ok: true }]);
        assert_eq!(run(&[true; 4]), [JobEffect::AllDone { ok: true }]);
        assert_eq!(
            run(&[true, true, false, true]),
            [JobEffect::AllDone { ok: false }]
        );
    }

    #[test]
    fn messages_round_trip() {
        for m in [
            JobMsg::Start {
                first: 7,
                frames: 9,
            },
            JobMsg::Done { ok: false },
        ] {
            assert_eq!(JobMsg::decode(&m.encode()), Ok(m));
        }
        let bad = RawMessage::new(tag::DONE, &[2]).unwrap();
        assert_eq!(
            JobMsg::decode(&bad),
            Err(Malformed::BadValue { tag: tag::DONE })
        );
    }

    #[test]
    fn refused_messages_change_nothing() {
        let mut zero = JobPhase::new(0, 3);
        let mut one = JobPhase::new(1, 3);
        let start = JobMsg::Start {
            first: 1,
            frames: 1,
        }
        .encode();
        let done = JobMsg::Done { ok: true }.encode();
        assert_eq!(
            deliver(&mut one, 2, start).unwrap_err(),
            JobError::OutOfOrder
        );
        assert_eq!(
            one.finished(true, &mut Out::new()),
            Err(JobError::OutOfOrder)
        );
        deliver(&mut one, 0, start).unwrap();
        assert_eq!(
            deliver(&mut one, 0, start).unwrap_err(),
            JobError::Duplicate
        );
        assert_eq!(
            deliver(&mut one, 0, done).unwrap_err(),
            JobError::OutOfOrder
        );
        one.finished(true, &mut Out::new()).unwrap();
        assert_eq!(
            one.finished(true, &mut Out::new()),
            Err(JobError::Duplicate)
        );
        assert!(deliver(&mut zero, 1, done).unwrap().effects.is_empty());
        assert_eq!(
            deliver(&mut zero, 1, done).unwrap_err(),
            JobError::Duplicate
        );
        assert_eq!(
            deliver(&mut zero, 9, done).unwrap_err(),
            JobError::UnknownCore(9)
        );
        assert_eq!(zero.verdict(), None);
        assert_eq!(one.start(0, 0, &mut Out::new()), Err(JobError::OutOfOrder));
    }
}
