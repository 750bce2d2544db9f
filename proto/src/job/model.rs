//! **Guarantee checked:** a [`JobModel`] that is told monitor 0's start,
//! every effect of every core's machine and every core's end returns a
//! [`JobViolation`] at the first step where one of these breaks:
//!
//! - every core runs exactly once, after the start, in the arena monitor
//!   0 started the job with;
//! - a core's part ends only after it ran, once;
//! - monitor 0, and only it, reports the job done exactly once, only when
//!   every core's part ended, with the conjunction of their verdicts;
//! - at the end of a run ([`JobModel::finish`]), every core ran and
//!   ended, and the job was reported done.
//!
//! The job phase's reference model, written once, for the host tests:
//! pure, without I/O or randomness.

use alloc::vec;
use alloc::vec::Vec;

use super::JobEffect;

/// An invariant that broke, and the core it broke on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobViolation {
    /// A second start.
    Restarted {
        /// The core that started it.
        core: u32,
    },
    /// A run before the start, twice, or in another arena.
    BadRun {
        /// The core.
        core: u32,
        /// Its arena.
        first: u64,
        /// Its frames.
        frames: u64,
    },
    /// A core's end before it ran, or twice.
    BadEnd {
        /// The core.
        core: u32,
    },
    /// The job reported done by another core than 0, twice, before every
    /// core ended, or with another verdict than the conjunction of theirs.
    BadDone {
        /// The core that reported it.
        core: u32,
        /// Its verdict.
        ok: bool,
        /// Cores whose part ended so far.
        ended: usize,
    },
    /// A core that did not run or end, or a job not reported done, at the
    /// end.
    Unfinished {
        /// The core.
        core: u32,
    },
}

crate::display_as! {
    JobViolation:
    Restarted { core } => "core {core} starts the job again",
    BadRun { core, first, frames } =>
        "core {core} runs in frames {first}+{frames}, before the start, twice or in another arena",
    BadEnd { core } => "core {core}'s part ends before it ran, or twice",
    BadDone { core, ok, ended } =>
        "core {core} reports the job done (ok: {ok}) with {ended} parts ended: not core 0, twice, early or with another verdict",
    Unfinished { core } =>
        "core {core} did not run, did not end or (core 0) did not report the job done",
}

/// The job phase's reference model and invariants (see the module doc).
#[derive(Clone, Debug)]
pub struct JobModel {
    arena: Option<(u64, u64)>,
    ran: Vec<bool>,
    ended: Vec<Option<bool>>,
    done: bool,
}

impl JobModel {
    /// The model of a job on `cores` cores.
    pub fn new(cores: u32) -> JobModel {
        JobModel {
            arena: None,
            ran: vec![false; cores as usize],
            ended: vec![None; cores as usize],
            done: false,
        }
    }

    /// Monitor 0 started the job in frames `first..first + frames`.
    pub fn started(&mut self, first: u64, frames: u64) -> Result<(), JobViolation> {
        if self.arena.replace((first, frames)).is_some() {
            return Err(JobViolation::Restarted { core: 0 });
        }
        Ok(())
    }

    /// Core `core`'s part ended with `ok`.
    pub fn finished(&mut self, core: u32, ok: bool) -> Result<(), JobViolation> {
        let c = core as usize;
        match self.ended.get_mut(c) {
            Some(e @ None) if self.ran[c] => {
                *e = Some(ok);
                Ok(())
            }
            _ => Err(JobViolation::BadEnd { core }),
        }
    }

    /// Core `core`'s machine gave `effects`.
    pub fn effects(&mut self, core: u32, effects: &[JobEffect]) -> Result<(), JobViolation> {
        effects.iter().try_for_each(|&e| self.effect(core, e))
    }

    fn effect(&mut self, core: u32, effect: JobEffect) -> Result<(), JobViolation> {
        let c = core as usize;
        match effect {
            JobEffect::Run { first, frames } => {
                if self.arena != Some((first, frames)) || self.ran.get(c) != Some(&false) {
                    return Err(JobViolation::BadRun {
                        core,
                        first,
                        frames,
                    });
                }
                self.ran[c] = true;
            }
            JobEffect::AllDone { ok } => {
                let ended = self.ended.iter().flatten().count();
                let all = self.ended.iter().all(|e| *e == Some(true));
                if core != 0 || self.done || ended != self.ended.len() || ok != all {
                    return Err(JobViolation::BadDone { core, ok, ended });
                }
                self.done = true;
            }
        }
        Ok(())
    }

    /// Checks the end of a run in which no core failed.
    pub fn finish(&self) -> Result<(), JobViolation> {
        if let Some(c) = (0..self.ran.len()).find(|&c| !self.ran[c] || self.ended[c].is_none()) {
            return Err(JobViolation::Unfinished { core: c as u32 });
        }
        if !self.done {
            return Err(JobViolation::Unfinished { core: 0 });
        }
        Ok(())
    }
}
