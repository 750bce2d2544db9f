//! **Guarantee:** a barrier message decodes only from its own tag, with its
//! own length; anything else is a typed [`Malformed`].
//!
//! The barrier protocols' messages and their wire forms. Every message
//! names its episode, so a message of the next episode is never taken for
//! one of this episode.

use bytemuck::{CheckedBitPattern, NoUninit};
use urpc::RawMessage;

use crate::wire::registry::BARRIER;
use crate::wire::{self, Malformed};

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

#[derive(Clone, Copy, NoUninit, CheckedBitPattern)]
#[repr(C)]
struct Arrive {
    episode: u64,
}

#[derive(Clone, Copy, NoUninit, CheckedBitPattern)]
#[repr(C)]
struct Release {
    episode: u64,
}

#[derive(Clone, Copy, NoUninit, CheckedBitPattern)]
#[repr(C)]
struct TreeArrive {
    episode: u64,
}

#[derive(Clone, Copy, NoUninit, CheckedBitPattern)]
#[repr(C)]
struct TreeRelease {
    episode: u64,
}

#[derive(Clone, Copy, NoUninit, CheckedBitPattern)]
#[repr(C)]
struct Round {
    episode: u64,
    round: u32,
    _pad: u32,
}

crate::pod_messages! {
    Arrive => tag::ARRIVE,
    Release => tag::RELEASE,
    TreeArrive => tag::TREE_ARRIVE,
    TreeRelease => tag::TREE_RELEASE,
    Round => tag::ROUND,
}

impl BarrierMsg {
    /// Encodes the message.
    pub fn encode(&self) -> RawMessage {
        match *self {
            BarrierMsg::Arrive { episode } => wire::encode(&Arrive { episode }),
            BarrierMsg::Release { episode } => wire::encode(&Release { episode }),
            BarrierMsg::TreeArrive { episode } => wire::encode(&TreeArrive { episode }),
            BarrierMsg::TreeRelease { episode } => wire::encode(&TreeRelease { episode }),
            BarrierMsg::Round { episode, round } => wire::encode(&Round {
                episode,
                round,
                _pad: 0,
            }),
        }
    }

    /// Decodes a message, checking its tag and length.
    pub fn decode(m: &RawMessage) -> Result<BarrierMsg, Malformed> {
        Ok(match m.tag() {
            tag::ARRIVE => BarrierMsg::Arrive {
                episode: wire::decode::<Arrive>(m)?.episode,
            },
            tag::RELEASE => BarrierMsg::Release {
                episode: wire::decode::<Release>(m)?.episode,
            },
            tag::TREE_ARRIVE => BarrierMsg::TreeArrive {
                episode: wire::decode::<TreeArrive>(m)?.episode,
            },
            tag::TREE_RELEASE => BarrierMsg::TreeRelease {
                episode: wire::decode::<TreeRelease>(m)?.episode,
            },
            tag::ROUND => {
                let r = wire::decode::<Round>(m)?;
                BarrierMsg::Round {
                    episode: r.episode,
                    round: r.round,
                }
            }
            other => return Err(Malformed::UnknownTag(other)),
        })
    }
}
