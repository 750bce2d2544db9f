//! `boot --spawn NAME@CORE,...`: the monitor items that ask monitor 0 to
//! start programs on cores once the mesh is up.
//!
//! Each item is checked here, before anything is built, with the rules the
//! monitor applies (`services::monitor::args`), and the core against
//! `--cores`, which only the host knows before the boot. Whether the
//! program is in the boot modules is the monitor's to say: a missing one
//! is a `spawn-failed ... reason=not-found` record and a failed run.

use services::monitor::{CORE_DIGITS, MAX_ARGS_NEEDED, MAX_SPAWNS};
use services::proto::spawn::Name;

// Every core number fits a `spawn=` item's digits, and the kernel's
// `user=` takes the longest argument string a monitor must take.
const _: () = assert!(boot::plan::MAX_CORES <= 10usize.pow(CORE_DIGITS as u32));
const _: () = assert!(MAX_ARGS_NEEDED <= boot::kernel_cmdline::UserArgs::CAPACITY);

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

    /// The most `--spawn` items, each with the longest name on the highest
    /// core, with `inject=malformed` and an experiment: the string fits
    /// `user=`, the monitor takes it, and the whole command line fits what
    /// the kernel reads.
    #[test]
    fn the_longest_spawn_items_fit_every_limit() {
        use crate::cmdline_merge::{Added, CmdlineError, merge};
        use boot::kernel_cmdline::{Config, UserArgs};
        use services::monitor::args::MonitorArgs;
        use services::monitor::{EXP_ROOM, MAX_SPAWN_ITEM};

        let cores = boot::plan::MAX_CORES as u32;
        let name = "n".repeat(abi::disp::MAX_NAME);
        let longest = vec![format!("{name}@{}", cores - 1); MAX_SPAWNS];
        let spawns = user_items(&longest, cores).unwrap();
        assert_eq!(spawns.len(), MAX_SPAWNS * (MAX_SPAWN_ITEM + 1) - 1);
        let exp = format!("exp=urpc,pairs={}", "9".repeat(EXP_ROOM - 15));
        assert_eq!(exp.len(), EXP_ROOM);
        let user = format!("{spawns},inject=malformed,{exp}");
        assert_eq!(user.len(), MAX_ARGS_NEEDED);
        assert!(user.len() <= UserArgs::CAPACITY);
        let monitor = MonitorArgs::parse(&format!("{spawns},inject=malformed")).unwrap();
        assert!(monitor.options.spawns.iter().all(Option::is_some));
        assert!(monitor.options.inject_malformed);

        // With every other option in its longest form, the line still fits.
        let test = boot::kernel_cmdline::SelfTest::ALL
            .iter()
            .map(|t| t.name())
            .max_by_key(|n| n.len())
            .unwrap();
        let added = [
            Added::flag("log", "trace", "--log"),
            Added::flag("test", test, "--test"),
            Added::flag("user", &user, "--spawn"),
        ];
        let line = merge(
            &added,
            "ap-timeout-ms=4294967295 initrd=required sched=rr,slice-us=1000000 \
             fuzz=18446744073709551615:1099511627776:trace",
        )
        .unwrap();
        assert!(line.len() <= boot::pvh::MAX_CMDLINE, "{}", line.len());
        assert_eq!(Config::parse(&line).unwrap().user.as_str(), user);

        // One byte more than user= takes is refused, naming the limit.
        let over = "x".repeat(UserArgs::CAPACITY + 1);
        let err = merge(&[Added::flag("user", &over, "--spawn")], "").unwrap_err();
        assert!(matches!(err, CmdlineError::Refused { .. }), "{err}");
        assert!(err.to_string().ends_with("(at most 1024 bytes)"), "{err}");
        // And a line longer than the kernel reads.
        let err = merge(
            &[],
            &format!("user={} {}", "x".repeat(1000), "y=".repeat(600)),
        )
        .unwrap_err();
        assert!(matches!(err, CmdlineError::TooLong { len: 2206 }), "{err}");
        assert!(err.to_string().contains("at most 2048"), "{err}");
    }
}
