//! **Guarantee (checked):** no core leaves episode `e` before every core
//! has arrived at `e`; each core leaves its episodes in order, one per
//! arrival; at the end of a run, every core left every episode and every
//! machine is at rest (no core still waits).
//!
//! The reference model of every kind of barrier
//! ([`super::BarrierKind`]): a pure record of each core's arrivals (what
//! its client did) and releases (what its machine gave out), with no I/O
//! and no randomness. A driver (the host tests, the simulator) tells it
//! each event as it happens; the first event that breaks an invariant
//! returns a [`BarrierViolation`] naming the core, and
//! [`BarrierModel::check_end`] checks what must hold once the run settled.

use alloc::vec;
use alloc::vec::Vec;

/// A broken invariant of a barrier.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BarrierViolation {
    /// `core` left `episode` before core `late` arrived at it.
    EarlyRelease {
        /// The core released.
        core: u32,
        /// The episode.
        episode: u64,
        /// A core that had not arrived.
        late: u32,
    },
    /// `core` left `episode` when the next episode it could leave was
    /// `expected`.
    Order {
        /// The core.
        core: u32,
        /// The episode released.
        episode: u64,
        /// The episode it was in.
        expected: u64,
    },
    /// `core`'s client arrived again before leaving its episode.
    ArrivedTwice {
        /// The core.
        core: u32,
    },
    /// At the end: `core` left `left` of `episodes` episodes.
    Unfinished {
        /// The core.
        core: u32,
        /// Episodes it left.
        left: u64,
        /// Episodes of the run.
        episodes: u64,
    },
    /// At the end: `core`'s machine is not at rest.
    NotAtRest {
        /// The core.
        core: u32,
    },
}

crate::display_as! {
    BarrierViolation:
    EarlyRelease { core, episode, late } =>
        "core {core} left episode {episode} before core {late} arrived at it",
    Order { core, episode, expected } =>
        "core {core} left episode {episode} while in episode {expected}",
    ArrivedTwice { core } => "core {core} arrived again before leaving its episode",
    Unfinished { core, left, episodes } => "core {core} left {left} of {episodes} episodes",
    NotAtRest { core } => "core {core}'s barrier is not at rest at the end",
}

/// The reference model of a barrier on `cores` cores, each arriving at
/// `episodes` episodes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BarrierModel {
    episodes: u64,
    /// Episodes each core arrived at.
    arrived: Vec<u64>,
    /// Episodes each core left.
    left: Vec<u64>,
}

impl BarrierModel {
    /// A barrier on `cores` cores, each arriving `episodes` times.
    pub fn new(cores: u32, episodes: u64) -> BarrierModel {
        BarrierModel {
            episodes,
            arrived: vec![0; cores as usize],
            left: vec![0; cores as usize],
        }
    }

    /// `core`'s client arrives at its next episode.
    pub fn arrived(&mut self, core: u32) -> Result<(), BarrierViolation> {
        let c = core as usize;
        if self.arrived[c] != self.left[c] {
            return Err(BarrierViolation::ArrivedTwice { core });
        }
        self.arrived[c] += 1;
        Ok(())
    }

    /// `core`'s machine says it may leave `episode`.
    pub fn released(&mut self, core: u32, episode: u64) -> Result<(), BarrierViolation> {
        if let Some(late) = self.arrived.iter().position(|&a| a <= episode) {
            return Err(BarrierViolation::EarlyRelease {
                core,
                episode,
                late: late as u32,
            });
        }
        let c = core as usize;
        if episode != self.left[c] {
            return Err(BarrierViolation::Order {
                core,
                episode,
                expected: self.left[c],
            });
        }
        self.left[c] = episode + 1;
        Ok(())
    }

    /// Episodes `core` arrived at.
    pub fn arrivals(&self, core: u32) -> u64 {
        self.arrived[core as usize]
    }

    /// Whether `core` still has an episode to arrive at.
    pub fn has_more(&self, core: u32) -> bool {
        self.arrived[core as usize] < self.episodes
    }

    /// The end of a run: every core left every episode, and each core's
    /// machine is at rest (`at_rest`, one per core, in order).
    pub fn check_end(
        &self,
        at_rest: impl IntoIterator<Item = bool>,
    ) -> Result<(), BarrierViolation> {
        if let Some(c) = self.left.iter().position(|&l| l != self.episodes) {
            return Err(BarrierViolation::Unfinished {
                core: c as u32,
                left: self.left[c],
                episodes: self.episodes,
            });
        }
        match at_rest.into_iter().position(|r| !r) {
            Some(c) => Err(BarrierViolation::NotAtRest { core: c as u32 }),
            None => Ok(()),
        }
    }
}
