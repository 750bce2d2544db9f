//! **Guarantee:** no core leaves episode `e` before every core has arrived
//! at `e`, and every core leaves `e` once all have arrived. Messages of
//! episode `e + 1` that arrive early (from a fast core) are kept for `e + 1`,
//! never lost and never counted for `e`. With one core, every arrival is
//! released at once.
//!
//! Barriers as message protocols: sans-IO state machines, one per core, that
//! take barrier messages in and give messages and
//! [`BarrierEffect::Released`] out. One type, [`MsgBarrier`], runs any of
//! three kinds ([`BarrierKind`]):
//!
//! - **Central** (`msg-central`, `central.rs`): every core sends
//!   [`BarrierMsg::Arrive`] to the coordinator, core 0, which, with every
//!   core arrived (itself included), sends [`BarrierMsg::Release`] to all.
//! - **Tree** (`msg-tree`, `tree.rs`): a k-ary combining tree over core ids
//!   rooted at core 0 (the children of `i` are `i·k + 1 ..= i·k + k`). A
//!   core whose whole subtree arrived sends [`BarrierMsg::TreeArrive`] to
//!   its parent; the root, with everyone arrived, sends
//!   [`BarrierMsg::TreeRelease`] down the same tree.
//! - **Dissemination** (`msg-dissemination`, `dissemination.rs`): in
//!   `⌈log2 N⌉` rounds, core `i` sends [`BarrierMsg::Round`] `r` to core
//!   `(i + 2^r) mod N` once it has heard round `r − 1` from core
//!   `(i − 2^(r−1)) mod N`; after the last round every core has heard,
//!   directly or through others, from every core.
//!
//! Why it holds: a release (central, tree) starts only at the root, and
//! only when a message from every subtree (every core) of the episode has
//! reached it; in dissemination, after round `r` core `i` has heard from
//! the `2^(r+1)` cores before it, so after `⌈log2 N⌉` rounds from all.
//! A core can be at most one episode ahead of another (it cannot leave
//! `e + 1` before the slow core arrives there), so a message names either
//! the episode a core is in or the next one: the machines keep both apart
//! by the episode every message names. A message that does not fit
//! (malformed, from a core that does not exist or is not the expected
//! sender, a repeat, a wrong episode, or of another kind of barrier) is a
//! typed [`BarrierError`] that changes nothing.

mod central;
mod dissemination;
pub mod model;
mod msg;
#[cfg(test)]
mod tests;
mod tree;

use alloc::vec;
use alloc::vec::Vec;
use core::ops::Range;

pub use model::{BarrierModel, BarrierViolation};
pub use msg::{BarrierMsg, tag};

use super::{Handled, Inbound, Out, Protocol};
use crate::wire::registry::BARRIER;
use crate::wire::{Malformed, TagRange};

/// The kind of barrier over messages; its name in results (CSV series)
/// and on the command line is [`BarrierKind::name`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, strum::IntoStaticStr, strum::EnumString)]
pub enum BarrierKind {
    /// Everyone reports to a coordinator, which releases everyone.
    #[strum(serialize = "msg-central")]
    Central,
    /// Arrivals combine up a k-ary tree and releases fan out down it.
    #[strum(serialize = "msg-tree")]
    Tree,
    /// `⌈log2 N⌉` rounds of messages to cores at doubling distances.
    #[strum(serialize = "msg-dissemination")]
    Dissemination,
}

impl BarrierKind {
    /// Every kind, in the order of the experiment's series.
    pub const ALL: [BarrierKind; 3] = [
        BarrierKind::Central,
        BarrierKind::Tree,
        BarrierKind::Dissemination,
    ];

    /// The name in results (CSV series).
    pub fn name(self) -> &'static str {
        self.into()
    }

    /// The kind named `name` ([`BarrierKind::name`]).
    pub fn from_name(name: &str) -> Option<BarrierKind> {
        name.parse().ok()
    }
}

