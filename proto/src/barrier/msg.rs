//! **Guarantee:** a barrier message decodes only from its own tag, with its
//! own length; anything else is a typed [`Malformed`](crate::wire::Malformed).
//!
//! The barrier protocols' messages and their wire forms. Every message
//! names its episode, so a message of the next episode is never taken for
//! one of this episode.

use crate::wire::registry::BARRIER;

crate::tag_module! {
    /// The barrier protocols' tags (range [`BARRIER`]).
    BARRIER:
    BarrierMsg::Arrive => ARRIVE, BarrierMsg::Release => RELEASE,
    BarrierMsg::TreeArrive => TREE_ARRIVE, BarrierMsg::TreeRelease => TREE_RELEASE,
    BarrierMsg::Round => ROUND,
}

/// A message of one of the barrier protocols.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BarrierMsg {
    /// Central, to the coordinator: the sender arrived at `episode`.
    Arrive {
        /// The episode.
        episode: u64,
    },
    /// Central, from the coordinator: every core arrived at `episode`.
    Release {
        /// The episode.
        episode: u64,
    },
    /// Tree, child to parent: the sender and its whole subtree arrived at
    /// `episode`.
    TreeArrive {
        /// The episode.
        episode: u64,
    },
    /// Tree, parent to child: every core arrived at `episode`.
    TreeRelease {
        /// The episode.
        episode: u64,
    },
    /// Dissemination, round `round` of `episode`: the sender arrived and
    /// heard from its partner of every earlier round.
    Round {
        /// The episode.
        episode: u64,
        /// The round, `0..⌈log2 cores⌉`.
        round: u32,
    },
}

crate::wire_structs! {
    Arrive { episode: u64 } Release { episode: u64 } TreeArrive { episode: u64 }
    TreeRelease { episode: u64 } Round { episode: u64, round: u32, _pad: u32 }
}

crate::wire_codec! {
    BarrierMsg:
    Arrive { episode } => ARRIVE, Release { episode } => RELEASE,
    TreeArrive { episode } => TREE_ARRIVE, TreeRelease { episode } => TREE_RELEASE,
    Round { episode, round } => ROUND,
}
