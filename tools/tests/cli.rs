//! The `flotilla` command line, run as a user runs it.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::{FLOTILLA, flotilla, one_at_a_time as slot, text};

#[test]
fn boot_8_cores_shows_people_lines_and_ends_with_the_verdict_line() {
    let out = flotilla(&["boot", "--cores", "8", "--accel", "tcg"]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    assert_eq!(stdout.lines().last(), Some("booted 8/8 cores"), "{stdout}");
    assert!(!stdout.contains("@flotilla/1"), "{stdout}");
    let header = "time: seconds since QEMU started";
    assert_eq!(stdout.matches(header).count(), 1, "{stdout}");
    for core in 0..8 {
        let up = format!(" core {core} up (apic {core}, node 0)");
        let line = stdout.lines().find(|l| l.ends_with(&up));
        let line = line.unwrap_or_else(|| panic!("core {core} missing from\n{stdout}"));
        assert!(line.starts_with("+0.") || line.starts_with("+1"), "{line}");
        assert!(
            stdout.contains(&format!(" monitor {core} up")),
            "monitor {core} missing from\n{stdout}"
        );
    }
    assert!(
        stdout.contains(" mesh complete: 28 channels in "),
        "{stdout}"
    );
}

#[test]
fn records_flag_echoes_every_record_as_printed() {
    for flag in ["--records", "-v", "--verbose"] {
        let out = flotilla(&["boot", "--cores", "2", "--accel", "tcg", flag]);
        let stdout = text(&out.stdout);
        assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
        assert_eq!(stdout.lines().last(), Some("booted 2/2 cores"), "{stdout}");
        for core in 0..2 {
            let up = format!("  [core {core}] @flotilla/1 core-up apic={core} node=0 ");
            let line = stdout.lines().find(|l| l.contains(&up));
            let line = line.unwrap_or_else(|| panic!("{flag}: core {core} missing:\n{stdout}"));
            assert!(line.starts_with('+'), "{line}");
        }
        assert!(!stdout.contains(" core 0 up (apic"), "{flag}: {stdout}");
    }
}

#[test]
fn a_failing_boot_exits_non_zero_and_names_the_core() {
    let out = flotilla(&[
        "boot", "--cores", "2", "--accel", "tcg", "--test", "ap-panic", "-q",
    ]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        !stdout.contains("time: ") && !stdout.lines().any(|l| l.starts_with('+')),
        "--quiet echoes nothing of the serial:\n{stdout}"
    );
    let last = stdout.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("boot failed (1/2 cores up): core 1 panicked"),
        "{stdout}"
    );
    assert!(
        text(&out.stderr).contains("Reproduce with:"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn missing_qemu_says_how_to_install_it() {
    let empty = std::env::temp_dir().join(format!("flotilla-no-qemu-{}", std::process::id()));
    std::fs::create_dir_all(&empty).unwrap();
    let out = Command::new(FLOTILLA)
        .args(["boot", "--cores", "2"])
        .env("PATH", &empty)
        .env_remove("FLOTILLA_QEMU")
        .output()
        .expect("run flotilla");
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("qemu-system-x86_64 was not found"),
        "{stderr}"
    );
    assert!(
        stderr.contains("sudo apt-get install -y qemu-system-x86"),
        "{stderr}"
    );
}

#[test]
fn unknown_test_is_refused_before_booting() {
    let out = flotilla(&["boot", "--test", "no-such-test"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("unknown test 'no-such-test'"));
}

#[test]
fn numa_on_microvm_is_refused_with_advice() {
    let out = flotilla(&["boot", "--cores", "4", "--numa", "2"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("q35"), "{stderr}");
}

/// Runs `flotilla args` where neither QEMU nor cargo can be found, so that
/// only what the command refuses before starting anything can succeed.
fn flotilla_without_qemu(args: &[&str]) -> std::process::Output {
    let empty = std::env::temp_dir().join(format!("flotilla-empty-path-{}", std::process::id()));
    std::fs::create_dir_all(&empty).unwrap();
    Command::new(FLOTILLA)
        .args(args)
        .env("PATH", &empty)
        .env_remove("FLOTILLA_QEMU")
        .stdin(Stdio::null())
        .output()
        .expect("run flotilla")
}

#[test]
fn more_than_255_cores_under_tcg_are_refused_before_qemu_starts() {
    let cases: [&[&str]; 3] = [
        &["boot", "--cores", "256", "--accel", "tcg"],
        &["bench-boot", "--cores", "2,256", "--accel", "tcg"],
        &[
            "exp",
            "update-cost",
            "--quick",
            "--cores",
            "1,256",
            "--accel",
            "tcg",
        ],
    ];
    for args in cases {
        let out = flotilla_without_qemu(args);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains("cannot run under TCG"),
            "{args:?}: {stderr}"
        );
        assert!(stderr.contains("at most 255 vCPUs"), "{args:?}: {stderr}");
        assert!(stderr.contains("--accel kvm"), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(!stderr.contains("was not found"), "{args:?}: {stderr}");
    }
}

#[test]
fn auto_is_checked_after_it_resolves() {
    if qemu::detect_accel(qemu::Accel::Auto).accel != qemu::ResolvedAccel::Tcg {
        eprintln!("skipped: --accel auto picks KVM on this host");
        return;
    }
    let out = flotilla_without_qemu(&["boot", "--cores", "256"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("256 cores cannot run under TCG (--accel auto chose TCG on this host)"),
        "{stderr}"
    );
}

#[test]
fn append_log_replaces_the_default_log_level_once() {
    let out = flotilla(&["boot", "--append", "log=debug", "--dry-run"]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    let command = stdout.lines().last().unwrap_or_default();
    assert!(command.contains(" -append 'log=debug"), "{command}");
    assert_eq!(command.matches("log=").count(), 1, "{command}");
}

#[test]
fn a_log_flag_that_contradicts_append_is_refused_naming_both() {
    let out = flotilla_without_qemu(&["boot", "--log", "info", "--append", "log=debug"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("--log info conflicts with --append log=debug"),
        "{stderr}"
    );
    let out = flotilla_without_qemu(&["boot", "--append", "log=debug log=info"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("option 'log' is given twice"), "{stderr}");
}

/// The `-cpu` values of the QEMU command that `flotilla boot args --dry-run`
/// prints, and everything it printed.
fn dry_run_cpu(args: &[&str]) -> (Vec<String>, String) {
    let mut all = vec!["boot", "--dry-run"];
    all.extend_from_slice(args);
    let out = flotilla(&all);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    let command = stdout.lines().last().unwrap_or_default();
    let words: Vec<&str> = command.split(' ').collect();
    let models = words
        .windows(2)
        .filter(|w| w[0] == "-cpu")
        .map(|w| w[1].to_owned())
        .collect();
    (models, stdout)
}

#[test]
fn cpu_model_reaches_the_qemu_command_line() {
    let (models, stdout) = dry_run_cpu(&["--accel", "tcg", "--cpu", "Skylake-Client"]);
    assert_eq!(models, ["Skylake-Client"], "{stdout}");
    assert!(stdout.contains("CPU Skylake-Client, tcg"), "{stdout}");
    assert!(!stdout.contains("note:"), "{stdout}");
    let (models, stdout) = dry_run_cpu(&["--accel", "tcg"]);
    assert_eq!(models, ["max"], "{stdout}");
}

#[test]
fn cpu_model_under_kvm_is_kept_with_a_note() {
    let (models, stdout) = dry_run_cpu(&["--accel", "kvm", "--cpu", "Skylake-Client"]);
    assert_eq!(models, ["Skylake-Client"], "{stdout}");
    assert!(
        stdout.contains("note: under KVM") && stdout.contains("`-cpu Skylake-Client` as asked"),
        "{stdout}"
    );
    let (models, stdout) = dry_run_cpu(&["--accel", "kvm"]);
    assert_eq!(models, ["host,-arch-capabilities"], "{stdout}");
    assert!(!stdout.contains("note:"), "{stdout}");
}

#[test]
fn the_guest_runs_the_cpu_model_asked_for() {
    let out = flotilla(&[
        "boot",
        "--cores",
        "1",
        "--accel",
        "tcg",
        "--cpu",
        "Skylake-Client",
        "-q",
    ]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    let row = stdout
        .lines()
        .find(|l| l.trim_start().starts_with("0 "))
        .unwrap_or_else(|| panic!("no row for core 0 in\n{stdout}"));
    // `max` has 5-level paging; Skylake-Client does not.
    assert!(row.contains("avx2") && !row.contains("la57"), "{row}");
}

#[test]
fn a_cpu_model_with_spaces_is_refused() {
    let out = flotilla_without_qemu(&["boot", "--cpu", "Skylake Client"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("must be one word"), "{stderr}");
}

/// Kills the child if the test fails before it ends.
struct Reaper(Child);

impl Drop for Reaper {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn gdb_waits_for_a_debugger_and_says_how_to_attach() {
    let _slot = slot();
    let mut child = Reaper(
        Command::new(FLOTILLA)
            .args(["boot", "--cores", "2", "--accel", "tcg", "--gdb", "-q"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("run flotilla"),
    );
    let stdout = child.0.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(600);
    while !seen
        .iter()
        .any(|l: &String| l.contains("target remote :1234"))
    {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => seen.push(line),
            Err(_) => panic!("no attach instructions in:\n{}", seen.join("\n")),
        }
    }
    let connect_deadline = Instant::now() + Duration::from_secs(60);
    let mut gdb = loop {
        match TcpStream::connect(("127.0.0.1", 1234)) {
            Ok(s) => break s,
            Err(e) if Instant::now() < connect_deadline => {
                let _ = e;
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(e) => panic!("cannot reach the gdb stub: {e}"),
        }
    };
    // GDB remote protocol: `c` (continue), checksum 0x63.
    gdb.write_all(b"$c#63").unwrap();
    // The reader thread ends when flotilla closes its stdout, at exit.
    let mut rest = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => rest.push(line),
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) => panic!("the run did not end after continue"),
        }
    }
    let status = child.0.wait().unwrap();
    assert!(status.success(), "{}\n{}", seen.join("\n"), rest.join("\n"));
    assert_eq!(rest.last().map(String::as_str), Some("booted 2/2 cores"));
}
