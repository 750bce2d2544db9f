//! `flotilla sim` run as a user runs it: many seeds pass, every injected
//! bug is found within 10,000 seeds, a failing seed replays exactly, and
//! bad options exit 2.

use std::process::{Command, Output, Stdio};

const FLOTILLA: &str = env!("CARGO_BIN_EXE_flotilla");

fn sim(args: &[&str]) -> Output {
    Command::new(FLOTILLA)
        .arg("sim")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run flotilla")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The lines of a report without its trace.
fn without_trace(out: &Output) -> Vec<String> {
    stdout(out)
        .lines()
        .filter(|l| {
            !l.starts_with("  cycle") && !l.starts_with("trace ") && !l.starts_with("sim: found")
        })
        .map(str::to_owned)
        .collect()
}

#[test]
fn every_protocol_passes_many_seeds_with_faults() {
    for args in [
        &["--protocol", "replica", "--model", "lin"][..],
        &["--protocol", "replica", "--model", "seq"],
        &["--protocol", "replica", "--model", "eventual"],
        &["--protocol", "barrier", "--kind", "msg-dissemination"],
        &["--protocol", "lock", "--kind", "msg-queue"],
        &["--protocol", "update"],
        &["--protocol", "mesh"],
        &["--protocol", "spawn"],
    ] {
        let out = sim(&[args, &["--cores", "4", "--seeds", "300"]].concat());
        let text = stdout(&out);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {text}");
        assert_eq!(
            text.lines().last(),
            Some("sim: 300 seeds, 0 violations"),
            "{args:?}"
        );
    }
}

#[test]
fn every_injected_bug_is_found_and_its_seed_replays() {
    for args in [
        &[
            "--protocol",
            "replica",
            "--model",
            "lin",
            "--inject",
            "early-reply",
        ][..],
        &[
            "--protocol",
            "replica",
            "--model",
            "lin",
            "--inject",
            "commit-short",
        ],
        &[
            "--protocol",
            "replica",
            "--model",
            "lin",
            "--inject",
            "early-reply",
            "--history-only",
        ],
        &[
            "--protocol",
            "replica",
            "--model",
            "lin",
            "--inject",
            "commit-short",
            "--history-only",
        ],
        &["--protocol", "barrier", "--inject", "barrier-early"],
        &["--protocol", "lock", "--inject", "lock-forgets"],
        &["--protocol", "spawn", "--inject", "spawn-hides-end"],
    ] {
        let out = sim(&[args, &["--cores", "4", "--seeds", "10000"]].concat());
        let text = stdout(&out);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {text}");
        let first = text.lines().next().unwrap_or_default();
        let seed = first
            .strip_prefix("sim: violation at seed ")
            .and_then(|r| r.split(':').next())
            .unwrap_or_else(|| panic!("{args:?}: {text}"));
        let replay = sim(&[args, &["--cores", "4", "--seed", seed]].concat());
        assert_eq!(replay.status.code(), Some(1), "{args:?} seed {seed}");
        assert_eq!(
            without_trace(&replay),
            without_trace(&out),
            "{args:?} seed {seed}"
        );
    }
}

#[test]
fn the_history_checker_finds_an_early_reply_with_a_small_counterexample() {
    let out = sim(&[
        "--protocol",
        "replica",
        "--model",
        "lin",
        "--cores",
        "4",
        "--seeds",
        "10000",
        "--inject",
        "early-reply",
        "--history-only",
    ]);
    let text = stdout(&out);
    assert!(
        text.contains("lin history: not linearizable on key"),
        "{text}"
    );
    assert!(text.contains("core,op,key,value,invoke,response"), "{text}");
}

#[test]
fn bad_options_exit_2_and_say_why() {
    for (args, says) in [
        (
            &["--protocol", "replica", "--model", "strong"][..],
            "not a model",
        ),
        (
            &["--protocol", "replica", "--cores", "0"],
            "outside 1..=255",
        ),
        (
            &["--protocol", "replica", "--faults", "delay,crash"],
            "unknown fault `crash`",
        ),
        (
            &[
                "--protocol",
                "replica",
                "--model",
                "seq",
                "--inject",
                "early-reply",
            ],
            "another protocol",
        ),
        (
            &["--protocol", "lock", "--kind", "msg-central"],
            "not a lock",
        ),
        (
            &["--protocol", "mesh", "--kind", "msg-tree"],
            "--kind is for",
        ),
        (
            &["--protocol", "replica", "--inject", "typo"],
            "not a known bug",
        ),
    ] {
        let out = sim(args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(err.contains(says), "{args:?}: {err}");
    }
}
