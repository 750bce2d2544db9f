//! What a check concludes, and the time limit it works under.

use std::time::{Duration, Instant};

use thiserror::Error;

/// A time limit, started when made.
#[derive(Clone, Copy, Debug)]
pub struct Deadline {
    start: Instant,
    limit: Duration,
}

impl Deadline {
    /// A limit of `limit` from now.
    pub fn new(limit: Duration) -> Deadline {
        Deadline {
            start: Instant::now(),
            limit,
        }
    }

    /// Whether the limit has passed.
    pub fn expired(&self) -> bool {
        self.start.elapsed() >= self.limit
    }

    /// The limit.
    pub fn limit(&self) -> Duration {
        self.limit
    }

    /// [`GaveUp`] if the limit has passed.
    pub fn check(&self) -> Result<(), GaveUp> {
        if self.expired() {
            Err(GaveUp { after: self.limit })
        } else {
            Ok(())
        }
    }
}

/// A search stopped by its time limit, neither proving nor refuting.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
#[error("gave up after {} s", after.as_secs_f64())]
pub struct GaveUp {
    /// The limit that ran out.
    pub after: Duration,
}

/// The operations that show a model does not hold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Counterexample {
    /// The key they are all on, when the violation is on one key.
    pub key: Option<u64>,
    /// Indices into the history's operations, in history order.
    pub ops: Vec<usize>,
    /// Whether no single operation can be dropped from `ops` with the rest
    /// still violating the model (false when the time limit stopped the
    /// shrinking first).
    pub minimal: bool,
}

/// The answer for one model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The history satisfies the model.
    Holds,
    /// It does not; here is why.
    Violated(Counterexample),
    /// The time limit ran out first.
    GaveUp(GaveUp),
}

impl Verdict {
    /// Whether the model holds.
    pub fn holds(&self) -> bool {
        matches!(self, Verdict::Holds)
    }
}
