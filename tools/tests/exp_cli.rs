//! `flotilla exp` on hosted threads, run as a user runs it: the result
//! files exist and are well formed.

mod common;

use std::path::{Path, PathBuf};

use common::{flotilla_in as flotilla, meta, run_dir, scratch, text};

/// Reads a CSV: the header's columns and the rows, each as wide as the
/// header.
fn csv(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let body = std::fs::read_to_string(path).unwrap();
    let mut lines = body.lines();
    let header: Vec<String> = lines
        .next()
        .unwrap()
        .split(',')
        .map(str::to_owned)
        .collect();
    let rows: Vec<Vec<String>> = lines
        .map(|l| l.split(',').map(str::to_owned).collect::<Vec<_>>())
        .collect();
    for r in &rows {
        assert_eq!(r.len(), header.len(), "{r:?}");
    }
    (header, rows)
}

fn column<'a>(header: &[String], row: &'a [String], name: &str) -> &'a str {
    let i = header
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("no column {name}"));
    &row[i]
}

/// Runs `flotilla ARGS` (`args` split at spaces) in a fresh scratch folder
/// named `name`; checks that it succeeded and returns the folder and the
/// standard output.
fn run_ok(name: &str, args: &str) -> (PathBuf, String) {
    let root = scratch(name);
    let out = flotilla(&args.split(' ').collect::<Vec<_>>(), &root);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    (root, stdout)
}

