//! Booting an image and judging the run.
//!
//! A boot passes only when QEMU exits with the image's pass code *and* the
//! serial records agree: every core printed one `core-up` record, the boot
//! core printed `boot-done` for the same number of cores, and nothing
//! faulted or panicked. When the ring-3 programs run, every core's monitor
//! must also have come up (`monitor-up`) and finished (`monitor-done
//! ok=1`), and monitor 0 must have reported the full mesh
//! (`mesh-complete` with `n·(n−1)/2` channels). Otherwise the report says
//! which core failed and why, from the records (`core-timeout`, `fault`,
//! `panic`, `user-fault`, `monitor-error`, error lines) and from how QEMU
//! ended. A record printed by a program that does not own its kind
//! (`qemu::ownership`) does not count, and fails the run.

use std::collections::BTreeMap;
use std::time::Duration;

use qemu::runner::Observer;
use qemu::{
    AccelDecision, ConfigError, LaunchError, Outcome, OwnedRecord, Qemu, QemuConfig, ReadError,
    SerialLine, records,
};

/// One core's `core-up` record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CoreUp {
    /// Logical core id.
    pub core: u32,
    /// Local APIC id.
    pub apic: u32,
    /// NUMA node.
    pub node: u32,
    /// Whether the core drives its APIC in x2APIC mode.
    pub x2apic: bool,
    /// TSC cycles from kernel entry on the boot core to this core's main.
    pub main_cycles: u64,
    /// TSC cycles from kernel entry on the boot core to this core being up.
    pub up_cycles: u64,
    /// Cycles the core's timer self-check took.
    pub timer_cycles: u64,
    /// CPU features, comma separated.
    pub features: String,
}

/// The boot core's `boot-done` record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BootDone {
    /// Cores up.
    pub cores: u32,
    /// TSC cycles from kernel entry to the last core up.
    pub up_cycles: u64,
    /// The same in microseconds.
    pub up_us: u64,
    /// Cycles of the notification round to every other core.
    pub ipi_round_cycles: u64,
    /// The measured TSC frequency.
    pub tsc_hz: u64,
}

/// What a boot run showed.
#[derive(Debug)]
pub struct BootReport {
    /// Cores the machine was given.
    pub expected_cores: u32,
    /// How QEMU ended.
    pub outcome: Outcome,
    /// What the serial records showed: the cores, the mesh, the problems.
    pub analysis: Analysis,
    /// Every structured record.
    pub records: Vec<OwnedRecord>,
    /// The accelerator used, and why.
    pub accel: AccelDecision,
    /// The QEMU command line, shell quoted.
    pub command_line: String,
    /// The full failure report (serial log, stderr, reproduction command).
    pub failure_report: String,
}

impl BootReport {
    /// Whether the boot passed.
    pub fn passed(&self) -> bool {
        self.outcome.is_pass() && self.analysis.problems.is_empty()
    }

    /// The records of one kind.
    pub fn records_of<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a OwnedRecord> + 'a {
        self.records.iter().filter(move |r| r.kind == kind)
    }

    /// The closing line: `booted N/M cores`, or why the boot failed.
    pub fn verdict(&self) -> String {
        if self.passed() {
            format!(
                "booted {}/{} cores",
                self.analysis.cores.len(),
                self.expected_cores
            )
        } else {
            let why = self
                .analysis
                .problems
                .first()
                .cloned()
                .unwrap_or_else(|| self.outcome.to_string());
            format!(
                "boot failed ({}/{} cores up): {why}",
                self.analysis.cores.len(),
                self.expected_cores
            )
        }
    }
}

/// Checks `config` before anything is built or started: its shape (cores,
/// machine, NUMA nodes, memory) and the accelerator it resolves to on this
/// host, such as TCG's core limit. The kernel and initrd need not exist yet.
pub fn check(config: &QemuConfig) -> Result<AccelDecision, ConfigError> {
    config.validate_shape()?;
    config.resolve_accel()
}

/// Most cores a run with the ring-3 programs boots on this design. Monitor
/// 0 sends every monitor its part of the full mesh of `n·(n−1)/2` channels
/// at once, gathering the `n·(n−1)` messages in one vector of 72-byte
/// entries; past 32768 messages (182 cores) it doubles to 4.5 MiB while
/// the 2.25 MiB it grows from and the messages' other copies are still
/// live, more than the monitor's heap (`abi::HEAP_SIZE`, 8 MiB), and the
/// allocation fails. 181 cores boot (measured under TCG: the mesh
/// completes in 35 s).
pub const MAX_MONITOR_CORES: u32 = 181;

