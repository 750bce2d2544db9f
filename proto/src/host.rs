//! **Guarantee:** every message handed to a set of machines reaches the one
//! machine whose tag range holds its tag, or is refused with a
//! [`Dropped`] that changes no machine; every machine's deadline counts
//! toward the set's, and a machine whose deadline passed gets its turn.
//!
//! The one host of the protocol machines. A core runs a *set* of machines
//! ([`Machines`]): one [`Protocol`] on its own, or a struct of several
//! declared with [`machines!`]. Whatever carries the messages, the
//! monitor's links, the experiments' mesh inside an arena or the
//! simulator's queues, hands each received message to the set, sends what
//! the set gives out, and carries out its effects; it never names a
//! protocol. So a protocol written once runs in all three places, and
//! adding one to a monitor or an experiment is one line in its set.

use crate::wire::TagRange;
use crate::{Inbound, Out, Protocol, Refusal};

/// Why a set did not take a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dropped {
    /// The reason, as `dropped` records print it (`unknown-tag` when no
    /// machine of the set owns the tag).
    pub reason: &'static str,
    /// Whether the core cannot go on (its own state is wrong, not the
    /// message's).
    pub fatal: bool,
}

impl Dropped {
    /// No machine of the set owns the tag.
    pub const UNKNOWN_TAG: Dropped = Dropped {
        reason: "unknown-tag",
        fatal: false,
    };

    /// The refusal `e` of a machine.
    pub fn of<R: Refusal>(e: &R) -> Dropped {
        Dropped {
            reason: e.reason(),
            fatal: e.is_fatal(),
        }
    }
}

/// The protocol machines of one core, as its carrier sees them.
pub trait Machines {
    /// What the set asks its carrier to do besides sending messages.
    type Effect;

    /// Whether some machine of the set owns `tag`.
    fn owns(&self, tag: u16) -> bool;

    /// Hands `m` to the machine that owns its tag. A refused message
    /// changes nothing and gives nothing out.
    fn on_message(
        &mut self,
        now: u64,
        m: &Inbound,
        out: &mut Out<Self::Effect>,
    ) -> Result<(), Dropped>;

    /// The earliest deadline (TSC) of any machine of the set.
    fn deadline(&self) -> Option<u64>;

    /// Gives every machine whose deadline is at or before `now` its turn.
    fn on_deadlines(&mut self, now: u64, out: &mut Out<Self::Effect>);
}

/// One machine is a set of one.
impl<P: Protocol> Machines for P {
    type Effect = P::Effect;

    fn owns(&self, tag: u16) -> bool {
        P::TAGS.contains(tag)
    }

    fn on_message(
        &mut self,
        now: u64,
        m: &Inbound,
        out: &mut Out<P::Effect>,
    ) -> Result<(), Dropped> {
        if !P::TAGS.contains(m.msg.tag()) {
            return Err(Dropped::UNKNOWN_TAG);
        }
        Protocol::on_message(self, now, m, out).map_err(|e| Dropped::of(&e))
    }

    fn deadline(&self) -> Option<u64> {
        Protocol::deadline(self)
    }

    fn on_deadlines(&mut self, now: u64, out: &mut Out<P::Effect>) {
        if Protocol::deadline(self).is_some_and(|d| d <= now) {
            Protocol::on_deadline(self, now, out);
        }
    }
}

/// Hands `m` to `machine`, one member of a set, and moves what it gives
/// out into the set's `out`, each effect wrapped by `wrap`. Used by
/// [`machines!`].
pub fn deliver<M: Protocol, E>(
    machine: &mut M,
    now: u64,
    m: &Inbound,
    out: &mut Out<E>,
    wrap: fn(M::Effect) -> E,
) -> Result<(), Dropped> {
    let mut own = Out::new();
    Protocol::on_message(machine, now, m, &mut own).map_err(|e| Dropped::of(&e))?;
    merge(own, out, wrap);
    Ok(())
}