#[test]
fn hosted_urpc_quick_writes_well_formed_results() {
    let (root, stdout) = run_ok("urpc", "exp urpc --hosted --quick --cores 2");
    assert!(!stdout.contains("@flotilla/1"), "{stdout}");
    let last = stdout.lines().last().unwrap();
    let ratio = last
        .strip_prefix("urpc one-way / raw one-way = ")
        .unwrap_or_else(|| panic!("last line: {last}"));
    assert!(
        ratio.parse::<f64>().is_ok() && ratio.split('.').nth(1).map(str::len) == Some(2),
        "{last}"
    );
    assert!(stdout.contains("Multikernel Table 2"), "{stdout}");

    let dir = run_dir(&root, "urpc");
    let (header, rows) = csv(&dir.join("urpc.csv"));
    assert_eq!(rows.len(), 6, "two ordered pairs, three variants each");
    for r in &rows {
        assert_eq!(column(&header, r, "ring"), "hosted");
        assert_eq!(column(&header, r, "cores"), "2");
        assert!(column(&header, r, "rtt_median").parse::<u64>().is_ok());
        let tput = column(&header, r, "tput_msgs_per_kcycle");
        match column(&header, r, "variant") {
            "raw" | "ack" | "used" => assert!(tput.parse::<f64>().is_ok(), "{r:?}"),
            other => panic!("variant {other}"),
        }
    }
    assert!(
        stdout.contains("raw stream over the same lines"),
        "{stdout}"
    );
    let m = meta(&dir);
    assert_eq!(m["experiment"], "urpc");
    assert_eq!(m["ring"], "hosted");
    assert_eq!(m["quick"], true);
    assert_eq!(m["cores"], serde_json::json!([2]));
    assert!(m["tsc_hz"][0]["tsc_hz"].as_u64().unwrap() > 0);
    assert!(!m["git_revision"].as_str().unwrap().is_empty());
    assert!(!m["host_cpu"].as_str().unwrap().is_empty());
    let svg = std::fs::read_to_string(dir.join("urpc.svg")).unwrap();
    assert!(
        svg.starts_with("<svg") && svg.contains("URPC, ack line"),
        "{svg}"
    );
    let log = std::fs::read_to_string(dir.join("records.log")).unwrap();
    assert!(
        log.lines()
            .all(|l| l.starts_with("[core ") && l.contains(" @flotilla/1 "))
    );
    assert_eq!(log.lines().filter(|l| l.contains(" urpc-pair ")).count(), 6);
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn hosted_update_cost_sweep_writes_a_row_per_point() {
    let (root, stdout) = run_ok(
        "update",
        "exp update-cost --hosted --quick --cores 1,2 --args updates=500",
    );
    assert!(stdout.contains("Multikernel Figure 3"), "{stdout}");
    let dir = run_dir(&root, "update-cost");
    let (header, rows) = csv(&dir.join("update-cost.csv"));
    // 1 core: SHM 1,2,4,8, atomic, lock; 2 cores: those and MSG 1,8
    // client and server.
    assert_eq!(rows.len(), 6 + 10, "{rows:?}");
    let labels: Vec<&str> = rows.iter().map(|r| column(&header, r, "label")).collect();
    for l in ["SHM1", "SHM8 lock", "MSG8 client", "MSG1 server"] {
        assert!(labels.contains(&l), "{l} missing from {labels:?}");
    }
    let m = meta(&dir);
    assert_eq!(m["cores"], serde_json::json!([1, 2]));
    assert_eq!(m["skips"].as_array().unwrap().len(), 2, "MSG on one core");
    let checks = m["checks"].as_array().unwrap();
    assert_eq!(checks.len(), 2 + 4);
    assert!(
        checks
            .iter()
            .all(|c| c["conserved"] == true && c["sent"] == c["applied"])
    );
    let svg = std::fs::read_to_string(dir.join("update-cost.svg")).unwrap();
    for name in ["SHM1", "SHM8 atomic", "MSG8 server", "cores"] {
        assert!(svg.contains(name), "{name} missing");
    }
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn hosted_records_flag_prints_the_lines_of_each_run() {
    let (root, stdout) = run_ok(
        "hosted-records",
        "exp update-cost --hosted --quick --cores 1 --args updates=500 -v",
    );
    assert!(
        stdout.contains("update-cost on 1 core, hosted:")
            && stdout.contains("[core 0] @flotilla/1 exp-start exp=update-cost"),
        "{stdout}"
    );
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn bad_requests_exit_2_and_say_why() {
    let root = scratch("bad");
    for (args, why) in [
        (&["exp", "nope", "--hosted"][..], "unknown experiment"),
        (
            &["exp", "urpc", "--hosted", "--args", "k=1"][..],
            "does not apply",
        ),
        (
            &["exp", "urpc", "--hosted", "--cores", "1"][..],
            "at least 2 cores",
        ),
    ] {
        let out = flotilla(args, &root);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(why), "{args:?}: {stderr}");
    }
    assert!(!root.join("results").exists());
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn hosted_locks_and_barriers_write_results_with_their_checks_and_anchors() {
    for (exp, args, rows, anchor) in [
        ("locks", "acquisitions=320", 10 + 12, "ffwd"),
        ("barriers", "episodes=320", 8 + 8, "4-ary arrival"),
    ] {
        let (root, stdout) = run_ok(
            exp,
            &format!("exp {exp} --hosted --quick --cores 1,2 --args {args}"),
        );
        assert!(stdout.contains(anchor), "{stdout}");
        assert!(stdout.contains("0 violations"), "{stdout}");
        let dir = run_dir(&root, exp);
        let (header, body) = csv(&dir.join(format!("{exp}.csv")));
        assert_eq!(body.len(), rows, "{body:?}");
        assert!(
            body.iter()
                .any(|r| column(&header, r, "kind") == "messages")
        );
        let m = meta(&dir);
        assert_eq!(m["experiment"], exp);
        assert_eq!(m["sync_checks"].as_array().unwrap().len(), rows);
        let svg = std::fs::read_to_string(dir.join(format!("{exp}.svg"))).unwrap();
        assert!(svg.contains("msg-"), "{exp}: no message series in the plot");
        std::fs::remove_dir_all(&root).unwrap();
    }
}

#[test]
fn hosted_consistency_writes_a_history_per_run_for_the_checker() {
    let (root, stdout) = run_ok(
        "consistency",
        "exp consistency --hosted --quick --cores 1,2 --models lin,eventual --args ops=40",
    );
    assert!(
        stdout.contains("check model=lin cores=2 ops=80 linearizable="),
        "{stdout}"
    );
    assert!(stdout.contains("fastest model: 1 cores "), "{stdout}");
    assert!(stdout.contains("Calciu") && stdout.contains("Porcupine"));
    let dir = run_dir(&root, "consistency");
    let (header, rows) = csv(&dir.join("consistency.csv"));
    assert_eq!(rows.len(), 4, "two core counts, two models");
    for r in &rows {
        assert_eq!(column(&header, r, "converged"), "1");
        let cores: u64 = column(&header, r, "cores").parse().unwrap();
        let model = column(&header, r, "model");
        assert_eq!(column(&header, r, "ops"), (40 * cores).to_string());
        let (h, ops) = csv(&dir.join(format!("history-{model}-{cores}.csv")));
        assert_eq!(h, ["core", "op", "key", "value", "invoke", "response"]);
        assert_eq!(ops.len() as u64, 40 * cores);
        assert!(ops.iter().all(|o| o[1] == "read" || o[1] == "write"));
    }
    let m = meta(&dir);
    assert!(m["tsc_skew_cycles"].as_u64().is_some(), "{m}");
    assert_eq!(m["consistency"].as_array().unwrap().len(), 4);
    assert!(
        m["files"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!("history-eventual-2.csv"))
    );
    let svg = std::fs::read_to_string(dir.join("consistency.svg")).unwrap();
    assert!(svg.contains("lin write") && svg.contains("eventual read"));
    std::fs::remove_dir_all(&root).unwrap();
}
