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
//!
//! [`JobModel`] is the reference model and the invariants that the tests
//! check runs against; [`JobPhase::broken`] is the deliberately wrong
//! phase they must catch.

mod model;

pub use model::{JobModel, JobViolation};

use alloc::vec;
use alloc::vec::Vec;

use bytemuck::{CheckedBitPattern, NoUninit};
use urpc::RawMessage;

use super::{Handled, Inbound, Out, Protocol};
use crate::wire::{self, JOB, Malformed, TagRange};

crate::tag_module! {
    /// The job phase's tags (range [`JOB`]).
    JOB:
    JobMsg::Start => START, JobMsg::Done => DONE,
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

/// A message the job phase refused; its reason ([`Refusal::reason`](crate::Refusal::reason)) is
/// its variant's name in kebab case.
#[derive(Clone, Copy, Debug, PartialEq, Eq, strum::IntoStaticStr)]
#[strum(serialize_all = "kebab-case")]
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

crate::refusal! {
    JobError:
    UnknownCore(c) => "message from unknown core {c}", Duplicate => "duplicate message",
    OutOfOrder => "message out of order",
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
    /// The deliberately wrong phase of [`JobPhase::broken`].
    reports_early: bool,
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
            reports_early: false,
        }
    }

    /// A deliberately wrong machine, for the tests that must catch it: as
    /// monitor 0 it reports the job done as soon as all cores but one
    /// reported, before the last one's end.
    pub fn broken(core: u32, cores: u32) -> JobPhase {
        JobPhase {
            reports_early: true,
            ..JobPhase::new(core, cores)
        }
    }

    /// Monitor 0: hands every core (itself included) the arena.
    pub fn start(&mut self, first: u64, frames: u64, out: &mut Out<JobEffect>) -> Handled<Self> {
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

    fn on_message(&mut self, _now: u64, m: &Inbound, out: &mut Out<JobEffect>) -> Handled<Self> {
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
                let open = self.done.iter().filter(|d| d.is_none()).count();
                let verdict = match self.verdict() {
                    None if self.reports_early && open == 1 => {
                        Some(self.done.iter().flatten().all(|&ok| ok))
                    }
                    v => v,
                };
                if let Some(ok) = verdict {
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
    use crate::Refusal;
    use crate::Via;

    #[test]
    fn the_refusals_print_their_pinned_reasons() {
        let reasons = [
            JobError::UnknownCore(3),
            JobError::Duplicate,
            JobError::OutOfOrder,
        ]
        .map(|e| e.reason());
        assert_eq!(reasons, ["unknown-core", "duplicate", "out-of-order"]);
        let m = Malformed::UnknownTag(7);
        assert_eq!(JobError::Malformed(m).reason(), m.reason());
    }

    fn deliver(to: &mut JobPhase, from: u32, msg: RawMessage) -> Result<Out<JobEffect>, JobError> {
        crate::testnet::deliver(to, from, Via::Bootstrap, msg)
    }

    /// Runs the phase on `n` cores of machines made by `make` with the
    /// given verdicts, in a seeded order of messages and ends; returns the
    /// model's verdict on the run.
    fn run(
        make: fn(u32, u32) -> JobPhase,
        verdicts: &[bool],
        seed: u64,
    ) -> Result<(), JobViolation> {
        let n = verdicts.len() as u32;
        let mut cores: Vec<JobPhase> = (0..n).map(|c| make(c, n)).collect();
        let mut model = JobModel::new(n);
        let mut rng = crate::rng::Rng::new(seed);
        let mut out = Out::new();
        cores[0].start(3, 2, &mut out).unwrap();
        model.started(3, 2)?;
        assert_eq!(out.sends.len(), n as usize);
        // Messages in flight (from, to, msg), and cores that ran and have
        // not ended.
        let mut net: Vec<(u32, u32, RawMessage)> =
            out.sends.into_iter().map(|(to, m)| (0, to, m)).collect();
        let mut running: Vec<u32> = Vec::new();
        while !net.is_empty() || !running.is_empty() {
            let k = rng.index(net.len() + running.len());
            let mut out = Out::new();
            let at = if k < net.len() {
                let (from, to, msg) = net.swap_remove(k);
                out = deliver(&mut cores[to as usize], from, msg).unwrap();
                if out
                    .effects
                    .iter()
                    .any(|e| matches!(e, JobEffect::Run { .. }))
                {
                    running.push(to);
                }
                to
            } else {
                let c = running.swap_remove(k - net.len());
                cores[c as usize]
                    .finished(verdicts[c as usize], &mut out)
                    .unwrap();
                model.finished(c, verdicts[c as usize])?;
                c
            };
            model.effects(at, &out.effects)?;
            net.extend(out.sends.into_iter().map(|(to, m)| (at, to, m)));
        }
        model.finish()
    }

    #[test]
    fn every_core_runs_once_and_the_verdict_is_the_conjunction() {
        for seed in 0..20 {
            for verdicts in [&[true][..], &[true; 4], &[true, true, false, true]] {
                assert_eq!(run(JobPhase::new, verdicts, seed), Ok(()), "{verdicts:?}");
            }
        }
    }

    #[test]
    fn the_model_catches_a_phase_that_reports_done_early() {
        assert_eq!(run(JobPhase::broken, &[true], 0), Ok(()), "one core");
        let mut early = 0;
        for seed in 0..40 {
            let found = run(JobPhase::broken, &[true, false, true], seed);
            let Err(JobViolation::BadDone { core: 0, ended, .. }) = found else {
                panic!("seed {seed}: {found:?}");
            };
            early += usize::from(ended < 3);
        }
        assert!(early > 0, "never reported before the last end");
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
