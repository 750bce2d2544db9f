//! Shrinking a counterexample: drop operations while what is left still
//! violates the model, first in large chunks, then one at a time, until no
//! single operation can go (a 1-minimal set, as in delta debugging).

use super::hash::FxHashSet;
use super::history::{History, Kind};
use super::outcome::GaveUp;

/// Keeps shrinking honest: dropping the only write of a value would leave
/// a read of it unexplained, and such a read fails any model on its own,
/// which would "shrink" every counterexample to one read. A subset counts
/// only if each of its reads of a value that some write in the history
/// wrote to that key keeps at least one such write. (A read of a value
/// that nobody wrote is a counterexample by itself, and stays one.)
#[derive(Debug)]
pub struct Explained {
    written: FxHashSet<(u64, u64)>,
}

impl Explained {
    /// The `(key, value)` pairs written anywhere in `history`.
    pub fn new(history: &History) -> Explained {
        Explained {
            written: history
                .ops
                .iter()
                .filter(|o| o.kind == Kind::Write)
                .map(|o| (o.key, o.value))
                .collect(),
        }
    }

    /// Whether every read in `subset` (indices into `history`) of a value
    /// written in the history keeps a write of it in `subset`.
    pub fn closed(&self, history: &History, subset: &[usize]) -> bool {
        let kept: FxHashSet<(u64, u64)> = subset
            .iter()
            .map(|&i| &history.ops[i])
            .filter(|o| o.kind == Kind::Write)
            .map(|o| (o.key, o.value))
            .collect();
        subset.iter().map(|&i| &history.ops[i]).all(|o| {
            o.kind == Kind::Write
                || !self.written.contains(&(o.key, o.value))
                || kept.contains(&(o.key, o.value))
        })
    }
}

/// Shrinks `ops`, a set that `fails` holds for, to a subset that `fails`
/// still holds for and from which no single element can be dropped.
/// Returns the subset and whether it is that minimal: when `fails` gives
/// up (the time limit), the smallest failing set found so far comes back
/// with `false`.
pub fn shrink<F>(ops: Vec<usize>, mut fails: F) -> (Vec<usize>, bool)
where
    F: FnMut(&[usize]) -> Result<bool, GaveUp>,
{
    let mut current = ops;
    let mut chunk = (current.len() / 2).max(1);
    let mut candidate = Vec::with_capacity(current.len());
    loop {
        let mut removed = false;
        let mut start = 0;
        while start < current.len() {
            let end = (start + chunk).min(current.len());
            candidate.clear();
            candidate.extend_from_slice(&current[..start]);
            candidate.extend_from_slice(&current[end..]);
            if candidate.is_empty() {
                start = end;
                continue;
            }
            match fails(&candidate) {
                Ok(true) => {
                    std::mem::swap(&mut current, &mut candidate);
                    removed = true;
                }
                Ok(false) => start = end,
                Err(GaveUp { .. }) => return (current, false),
            }
        }
        if !removed {
            if chunk == 1 {
                return (current, true);
            }
            chunk = (chunk / 2).max(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shrinks_to_the_elements_that_matter() {
        // Fails while it holds both 3 and 17.
        let (min, minimal) = shrink((0..40).collect(), |s| Ok(s.contains(&3) && s.contains(&17)));
        assert_eq!(min, vec![3, 17]);
        assert!(minimal);
    }

    #[test]
    fn giving_up_keeps_the_best_so_far() {
        let mut calls = 0;
        let (min, minimal) = shrink((0..40).collect(), |s| {
            calls += 1;
            if calls > 2 {
                Err(GaveUp {
                    after: std::time::Duration::from_secs(1),
                })
            } else {
                Ok(s.contains(&3))
            }
        });
        assert!(!minimal);
        assert!(min.contains(&3) && min.len() < 40);
    }
}