/// A run with monitors on more cores than [`MAX_MONITOR_CORES`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "{cores} cores with the ring-3 programs: monitor 0 sets up the full mesh of {channels} \
     channels at once, and above {MAX_MONITOR_CORES} cores its messages outgrow the monitor's \
     {heap_mib} MiB heap; boot at most {MAX_MONITOR_CORES} cores with monitors, or use \
     --kernel-only (the CPU drivers alone boot up to 255 cores under TCG)",
    channels = u64::from(*cores) * u64::from(cores.saturating_sub(1)) / 2,
    heap_mib = abi::HEAP_SIZE >> 20
)]
pub struct TooManyMonitors {
    /// The cores asked for.
    pub cores: u32,
}

/// Refuses a run with monitors on more cores than they can mesh
/// ([`MAX_MONITOR_CORES`]); `monitors` is whether the run has the ring-3
/// programs (an initrd).
pub fn check_monitors(cores: u32, monitors: bool) -> Result<(), TooManyMonitors> {
    if monitors && cores > MAX_MONITOR_CORES {
        return Err(TooManyMonitors { cores });
    }
    Ok(())
}

/// Boots `config`, passing every serial line to `echo` as it arrives, and
/// judges the run.
pub fn run(config: &QemuConfig, echo: Option<Observer>) -> Result<BootReport, LaunchError> {
    let launch = qemu::Launch::prepare(config)?;
    let mut qemu: Qemu = match echo {
        Some(observer) => launch.start_with_observer(observer)?,
        None => launch.start()?,
    };
    let outcome = qemu.wait_end();
    let test = |name: &str| config.append.split_whitespace().any(|w| w == name);
    // These scenarios end a test program with a deliberate ring-3 fault.
    let faults: &[&str] = if test("test=user-probe") {
        &["probe"]
    } else if test("test=caps") || test("test=caps-isolation") {
        &["captest"]
    } else if config
        .append
        .split_whitespace()
        .any(|w| w.starts_with("test=hostile-"))
    {
        &["domain hostile"]
    } else {
        &[]
    };
    let expect = Expect {
        cores: config.cores,
        monitors: config.initrd.is_some(),
        faults,
    };
    let analysis = analyse(&expect, &outcome, qemu.lines());
    let failure_report = qemu.failure_report(&format!("boot of {} cores", config.cores));
    Ok(BootReport {
        expected_cores: config.cores,
        outcome,
        analysis,
        records: records(qemu.lines()),
        accel: qemu.accel().clone(),
        command_line: qemu.command_line(),
        failure_report,
    })
}

/// What [`analyse`] finds in a run's serial output.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Analysis {
    /// The `core-up` records, by core id.
    pub cores: Vec<CoreUp>,
    /// The `boot-done` record.
    pub done: Option<BootDone>,
    /// Host time of the `boot-done` line.
    pub all_up_at: Option<Duration>,
    /// The TSC frequency from the `clocks` record.
    pub tsc_hz: Option<u64>,
    /// Cores whose monitor reported up.
    pub monitors: Vec<u32>,
    /// Channels and cycles of the completed mesh.
    pub mesh: Option<(u64, u64)>,
    /// Messages the monitors dropped.
    pub dropped: u64,
    /// Everything that went wrong.
    pub problems: Vec<String>,
}

fn field<'a>(r: &'a OwnedRecord, key: &str) -> &'a str {
    r.get(key).unwrap_or("?")
}

fn number(r: &OwnedRecord, key: &str) -> u64 {
    r.get_u64(key).unwrap_or(0)
}

fn core_up(r: &OwnedRecord) -> CoreUp {
    CoreUp {
        core: r.core,
        apic: number(r, "apic") as u32,
        node: number(r, "node") as u32,
        x2apic: r.get("x2apic") == Some("1"),
        main_cycles: number(r, "main_cycles"),
        up_cycles: number(r, "up_cycles"),
        timer_cycles: number(r, "timer_cycles"),
        features: field(r, "features").to_owned(),
    }
}

