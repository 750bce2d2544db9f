//! Flotilla's protocols: sans-IO state machines, one folder each, and the
//! wire they speak.
//!
//! **Trust line:** this crate forbids `unsafe` code at its root, so no
//! module can allow it back. Nothing here touches a channel, a clock or
//! shared memory: the places that do (the monitor, the experiments' mesh,
//! the simulator, all in `services`) carry messages to and from these
//! machines through the one host, [`host`].
//!
//! A protocol machine takes messages in and gives messages and effects out.
//! It never blocks, and refuses what it cannot accept with a typed error
//! that changes nothing. The same machine runs in a ring-3 monitor, on
//! hosted threads and in the simulator.
//!
//! Each protocol owns one tag range of [`wire::registry`], and each file
//! starts with the guarantee the protocol gives.
//!
//! - [`mesh`]: the full mesh of URPC channels;
//! - [`job`]: the job phase (the arena handed to every monitor, and the
//!   round of completions);
//! - [`update`]: the update server of experiment E2;
//! - [`lock`] and [`barrier`]: locks (server, token, delegation, queue)
//!   and barriers (central, tree, dissemination) over messages;
//! - [`replica`]: a replicated key-value map under a chosen consistency
//!   model (linearizable, sequential, eventual);
//! - [`caps`]: capabilities replicated across cores (copy, retype,
//!   revoke, delete), asking only the cores that hold copies;
//! - [`ram`]: RAM across cores (each monitor serves its own partition,
//!   borrows from its peers, same NUMA node first, and gives back);
//! - [`spawn`]: starting a program on another core's monitor, and hearing
//!   of its end;
//! - [`wire`]: message codecs and the one tag registry;
//! - [`frames`]: pool frames as numbers (the mesh broker's allocator);
//! - [`rng`]: the one seeded generator.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

extern crate alloc;

pub mod frames;
pub mod host;
pub mod rng;
#[cfg(test)]
mod testnet;
pub mod wire;

pub mod barrier;
pub mod caps;
pub mod job;
pub mod lock;
pub mod mesh;
pub mod ram;
pub mod replica;
pub mod spawn;
pub mod update;

use alloc::vec::Vec;

use urpc::{PodMessage, RawMessage};

use crate::wire::TagRange;

/// Which kind of channel a message came on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Via {
    /// A bootstrap channel between monitor 0 and another monitor.
    Bootstrap,
    /// A mesh channel between two monitors.
    Mesh,
    /// This core's own monitor (a message a machine sent to its own core).
    Local,
}

impl Via {
    /// The name in records (`dropped channel=`).
    pub fn name(self) -> &'static str {
        match self {
            Via::Bootstrap => "bootstrap",
            Via::Mesh => "mesh",
            Via::Local => "local",
        }
    }
}

/// A received message and where it came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Inbound {
    /// The core that sent it.
    pub from: u32,
    /// The channel it came on.
    pub via: Via,
    /// The message.
    pub msg: RawMessage,
}

/// What a machine gives out while it handles one input: messages for other
/// cores (or its own) and effects for the monitor to carry out.
#[derive(Debug)]
pub struct Out<E> {
    /// Messages, each for a core.
    pub sends: Vec<(u32, RawMessage)>,
    /// Effects, in order.
    pub effects: Vec<E>,
}

impl<E> Default for Out<E> {
    fn default() -> Out<E> {
        Out {
            sends: Vec::new(),
            effects: Vec::new(),
        }
    }
}

impl<E> Out<E> {
    /// Nothing yet.
    pub fn new() -> Out<E> {
        Out::default()
    }

    /// Sends `msg` to core `to`.
    pub fn send<M: PodMessage>(&mut self, to: u32, msg: &M) {
        self.sends.push((to, wire::encode(msg)));
    }

    /// Sends an encoded message to core `to`.
    pub fn send_raw(&mut self, to: u32, msg: RawMessage) {
        self.sends.push((to, msg));
    }

