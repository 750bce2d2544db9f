//! The runner against fake QEMU processes: shell scripts that print lines and
//! exit with chosen statuses. No QEMU and no kernel image are needed.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use qemu::{
    Accel, ExitCode, Launch, LaunchError, Outcome, Qemu, QemuConfig, WaitError, decide_accel,
    qemu_args,
};

const LONG: Duration = Duration::from_secs(10);

/// A launch that runs `script` with `/bin/sh -c` instead of QEMU.
fn sh(script: &str) -> Launch {
    Launch {
        program: PathBuf::from("/bin/sh"),
        args: vec!["-c".into(), script.into()],
        accel: decide_accel(Accel::Tcg, "", false),
        timeout: Some(LONG),
        kernel: PathBuf::from("/dev/null"),
        gdb: false,
    }
}

fn start(script: &str) -> Qemu {
    sh(script).start().expect("start /bin/sh")
}

fn texts(run: &Qemu) -> Vec<String> {
    run.lines().iter().map(|l| l.text.clone()).collect()
}

/// `PF_EXITING` in `/proc/PID/stat`: the process has begun to exit.
const PF_EXITING: u64 = 0x4;

/// Whether process `pid` is gone, a zombie, or already exiting (a killed
/// process closes its files before it turns into a zombie).
fn gone(pid: u32) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return true;
    };
    let Some((_, rest)) = stat.rsplit_once(") ") else {
        return true;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let state = fields[0];
    let flags: u64 = fields[6].parse().unwrap();
    state == "Z" || state == "X" || flags & PF_EXITING != 0
}

#[test]
fn marker_found() {
    let mut run = start("echo boot; echo '[core 0] INFO all cores up'; echo after; exit 33");
    let line = run
        .wait_for_marker("all cores up", LONG)
        .expect("marker printed");
    assert_eq!(line.text, "[core 0] INFO all cores up");
    assert_eq!(run.wait_exit(LONG), Outcome::Exit(ExitCode::Pass));
    assert_eq!(texts(&run), ["boot", "[core 0] INFO all cores up", "after"]);
    assert!(run.outcome().unwrap().is_pass());
}

#[test]
fn marker_on_a_last_line_without_newline_is_found() {
    let mut run = start("printf 'no newline READY'; exit 35");
    let line = run.wait_for_marker("READY", LONG).unwrap();
    assert_eq!(line.text, "no newline READY");
}

#[test]
fn marker_never_printed_and_qemu_exits() {
    let mut run = start("echo one; echo two; exit 35");
    let err = run.wait_for_marker("READY", LONG).unwrap_err();
    assert_eq!(
        err,
        WaitError::Exited {
            what: "`READY`".into(),
            outcome: Outcome::Exit(ExitCode::Fail),
        }
    );
    assert_eq!(err.outcome(), Outcome::Exit(ExitCode::Fail));
    assert!(err.to_string().contains("failed check"), "{err}");
    assert_eq!(texts(&run), ["one", "two"]);
}

#[test]
fn waits_consume_lines_in_order() {
    let mut run = start("echo a; echo b; echo a; exit 33");
    assert_eq!(run.wait_for_marker("a", LONG).unwrap().text, "a");
    assert_eq!(run.wait_for_marker("b", LONG).unwrap().text, "b");
    let second_a = run.wait_for_marker("a", LONG).unwrap();
    assert_eq!(second_a, run.lines()[2]);
    assert!(matches!(
        run.wait_for_marker("b", LONG),
        Err(WaitError::Exited { .. })
    ));
}

#[test]
fn wait_timeout_kills_qemu() {
    let mut run = start("echo started; exec sleep 30");
    let pid = run.pid();
    run.wait_for_marker("started", LONG).unwrap();
    let err = run
        .wait_for_marker("never", Duration::from_millis(200))
        .unwrap_err();
    assert!(
        matches!(&err, WaitError::Timeout { what, .. } if what == "`never`"),
        "{err:?}"
    );
    assert!(err.to_string().contains("QEMU was killed"), "{err}");
    assert_eq!(run.outcome(), Some(&Outcome::TimedOut));
    assert!(gone(pid), "QEMU (pid {pid}) still runs after the timeout");
    assert_eq!(texts(&run), ["started"]);
}

