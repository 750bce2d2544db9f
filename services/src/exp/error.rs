//! Why an experiment failed on a core.

use core::fmt;

use crate::platform::PlatformError;
use crate::proto::update::UpdateError;

/// Why an experiment failed on this core.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExpError {
    /// The arena is smaller than [`arena_frames`](super::arena_frames) asks for.
    ArenaTooSmall {
        /// Frames given.
        frames: u64,
        /// Frames needed.
        needed: u64,
    },
    /// The request does not fit this machine.
    BadRequest(&'static str),
    /// A platform call failed.
    Platform(PlatformError),
    /// A channel region could not be formatted or attached.
    Setup(urpc::SetupError),
    /// A channel broke the URPC protocol.
    Broken {
        /// What was running.
        what: &'static str,
        /// The core at the other end.
        peer: u32,
    },
    /// Messages arrived with other contents than were sent.
    Corrupt {
        /// Which stream.
        what: &'static str,
        /// The core at the other end.
        peer: u32,
        /// How many were wrong.
        bad: u64,
    },
    /// The update server refused a message or its counts do not add up.
    Update(UpdateError),
    /// A client got a reply that does not answer its update.
    BadReply {
        /// The client.
        client: u32,
        /// The update it was waiting for.
        seq: u64,
    },
    /// Updates that must not be lost were lost (or invented).
    NotConserved {
        /// The series.
        series: &'static str,
        /// Its cache lines.
        k: u32,
        /// Updates made.
        expected: u64,
        /// Updates found.
        counted: u64,
    },
    /// A lock or barrier check found a violation.
    SyncViolation {
        /// The series.
        series: &'static str,
        /// Violations found.
        violations: u64,
    },
    /// A message protocol refused a message or a call of the run.
    Refused {
        /// The core it came from (or this core, for a call).
        peer: u32,
    },
    /// Replicas of the map ended different.
    Diverged {
        /// The consistency model.
        model: &'static str,
        /// The first core whose map differs from core 0's.
        core: u32,
    },
    /// A replica still owed something after every message was delivered.
    Unsettled {
        /// The consistency model.
        model: &'static str,
        /// The core.
        core: u32,
    },
    /// Another core failed first.
    Aborted {
        /// The core that failed.
        by: u32,
    },
}

impl fmt::Display for ExpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExpError::ArenaTooSmall { frames, needed } => {
                write!(
                    f,
                    "the arena has {frames} frames but the experiment needs {needed}"
                )
            }
            ExpError::BadRequest(why) => write!(f, "bad request: {why}"),
            ExpError::Platform(e) => write!(f, "platform: {e}"),
            ExpError::Setup(e) => write!(f, "channel setup: {e}"),
            ExpError::Broken { what, peer } => {
                write!(f, "{what}: the channel with core {peer} broke")
            }
            ExpError::Corrupt { what, peer, bad } => {
                write!(f, "{what} with core {peer}: {bad} corrupted messages")
            }
            ExpError::Update(e) => write!(f, "update server: {e}"),
            ExpError::BadReply { client, seq } => {
                write!(f, "client {client}: wrong reply to update {seq}")
            }
            ExpError::NotConserved {
                series,
                k,
                expected,
                counted,
            } => write!(
                f,
                "{series} k={k}: {expected} updates made but {counted} counted"
            ),
            ExpError::SyncViolation { series, violations } => write!(
                f,
                "{series}: {violations} violations of mutual exclusion or of the barrier"
            ),
            ExpError::Refused { peer } => {
                write!(
                    f,
                    "a message protocol refused a message or call (core {peer})"
                )
            }
            ExpError::Diverged { model, core } => write!(
                f,
                "{model}: the replicas did not converge (core {core}'s map differs from core 0's)"
            ),
            ExpError::Unsettled { model, core } => write!(
                f,
                "{model}: core {core}'s replica still owes an operation after every message arrived"
            ),
            ExpError::Aborted { by } => write!(f, "aborted: core {by} failed"),
        }
    }
}

impl From<PlatformError> for ExpError {
    fn from(e: PlatformError) -> Self {
        ExpError::Platform(e)
    }
}

impl From<urpc::SetupError> for ExpError {
    fn from(e: urpc::SetupError) -> Self {
        ExpError::Setup(e)
    }
}

impl From<UpdateError> for ExpError {
    fn from(e: UpdateError) -> Self {
        ExpError::Update(e)
    }
}
