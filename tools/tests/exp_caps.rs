//! `flotilla exp caps` (E4) as a user runs it, hosted and in ring 3: the
//! message counts keep their promises, RAM is conserved, and a broken
//! protocol fails the run.

mod common;

use std::path::Path;

use common::{flotilla_in as flotilla, meta, run_dir, scratch, text};

/// The rows of a CSV, each as `(column, value)` pairs.
fn rows(path: &Path) -> Vec<Vec<(String, String)>> {
    let body = std::fs::read_to_string(path).unwrap();
    let mut lines = body.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    lines
        .map(|l| {
            let cells: Vec<&str> = l.split(',').collect();
            assert_eq!(cells.len(), header.len(), "{l}");
            header
                .iter()
                .zip(cells)
                .map(|(h, c)| ((*h).to_owned(), c.to_owned()))
                .collect()
        })
        .collect()
}

fn get<'a>(row: &'a [(String, String)], key: &str) -> &'a str {
    &row.iter().find(|(k, _)| k == key).unwrap().1
}

fn num(row: &[(String, String)], key: &str) -> u64 {
    get(row, key).parse().unwrap()
}

/// Checks the result files of a run on `cores`.
fn check_results(dir: &Path, cores: &[u64]) {
    let caps = rows(&dir.join("caps.csv"));
    assert_eq!(caps.len(), cores.len() * 6, "{caps:?}");
    for row in &caps {
        let (n, r) = (num(row, "cores"), num(row, "r"));
        let messages = num(row, "messages_max");
        assert!(messages <= num(row, "bound"), "{row:?}");
        match get(row, "variant") {
            // The targeted protocol's cost does not grow with the cores.
            "targeted" => assert!(messages <= 2 * r + 2, "{row:?}"),
            _ if n > 1 && get(row, "op") == "revoke" => {
                assert_eq!(messages, 2 + 4 * (n - 1), "{row:?}")
            }
            _ => {}
        }
    }
    let ram = rows(&dir.join("ram.csv"));
    assert_eq!(ram.len(), cores.len() * 2, "{ram:?}");
    for row in &ram {
        assert_eq!(get(row, "conserved"), "1", "{row:?}");
        assert_eq!(num(row, "total"), num(row, "end"), "{row:?}");
        if get(row, "series") == "msg" && num(row, "cores") > 1 {
            assert!(num(row, "borrowed") > 0, "{row:?}");
        }
    }
    let m = meta(dir);
    assert_eq!(m["experiment"], "caps");
    for file in [
        "caps.csv",
        "caps.svg",
        "caps-cycles.svg",
        "ram.csv",
        "records.log",
    ] {
        assert!(dir.join(file).exists(), "{file}");
        assert!(
            m["files"].as_array().unwrap().iter().any(|f| f == file),
            "{file} not in meta.json"
        );
    }
}

#[test]
fn hosted_caps_keeps_the_message_bounds_and_conserves_ram() {
    let root = scratch("caps");
    let out = flotilla(
        &[
            "exp", "caps", "--hosted", "--quick", "--cores", "1,3", "--args", "reps=4",
        ],
        &root,
    );
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    assert!(stdout.contains("4(N−1)"), "{stdout}");
    assert!(stdout.contains("2R + 1"), "{stdout}");
    assert!(stdout.contains("0 violations"), "{stdout}");
    assert!(
        stdout.contains("revoke: broadcast sends 10 messages to targeted's 6"),
        "{stdout}"
    );
    check_results(&run_dir(&root, "caps"), &[1, 3]);
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn hosted_caps_with_a_silent_monitor_abandons_and_restores() {
    let root = scratch("caps-silent");
    let out = flotilla(
        &[
            "exp",
            "caps",
            "--hosted",
            "--quick",
            "--cores",
            "3",
            "--args",
            "reps=2,cap-ops=retype,ram=global,silent=2",
        ],
        &root,
    );
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    for variant in ["targeted", "broadcast"] {
        assert!(
            stdout.contains(&format!(
                "core 2 silent ({variant}): 2 of 2 revokes abandoned"
            )),
            "{stdout}"
        );
    }
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn hosted_caps_fails_when_a_protocol_is_broken() {
    for (broken, says) in [
        ("revoke-skips", "targeted revoke on 3 cores"),
        ("ram-keeps", "a message protocol refused"),
    ] {
        let root = scratch("caps-broken");
        let args = format!("broken={broken},reps=3");
        let out = flotilla(
            &[
                "exp", "caps", "--hosted", "--quick", "--cores", "3", "--args", &args,
            ],
            &root,
        );
        let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
        assert!(!out.status.success(), "{broken}: {stdout}");
        assert!(
            stderr.contains(says) || stdout.contains(says),
            "{broken}: {stderr}"
        );
        std::fs::remove_dir_all(&root).ok();
    }
}

#[test]
fn caps_quick_in_ring_3_under_tcg() {
    let root = scratch("caps-ring3");
    let out = flotilla(
        &[
            "exp", "caps", "--quick", "--cores", "1,2", "--accel", "tcg", "--args", "reps=6",
        ],
        &root,
    );
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    let dir = run_dir(&root, "caps");
    assert_eq!(meta(&dir)["ring"], 3);
    check_results(&dir, &[1, 2]);
    std::fs::remove_dir_all(&root).unwrap();
}
