//! Experiment requests: parsing the `exp=...` part of a monitor argument
//! string, and printing it back.
//!
//! The string is a comma-separated list of items, each `key=value` or a
//! bare flag. Lists inside a value are separated by `;` (the comma already
//! separates items): `exp=update-cost,quick,k=1;8`.
//!
//! | key | value | default |
//! |---|---|---|
//! | `exp` | an experiment's [`ExpKind::name`]: `urpc`, `update-cost`, `locks`, `barriers` or `consistency` | (required) |
//! | `quick` | bare flag: the short version | off |
//! | `rounds` | repeats of every measurement, 1..=1000 | 5, quick 2 |
//!
//! The other keys are each experiment's own, described with its
//! arguments: [`UrpcArgs`](super::UrpcArgs) (E1),
//! [`UpdateArgs`](super::UpdateArgs) (E2), [`LockArgs`](super::LockArgs)
//! (E5), [`BarrierArgs`](super::BarrierArgs) (E6) and
//! [`ConsistencyArgs`](super::ConsistencyArgs) (E7). A key that belongs to
//! another experiment, an unknown key or flag, a bad value and a repeated
//! key are all [`ArgsError`]s.
//!
//! **Memory.** A request whose samples cannot fit [`SAMPLE_HEAP_BYTES`] of
//! a core's heap is refused when it is parsed, with
//! [`ArgsError::TooLarge`] giving the largest value that fits (see the
//! experiments' arguments).

use alloc::string::{String, ToString};
use core::fmt;

use super::experiment::{Experiment, Visit, VisitMut};
use super::registry::{ExpKind, KEYS, Params};

/// Heap a core may use for an experiment's samples: the ring-3 heap
/// (`abi::HEAP_SIZE`) less room for the monitor and the allocator's
/// fragmentation.
pub const SAMPLE_HEAP_BYTES: u64 = abi::HEAP_SIZE - (2 << 20);

/// The keys every experiment takes.
pub(crate) const COMMON_KEYS: [&str; 3] = ["exp", "quick", "rounds"];

/// A parsed experiment request: the same on every core.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Request {
    /// The experiment and its parameters.
    pub params: Params,
    /// The short version (`quick`).
    pub quick: bool,
    /// `rounds=`.
    pub rounds: Option<u32>,
}

/// Why an argument string is not a valid experiment request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ArgsError {
    /// `exp=` names no experiment.
    UnknownExperiment(String),
    /// A key no experiment knows.
    UnknownKey(String),
    /// A bare word that is not a known flag.
    UnknownFlag(String),
    /// A key given twice.
    Repeated(String),
    /// A key of another experiment.
    NotFor {
        /// The key.
        key: String,
        /// The requested experiment.
        experiment: ExpKind,
    },
    /// A value out of range or malformed.
    BadValue {
        /// The key.
        key: String,
        /// The value given.
        value: String,
        /// What is accepted.
        expected: &'static str,
    },
    /// Two keys that exclude each other.
    Conflict(&'static str, &'static str),
    /// The samples the value asks for do not fit a core's heap.
    TooLarge {
        /// The key.
        key: &'static str,
        /// The value in effect.
        value: u64,
        /// The largest value that fits, with the other values as they are.
        max: u64,
    },
}

/// Prints `items` separated by `sep`.
pub(crate) fn write_joined<T: fmt::Display>(
    f: &mut fmt::Formatter<'_>,
    sep: &str,
    items: impl Iterator<Item = T>,
) -> fmt::Result {
    for (i, item) in items.enumerate() {
        if i > 0 {
            f.write_str(sep)?;
        }
        write!(f, "{item}")?;
    }
    Ok(())
}