#[test]
fn overall_timeout_bounds_every_wait() {
    let mut launch = sh("echo started; exec sleep 30");
    launch.timeout = Some(Duration::from_millis(200));
    let mut run = launch.start().unwrap();
    let pid = run.pid();
    assert_eq!(run.wait_exit(Duration::from_secs(60)), Outcome::TimedOut);
    assert!(gone(pid));
    assert!(matches!(
        run.wait_for_marker("started", LONG),
        Ok(line) if line.text == "started"
    ));
}

#[test]
fn exit_statuses_are_decoded() {
    let cases = [
        ("exit 0", Outcome::Reset),
        ("exit 33", Outcome::Exit(ExitCode::Pass)),
        ("exit 35", Outcome::Exit(ExitCode::Fail)),
        ("exit 37", Outcome::Exit(ExitCode::Panic)),
        ("exit 39", Outcome::Exit(ExitCode::Fault)),
        (
            "echo 'qemu-system-x86_64: -smp 0: bad' >&2; exit 1",
            Outcome::QemuError {
                status: 1,
                stderr: "qemu-system-x86_64: -smp 0: bad\n".into(),
            },
        ),
        (
            "exit 7",
            Outcome::QemuError {
                status: 7,
                stderr: String::new(),
            },
        ),
        ("kill -SEGV $$", Outcome::Signal(libc::SIGSEGV)),
    ];
    for (script, expected) in cases {
        let mut run = start(script);
        assert_eq!(run.wait_exit(LONG), expected, "{script}");
    }
}

#[test]
fn whole_log_and_stderr_are_collected() {
    let script = "i=0; while [ $i -lt 2000 ]; do echo \"[core 0] line $i\"; i=$((i+1)); done; \
                  printf 'crlf\\r\\n'; echo 'warning: x' >&2; exit 33";
    let mut run = start(script);
    assert_eq!(run.wait_exit(LONG), Outcome::Exit(ExitCode::Pass));
    let lines = run.lines();
    assert_eq!(lines.len(), 2001);
    for (i, line) in lines[..2000].iter().enumerate() {
        assert_eq!(line.text, format!("[core 0] line {i}"));
    }
    assert_eq!(lines[2000].text, "crlf");
    assert!(lines.windows(2).all(|w| w[0].at <= w[1].at));
    assert_eq!(run.stderr(), "warning: x\n");
    assert!(run.serial_complete());
}

#[test]
fn observer_sees_every_line_in_order() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&seen);
    let mut run = sh("for w in alpha beta gamma delta; do echo $w; done; exit 33")
        .start_with_observer(move |line| sink.lock().unwrap().push(line.text.clone()))
        .unwrap();
    assert_eq!(run.wait_exit(LONG), Outcome::Exit(ExitCode::Pass));
    assert_eq!(*seen.lock().unwrap(), ["alpha", "beta", "gamma", "delta"]);
    assert_eq!(*seen.lock().unwrap(), texts(&run));
}

#[test]
fn drop_kills_a_running_qemu() {
    let mut run = start("echo up; exec sleep 30");
    let pid = run.pid();
    run.wait_for_marker("up", LONG).unwrap();
    assert!(!gone(pid));
    drop(run);
    assert!(gone(pid), "QEMU (pid {pid}) outlived its handle");
}

#[test]
fn kill_stops_a_running_qemu() {
    let mut run = start("exec sleep 30");
    let pid = run.pid();
    assert_eq!(run.kill(), Outcome::Killed);
    assert!(gone(pid));
    assert_eq!(run.kill(), Outcome::Killed, "killing twice is harmless");
}

#[test]
fn leftover_children_are_killed_with_qemu() {
    // The background sleep keeps stdout open; the serial stream only ends
    // promptly if the whole process group is killed when QEMU exits.
    let mut run = start("sleep 30 & echo \"bg $!\"; exit 35");
    assert_eq!(run.wait_exit(LONG), Outcome::Exit(ExitCode::Fail));
    assert!(
        run.serial_complete(),
        "something still holds the serial pipe"
    );
    let bg: u32 = run.lines()[0].text["bg ".len()..].parse().unwrap();
    assert!(gone(bg), "background child {bg} survived");
}

