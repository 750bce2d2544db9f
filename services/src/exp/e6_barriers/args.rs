//! E6's arguments (`exp=barriers`).
//!
//! | key | value | default |
//! |---|---|---|
//! | `barriers` | which barriers, among [`BARRIER_SERIES`], separated by `;` | all but `broken-sense` |
//! | `episodes` | timed episodes per round, 1..=10000000 | 20000, quick 2000 |
//! | `arity` | fan-in and fan-out of `msg-tree`, 2..=16 | 4 |

use core::fmt;

use crate::exp::request::{ArgsError, number, set, write_set};
use crate::exp::series_set::SeriesSet;

/// The keys, in the order they are printed.
pub(super) const KEYS: [&str; 3] = ["barriers", "episodes", "arity"];

/// The barrier series of E6, in the order they run: the shared-memory
/// algorithms, the message protocols, and the deliberately broken barrier
/// (never run unless named).
pub const BARRIER_SERIES: [&str; 9] = [
    "sense",
    "combining",
    "mcs-tree",
    "tournament",
    "dissemination",
    "msg-central",
    "msg-tree",
    "msg-dissemination",
    "broken-sense",
];

/// Parameters of E6 (`exp=barriers`); `None` means the default.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct BarrierArgs {
    /// `barriers=`.
    pub series: Option<SeriesSet>,
    /// `episodes=`.
    pub episodes: Option<u32>,
    /// `arity=`.
    pub arity: Option<u32>,
}

impl BarrierArgs {
    /// Parses `key=value` if `key` is E6's.
    pub(super) fn parse_key(&mut self, key: &str, value: &str) -> Result<bool, ArgsError> {
        match key {
            "barriers" => {
                let s = SeriesSet::parse(key, value, &BARRIER_SERIES)?;
                set(&mut self.series, key, s)?;
            }
            "episodes" => {
                let n = number(key, value, 1, 10_000_000, "1..=10000000")?;
                set(&mut self.episodes, key, n)?;
            }
            "arity" => set(&mut self.arity, key, number(key, value, 2, 16, "2..=16")?)?,
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// Prints the arguments that were set.
    pub(super) fn write(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        SeriesSet::write(self.series, f, "barriers", &BARRIER_SERIES)?;
        write_set(f, &[("episodes", self.episodes), ("arity", self.arity)])
    }
}

#[cfg(test)]
mod tests {
    use crate::exp::request::assert_bad_values;

    #[test]
    fn refuses_bad_arguments() {
        assert_bad_values("exp=barriers", "arity=1 episodes=0");
    }
}