impl fmt::Display for ArgsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ArgsError::UnknownExperiment(name) => {
                write!(f, "unknown experiment `{name}` (known: ")?;
                write_joined(f, ", ", ExpKind::ALL.iter())?;
                f.write_str(")")
            }
            ArgsError::UnknownKey(key) => {
                write!(f, "unknown experiment option `{key}` (known: ")?;
                write_joined(f, ", ", KEYS.iter())?;
                f.write_str(")")
            }
            ArgsError::UnknownFlag(flag) => write!(f, "unknown flag `{flag}` (known: quick)"),
            ArgsError::Repeated(key) => write!(f, "`{key}` is given more than once"),
            ArgsError::NotFor { key, experiment } => {
                write!(f, "`{key}` does not apply to experiment {experiment}")
            }
            ArgsError::BadValue {
                key,
                value,
                expected,
            } => write!(f, "bad value `{value}` for `{key}` (expected {expected})"),
            ArgsError::Conflict(a, b) => write!(f, "`{a}` and `{b}` exclude each other"),
            ArgsError::TooLarge { key, value, max } => write!(
                f,
                "`{key}={value}` needs more than the {} MiB a core has for samples; \
                 the largest {key} that fits is {max}",
                SAMPLE_HEAP_BYTES >> 20
            ),
        }
    }
}

/// The error of a bad `value` for `key`.
pub(crate) fn bad(key: &str, value: &str, expected: &'static str) -> ArgsError {
    ArgsError::BadValue {
        key: key.to_string(),
        value: value.to_string(),
        expected,
    }
}

/// A decimal number in `min..=max` (no sign).
pub(crate) fn number(
    key: &str,
    value: &str,
    min: u32,
    max: u32,
    expected: &'static str,
) -> Result<u32, ArgsError> {
    match value.parse::<u32>() {
        Ok(n) if (min..=max).contains(&n) && !value.starts_with('+') => Ok(n),
        _ => Err(bad(key, value, expected)),
    }
}

/// Names of `table` separated by `;`, each at most once, as a bit mask
/// (bit `i`: `table[i]`).
pub(crate) fn names<'t>(
    key: &str,
    value: &str,
    table: impl Iterator<Item = &'t str> + Clone,
    expected: &'static str,
) -> Result<u64, ArgsError> {
    let mut mask = 0u64;
    for part in value.split(';') {
        let i = table
            .clone()
            .position(|n| n == part)
            .ok_or_else(|| bad(key, value, expected))?;
        if mask & (1 << i) != 0 {
            return Err(bad(key, value, expected));
        }
        mask |= 1 << i;
    }
    Ok(mask)
}

/// Sets `slot` to `value`, unless `key` was given already.
pub(crate) fn set<T>(slot: &mut Option<T>, key: &str, value: T) -> Result<(), ArgsError> {
    if slot.is_some() {
        return Err(ArgsError::Repeated(key.to_string()));
    }
    *slot = Some(value);
    Ok(())
}

/// Prints `,key=value` for every value that is set.
pub(crate) fn write_set<T: fmt::Display>(
    f: &mut fmt::Formatter<'_>,
    items: &[(&str, Option<T>)],
) -> fmt::Result {
    for (key, v) in items {
        if let Some(v) = v {
            write!(f, ",{key}={v}")?;
        }
    }
    Ok(())
}

/// Parses one `key=value` of the experiment's own.
struct ParseKey<'s> {
    key: &'s str,
    value: &'s str,
}

impl VisitMut for ParseKey<'_> {
    type Out = Result<bool, ArgsError>;

    fn visit<E: Experiment>(self, args: &mut E::Args) -> Self::Out {
        E::parse_key(args, self.key, self.value)
    }
}

/// The experiment's check of a whole request.
struct Check<'r>(&'r Request);

impl Visit for Check<'_> {
    type Out = Result<(), ArgsError>;

    fn visit<E: Experiment>(self, args: &E::Args) -> Self::Out {
        E::check(self.0, args)
    }
}

/// Prints the experiment's own arguments.
struct WriteArgs<'f, 'g>(&'f mut fmt::Formatter<'g>);

impl Visit for WriteArgs<'_, '_> {
    type Out = fmt::Result;

    fn visit<E: Experiment>(self, args: &E::Args) -> Self::Out {
        E::write_args(args, self.0)
    }
}