#[test]
fn records_are_collected_and_awaited() {
    let mut run = start(
        "echo '[core 0] INFO hello'; echo '[core 1] @flotilla/1 core-up apic=0x1 node=0'; \
         echo '[core 1] [domain x] @flotilla/1 monitor-done ok=0'; \
         echo '[core 0] [boot monitor] @flotilla/1 monitor-done ok=1'; exit 33",
    );
    let done = run.wait_for_record("monitor-done", LONG).unwrap();
    assert_eq!(
        done.get_u64("ok"),
        Some(1),
        "a forged record is not awaited"
    );
    run.wait_exit(LONG);
    let records = run.records();
    assert_eq!(records.len(), 2);
    assert_eq!(records[0].kind, "core-up");
    assert_eq!(records[0].core, 1);
    assert_eq!(records[0].get_u64("apic"), Some(1));
}

#[test]
fn failure_report_of_a_real_run() {
    let mut run = start("echo '[core 0] boom'; echo 'qemu: oops' >&2; exit 37");
    assert_eq!(run.wait_exit(LONG), Outcome::Exit(ExitCode::Panic));
    let report = run.failure_report("boot 1 core");
    assert!(report.starts_with("FAILED: boot 1 core\n"), "{report}");
    assert!(report.contains("A core panicked"), "{report}");
    assert!(report.contains("s] [core 0] boom\n"), "{report}");
    assert!(report.contains("qemu: oops"), "{report}");
    assert!(report.contains("  /bin/sh -c '"), "{report}");
}

#[test]
fn poll_collects_without_blocking() {
    let mut run = start("echo x; exit 33");
    assert_eq!(run.wait_exit(LONG), Outcome::Exit(ExitCode::Pass));
    assert_eq!(run.poll(), Some(&Outcome::Exit(ExitCode::Pass)));
    let mut running = start("exec sleep 30");
    assert_eq!(running.poll(), None);
}

fn write_script(dir: &Path, name: &str, body: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

#[test]
fn config_runs_the_overridden_binary_with_the_built_arguments() {
    let dir = tempfile::tempdir().unwrap();
    let kernel = dir.path().join("kernel.elf");
    std::fs::write(&kernel, b"\x7fELF").unwrap();
    let fake = write_script(dir.path(), "fake-qemu", "printf '%s\\n' \"$@\"; exit 33");
    let config = QemuConfig::new(&kernel)
        .accel(Accel::Tcg)
        .cores(2)
        .append("log=debug mode=quick")
        .qemu_binary(&fake);
    let mut run = Qemu::start(&config).unwrap();
    assert_eq!(run.wait_end(), Outcome::Exit(ExitCode::Pass));
    let expected = qemu_args(&config, qemu::ResolvedAccel::Tcg);
    assert_eq!(texts(&run), expected);
    assert!(
        run.command_line()
            .contains("-append 'log=debug mode=quick'"),
        "{}",
        run.command_line()
    );
}

#[test]
fn missing_qemu_is_a_typed_error_with_the_install_command() {
    let dir = tempfile::tempdir().unwrap();
    let kernel = dir.path().join("kernel.elf");
    std::fs::write(&kernel, b"").unwrap();
    let config = QemuConfig::new(&kernel).qemu_binary(dir.path().join("no-such-qemu"));
    let err = Qemu::start(&config).unwrap_err();
    assert!(matches!(err, LaunchError::QemuNotFound(_)), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("qemu-system-x86_64 was not found"), "{text}");
    assert!(
        text.contains("sudo apt-get install -y qemu-system-x86"),
        "{text}"
    );
}

#[test]
fn invalid_config_is_refused_before_starting() {
    let config = QemuConfig::new("/nonexistent/kernel.elf").qemu_binary("/bin/true");
    assert!(matches!(
        Qemu::start(&config),
        Err(LaunchError::Config(qemu::ConfigError::KernelNotFound(_)))
    ));
}

#[test]
fn gdb_launch_has_no_timeout_and_explains_how_to_attach() {
    let dir = tempfile::tempdir().unwrap();
    let kernel = dir.path().join("kernel.elf");
    std::fs::write(&kernel, b"").unwrap();
    let config = QemuConfig::new(&kernel)
        .accel(Accel::Tcg)
        .gdb(true)
        .qemu_binary("/bin/true");
    let launch = Launch::prepare(&config).unwrap();
    assert_eq!(launch.timeout, None);
    assert!(launch.args.ends_with(&["-s".into(), "-S".into()]));
    let how = launch.gdb_instructions().unwrap();
    assert!(how.contains("target remote :1234"), "{how}");
}
