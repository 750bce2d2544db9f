//! E5's arguments (`exp=locks`).
//!
//! | key | value | default |
//! |---|---|---|
//! | `locks` | which locks, among [`LOCK_SERIES`], separated by `;` | all but `broken-tas` |
//! | `cs-lines` | shared cache lines the critical section touches, 0..=64 | 1 |
//! | `acquisitions` | most acquisitions per core per round, 1..=10000000 | 20000, quick 2000 |

use core::fmt;

use crate::exp::e2_update_cost::MAX_LINES;
use crate::exp::request::{ArgsError, number, set, write_set};
use crate::exp::series_set::SeriesSet;

/// The keys, in the order they are printed.
pub(super) const KEYS: [&str; 3] = ["locks", "cs-lines", "acquisitions"];

/// The lock series of E5, in the order they run: the shared-memory
/// algorithms, the locks of the Rust ecosystem (`std-mutex`,
/// `parking-lot`: hosted runs only, skipped in ring 3 with a `sync-skip`),
/// the message protocols, and the deliberately broken lock (never run
/// unless named).
pub const LOCK_SERIES: [&str; 13] = [
    "tas",
    "ttas",
    "ticket",
    "anderson",
    "mcs",
    "clh",
    "std-mutex",
    "parking-lot",
    "msg-server",
    "msg-token",
    "msg-delegation",
    "msg-queue",
    "broken-tas",
];

/// Parameters of E5 (`exp=locks`); `None` means the default.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct LockArgs {
    /// `locks=`.
    pub series: Option<SeriesSet>,
    /// `cs-lines=`.
    pub cs_lines: Option<u32>,
    /// `acquisitions=`.
    pub acquisitions: Option<u32>,
}

impl LockArgs {
    /// Parses `key=value` if `key` is E5's.
    pub(super) fn parse_key(&mut self, key: &str, value: &str) -> Result<bool, ArgsError> {
        match key {
            "locks" => set(
                &mut self.series,
                key,
                SeriesSet::parse(key, value, &LOCK_SERIES)?,
            )?,
            "cs-lines" => {
                let n = number(key, value, 0, MAX_LINES, "0..=64")?;
                set(&mut self.cs_lines, key, n)?;
            }
            "acquisitions" => {
                let n = number(key, value, 1, 10_000_000, "1..=10000000")?;
                set(&mut self.acquisitions, key, n)?;
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// Prints the arguments that were set.
    pub(super) fn write(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        SeriesSet::write(self.series, f, "locks", &LOCK_SERIES)?;
        write_set(
            f,
            &[
                ("cs-lines", self.cs_lines),
                ("acquisitions", self.acquisitions),
            ],
        )
    }
}

#[cfg(test)]
mod tests {
    use crate::exp::request::assert_bad_values;

    #[test]
    fn refuses_bad_arguments() {
        assert_bad_values("exp=locks", "locks=tas;tas locks=spin cs-lines=65");
    }
}