/// What a barrier machine tells its core.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BarrierEffect {
    /// This core may leave `episode`: every core arrived at it.
    Released {
        /// The episode, counted from 0.
        episode: u64,
    },
}

/// A refused message or call; [`Refusal::reason`](crate::Refusal::reason) is its variant's name
/// in kebab case (a malformed message's own reason for
/// [`BarrierError::Malformed`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, strum::IntoStaticStr)]
#[strum(serialize_all = "kebab-case")]
pub enum BarrierError {
    /// The message does not decode.
    Malformed(Malformed),
    /// The message came from a core that does not exist.
    UnknownCore(u32),
    /// The message does not fit the machine's state, its place in the
    /// barrier (the sender is not the expected peer, the round does not
    /// exist) or its kind of barrier.
    OutOfOrder,
    /// The message repeats one already received, or belongs to an episode
    /// already released.
    Duplicate,
    /// The message names an episode this core cannot be in yet.
    WrongEpisode {
        /// The episode the machine can take.
        expected: u64,
        /// The episode the message named.
        got: u64,
    },
    /// `arrive` before the previous episode was released.
    AlreadyArrived,
}

crate::refusal! {
    BarrierError:
    UnknownCore(c) => "message from unknown core {c}", OutOfOrder => "message out of order",
    Duplicate => "duplicate message",
    WrongEpisode { expected, got } => "message of episode {got}, expected {expected}",
    AlreadyArrived => "arrived again before the episode was released",
}

/// What every kind keeps: who this core is and where it stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Base {
    me: u32,
    cores: u32,
    /// Episodes released so far: the episode this core is in (or arrives
    /// at next).
    released: u64,
    /// Arrived at episode `released`, not yet released.
    arrived: bool,
}

/// What a barrier machine gives out.
type Fx = Out<BarrierEffect>;

/// A handled message, or why it was refused.
type Step = Result<(), BarrierError>;

/// One kind of barrier: what it does on an arrival and on a message,
/// beside what every kind keeps ([`Base`]).
trait Kind {
    /// This core arrived at the current episode.
    fn arrive(&mut self, b: &mut Base, out: &mut Fx);

    /// A message from core `from` (one that exists).
    fn on_message(&mut self, b: &mut Base, from: u32, msg: BarrierMsg, out: &mut Fx) -> Step;
}

/// Which of a set of senders' arrivals at the current episode are in.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Arrivals {
    got: Vec<bool>,
    count: u32,
}

impl Arrivals {
    /// None of `senders` senders in yet.
    fn new(senders: u32) -> Arrivals {
        Arrivals {
            got: vec![false; senders as usize],
            count: 0,
        }
    }

    /// How many are in.
    fn count(&self) -> u32 {
        self.count
    }

    /// Sender `i` is in; refused if it already was.
    fn mark(&mut self, i: u32) -> Step {
        let got = &mut self.got[i as usize];
        if *got {
            return Err(BarrierError::Duplicate);
        }
        *got = true;
        self.count += 1;
        Ok(())
    }

    /// None in again, for the next episode.
    fn clear(&mut self) {
        self.got.fill(false);
        self.count = 0;
    }
}

impl Base {
    /// Sends core `to` the message `msg` makes of the current episode.
    fn send(&self, to: u32, msg: impl Fn(u64) -> BarrierMsg, out: &mut Fx) {
        out.send_raw(to, msg(self.released).encode());
    }

    /// Sends every core of `to` the message `msg` makes of the current
    /// episode, and leaves it.
    fn release_to(&mut self, to: Range<u32>, msg: impl Fn(u64) -> BarrierMsg, out: &mut Fx) {
        for c in to {
            self.send(c, &msg, out);
        }
        self.release(out);
    }

    /// Leaves the current episode.
    fn release(&mut self, out: &mut Fx) {
        let episode = self.released;
        self.released += 1;
        self.arrived = false;
        out.effect(BarrierEffect::Released { episode });
    }

