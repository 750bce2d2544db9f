//! What the experiments that compare shared memory with messages (E5, E6)
//! share: a series that is one or the other, and the table of per-point,
//! per-core result lines in the arena.

use super::ExpError;
use super::shared::BLOCK;

/// A series: a shared-memory algorithm `S` or a message protocol `M`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Series<S, M> {
    /// On shared memory.
    Shm(S),
    /// By messages.
    Msg(M),
}

impl<S, M> Series<S, M> {
    /// The series called `name`, looked up among the shared-memory names
    /// first; `what` says what kind of series was asked for.
    pub(crate) fn of(
        name: &str,
        shm: fn(&str) -> Option<S>,
        msg: fn(&str) -> Option<M>,
        what: &'static str,
    ) -> Result<Series<S, M>, ExpError> {
        shm(name)
            .map(Series::Shm)
            .or_else(|| msg(name).map(Series::Msg))
            .ok_or(ExpError::BadRequest(what))
    }
}

/// The most words any of `series` takes, by `words` (none for a series
/// that is not on shared memory).
pub(crate) fn most_words(series: &[&str], words: impl Fn(&str) -> Option<usize>) -> usize {
    series.iter().filter_map(|n| words(n)).max().unwrap_or(0)
}

/// Words of one core's result line for one point (a 128-byte block, so
/// that two cores never write the same line).
pub(crate) const RESULT_WORDS: usize = BLOCK / 8;

/// The result lines of `points` points × `cores` cores, from byte `base`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Results {
    base: usize,
    cores: usize,
}

impl Results {
    /// Bytes the table takes.
    pub(crate) const fn bytes(points: usize, cores: u32) -> usize {
        points * cores as usize * RESULT_WORDS * 8
    }

    /// The table at byte `base`.
    pub(crate) const fn at(base: usize, cores: u32) -> Results {
        Results {
            base,
            cores: cores as usize,
        }
    }

    /// The byte offset of word `word` of `core`'s line for `point`.
    pub(crate) const fn word(&self, point: usize, core: u32, word: usize) -> usize {
        self.base + ((point * self.cores + core as usize) * RESULT_WORDS + word) * 8
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_disjoint_blocks_and_series_resolve() {
        let t = Results::at(1024, 3);
        assert_eq!(t.word(0, 0, 0), 1024);
        assert_eq!(t.word(0, 1, 0) - t.word(0, 0, 0), BLOCK);
        assert_eq!(t.word(1, 0, 0) - t.word(0, 2, 0), BLOCK);
        assert_eq!(Results::bytes(2, 3), 6 * BLOCK);
        let s: Series<u8, u16> = Series::of(
            "b",
            |n| (n == "a").then_some(1),
            |n| (n == "b").then_some(2),
            "x",
        )
        .unwrap();
        assert_eq!(s, Series::Msg(2));
        assert_eq!(
            Series::<u8, u16>::of("c", |_| None, |_| None, "no such series"),
            Err(ExpError::BadRequest("no such series"))
        );
    }
}
