//! The monitor's argument string (the kernel's `user=` option): the
//! monitor's own items and an experiment request.
//!
//! Comma-separated items:
//!
//! | item | meaning |
//! |---|---|
//! | `inject=malformed` | monitor 1 sends two malformed messages to monitor 0 first |
//! | `spawn=NAME@CORE` | monitor 0 has program `NAME` of the boot modules started on core `CORE` (repeatable, at most [`MAX_SPAWNS`]) |
//! | `exp=NAME` and its options | an experiment, see `crate::exp::args` |
//!
//! Every other item is refused with the list of what is accepted: an
//! unknown word, an item given twice, a `spawn=` item that is not a name
//! and a core number, and an experiment option without an `exp=` item.
//! Nothing is ignored. Whether the core exists is the monitor's to check:
//! the parser does not know how many there are.

use alloc::string::{String, ToString};
use core::fmt;
use core::fmt::Write;

use super::{MAX_SPAWNS, Options};
use crate::exp::{ArgsError, KEYS, Request};
use crate::proto::spawn::Name;

/// What the monitor was asked to do.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MonitorArgs {
    /// The monitor's own options.
    pub options: Options,
    /// The experiment to run once the mesh is up.
    pub request: Option<Request>,
}

/// Why the argument string was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MonitorArgsError {
    /// An item that is neither the monitor's nor an experiment's.
    UnknownItem(String),
    /// An `inject=` item with an unknown value.
    UnknownInjection(String),
    /// A `spawn=` item that is not `NAME@CORE`.
    BadSpawn(String),
    /// More than [`MAX_SPAWNS`] `spawn=` items.
    TooManySpawns,
    /// A monitor item given twice.
    Repeated(String),
    /// Experiment options without an `exp=` item.
    NoExperiment(String),
    /// The experiment's items.
    Experiment(ArgsError),
}

impl fmt::Display for MonitorArgsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MonitorArgsError::UnknownItem(item) => write!(
                f,
                "unknown item `{item}` (accepted: inject=malformed, spawn=NAME@CORE, exp=urpc, \
                 exp=update-cost, and with exp= its options: {})",
                OptionList
            ),
            MonitorArgsError::UnknownInjection(what) => {
                write!(f, "unknown injection `{what}` (accepted: inject=malformed)")
            }
            MonitorArgsError::BadSpawn(item) => write!(
                f,
                "`{item}` is not spawn=NAME@CORE (NAME: 1 to 32 letters, digits, '-', '_' or \
                 '.'; CORE: a core number)"
            ),
            MonitorArgsError::TooManySpawns => {
                write!(f, "more than {MAX_SPAWNS} spawn= items")
            }
            MonitorArgsError::Repeated(item) => write!(f, "`{item}` is given more than once"),
            MonitorArgsError::NoExperiment(item) => write!(
                f,
                "`{item}` is an experiment option, but no experiment is named \
                 (add exp=urpc or exp=update-cost)"
            ),
            MonitorArgsError::Experiment(e) => write!(f, "{e}"),
        }
    }
}

/// The experiment keys but `exp`, comma separated.
struct OptionList;

impl fmt::Display for OptionList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, key) in KEYS.iter().filter(|k| **k != "exp").enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            f.write_str(key)?;
        }
        Ok(())
    }
}

impl MonitorArgs {
    /// Parses the argument string.
    pub fn parse(args: &str) -> Result<MonitorArgs, MonitorArgsError> {
        let mut out = MonitorArgs::default();
        let mut injected = false;
        let mut experiment = String::new();
        let mut first_option: Option<&str> = None;
        let mut named = false;
        for item in args.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let key = item.split_once('=').map_or(item, |(k, _)| k);
            match item.split_once('=') {
                Some(("inject", what)) => {
                    if what != "malformed" {
                        return Err(MonitorArgsError::UnknownInjection(what.to_string()));
                    }
                    if core::mem::replace(&mut injected, true) {
                        return Err(MonitorArgsError::Repeated(item.to_string()));
                    }
                    out.options.inject_malformed = true;
                    continue;
                }
                Some(("spawn", what)) => {
                    let bad = || MonitorArgsError::BadSpawn(item.to_string());
                    let (name, core) = what.split_once('@').ok_or_else(bad)?;
                    let name = Name::new(name).ok_or_else(bad)?;
                    let core: u32 = core.parse().map_err(|_| bad())?;
                    let free = out.options.spawns.iter_mut().find(|s| s.is_none());
                    *free.ok_or(MonitorArgsError::TooManySpawns)? = Some((name, core));
                    continue;
                }
                _ if KEYS.contains(&key) => {
                    named |= key == "exp";
                    if key != "exp" && first_option.is_none() {
                        first_option = Some(item);
                    }
                    if !experiment.is_empty() {
                        experiment.push(',');
                    }
                    let _ = experiment.write_str(item);
                }
                _ => return Err(MonitorArgsError::UnknownItem(item.to_string())),
            }
        }
        if let (false, Some(item)) = (named, first_option) {
            return Err(MonitorArgsError::NoExperiment(item.to_string()));
        }
        out.request = Request::parse(&experiment).map_err(MonitorArgsError::Experiment)?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;

