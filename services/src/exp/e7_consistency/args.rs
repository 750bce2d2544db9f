//! E7's arguments (`exp=consistency`).
//!
//! | key | value | default |
//! |---|---|---|
//! | `models` | which consistency models, among `lin;seq;eventual` ([`Model::name`]), separated by `;` | all three |
//! | `ops` | operations per core per model, 1..=100000 (and within the heap, see below) | 2000, quick 200 |
//! | `keys` | distinct keys the operations pick from, 1..=1000000 | 64, quick 8 |
//! | `writes` | percent of operations that are writes, 0..=100 | 50 |
//!
//! **Memory.** E7 keeps the history of one model's operations and their
//! latencies, [`HISTORY_BYTES_PER_OP`] bytes an operation, in half of
//! [`SAMPLE_HEAP_BYTES`] (the other half holds the replica's map and its
//! messages in flight): a larger `ops` is refused with
//! [`ArgsError::TooLarge`].

use core::fmt;

use crate::exp::request::{
    ArgsError, Request, SAMPLE_HEAP_BYTES, names, number, set, write_joined, write_set,
};
use crate::proto::replica::Model;

/// Heap bytes per operation: its history entry (four words: key and kind,
/// value, invocation and response times) and its latency in the sorted
/// copy.
pub const HISTORY_BYTES_PER_OP: u64 = 5 * 8;
/// Heap E7 may give one model's history.
pub const HISTORY_HEAP_BYTES: u64 = SAMPLE_HEAP_BYTES / 2;

/// The keys, in the order they are printed.
pub(super) const KEYS: [&str; 4] = ["models", "ops", "keys", "writes"];

/// A set of consistency models as a bit mask (bit `i`: `Model::ALL[i]`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ModelSet(u8);

impl ModelSet {
    /// Every model.
    pub const ALL: ModelSet = ModelSet((1 << Model::ALL.len()) - 1);

    /// Whether `model` is in the set.
    pub fn contains(self, model: Model) -> bool {
        Model::ALL
            .iter()
            .position(|m| *m == model)
            .is_some_and(|i| self.0 & (1 << i) != 0)
    }

    /// The set's models, in the order of [`Model::ALL`].
    pub fn iter(self) -> impl Iterator<Item = Model> {
        Model::ALL.into_iter().filter(move |m| self.contains(*m))
    }

    /// Number of models.
    pub const fn len(self) -> usize {
        self.0.count_ones() as usize
    }

    /// Whether the set is empty.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }
}

impl fmt::Display for ModelSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_joined(f, ";", self.iter().map(Model::name))
    }
}

/// Parameters of E7 (`exp=consistency`); `None` means the default.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct ConsistencyArgs {
    /// `models=`.
    pub models: Option<ModelSet>,
    /// `ops=`.
    pub ops: Option<u32>,
    /// `keys=`.
    pub keys: Option<u32>,
    /// `writes=`.
    pub writes: Option<u32>,
}

impl ConsistencyArgs {
    /// Models in effect.
    pub fn models_in_effect(&self) -> ModelSet {
        self.models.unwrap_or(ModelSet::ALL)
    }

    /// Operations per core per model in effect.
    pub fn ops_in_effect(&self, quick: bool) -> u32 {
        self.ops.unwrap_or(if quick { 200 } else { 2000 })
    }

    /// Keys in effect.
    pub fn keys_in_effect(&self, quick: bool) -> u32 {
        self.keys.unwrap_or(if quick { 8 } else { 64 })
    }

    /// Percent of writes in effect.
    pub fn writes_in_effect(&self) -> u32 {
        self.writes.unwrap_or(50)
    }