    /// Checks that `episode` is the current one.
    fn current(&self, episode: u64) -> Result<(), BarrierError> {
        match episode.cmp(&self.released) {
            core::cmp::Ordering::Less => Err(BarrierError::Duplicate),
            core::cmp::Ordering::Greater => Err(BarrierError::WrongEpisode {
                expected: self.released,
                got: episode,
            }),
            core::cmp::Ordering::Equal => Ok(()),
        }
    }
}

/// The per-kind machine.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Machine {
    Central(central::Central),
    Tree(tree::Tree),
    Dissemination(dissemination::Dissemination),
}

/// One core's barrier machine, of any kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MsgBarrier {
    kind: BarrierKind,
    base: Base,
    machine: Machine,
}

impl MsgBarrier {
    /// The machine of core `me` of `cores`.
    ///
    /// Central: coordinator core 0; Tree: a k-ary combining tree over core
    /// ids (fan-in and fan-out; `arity` ≥ 2, a smaller one is taken as 2)
    /// rooted at core 0; Dissemination: ⌈log2 N⌉ rounds, core i sends to
    /// (i + 2^r) mod N. `arity` matters only for Tree.
    ///
    /// # Panics
    ///
    /// If `me` is not below `cores`.
    pub fn new(kind: BarrierKind, me: u32, cores: u32, arity: u32) -> MsgBarrier {
        assert!(me < cores, "core {me} outside 0..{cores}");
        let machine = match kind {
            BarrierKind::Central => Machine::Central(central::Central::new(me, cores)),
            BarrierKind::Tree => Machine::Tree(tree::Tree::new(me, cores, arity.max(2))),
            BarrierKind::Dissemination => {
                Machine::Dissemination(dissemination::Dissemination::new(cores))
            }
        };
        MsgBarrier {
            kind,
            base: Base {
                me,
                cores,
                released: 0,
                arrived: false,
            },
            machine,
        }
    }

    /// A central barrier whose coordinator releases after `N − 1`
    /// arrivals, one too few.
    pub fn broken(me: u32, cores: u32) -> MsgBarrier {
        let mut b = MsgBarrier::new(BarrierKind::Central, me, cores, 2);
        if let Machine::Central(c) = &mut b.machine {
            c.break_it();
        }
        b
    }

    /// The kind of barrier.
    pub fn kind(&self) -> BarrierKind {
        self.kind
    }

    /// The machine of the kind, and what every kind keeps.
    fn machine(&mut self) -> (&mut dyn Kind, &mut Base) {
        let machine: &mut dyn Kind = match &mut self.machine {
            Machine::Central(m) => m,
            Machine::Tree(m) => m,
            Machine::Dissemination(m) => m,
        };
        (machine, &mut self.base)
    }

    /// Arrives at the next episode; refused if the previous one has not
    /// been released.
    pub fn arrive(&mut self, out: &mut Out<BarrierEffect>) -> Result<(), BarrierError> {
        if self.base.arrived {
            return Err(BarrierError::AlreadyArrived);
        }
        self.base.arrived = true;
        let (machine, base) = self.machine();
        machine.arrive(base, out);
        Ok(())
    }

    /// Episodes released so far on this core.
    pub fn released(&self) -> u64 {
        self.base.released
    }

    /// Whether this core arrived and waits for the release.
    pub fn waiting(&self) -> bool {
        self.base.arrived
    }
}

impl Protocol for MsgBarrier {
    type Effect = BarrierEffect;
    type Error = BarrierError;
    const TAGS: TagRange = BARRIER;

    fn on_message(&mut self, _: u64, m: &Inbound, out: &mut Out<BarrierEffect>) -> Handled<Self> {
        let msg = BarrierMsg::decode(&m.msg)?;
        if m.from >= self.base.cores {
            return Err(BarrierError::UnknownCore(m.from));
        }
        let (machine, base) = self.machine();
        machine.on_message(base, m.from, msg, out)
    }
}