    /// Asks the monitor to carry out `effect`.
    pub fn effect(&mut self, effect: E) {
        self.effects.push(effect);
    }

    /// Whether nothing was given out.
    pub fn is_empty(&self) -> bool {
        self.sends.is_empty() && self.effects.is_empty()
    }
}

/// A refused input: the reason a `dropped` record prints.
pub trait Refusal: core::fmt::Debug {
    /// A short reason: `unknown-tag`, `bad-length`, `bad-value`,
    /// `unknown-core`, `duplicate`, `out-of-order`, `wrong-channel`, ...
    fn reason(&self) -> &'static str;

    /// Whether the monitor cannot go on (its own state is wrong, not the
    /// message). Refusals of bad messages are never fatal.
    fn is_fatal(&self) -> bool {
        false
    }
}

/// What [`Protocol::on_message`] of machine `P` gives back: nothing, or
/// why it refused the message.
pub type Handled<P> = Result<(), <P as Protocol>::Error>;

/// `Display` of an enum whose every variant reads as a format string of
/// its fields, bound by name: `display_as! { E: Gone { core } => "core
/// {core} is gone", Late(t) => "late by {t}" }`.
macro_rules! display_as {
    ($ty:ident: $($variant:ident $({ $($field:tt)* })? $(( $($tuple:tt)* ))? => $text:literal),+
        $(,)?) => {
        impl core::fmt::Display for $ty {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                match *self {
                    $($ty::$variant $({ $($field)* })? $(( $($tuple)* ))? => write!(f, $text),)+
                }
            }
        }
    };
}
pub(crate) use display_as;

/// `Display` and [`Refusal`] of a protocol's error enum that wraps a
/// [`wire::Malformed`] in its variant `Malformed` and derives
/// `strum::IntoStaticStr`: a malformed message reads and is refused as the
/// `Malformed` it wraps; any other variant reads as its text (as in
/// [`display_as!`]) and is refused with its variant's name. The variants
/// after `fatal:` stop the monitor. A `Malformed` converts into the enum.
macro_rules! refusal {
    ($ty:ident: $($variant:ident $({ $($field:tt)* })? $(( $($tuple:tt)* ))? => $text:literal),+
        $(,)? $(; fatal: $($fatal:ident)|+)?) => {
        $crate::display_as! {
            $ty: Malformed(m) => "{m}",
            $($variant $({ $($field)* })? $(( $($tuple)* ))? => $text),+
        }

        impl From<$crate::wire::Malformed> for $ty {
            fn from(m: $crate::wire::Malformed) -> $ty {
                $ty::Malformed(m)
            }
        }

        impl $crate::Refusal for $ty {
            fn reason(&self) -> &'static str {
                match self {
                    $ty::Malformed(m) => m.reason(),
                    other => other.into(),
                }
            }

            $(fn is_fatal(&self) -> bool {
                matches!(self, $($ty::$fatal)|+)
            })?
        }
    };
}
pub(crate) use refusal;

/// A sans-IO protocol machine, one per core.
pub trait Protocol {
    /// What the machine asks its monitor to do besides sending messages.
    type Effect;
    /// Why it refuses a message.
    type Error: Refusal;

    /// The tags the machine owns; the router hands it exactly these.
    const TAGS: TagRange;

    /// Handles one message whose tag is in [`Protocol::TAGS`]. A refused
    /// message changes nothing and gives nothing out.
    fn on_message(
        &mut self,
        now: u64,
        msg: &Inbound,
        out: &mut Out<Self::Effect>,
    ) -> Result<(), Self::Error>;

    /// When the machine next wants [`Protocol::on_deadline`] (TSC), if it
    /// has a timeout running.
    fn deadline(&self) -> Option<u64> {
        None
    }

    /// The deadline passed.
    fn on_deadline(&mut self, _now: u64, _out: &mut Out<Self::Effect>) {}
}

impl Refusal for wire::Malformed {
    fn reason(&self) -> &'static str {
        wire::Malformed::reason(self)
    }
}