/// Gives `machine`, one member of a set, its turn if its deadline passed.
/// Used by [`machines!`].
pub fn tick<M: Protocol, E>(machine: &mut M, now: u64, out: &mut Out<E>, wrap: fn(M::Effect) -> E) {
    if Protocol::deadline(machine).is_some_and(|d| d <= now) {
        let mut own = Out::new();
        Protocol::on_deadline(machine, now, &mut own);
        merge(own, out, wrap);
    }
}

/// Moves what one member gave out into its set's output.
fn merge<A, E>(mut own: Out<A>, out: &mut Out<E>, wrap: fn(A) -> E) {
    out.sends.append(&mut own.sends);
    out.effects.extend(own.effects.into_iter().map(wrap));
}

/// Whether no two of `ranges` share a tag: a set whose members overlap
/// does not compile (see [`machines!`]).
pub const fn disjoint(ranges: &[TagRange]) -> bool {
    let mut i = 0;
    while i < ranges.len() {
        let mut j = i + 1;
        while j < ranges.len() {
            if ranges[i].first <= ranges[j].last && ranges[j].first <= ranges[i].last {
                return false;
            }
            j += 1;
        }
        i += 1;
    }
    true
}

/// Hands `m` to `set` and returns what it gave out: the carriers' one way
/// in, for a caller that keeps no output of its own.
pub fn handle<S: Machines>(set: &mut S, now: u64, m: &Inbound) -> Result<Out<S::Effect>, Dropped> {
    let mut out = Out::new();
    set.on_message(now, m, &mut out)?;
    Ok(out)
}

/// Declares a set of protocol machines: a struct with one public field per
/// machine, an effect enum with one variant per machine, and the
/// [`Machines`](crate::host::Machines) implementation that routes by tag
/// range and takes every member's deadline. Members whose tag ranges
/// overlap fail to compile.
///
/// ```
/// use proto::barrier::MsgBarrier;
/// use proto::lock::MsgLock;
///
/// proto::machines! {
///     /// What every core of a synchronisation run holds.
///     pub struct Sync;
///     /// An effect of one of its machines.
///     #[derive(Debug)]
///     pub enum SyncEffect {
///         /// The lock.
///         lock: MsgLock => Lock,
///         /// The barrier.
///         barrier: MsgBarrier => Barrier,
///     }
/// }
/// ```
#[macro_export]
macro_rules! machines {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident;
        $(#[$emeta:meta])*
        $evis:vis enum $effect:ident {
            $(
                $(#[doc = $doc:literal])*
                $field:ident : $ty:ty => $variant:ident
            ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug)]
        $vis struct $name {
            $(
                $(#[doc = $doc])*
                pub $field: $ty,
            )+
        }

        $(#[$emeta])*
        $evis enum $effect {
            $(
                $(#[doc = $doc])*
                $variant(<$ty as $crate::Protocol>::Effect),
            )+
        }

        const _: () = assert!(
            $crate::host::disjoint(&[$(<$ty as $crate::Protocol>::TAGS),+]),
            "two machines of one set own the same tags"
        );

        impl $crate::host::Machines for $name {
            type Effect = $effect;

            fn owns(&self, tag: u16) -> bool {
                $(<$ty as $crate::Protocol>::TAGS.contains(tag))||+
            }

            fn on_message(
                &mut self,
                now: u64,
                m: &$crate::Inbound,
                out: &mut $crate::Out<$effect>,
            ) -> Result<(), $crate::host::Dropped> {
                let tag = m.msg.tag();
                $(
                    if <$ty as $crate::Protocol>::TAGS.contains(tag) {
                        return $crate::host::deliver(&mut self.$field, now, m, out, $effect::$variant);
                    }
                )+
                Err($crate::host::Dropped::UNKNOWN_TAG)
            }

            fn deadline(&self) -> Option<u64> {
                [$($crate::Protocol::deadline(&self.$field)),+]
                    .into_iter()
                    .flatten()
                    .min()
            }

            fn on_deadlines(&mut self, now: u64, out: &mut $crate::Out<$effect>) {
                $($crate::host::tick(&mut self.$field, now, out, $effect::$variant);)+
            }
        }
    };
}

#[cfg(test)]
mod tests;
