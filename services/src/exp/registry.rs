//! The list of experiments. Registering one is one line of the list at
//! the end of this file: its kind, then the type that implements
//! [`Experiment`]. From the list come [`ExpKind`], [`Params`] and
//! [`KEYS`], and the only `match` on the experiment: `Params::visit`.

use core::fmt;

use super::experiment::{Experiment, Visit, VisitMut};
use super::request::COMMON_KEYS;

/// Defines [`ExpKind`], [`Params`] and [`KEYS`] from the list.
macro_rules! experiments {
    ($($(#[$doc:meta])* $kind:ident => $exp:ty,)*) => {
        /// Which experiment.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum ExpKind {
            $($(#[$doc])* $kind,)*
        }

        impl ExpKind {
            /// Every experiment, in the order of the list.
            pub const ALL: &'static [ExpKind] = &[$(ExpKind::$kind),*];

            /// The name in `exp=NAME` (and in result paths).
            pub const fn name(self) -> &'static str {
                match self {
                    $(ExpKind::$kind => <$exp as Experiment>::NAME,)*
                }
            }
        }

        /// The experiment and its own arguments.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Params {
            $($(#[$doc])* $kind(<$exp as Experiment>::Args),)*
        }

        impl Params {
            /// The arguments of `kind`, every one at its default.
            pub fn new(kind: ExpKind) -> Params {
                match kind {
                    $(ExpKind::$kind => Params::$kind(Default::default()),)*
                }
            }

            /// Which experiment.
            pub const fn kind(&self) -> ExpKind {
                match self {
                    $(Params::$kind(_) => ExpKind::$kind,)*
                }
            }

            /// Does `v` with the arguments, as those of their experiment.
            pub(crate) fn visit<V: Visit>(&self, v: V) -> V::Out {
                match self {
                    $(Params::$kind(a) => v.visit::<$exp>(a),)*
                }
            }

            /// Does `v` to the arguments, as those of their experiment.
            pub(crate) fn visit_mut<V: VisitMut>(&mut self, v: V) -> V::Out {
                match self {
                    $(Params::$kind(a) => v.visit::<$exp>(a),)*
                }
            }
        }

        const KEY_COUNT: usize = COMMON_KEYS.len() $(+ <$exp as Experiment>::KEYS.len())*;

        /// Every key an experiment request may hold: the common ones, then
        /// each experiment's in the order of the list. A monitor that mixes
        /// its own items into the same string removes the others before
        /// parsing.
        pub const KEYS: [&str; KEY_COUNT] =
            concat_keys(&[&COMMON_KEYS, $(<$exp as Experiment>::KEYS),*]);
    };
}

/// The lists one after the other.
const fn concat_keys<const N: usize>(lists: &[&[&'static str]]) -> [&'static str; N] {
    let mut out = [""; N];
    let (mut n, mut i) = (0, 0);
    while i < lists.len() {
        let mut j = 0;
        while j < lists[i].len() {
            out[n] = lists[i][j];
            n += 1;
            j += 1;
        }
        i += 1;
    }
    assert!(n == N);
    out
}

impl ExpKind {
    /// The experiment called `name`.
    pub fn from_name(name: &str) -> Option<ExpKind> {
        ExpKind::ALL.iter().copied().find(|e| e.name() == name)
    }
}

impl fmt::Display for ExpKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

experiments! {
    /// E1: URPC latency and throughput per core pair.
    Urpc => super::e1_urpc::Urpc,
    /// E2: shared-memory vs message-passing update cost.
    UpdateCost => super::e2_update_cost::UpdateCost,
    /// E4: capabilities and RAM replicated across cores.
    Caps => super::e4_caps::CapsRam,
    /// E5: locks on shared memory and by messages.
    Locks => super::e5_locks::Locks,
    /// E6: barriers on shared memory and by messages.
    Barriers => super::e6_barriers::Barriers,
    /// E7: a replicated map under each consistency model.
    Consistency => super::e7_consistency::Consistency,
}