impl Request {
    /// Parses the experiment part of a monitor argument string:
    /// comma-separated items, `key=value` or bare flags, e.g.
    /// `exp=urpc,quick` or `exp=update-cost,quick,k=1;8`. Returns
    /// `Ok(None)` when no `exp=` item is present (the string is then not
    /// looked at further). Unknown keys and values are typed errors; see
    /// the module documentation for the keys.
    pub fn parse(args: &str) -> Result<Option<Request>, ArgsError> {
        let items = || args.split(',').map(str::trim).filter(|i| !i.is_empty());
        let mut experiment = None;
        for item in items() {
            if let Some(name) = item.strip_prefix("exp=") {
                let e = ExpKind::from_name(name)
                    .ok_or_else(|| ArgsError::UnknownExperiment(name.to_string()))?;
                set(&mut experiment, "exp", e)?;
            }
        }
        let Some(experiment) = experiment else {
            return Ok(None);
        };
        let mut req = Request::new(experiment);
        for item in items() {
            let Some((key, value)) = item.split_once('=') else {
                match item {
                    "quick" if req.quick => return Err(ArgsError::Repeated(item.to_string())),
                    "quick" => req.quick = true,
                    _ if KEYS.contains(&item) => return Err(bad(item, "", "a value")),
                    _ => return Err(ArgsError::UnknownFlag(item.to_string())),
                }
                continue;
            };
            match key {
                "exp" => {}
                "rounds" => {
                    let n = number(key, value, 1, 1000, "a number of rounds 1..=1000")?;
                    set(&mut req.rounds, key, n)?;
                }
                _ if req.params.visit_mut(ParseKey { key, value })? => {}
                _ if KEYS.contains(&key) => {
                    return Err(ArgsError::NotFor {
                        key: key.to_string(),
                        experiment,
                    });
                }
                _ => return Err(ArgsError::UnknownKey(key.to_string())),
            }
        }
        req.params.visit(Check(&req))?;
        Ok(Some(req))
    }

    /// A request for `experiment` with every parameter at its default.
    pub fn new(experiment: ExpKind) -> Request {
        Request {
            params: Params::new(experiment),
            quick: false,
            rounds: None,
        }
    }

    /// The experiment.
    pub fn experiment(&self) -> ExpKind {
        self.params.kind()
    }

    /// Rounds in effect.
    pub fn rounds(&self) -> u32 {
        self.rounds.unwrap_or(if self.quick { 2 } else { 5 })
    }
}

/// Prints the request as an argument string that [`Request::parse`] reads
/// back as the same request (only the items that were set).
impl fmt::Display for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "exp={}", self.experiment())?;
        if self.quick {
            f.write_str(",quick")?;
        }
        if let Some(r) = self.rounds {
            write!(f, ",rounds={r}")?;
        }
        self.params.visit(WriteArgs(f))
    }
}

