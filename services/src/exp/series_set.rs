//! A set of series out of a table of names, as E5 and E6 take them
//! (`locks=tas;mcs`, `barriers=sense;msg-tree`).

use core::fmt;

use super::request::{ArgsError, names, write_joined};

/// A set of series out of a table of names, as a bit mask (bit `i`:
/// `table[i]`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SeriesSet(u16);

impl SeriesSet {
    /// Every series of `table` but the last (the broken one).
    pub const fn defaults(table: &[&str]) -> SeriesSet {
        SeriesSet((1 << (table.len() - 1)) - 1)
    }

    /// Every series of `table`.
    pub const fn all(table: &[&str]) -> SeriesSet {
        SeriesSet((1 << table.len()) - 1)
    }

    /// The set named by `value` (names of `table` separated by `;`, each
    /// at most once), given for `key`.
    pub(crate) fn parse(key: &str, value: &str, table: &[&str]) -> Result<SeriesSet, ArgsError> {
        const EXPECTED: &str = "series names separated by `;` (see the README)";
        let mask = names(key, value, table.iter().copied(), EXPECTED)?;
        Ok(SeriesSet(mask as u16))
    }

    /// Whether series `i` is in the set.
    pub const fn contains(self, i: usize) -> bool {
        self.0 & (1 << i) != 0
    }

    /// The names of the set's series, in table order.
    pub fn names<'t>(self, table: &'t [&'t str]) -> impl Iterator<Item = &'t str> + 't {
        table
            .iter()
            .enumerate()
            .filter(move |(i, _)| self.contains(*i))
            .map(|(_, n)| *n)
    }

    /// Number of series.
    pub const fn len(self) -> usize {
        self.0.count_ones() as usize
    }

    /// Whether the set is empty.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Prints `,key=NAME;NAME...` if `set` is given.
    pub(crate) fn write(
        set: Option<SeriesSet>,
        f: &mut fmt::Formatter<'_>,
        key: &str,
        table: &[&str],
    ) -> fmt::Result {
        let Some(set) = set else {
            return Ok(());
        };
        write!(f, ",{key}=")?;
        write_joined(f, ";", set.names(table))
    }
}