    #[test]
    fn accepts_the_monitors_items_and_an_experiment() {
        assert_eq!(MonitorArgs::parse(""), Ok(MonitorArgs::default()));
        let a = MonitorArgs::parse("inject=malformed").unwrap();
        assert!(a.options.inject_malformed && a.request.is_none());
        let a = MonitorArgs::parse("exp=urpc,quick,inject=malformed").unwrap();
        assert!(a.options.inject_malformed);
        assert_eq!(a.request, Request::parse("exp=urpc,quick").unwrap());
    }

    #[test]
    fn takes_spawn_items_in_order_and_refuses_bad_ones() {
        let a = MonitorArgs::parse("spawn=hello@3,spawn=hello@1").unwrap();
        let got: alloc::vec::Vec<(String, u32)> = a
            .options
            .spawns
            .iter()
            .flatten()
            .map(|(n, c)| (n.as_str().into(), *c))
            .collect();
        assert_eq!(got, [("hello".into(), 3), ("hello".into(), 1)]);
        for bad in [
            "spawn=hello",
            "spawn=@1",
            "spawn=hello@",
            "spawn=hello@x",
            "spawn=a b@1",
            "spawn=hello@-1",
        ] {
            assert_eq!(
                MonitorArgs::parse(bad).unwrap_err(),
                MonitorArgsError::BadSpawn(bad.into()),
                "{bad}"
            );
        }
        let many = alloc::vec!["spawn=hello@0"; MAX_SPAWNS + 1].join(",");
        assert_eq!(
            MonitorArgs::parse(&many).unwrap_err(),
            MonitorArgsError::TooManySpawns
        );
        assert!(MonitorArgs::parse(&many[14..]).is_ok());
    }

    #[test]
    fn refuses_every_item_it_does_not_know_and_says_what_it_accepts() {
        let err = MonitorArgs::parse("junk").unwrap_err();
        assert_eq!(err, MonitorArgsError::UnknownItem("junk".into()));
        let text = format!("{err}");
        assert!(
            text.contains("accepted: inject=malformed, spawn=NAME@CORE, exp=urpc"),
            "{text}"
        );
        assert!(text.contains("quick, rounds"), "{text}");
        assert_eq!(
            MonitorArgs::parse("foo=bar,quick,rounds=5").unwrap_err(),
            MonitorArgsError::UnknownItem("foo=bar".into())
        );
        assert_eq!(
            MonitorArgs::parse("quick,rounds=5").unwrap_err(),
            MonitorArgsError::NoExperiment("quick".into())
        );
        assert_eq!(
            MonitorArgs::parse("inject=malformed,inject=malformed").unwrap_err(),
            MonitorArgsError::Repeated("inject=malformed".into())
        );
        assert_eq!(
            MonitorArgs::parse("inject=everything").unwrap_err(),
            MonitorArgsError::UnknownInjection("everything".into())
        );
        assert!(matches!(
            MonitorArgs::parse("exp=urpc,exp=urpc").unwrap_err(),
            MonitorArgsError::Experiment(ArgsError::Repeated(_))
        ));
        assert!(matches!(
            MonitorArgs::parse("exp=urpc,samples=1000000,quick").unwrap_err(),
            MonitorArgsError::Experiment(ArgsError::TooLarge { .. })
        ));
    }
}