/// Checks that `exp` with each of `bad` (`key=value` items separated by
/// spaces) is refused as a bad value.
#[cfg(test)]
pub(crate) fn assert_bad_values(exp: &str, bad: &str) {
    for item in bad.split(' ') {
        let req = alloc::format!("{exp},{item}");
        let err = Request::parse(&req).unwrap_err();
        assert!(matches!(err, ArgsError::BadValue { .. }), "{req}: {err:?}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;

    fn parse(s: &str) -> Request {
        Request::parse(s).unwrap().unwrap()
    }

    #[test]
    fn no_exp_item_is_no_request() {
        assert_eq!(Request::parse(""), Ok(None));
        assert_eq!(Request::parse("quick,whatever=1"), Ok(None));
    }

    #[test]
    fn common_keys() {
        let r = parse("exp=urpc,quick");
        assert_eq!(r.experiment(), ExpKind::Urpc);
        assert!(r.quick);
        assert_eq!(r.rounds(), 2);
        assert_eq!(parse(" exp=urpc , rounds=1, ").rounds(), 1);
        assert_eq!(
            ExpKind::from_name("consistency"),
            Some(ExpKind::Consistency)
        );
    }

    #[test]
    fn display_round_trips() {
        for s in [
            "exp=urpc",
            "exp=urpc,quick,rounds=3,pairs=adjacent,samples=7,rtt-batch=2,batch=9,tp-samples=4,slots=8",
            "exp=urpc,from=1",
            "exp=update-cost,quick,k=1;2;64,msg-k=8,sync-k=4,series=shm;msg,updates=10,ms=5",
            "exp=locks,quick,locks=tas;mcs;msg-queue,cs-lines=4,acquisitions=50",
            "exp=barriers,barriers=sense;msg-tree;broken-sense,episodes=9,arity=2",
            "exp=consistency",
            "exp=consistency,quick,models=lin;eventual,ops=50,keys=1000000,writes=0",
            "exp=consistency,models=seq,writes=100",
        ] {
            let r = parse(s);
            assert_eq!(format!("{r}"), s);
            assert_eq!(parse(&format!("{r}")), r);
        }
    }

    #[test]
    fn every_key_once_in_the_order_of_the_list() {
        assert_eq!(
            KEYS,
            [
                "exp",
                "quick",
                "rounds",
                "pairs",
                "from",
                "samples",
                "rtt-batch",
                "batch",
                "tp-samples",
                "slots",
                "k",
                "msg-k",
                "sync-k",
                "series",
                "updates",
                "ms",
                "variants",
                "cap-ops",
                "holders",
                "reps",
                "ram",
                "blocks",
                "silent",
                "broken",
                "locks",
                "cs-lines",
                "acquisitions",
                "barriers",
                "episodes",
                "arity",
                "models",
                "ops",
                "keys",
                "writes",
            ]
        );
    }

    #[test]
    fn refuses_bad_arguments() {
        let err = |s: &str| Request::parse(s).unwrap_err();
        assert_eq!(err("exp=nope"), ArgsError::UnknownExperiment("nope".into()));
        assert_eq!(
            format!("{}", err("exp=nope")),
            "unknown experiment `nope` (known: urpc, update-cost, caps, locks, barriers, consistency)"
        );
        assert_eq!(
            err("exp=urpc,colour=red"),
            ArgsError::UnknownKey("colour".into())
        );
        assert_eq!(
            format!("{}", err("exp=urpc,colour=red")),
            "unknown experiment option `colour` (known: exp, quick, rounds, pairs, from, \
             samples, rtt-batch, batch, tp-samples, slots, k, msg-k, sync-k, series, updates, ms, \
             variants, cap-ops, holders, reps, ram, blocks, silent, broken, locks, cs-lines, acquisitions, barriers, episodes, arity, models, ops, keys, writes)"
        );
        assert_eq!(err("exp=urpc,fast"), ArgsError::UnknownFlag("fast".into()));
        assert_eq!(err("exp=urpc,exp=urpc"), ArgsError::Repeated("exp".into()));
        assert_eq!(
            err("exp=urpc,quick,quick"),
            ArgsError::Repeated("quick".into())
        );
        assert_eq!(
            err("exp=urpc,rounds=1,rounds=2"),
            ArgsError::Repeated("rounds".into())
        );
        assert_eq!(
            err("exp=urpc,quick=1"),
            ArgsError::NotFor {
                key: "quick".into(),
                experiment: ExpKind::Urpc
            }
        );
        assert_eq!(err("exp=urpc,rounds"), bad("rounds", "", "a value"));
        assert_eq!(
            err("exp=urpc,k=1"),
            ArgsError::NotFor {
                key: "k".into(),
                experiment: ExpKind::Urpc
            }
        );
        assert_eq!(
            err("exp=update-cost,pairs=all"),
            ArgsError::NotFor {
                key: "pairs".into(),
                experiment: ExpKind::UpdateCost
            }
        );
        assert_eq!(
            err("exp=locks,models=lin"),
            ArgsError::NotFor {
                key: "models".into(),
                experiment: ExpKind::Locks
            }
        );
        assert_eq!(
            err("exp=consistency,cs-lines=1"),
            ArgsError::NotFor {
                key: "cs-lines".into(),
                experiment: ExpKind::Consistency
            }
        );
        assert_bad_values("exp=urpc", "rounds=0 rounds=x rounds=+3 samples");
    }
}