    /// Parses `key=value` if `key` is E7's.
    pub(super) fn parse_key(&mut self, key: &str, value: &str) -> Result<bool, ArgsError> {
        const MODELS: &str = "models among lin, seq, eventual separated by `;`";
        match key {
            "models" => {
                let table = Model::ALL.iter().map(|m| m.name());
                let mask = names(key, value, table, MODELS)?;
                set(&mut self.models, key, ModelSet(mask as u8))?;
            }
            "ops" => {
                let n = number(key, value, 1, 100_000, "1..=100000")?;
                set(&mut self.ops, key, n)?;
            }
            "keys" => {
                let n = number(key, value, 1, 1_000_000, "1..=1000000")?;
                set(&mut self.keys, key, n)?;
            }
            "writes" => set(
                &mut self.writes,
                key,
                number(key, value, 0, 100, "0..=100")?,
            )?,
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// Refuses a history that cannot fit a core's heap.
    pub(super) fn check(&self, req: &Request) -> Result<(), ArgsError> {
        let ops = u64::from(self.ops_in_effect(req.quick));
        let max = HISTORY_HEAP_BYTES / HISTORY_BYTES_PER_OP;
        if ops > max {
            return Err(ArgsError::TooLarge {
                key: "ops",
                value: ops,
                max,
            });
        }
        Ok(())
    }

    /// Prints the arguments that were set.
    pub(super) fn write(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(m) = self.models {
            write!(f, ",models={m}")?;
        }
        write_set(
            f,
            &[
                ("ops", self.ops),
                ("keys", self.keys),
                ("writes", self.writes),
            ],
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exp::request::assert_bad_values;
    use crate::exp::{ExpKind, Params};
    use alloc::format;
    use alloc::vec::Vec;

    fn args(s: &str) -> ConsistencyArgs {
        match Request::parse(s).unwrap().unwrap().params {
            Params::Consistency(c) => c,
            p => panic!("{p:?}"),
        }
    }

    #[test]
    fn refuses_bad_arguments() {
        assert_bad_values(
            "exp=consistency",
            "models=lin;lin models=strong models= ops=0 ops=100001 keys=0 keys=1000001 writes=101 writes=-1",
        );
        assert_eq!(
            Request::parse("exp=consistency,ops=5,ops=6").unwrap_err(),
            ArgsError::Repeated("ops".into())
        );
    }

    #[test]
    fn defaults_and_parsed_values() {
        let c = args("exp=consistency");
        assert_eq!(c.models_in_effect(), ModelSet::ALL);
        assert_eq!(c.models_in_effect().iter().collect::<Vec<_>>(), Model::ALL);
        assert_eq!((c.ops_in_effect(false), c.ops_in_effect(true)), (2000, 200));
        assert_eq!((c.keys_in_effect(false), c.keys_in_effect(true)), (64, 8));
        assert_eq!(c.writes_in_effect(), 50);
        let s = "exp=consistency,quick,models=eventual;lin,ops=7,keys=3,writes=0";
        let c = args(s);
        // Printed in the order of the models, whatever order was given.
        assert_eq!(format!("{}", c.models.unwrap()), "lin;eventual");
        assert!(!c.models.unwrap().contains(Model::Seq));
        assert_eq!(c.models.unwrap().len(), 2);
        assert_eq!((c.ops_in_effect(true), c.keys_in_effect(true)), (7, 3));
        assert_eq!(c.writes_in_effect(), 0);
        let r = Request::parse(s).unwrap().unwrap();
        assert_eq!(r.experiment(), ExpKind::Consistency);
    }

    #[test]
    fn a_history_that_cannot_fit_a_heap_is_refused() {
        let max = HISTORY_HEAP_BYTES / HISTORY_BYTES_PER_OP;
        assert!(max < 100_000, "the range goes past what fits");
        assert!(Request::parse(&format!("exp=consistency,ops={max}")).is_ok());
        let err = Request::parse(&format!("exp=consistency,ops={}", max + 1)).unwrap_err();
        assert_eq!(
            err,
            ArgsError::TooLarge {
                key: "ops",
                value: max + 1,
                max
            }
        );
    }
}
