//! E2's arguments (`exp=update-cost`).
//!
//! | key | value | default |
//! |---|---|---|
//! | `k` | cache lines of the SHM series, each 1..=64 | `1;2;4;8` |
//! | `msg-k` | cache lines of the MSG series | `1;8` |
//! | `sync-k` | cache lines of the atomic and lock series | `8` |
//! | `series` | which series: `shm;atomic;lock;msg` | all four |
//! | `updates` | most updates per core per round, 1..=10000000 | 100000, quick 5000 |
//! | `ms` | most milliseconds per round and point, 1..=60000 | 500, quick 40 |
//!
//! E2 keeps at most a fixed number of samples per point, whatever it is
//! asked.

use core::fmt;

use crate::exp::request::{ArgsError, bad, names, number, set, write_joined, write_set};

/// Largest number of cache lines an update series may touch.
pub const MAX_LINES: u32 = 64;

/// The keys, in the order they are printed.
pub(super) const KEYS: [&str; 6] = ["k", "msg-k", "sync-k", "series", "updates", "ms"];

/// A set of cache-line counts (1..=[`MAX_LINES`]) as a bit mask: bit
/// `k - 1` stands for `k` lines.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Lines(u64);

impl Lines {
    /// The empty set.
    pub const EMPTY: Lines = Lines(0);

    /// The set of the given counts (each 1..=[`MAX_LINES`]).
    pub const fn of(counts: &[u32]) -> Lines {
        let mut mask = 0u64;
        let mut i = 0;
        while i < counts.len() {
            assert!(counts[i] >= 1 && counts[i] <= MAX_LINES);
            mask |= 1u64 << (counts[i] - 1);
            i += 1;
        }
        Lines(mask)
    }

    /// Whether the set is empty.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The counts in increasing order.
    pub fn iter(self) -> impl Iterator<Item = u32> {
        (1..=MAX_LINES).filter(move |k| self.0 & (1 << (k - 1)) != 0)
    }

    /// The largest count (0 for the empty set).
    pub fn max(self) -> u32 {
        64 - self.0.leading_zeros()
    }

    fn insert(&mut self, k: u32) -> bool {
        let bit = 1 << (k - 1);
        let new = self.0 & bit == 0;
        self.0 |= bit;
        new
    }

    fn parse(key: &str, value: &str) -> Result<Lines, ArgsError> {
        const EXPECTED: &str = "cache-line counts 1..=64 separated by `;`";
        let mut set = Lines::EMPTY;
        for part in value.split(';') {
            let k = number(key, part, 1, MAX_LINES, EXPECTED)?;
            if !set.insert(k) {
                return Err(bad(key, value, EXPECTED));
            }
        }
        Ok(set)
    }
}

impl fmt::Display for Lines {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_joined(f, ";", self.iter())
    }
}

/// The series of E2.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Series {
    /// Plain loads and stores to `k` shared lines, no lock.
    Shm,
    /// One `fetch_add` per shared line.
    Atomic,
    /// Plain updates of the shared lines under a ticket lock.
    Lock,
    /// A synchronous RPC per update to a server core.
    Msg,
}

impl Series {
    /// Every series, in the order they run.
    pub const ALL: [Series; 4] = [Series::Shm, Series::Atomic, Series::Lock, Series::Msg];

    /// The name in `series=`.
    pub const fn name(self) -> &'static str {
        match self {
            Series::Shm => "shm",
            Series::Atomic => "atomic",
            Series::Lock => "lock",
            Series::Msg => "msg",
        }
    }

    const fn bit(self) -> u8 {
        1 << self as u8
    }

    /// Whether `mask` (a `series=` value) holds this series.
    pub const fn is_in(self, mask: u8) -> bool {
        mask & self.bit() != 0
    }

    /// The mask of every series.
    pub const fn all_mask() -> u8 {
        Series::Shm.bit() | Series::Atomic.bit() | Series::Lock.bit() | Series::Msg.bit()
    }
}

/// Parameters of E2 (`exp=update-cost`); `None` means the default.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct UpdateArgs {
    /// `k=`.
    pub k: Option<Lines>,
    /// `msg-k=`.
    pub msg_k: Option<Lines>,
    /// `sync-k=`.
    pub sync_k: Option<Lines>,
    /// `series=`, as a bit mask of [`Series`].
    pub series: Option<u8>,
    /// `updates=`.
    pub updates: Option<u32>,
    /// `ms=`.
    pub ms: Option<u32>,
}

impl UpdateArgs {
    /// Parses `key=value` if `key` is E2's.
    pub(super) fn parse_key(&mut self, key: &str, value: &str) -> Result<bool, ArgsError> {
        const SERIES: &str = "series among shm, atomic, lock, msg separated by `;`";
        match key {
            "k" => set(&mut self.k, key, Lines::parse(key, value)?)?,
            "msg-k" => set(&mut self.msg_k, key, Lines::parse(key, value)?)?,
            "sync-k" => set(&mut self.sync_k, key, Lines::parse(key, value)?)?,
            "series" => {
                let table = Series::ALL.iter().map(|s| s.name());
                let mask = names(key, value, table, SERIES)?;
                set(&mut self.series, key, mask as u8)?;
            }
            "updates" => {
                let n = number(key, value, 1, 10_000_000, "1..=10000000")?;
                set(&mut self.updates, key, n)?;
            }
            "ms" => set(
                &mut self.ms,
                key,
                number(key, value, 1, 60_000, "1..=60000")?,
            )?,
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// Prints the arguments that were set.
    pub(super) fn write(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_set(
            f,
            &[
                ("k", self.k),
                ("msg-k", self.msg_k),
                ("sync-k", self.sync_k),
            ],
        )?;
        if let Some(mask) = self.series {
            f.write_str(",series=")?;
            let names = Series::ALL.into_iter().filter(|s| s.is_in(mask));
            write_joined(f, ";", names.map(Series::name))?;
        }
        write_set(f, &[("updates", self.updates), ("ms", self.ms)])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exp::request::assert_bad_values;
    use crate::exp::{Params, Request};
    use alloc::format;
    use alloc::vec::Vec;

    #[test]
    fn parses() {
        let r = Request::parse("exp=update-cost,quick,k=1;8")
            .unwrap()
            .unwrap();
        let Params::UpdateCost(u) = r.params else {
            panic!("{r:?}")
        };
        assert_eq!(u.k.unwrap().iter().collect::<Vec<_>>(), [1, 8]);
    }

    #[test]
    fn refuses_bad_arguments() {
        assert_bad_values(
            "exp=update-cost",
            "k=0 k=65 k=1;1 k= series=shm;bogus series=shm;shm ms=0",
        );
    }

    #[test]
    fn line_sets() {
        let l = Lines::of(&[8, 1, 4]);
        assert_eq!(l.iter().collect::<Vec<_>>(), [1, 4, 8]);
        assert_eq!(l.max(), 8);
        assert_eq!(Lines::EMPTY.max(), 0);
        assert_eq!(format!("{l}"), "1;4;8");
        assert_eq!(Lines::of(&[64]).max(), 64);
    }
}