/// The text after `[core N] PANIC: ` on core `core`'s lines.
fn panic_message(lines: &[SerialLine], core: u32) -> Option<String> {
    let prefix = format!("[core {core}] PANIC: ");
    lines
        .iter()
        .find_map(|l| l.text.strip_prefix(&prefix).map(str::to_owned))
}

/// The last `PANIC in ring 3: ` message that program `program` printed on
/// core `core`.
fn ring3_panic_message(lines: &[SerialLine], core: u32, program: &str) -> Option<String> {
    lines.iter().rev().find_map(|l| {
        let (on, by, text) = boot::protocol::split_line(&l.text)?;
        if on != core || by?.name != program {
            return None;
        }
        text.strip_prefix("PANIC in ring 3: ").map(str::to_owned)
    })
}

fn list(cores: &[u32]) -> String {
    cores
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// What a run should show.
#[derive(Clone, Copy, Debug)]
pub struct Expect<'a> {
    /// Cores the machine has.
    pub cores: u32,
    /// Whether the ring-3 monitors run (the image has its initrd).
    pub monitors: bool,
    /// Programs whose ring-3 faults are part of the scenario: a name is a
    /// program the kernel loaded at boot, `domain NAME` a domain built from
    /// user level (the kernel's records say which, `domain=1`), so that no
    /// domain can have its faults excused by taking a test program's name.
    pub faults: &'a [&'a str],
}

impl Expect<'_> {
    /// A kernel-only run of `cores` cores.
    pub fn kernel(cores: u32) -> Expect<'static> {
        Expect {
            cores,
            monitors: false,
            faults: &[],
        }
    }
}

