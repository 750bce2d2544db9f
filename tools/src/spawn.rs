//! `boot --spawn NAME@CORE,...`: the monitor items that ask monitor 0 to
//! start programs on cores once the mesh is up.
//!
//! Each item is checked here, before anything is built, with the rules the
//! monitor applies (`services::monitor::args`), and the core against
//! `--cores`, which only the host knows before the boot. Whether the
//! program is in the boot modules is the monitor's to say: a missing one
//! is a `spawn-failed ... reason=not-found` record and a failed run.

use services::monitor::MAX_SPAWNS;
use services::proto::spawn::Name;

/// Why a `--spawn` value was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SpawnArgError {
    /// Not `NAME@CORE`.
    #[error(
        "--spawn {0:?} is not NAME@CORE (NAME: 1 to 32 letters, digits, '-', '_' or '.'; CORE: a core number)"
    )]
    Syntax(String),
    /// The core does not exist.
    #[error("--spawn {item:?}: there is no core {core} (the machine has {cores}: 0 to {last})", last = cores - 1)]
    NoSuchCore {
        /// The item.
        item: String,
        /// Its core.
        core: u32,
        /// `--cores`.
        cores: u32,
    },
    /// Too many items.
    #[error("--spawn takes at most {MAX_SPAWNS} programs, {0} were given")]
    TooMany(usize),
}

/// The monitor's `user=` items for `--spawn` values `items` on `cores`
/// cores: `spawn=NAME@CORE`, comma separated.
pub fn user_items(items: &[String], cores: u32) -> Result<String, SpawnArgError> {
    if items.len() > MAX_SPAWNS {
        return Err(SpawnArgError::TooMany(items.len()));
    }
    let mut out = Vec::new();
    for item in items {
        let syntax = || SpawnArgError::Syntax(item.clone());
        let (name, core) = item.split_once('@').ok_or_else(syntax)?;
        Name::new(name).ok_or_else(syntax)?;
        let core: u32 = core.parse().map_err(|_| syntax())?;
        if core >= cores {
            return Err(SpawnArgError::NoSuchCore {
                item: item.clone(),
                core,
                cores,
            });
        }
        out.push(format!("spawn={name}@{core}"));
    }
    Ok(out.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn turns_items_into_monitor_items() {
        assert_eq!(
            user_items(&items(&["hello@3", "hello@1"]), 4).unwrap(),
            "spawn=hello@3,spawn=hello@1"
        );
    }

    #[test]
    fn refuses_bad_items_and_missing_cores() {
        for bad in [
            "hello",
            "@1",
            "hello@",
            "hello@one",
            "a b@1",
            "hello@-1",
            "hello@1@2",
        ] {
            assert_eq!(
                user_items(&items(&[bad]), 4),
                Err(SpawnArgError::Syntax(bad.into())),
                "{bad}"
            );
        }
        let e = user_items(&items(&["hello@4"]), 4).unwrap_err();
        assert_eq!(
            e.to_string(),
            "--spawn \"hello@4\": there is no core 4 (the machine has 4: 0 to 3)"
        );
        let many = vec!["hello@0".to_owned(); MAX_SPAWNS + 1];
        assert_eq!(
            user_items(&many, 1),
            Err(SpawnArgError::TooMany(MAX_SPAWNS + 1))
        );
    }
}