/// Judges a run from its serial lines and outcome.
pub fn analyse(expect: &Expect<'_>, outcome: &Outcome, lines: &[SerialLine]) -> Analysis {
    let expected = expect.cores;
    // Whether the program a kernel record names is one whose faults the
    // scenario expects.
    let fault_expected = |r: &OwnedRecord| {
        let name = field(r, "program");
        let who = if r.get("domain") == Some("1") {
            format!("domain {name}")
        } else {
            name.to_owned()
        };
        expect.faults.contains(&who.as_str())
    };
    let mut a = Analysis::default();
    let mut monitors_done: BTreeMap<u32, bool> = BTreeMap::new();
    let mut up: BTreeMap<u32, CoreUp> = BTreeMap::new();
    for line in lines {
        let r = match OwnedRecord::parse(&line.text) {
            Ok(r) => r,
            Err(ReadError::Forged(forged)) => {
                a.problems.push(forged.to_string());
                continue;
            }
            Err(ReadError::Malformed(_)) => {
                if let Some((core, None, rest)) = boot::protocol::split_line(&line.text)
                    && let Some(message) = rest.strip_prefix("ERROR ")
                {
                    a.problems.push(format!("core {core}: {}", message.trim()));
                }
                continue;
            }
        };
        match r.kind.as_str() {
            "clocks" => a.tsc_hz = r.get_u64("tsc_hz"),
            "monitor-up" => a.monitors.push(r.core),
            "mesh-complete" => a.mesh = Some((number(&r, "channels"), number(&r, "cycles"))),
            "dropped" => {}
            "monitor-done" => {
                monitors_done.insert(r.core, r.get("ok") == Some("1"));
                a.dropped += number(&r, "dropped");
            }
            "monitor-error" => a.problems.push(format!(
                "core {}: the monitor failed ({})",
                r.core,
                field(&r, "what")
            )),
            "core-up" => {
                let duplicate = up.insert(r.core, core_up(&r)).is_some();
                if duplicate {
                    a.problems
                        .push(format!("core {} reported up more than once", r.core));
                }
            }
            "boot-done" => {
                a.all_up_at = Some(line.at);
                a.done = Some(BootDone {
                    cores: number(&r, "cores") as u32,
                    up_cycles: number(&r, "up_cycles"),
                    up_us: number(&r, "up_us"),
                    ipi_round_cycles: number(&r, "ipi_round_cycles"),
                    tsc_hz: number(&r, "tsc_hz"),
                });
            }
            "core-timeout" => {
                let error = match field(&r, "error") {
                    "None" => String::new(),
                    e => format!(", error {e}"),
                };
                a.problems.push(format!(
                    "{}{error}",
                    r.fill(
                        "core {core} (APIC id {apic}) did not come up: it stopped at stage {stage}"
                    )
                ));
            }
            "fault" => a.problems.push(format!(
                "core {} took {}",
                r.core,
                r.fill("a {name} (vector {vector}) at rip {rip}, error code {error}, cr2 {cr2}")
            )),
            "user-fault" if !fault_expected(&r) => a.problems.push(format!(
                "core {}: {}",
                r.core,
                r.fill(
                    "program '{program}' took a fault (vector {vector}) at rip {rip}, cr2 {cr2}"
                )
            )),
            "user-killed" if !fault_expected(&r) => a.problems.push(format!(
                "core {}: {}",
                r.core,
                r.fill("program '{program}' was ended for a {reason} (rip {rip}, rsp {rsp})")
            )),
            // A domain's panic ends only the domain; expected, it is no
            // problem.
            "program-panic" if r.get("domain") == Some("1") && fault_expected(&r) => {}
            "program-panic" => {
                let message = ring3_panic_message(lines, r.core, field(&r, "program"))
                    .map_or_else(String::new, |m| format!(": {m}"));
                a.problems.push(format!(
                    "core {}: ring-3 program '{}' panicked at {}:{}{message}",
                    field(&r, "core"),
                    field(&r, "program"),
                    field(&r, "file"),
                    field(&r, "line")
                ));
            }
            "panic" => {
                let message = panic_message(lines, r.core)
                    .unwrap_or_else(|| format!("at {}:{}", field(&r, "file"), field(&r, "line")));
                a.problems
                    .push(format!("core {} panicked: {message}", r.core));
            }
            _ => {}
        }
    }
    a.cores = up.into_values().collect();

    let missing: Vec<u32> = (0..expected)
        .filter(|c| !a.cores.iter().any(|u| u.core == *c))
        .collect();
    let extra: Vec<u32> = a
        .cores
        .iter()
        .map(|u| u.core)
        .filter(|&c| c >= expected)
        .collect();
    if !extra.is_empty() {
        a.problems.push(format!(
            "core(s) {} reported up, but the machine has only {expected}",
            list(&extra)
        ));
    }
    match outcome {
        Outcome::TimedOut => a.problems.push(if missing.is_empty() {
            "timed out after every core came up, before the run ended".to_owned()
        } else {
            format!("timed out; core(s) {} never reported up", list(&missing))
        }),
        o if o.is_pass() => {
            if !missing.is_empty() {
                a.problems.push(format!(
                    "the run passed but core(s) {} never reported up",
                    list(&missing)
                ));
            }
            if expect.monitors {
                let n = u64::from(expected);
                let no_monitor: Vec<u32> =
                    (0..expected).filter(|c| !a.monitors.contains(c)).collect();
                if !no_monitor.is_empty() {
                    a.problems.push(format!(
                        "core(s) {} never started a monitor",
                        list(&no_monitor)
                    ));
                }
                match a.mesh {
                    Some((channels, _)) if channels == n * (n - 1) / 2 => {}
                    Some((channels, _)) => a.problems.push(format!(
                        "the mesh has {channels} channels; {expected} cores need {}",
                        n * (n - 1) / 2
                    )),
                    None => a.problems.push("the mesh never completed".to_owned()),
                }
                let unfinished: Vec<u32> = (0..expected)
                    .filter(|c| monitors_done.get(c) != Some(&true))
                    .collect();
                if !unfinished.is_empty() {
                    a.problems.push(format!(
                        "the monitor(s) of core(s) {} did not finish successfully",
                        list(&unfinished)
                    ));
                }
            }
            match a.done {
                None => a
                    .problems
                    .push("the run passed without a boot-done record".to_owned()),
                Some(done) if done.cores != expected => a.problems.push(format!(
                    "the kernel found {} cores, but the machine has {expected}",
                    done.cores
                )),
                Some(_) => {}
            }
        }
        other => {
            if a.problems.is_empty() {
                let tail = if missing.is_empty() {
                    String::new()
                } else {
                    format!("; core(s) {} never reported up", list(&missing))
                };
                a.problems.push(format!("{other}{tail}"));
            }
        }
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;
    use boot::protocol::ExitCode;

    #[test]
    fn more_cores_than_the_monitors_mesh_are_refused_with_what_works() {
        assert_eq!(check_monitors(2, true), Ok(()));
        assert_eq!(check_monitors(MAX_MONITOR_CORES, true), Ok(()));
        assert_eq!(check_monitors(255, false), Ok(()));
        let err = check_monitors(MAX_MONITOR_CORES + 1, true).unwrap_err();
        assert_eq!(err, TooManyMonitors { cores: 182 });
        let err = check_monitors(255, true).unwrap_err().to_string();
        assert!(
            err.starts_with("255 cores with the ring-3 programs"),
            "{err}"
        );
        assert!(err.contains("full mesh of 32385 channels"), "{err}");
        assert!(err.contains("8 MiB heap"), "{err}");
        assert!(err.contains("at most 181 cores with monitors"), "{err}");
        assert!(err.contains("--kernel-only"), "{err}");
    }

    fn lines(text: &[&str]) -> Vec<SerialLine> {
        text.iter()
            .enumerate()
            .map(|(i, t)| SerialLine {
                at: Duration::from_millis(10 * i as u64),
                text: (*t).to_owned(),
            })
            .collect()
    }

    fn up(core: u32) -> String {
        format!(
            "[core {core}] @flotilla/1 core-up apic={core} node=0 x2apic=0 main_cycles=10 up_cycles=20 timer_cycles=5 features=nx,avx"
        )
    }

    const DONE2: &str = "[core 0] @flotilla/1 boot-done cores=2 up_cycles=99 up_us=3 ipi_round_cycles=7 tsc_hz=1000";

    #[test]
    fn a_clean_boot_passes() {
        let l = lines(&[&up(0), &up(1), DONE2]);
        let a = analyse(&Expect::kernel(2), &Outcome::Exit(ExitCode::Pass), &l);
        assert_eq!(a.problems, Vec::<String>::new());
        assert_eq!(a.cores.len(), 2);
        assert_eq!(a.cores[1].features, "nx,avx");
        assert_eq!(a.done.unwrap().up_cycles, 99);
        assert_eq!(a.all_up_at, Some(Duration::from_millis(20)));
        assert_eq!(a.tsc_hz, None);
        let l = lines(&["[core 0] @flotilla/1 clocks tsc_hz=2000 source=pit lapic_timer_hz=5"]);
        assert_eq!(
            analyse(&Expect::kernel(1), &Outcome::TimedOut, &l).tsc_hz,
            Some(2000)
        );
    }

    #[test]
    fn a_pass_with_a_missing_core_fails() {
        let l = lines(&[&up(0), DONE2]);
        let a = analyse(&Expect::kernel(2), &Outcome::Exit(ExitCode::Pass), &l);
        assert_eq!(
            a.problems,
            ["the run passed but core(s) 1 never reported up"]
        );
    }

    #[test]
    fn a_pass_without_boot_done_or_with_the_wrong_count_fails() {
        let a = analyse(
            &Expect::kernel(1),
            &Outcome::Exit(ExitCode::Pass),
            &lines(&[&up(0)]),
        );
        assert_eq!(a.problems, ["the run passed without a boot-done record"]);
        let a = analyse(
            &Expect::kernel(1),
            &Outcome::Exit(ExitCode::Pass),
            &lines(&[&up(0), DONE2]),
        );
        assert!(a.problems[0].contains("found 2 cores"), "{:?}", a.problems);
    }

    #[test]
    fn names_the_core_that_did_not_come_up() {
        let l = lines(&[
            &up(0),
            "[core 0] ERROR core 1 (APIC id 1) did not come up within 10 ms: it never reached 64-bit mode",
            "[core 0] @flotilla/1 core-timeout core=1 apic=1 stage=Silent error=None",
        ]);
        let a = analyse(&Expect::kernel(2), &Outcome::Exit(ExitCode::Fail), &l);
        assert_eq!(a.problems.len(), 2);
        assert_eq!(
            a.problems[1],
            "core 1 (APIC id 1) did not come up: it stopped at stage Silent"
        );
    }

    #[test]
    fn names_faults_and_panics() {
        let l = lines(&[
            "[core 3] PANIC: panicked at x.rs:1:2: boom",
            "[core 3] @flotilla/1 panic file=x.rs line=1",
        ]);
        let a = analyse(&Expect::kernel(4), &Outcome::Exit(ExitCode::Panic), &l);
        assert_eq!(a.problems, ["core 3 panicked: panicked at x.rs:1:2: boom"]);
        let l = lines(&[
            "[core 0] @flotilla/1 fault vector=14 name=page-fault error=0x0 rip=0xffff cr2=0xdead0000",
        ]);
        let a = analyse(&Expect::kernel(1), &Outcome::Exit(ExitCode::Fault), &l);
        assert_eq!(
            a.problems,
            ["core 0 took a page-fault (vector 14) at rip 0xffff, error code 0x0, cr2 0xdead0000"]
        );
    }

    #[test]
    fn names_the_core_and_program_of_a_ring_3_panic() {
        let l = lines(&[
            "[core 1] [boot monitor] PANIC in ring 3: panicked at services/src/rt/mod.rs:62:32: boom",
            "[core 1] [boot probe] PANIC in ring 3: another program",
            "[core 1] @flotilla/1 program-panic core=1 program=monitor file=services/src/rt/mod.rs line=62",
        ]);
        let a = analyse(&Expect::kernel(2), &Outcome::Exit(ExitCode::Panic), &l);
        assert_eq!(
            a.problems,
            [
                "core 1: ring-3 program 'monitor' panicked at services/src/rt/mod.rs:62: panicked at services/src/rt/mod.rs:62:32: boom"
            ]
        );
    }

    #[test]
    fn timeouts_and_resets_say_what_is_missing() {
        let a = analyse(
            &Expect::kernel(3),
            &Outcome::TimedOut,
            &lines(&[&up(0), &up(2)]),
        );
        assert_eq!(a.problems, ["timed out; core(s) 1 never reported up"]);
        let a = analyse(&Expect::kernel(2), &Outcome::Reset, &lines(&[]));
        assert_eq!(a.problems.len(), 1);
        assert!(
            a.problems[0].contains("core(s) 0, 1 never reported up"),
            "{:?}",
            a.problems
        );
    }

    #[test]
    fn ring_3_faults_are_problems_unless_expected() {
        let fault = "[core 1] @flotilla/1 user-fault program=probe vector=14 rip=0x4009ee error=0x4 cr2=0x10";
        let l = lines(&[&up(0), &up(1), fault, DONE2]);
        let expect = Expect {
            cores: 2,
            monitors: false,
            faults: &["probe"],
        };
        let a = analyse(&expect, &Outcome::Exit(ExitCode::Pass), &l);
        assert_eq!(a.problems, Vec::<String>::new());
        let a = analyse(&Expect::kernel(2), &Outcome::Exit(ExitCode::Pass), &l);
        assert_eq!(
            a.problems,
            ["core 1: program 'probe' took a fault (vector 14) at rip 0x4009ee, cr2 0x10"]
        );
    }

    #[test]
    fn programs_ended_by_the_kernel_and_domain_panics_are_problems_unless_expected() {
        let killed = "[core 1] @flotilla/1 user-killed program=hostile domain=1 reason=noncanonical-rsp rip=0x400c2f rsp=0x800000001000";
        let panic =
            "[core 1] @flotilla/1 program-panic core=1 program=hostile file=a.rs line=5 domain=1";
        let l = lines(&[&up(0), &up(1), killed, panic, DONE2]);
        let expect = Expect {
            cores: 2,
            monitors: false,
            faults: &["domain hostile"],
        };
        let a = analyse(&expect, &Outcome::Exit(ExitCode::Pass), &l);
        assert_eq!(a.problems, Vec::<String>::new());
        let a = analyse(&Expect::kernel(2), &Outcome::Exit(ExitCode::Pass), &l);
        assert_eq!(
            a.problems,
            [
                "core 1: program 'hostile' was ended for a noncanonical-rsp (rip 0x400c2f, rsp 0x800000001000)",
                "core 1: ring-3 program 'hostile' panicked at a.rs:5"
            ]
        );
    }

    #[test]
    fn a_domain_that_takes_a_test_programs_name_has_no_fault_excused() {
        let fault = "[core 1] @flotilla/1 user-fault program=probe domain=1 vector=14 rip=0x4009ee error=0x4 cr2=0x10";
        let l = lines(&[&up(0), &up(1), fault, DONE2]);
        let expect = Expect {
            cores: 2,
            monitors: false,
            faults: &["probe"],
        };
        let a = analyse(&expect, &Outcome::Exit(ExitCode::Pass), &l);
        assert_eq!(
            a.problems,
            ["core 1: program 'probe' took a fault (vector 14) at rip 0x4009ee, cr2 0x10"]
        );
    }

    #[test]
    fn with_monitors_the_mesh_and_every_monitor_must_finish() {
        let expect = Expect {
            cores: 2,
            monitors: true,
            faults: &[],
        };
        let monitor = |c: u32| {
            format!("[core {c}] [boot monitor] @flotilla/1 monitor-up cores=2 pool_frames=9")
        };
        let done = |c: u32, ok: u8| {
            format!(
                "[core {c}] [boot monitor] @flotilla/1 monitor-done ok={ok} sent=1 received=1 dropped=2 blocks=0"
            )
        };
        let mesh = "[core 0] [boot monitor] @flotilla/1 mesh-complete cores=2 channels=1 cycles=5";
        let pass = Outcome::Exit(ExitCode::Pass);
        let all = [
            up(0),
            up(1),
            monitor(0),
            monitor(1),
            mesh.to_owned(),
            done(0, 1),
            done(1, 1),
            DONE2.to_owned(),
        ];
        let refs: Vec<&str> = all.iter().map(String::as_str).collect();
        let a = analyse(&expect, &pass, &lines(&refs));
        assert_eq!(a.problems, Vec::<String>::new());
        assert_eq!(a.mesh, Some((1, 5)));
        assert_eq!(a.dropped, 4);
        // Drop the mesh, one monitor, and fail the other's job.
        let partial = [
            up(0),
            up(1),
            monitor(0),
            done(0, 1),
            done(1, 0),
            DONE2.to_owned(),
        ];
        let refs: Vec<&str> = partial.iter().map(String::as_str).collect();
        let a = analyse(&expect, &pass, &lines(&refs));
        assert_eq!(
            a.problems,
            [
                "core(s) 1 never started a monitor",
                "the mesh never completed",
                "the monitor(s) of core(s) 1 did not finish successfully"
            ]
        );
    }

    #[test]
    fn a_forged_record_does_not_count_and_fails_the_run() {
        let expect = Expect {
            cores: 2,
            monitors: true,
            faults: &[],
        };
        let monitor = |c: u32| {
            [
                format!("[core {c}] [boot monitor] @flotilla/1 monitor-up cores=2 pool_frames=9"),
                format!(
                    "[core {c}] [boot monitor] @flotilla/1 monitor-done ok=1 sent=1 received=1 dropped=0 blocks=0"
                ),
            ]
        };
        let mut all = vec![up(0), up(1)];
        all.extend(monitor(0));
        all.extend([
            // Core 1's monitor never came up: a domain and a boot program
            // print its records, and the kernel's, in its place.
            "[core 1] [domain monitor] @flotilla/1 monitor-up cores=2 pool_frames=9".to_owned(),
            "[core 1] [domain hostile] @flotilla/1 mesh-complete cores=2 channels=1 cycles=5"
                .to_owned(),
            "[core 1] [boot captest] @flotilla/1 monitor-done ok=1 sent=1 received=1 dropped=0 blocks=0"
                .to_owned(),
            "[core 1] [domain hostile] @flotilla/1 core-up apic=1 node=0".to_owned(),
            "[core 1] [domain hostile] ERROR core 0 failed".to_owned(),
            DONE2.to_owned(),
        ]);
        let refs: Vec<&str> = all.iter().map(String::as_str).collect();
        let a = analyse(&expect, &Outcome::Exit(ExitCode::Pass), &lines(&refs));
        assert_eq!(a.monitors, [0]);
        assert_eq!(a.mesh, None);
        assert_eq!(
            a.problems,
            [
                "core 1: domain 'monitor' printed a `monitor-up` record, which only boot program 'monitor' may print",
                "core 1: domain 'hostile' printed a `mesh-complete` record, which only boot program 'monitor' may print",
                "core 1: boot program 'captest' printed a `monitor-done` record, which only boot program 'monitor' may print",
                "core 1: domain 'hostile' printed a `core-up` record, which only the kernel may print",
                "core(s) 1 never started a monitor",
                "the mesh never completed",
                "the monitor(s) of core(s) 1 did not finish successfully",
            ]
        );
    }

    #[test]
    fn duplicate_and_extra_cores_are_problems() {
        let l = lines(&[&up(0), &up(0), &up(5), DONE2]);
        let a = analyse(&Expect::kernel(2), &Outcome::Exit(ExitCode::Pass), &l);
        assert!(a.problems.iter().any(|p| p.contains("more than once")));
        assert!(
            a.problems
                .iter()
                .any(|p| p.contains("core(s) 5 reported up"))
        );
    }
}
