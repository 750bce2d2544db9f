//! What a run shows on the terminal while it runs.
//!
//! The serial stream holds kernel log lines (`[core N] INFO ...`) and
//! structured records (`[core N] @flotilla/1 kind key=value ...`), which
//! are for programs. By default ([`Echo::People`]) the log lines are shown
//! and the records that matter to a person are translated into short lines
//! ([`human`]): `core 1 up (apic 1, node 0)`, `monitor 2 up`,
//! `mesh complete: 6 channels in 12.3 ms`; faults and panics are marked
//! with `!!`. The other records are not shown. A program's lines carry the
//! kernel's stamp that names the program (`[core 3] [domain hello] ...`)
//! and are shown as printed; a record printed by a program that does not
//! own its kind (`qemu::ownership`) is marked with `!!`, says so, and is
//! shown as printed. [`Echo::Records`] shows every
//! line as the image printed it, and [`Echo::Quiet`] shows nothing.
//!
//! Every line shown carries one time: seconds since QEMU started, as
//! `+0.123s` ([`stamp`]); [`TIME_HEADER`] says so once, before the first
//! line. Only the terminal changes: the records are parsed and kept from the
//! serial stream whatever is shown.

use std::time::Duration;

use qemu::runner::Observer;
use qemu::{OwnedRecord, ReadError, SerialLine};

/// How much of the serial stream is shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Echo {
    /// Nothing.
    Quiet,
    /// Log lines, and the important records as short sentences.
    People,
    /// Every line as printed, records included.
    Records,
}

impl Echo {
    /// The mode that `--quiet` and `--records` ask for; `--quiet` wins.
    pub fn from_flags(quiet: bool, records: bool) -> Echo {
        match (quiet, records) {
            (true, _) => Echo::Quiet,
            (false, true) => Echo::Records,
            (false, false) => Echo::People,
        }
    }
}

/// The line, printed once before the echo, that names the time base.
pub const TIME_HEADER: &str = "time: seconds since QEMU started";

/// The prefix of a line that needs attention: a fault, a panic, a core or
/// monitor that failed.
pub const ALERT: &str = "!! ";

/// `at`, the time since QEMU started, as `+0.123s`.
pub fn stamp(at: Duration) -> String {
    format!("+{:.3}s", at.as_secs_f64())
}

/// A record turned into a sentence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Human {
    /// The sentence.
    pub text: String,
    /// Whether it needs attention (shown after [`ALERT`]).
    pub alert: bool,
}

impl Human {
    fn note(text: String) -> Option<Human> {
        Some(Human { text, alert: false })
    }

    fn alert(text: String) -> Option<Human> {
        Some(Human { text, alert: true })
    }
}

fn field<'a>(r: &'a OwnedRecord, key: &str) -> &'a str {
    r.get(key).unwrap_or("?")
}

/// `1 core`, `4 cores`.
pub fn cores(n: &str) -> String {
    if n == "1" {
        "1 core".to_owned()
    } else {
        format!("{n} cores")
    }
}

fn ms(cycles: u64, tsc_hz: u64) -> f64 {
    cycles as f64 / tsc_hz as f64 * 1000.0
}

/// The sentence for record `r`, or `None` for a record that is not shown
/// to people. `tsc_hz` is the TSC rate from the run's `clocks` record,
/// which turns cycle counts into milliseconds.
pub fn human(r: &OwnedRecord, tsc_hz: Option<u64>) -> Option<Human> {
    let core = r.core;
    let f = |key| field(r, key);
    let tsc_hz = tsc_hz.filter(|&hz| hz > 0);
    match r.kind.as_str() {
        "clocks" => {
            let rate = |key: &str, scale: f64, unit: &str| match r.get_u64(key) {
                Some(hz) => format!("{:.2} {unit}", hz as f64 / scale),
                None => "?".to_owned(),
            };
            let source = match f("source") {
                "pit" => "measured against the PIT".to_owned(),
                "cpuid-0x15" => "from CPUID leaf 0x15".to_owned(),
                "cpuid-0x40000010" => "from the hypervisor's CPUID leaf".to_owned(),
                other => format!("from {other}"),
            };
            Human::note(format!(
                "TSC at {} ({source}), APIC timer at {}",
                rate("tsc_hz", 1e9, "GHz"),
                rate("lapic_timer_hz", 1e6, "MHz")
            ))
        }
        "core-up" => {
            let x2apic = if r.get("x2apic") == Some("1") {
                ", x2APIC"
            } else {
                ""
            };
            Human::note(format!(
                "core {core} up (apic {}, node {}{x2apic})",
                f("apic"),
                f("node")
            ))
        }
        "boot-done" => Human::note(format!("boot done: {} up", cores(f("cores")))),
        "isolation" => Human::note(format!(
            "core {core}: its kernel static holds {}, in frame {} of partition {}",
            f("value"),
            f("phys"),
            f("partition")
        )),
        "core-timeout" => {
            let error = match f("error") {
                "None" | "?" => String::new(),
                e => format!(" ({e})"),
            };
            Human::alert(format!(
                "core {} (apic {}) did not come up: it stopped at stage {}{error}",
                f("core"),
                f("apic"),
                f("stage")
            ))
        }
        "fault" => Human::alert(format!(
            "FAULT on core {core}: {} (vector {}) at rip {}, error code {}, cr2 {}",
            f("name"),
            f("vector"),
            f("rip"),
            f("error"),
            f("cr2")
        )),
        "panic" => Human::alert(format!(
            "PANIC on core {core} at {}:{}",
            f("file"),
            f("line")
        )),
        "user-fault" => Human::alert(format!(
            "FAULT in ring 3 on core {core}: program '{}' ended by vector {} at rip {}, \
             error code {}, cr2 {}",
            f("program"),
            f("vector"),
            f("rip"),
            f("error"),
            f("cr2")
        )),
        "user-killed" => Human::alert(format!(
            "ENDED in ring 3 on core {core}: program '{}' would have returned with a {} \
             (rip {}, rsp {})",
            f("program"),
            f("reason"),
            f("rip"),
            f("rsp")
        )),
        "program-exit" => Human::note(format!(
            "core {core}: program '{}' exited with code {}",
            f("program"),
            f("code")
        )),
        "program-panic" if r.get("domain") == Some("1") => Human::alert(format!(
            "PANIC in a domain on core {core}: '{}' panicked at {}:{} and ended alone",
            f("program"),
            f("file"),
            f("line")
        )),
        "program-panic" => Human::alert(format!(
            "PANIC in ring 3 on core {core}: a program panicked at {}:{}",
            f("file"),
            f("line")
        )),
        "shutdown" => {
            let text = format!(
                "core {core}: program '{}' ended the run: {}",
                f("program"),
                f("result")
            );
            if f("result") == "pass" {
                Human::note(text)
            } else {
                Human::alert(text)
            }
        }
        "monitor-up" => Human::note(format!("monitor {core} up")),
        "mesh-complete" => {
            let channels = match f("channels") {
                "1" => "1 channel".to_owned(),
                n => format!("{n} channels"),
            };
            match (r.get_u64("cycles"), tsc_hz) {
                (Some(cycles), Some(hz)) => Human::note(format!(
                    "mesh complete: {channels} in {:.1} ms",
                    ms(cycles, hz)
                )),
                _ => Human::note(format!("mesh complete: {channels}")),
            }
        }
        "dropped" => Human::note(format!(
            "monitor {core} dropped a message from core {} on its {} channel (tag {}: {})",
            f("peer"),
            f("channel"),
            f("tag"),
            f("reason")
        )),
        "monitor-done" => {
            let counts = format!(
                "{} sent, {} received, {} dropped",
                f("sent"),
                f("received"),
                f("dropped")
            );
            if r.get("ok") == Some("1") {
                Human::note(format!("monitor {core} done: {counts}"))
            } else {
                Human::alert(format!("monitor {core} finished with errors: {counts}"))
            }
        }
        "monitor-error" => Human::alert(format!("monitor {core} stopped: {}", f("what"))),
        "syscall-check" if r.get("pass") == Some("1") => None,
        "syscall-check" => Human::alert(format!(
            "probe on core {core}: system call {} returned {}, expected {}",
            f("call"),
            f("got"),
            f("expected")
        )),
        "cap-check" if r.get("pass") == Some("1") => None,
        "cap-check" => Human::alert(format!(
            "captest on core {core}: {} expected {}, got {}",
            f("name"),
            f("expected"),
            f("got")
        )),
        "captest" => Human::note(format!(
            "captest on core {core}: {} capability checks, {} failed, next: {}",
            f("checks"),
            f("failed"),
            f("next")
        )),
        "caps-xfer" if r.get("side") == Some("read") => Human::note(format!(
            "captest on core {core}: the imported frame reads back {} (first word {})",
            if r.get("same") == Some("1") {
                "the pattern core 0 wrote"
            } else {
                "something else"
            },
            f("first")
        )),
        "caps-xfer" => Human::note(format!(
            "captest on core {core}: {} the frame at {} ({} bytes, owned by core {})",
            if r.get("side") == Some("send") {
                "exported"
            } else {
                "imported"
            },
            f("base"),
            f("size"),
            f("owner")
        )),
        "spawned" => Human::note(format!(
            "monitor {core}: '{}' spawned on core {} ({} cycles there)",
            f("program"),
            f("core"),
            f("cycles")
        )),
        "spawn-ended" => {
            let how = match r.get("status") {
                Some("exited") => format!("exited with code {}", f("code")),
                Some("killed") => format!("was killed by vector {}", f("vector")),
                Some("panicked") => "panicked".to_owned(),
                _ => "was revoked".to_owned(),
            };
            let text = format!(
                "monitor {core}: '{}' on core {} {how}",
                f("program"),
                f("core")
            );
            if r.get("status") == Some("exited") && r.get("code") == Some("0") {
                Human::note(text)
            } else {
                Human::alert(text)
            }
        }
        "spawn-failed" => Human::alert(format!(
            "monitor {core}: '{}' could not be spawned on core {}: {}",
            f("program"),
            f("core"),
            f("reason")
        )),
        "domain-revoked" => Human::note(format!(
            "core {core}: domain '{}' ended: its {} capability was deleted",
            f("program"),
            f("object")
        )),
        "lmp-bench" => Human::note(format!(
            "core {core}: LMP round trip {} cycles ({}× the null invocation of {} cycles; {} cycles without the address-space switches)",
            f("round_trip_cycles"),
            f("ratio"),
            f("null_invocation_cycles"),
            f("own_endpoint_cycles")
        )),
        "fuzz-start" => Human::note(format!(
            "fuzz on core {core}: {} of {} calls from seed {}{}",
            f("calls"),
            f("total"),
            f("seed"),
            if r.get("trace") == Some("1") {
                ", each printed"
            } else {
                ""
            }
        )),
        "fuzz-progress" => Human::note(format!(
            "fuzz on core {core}: {}/{} calls ({} succeeded)",
            f("calls"),
            f("of"),
            f("ok")
        )),
        "fuzz-done" => Human::note(format!(
            "fuzz on core {core}: done, {} calls: {} succeeded, {} typed errors, {} mapped pages touched",
            f("calls"),
            f("ok"),
            f("errors"),
            f("touched")
        )),
        "fuzz-call" => Human::note(format!(
            "fuzz on core {core}: call {}: number {} ({})",
            f("call"),
            f("number"),
            f("args")
        )),
        "fuzz-result" => Human::note(format!(
            "fuzz on core {core}: call {} returned rax {}, rdx {}",
            f("call"),
            f("rax"),
            f("rdx")
        )),
        "fuzz-recent" => Human::alert(format!(
            "core {core}, recent call {} (seen by the {}): number {} ({}) returned rax {}",
            f("call"),
            f("by"),
            f("number"),
            f("args"),
            f("rax")
        )),
        "fuzz-fail" => Human::alert(format!(
            "fuzz on core {core}: call {} (number {}, {}) returned rax {}: {} (seed {})",
            f("call"),
            f("number"),
            f("args"),
            f("rax"),
            f("reason"),
            f("seed")
        )),
        "caps-violation" => Human::alert(format!(
            "core {core}: capability database invariant broken: {}, found after call {} ({} check, every {} operations; seed {})",
            f("violation"),
            f("call"),
            f("check"),
            f("every"),
            f("seed")
        )),
        "caps-fuzz-check" => Human::note(format!(
            "core {core}: capability database checked whole after {} invocations: {} records, every invariant holds",
            f("invocations"),
            f("records")
        )),
        "probe" => Human::note(format!(
            "probe on core {core}: {} system-call checks done, next: {}",
            f("checks"),
            f("next")
        )),
        "exp-start" => {
            let quick = if r.get("quick") == Some("1") {
                ", quick"
            } else {
                ""
            };
            Human::note(format!(
                "experiment {} started on {}{quick}",
                f("exp"),
                cores(f("cores"))
            ))
        }
        "exp-done" if r.get("ok") == Some("1") => {
            Human::note(format!("experiment {} done", f("exp")))
        }
        "exp-done" => Human::alert(format!("experiment {} failed", f("exp"))),
        "sync-check" if r.get("ok") == Some("1") => None,
        "sync-check" => Human::alert(format!(
            "{} {} on {}: {} violations, counted {} of {}",
            f("exp"),
            f("series"),
            cores(f("cores")),
            f("violations"),
            f("counted"),
            f("expected")
        )),
        "sync-skip" => Human::note(format!(
            "{} {} skipped: {}",
            f("exp"),
            f("series"),
            f("reason").replace('-', " ")
        )),
        _ => None,
    }
}

/// Whether `text` is a structured record line (parsed or not), the
/// kernel's or a program's.
fn is_record_line(text: &str) -> bool {
    boot::protocol::split_line(text).is_some_and(|(_, _, rest)| rest.starts_with("@flotilla/"))
}

/// Turns serial lines into what the terminal shows, in one [`Echo`] mode.
#[derive(Clone, Debug)]
pub struct Console {
    mode: Echo,
    tsc_hz: Option<u64>,
}

impl Console {
    /// A console that shows lines in `mode`.
    pub fn new(mode: Echo) -> Console {
        Console { mode, tsc_hz: None }
    }

    /// The mode.
    pub fn mode(&self) -> Echo {
        self.mode
    }

    /// The line to print before the first serial line, if any.
    pub fn header(&self) -> Option<&'static str> {
        (self.mode != Echo::Quiet).then_some(TIME_HEADER)
    }

    /// What to print for `line`, if anything.
    pub fn show(&mut self, line: &SerialLine) -> Option<String> {
        let body = match self.mode {
            Echo::Quiet => return None,
            Echo::Records => line.text.clone(),
            Echo::People => match OwnedRecord::parse(&line.text) {
                Ok(r) => {
                    if r.kind == "clocks" {
                        self.tsc_hz = r.get_u64("tsc_hz");
                    }
                    let h = human(&r, self.tsc_hz)?;
                    if h.alert {
                        format!("{ALERT}{}", h.text)
                    } else {
                        h.text
                    }
                }
                Err(ReadError::Forged(forged)) => format!("{ALERT}{forged}: {}", line.text),
                Err(_) if is_record_line(&line.text) => return None,
                Err(_) => line.text.clone(),
            },
        };
        Some(format!("{:<8} {body}", stamp(line.at)))
    }

    /// An observer that prints what [`Console::show`] gives for every line,
    /// through `print`; `None` in [`Echo::Quiet`].
    pub fn observer(mut self, print: impl Fn(&str) + Send + 'static) -> Option<Observer> {
        if self.mode == Echo::Quiet {
            return None;
        }
        Some(Box::new(move |line: &SerialLine| {
            if let Some(shown) = self.show(line) {
                print(&shown);
            }
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(line: &str) -> OwnedRecord {
        OwnedRecord::parse(line).unwrap()
    }

    fn text(line: &str) -> String {
        let h = human(&rec(line), Some(2_000_000_000)).expect("shown");
        if h.alert {
            format!("{ALERT}{}", h.text)
        } else {
            h.text
        }
    }

    fn hidden(line: &str) -> bool {
        let r = OwnedRecord::parse_any(line).unwrap();
        human(&r, Some(2_000_000_000)).is_none()
    }

    fn serial(ms: u64, text: &str) -> SerialLine {
        SerialLine {
            at: Duration::from_millis(ms),
            text: text.to_owned(),
        }
    }

    #[test]
    fn boot_records_read_as_sentences() {
        assert_eq!(
            text(
                "[core 0] @flotilla/1 clocks tsc_hz=2445411009 source=pit lapic_timer_hz=62465605"
            ),
            "TSC at 2.45 GHz (measured against the PIT), APIC timer at 62.47 MHz"
        );
        assert_eq!(
            text(
                "[core 1] @flotilla/1 core-up apic=1 node=0 x2apic=0 main_cycles=1 up_cycles=2 timer_cycles=3 features=nx"
            ),
            "core 1 up (apic 1, node 0)"
        );
        assert_eq!(
            text("[core 9] @flotilla/1 core-up apic=12 node=1 x2apic=1 up_cycles=2"),
            "core 9 up (apic 12, node 1, x2APIC)"
        );
        assert_eq!(
            text(
                "[core 0] @flotilla/1 boot-done cores=4 up_cycles=9 up_us=3 ipi_round_cycles=7 tsc_hz=1"
            ),
            "boot done: 4 cores up"
        );
        assert_eq!(
            text("[core 0] @flotilla/1 boot-done cores=1 up_us=3"),
            "boot done: 1 core up"
        );
        assert_eq!(
            text(
                "[core 2] @flotilla/1 isolation value=1 virt=0xffff8000 phys=0x2200000 data_phys=0x2100000 partition=0x2000000-0x4000000"
            ),
            "core 2: its kernel static holds 1, in frame 0x2200000 of partition 0x2000000-0x4000000"
        );
        assert!(hidden(
            "[core 3] @flotilla/1 programs count=2 free_kib=61096"
        ));
    }

    #[test]
    fn lock_and_barrier_checks_alert_only_on_a_violation() {
        assert!(hidden(
            "[core 0] [boot monitor] @flotilla/1 sync-check exp=locks series=mcs cores=2 expected=9 counted=9 violations=0 ok=1"
        ));
        assert_eq!(
            text(
                "[core 0] [boot monitor] @flotilla/1 sync-check exp=locks series=broken-tas cores=2 expected=9 counted=7 violations=3 ok=0"
            ),
            "!! locks broken-tas on 2 cores: 3 violations, counted 7 of 9"
        );
        assert_eq!(
            text(
                "[core 0] [boot monitor] @flotilla/1 sync-skip exp=locks series=msg-server cores=1 reason=needs-a-server-and-a-client-core"
            ),
            "locks msg-server skipped: needs a server and a client core"
        );
        assert!(hidden(
            "[core 0] [boot monitor] @flotilla/1 lock-point series=mcs cores=2 tput=1.00"
        ));
    }

    #[test]
    fn spawns_read_as_sentences_and_a_bad_end_is_an_alert() {
        assert_eq!(
            text("[core 0] [boot monitor] @flotilla/1 spawned program=hello core=3 cycles=123"),
            "monitor 0: 'hello' spawned on core 3 (123 cycles there)"
        );
        assert_eq!(
            text(
                "[core 0] [boot monitor] @flotilla/1 spawn-ended program=hello core=3 status=exited code=0"
            ),
            "monitor 0: 'hello' on core 3 exited with code 0"
        );
        assert_eq!(
            text(
                "[core 0] [boot monitor] @flotilla/1 spawn-ended program=probe core=1 status=killed vector=14"
            ),
            "!! monitor 0: 'probe' on core 1 was killed by vector 14"
        );
        assert_eq!(
            text(
                "[core 0] [boot monitor] @flotilla/1 spawn-failed program=nosuch core=1 reason=not-found code=0x3"
            ),
            "!! monitor 0: 'nosuch' could not be spawned on core 1: not-found"
        );
    }

    #[test]
    fn failures_are_alerts() {
        assert_eq!(
            text("[core 0] @flotilla/1 core-timeout core=1 apic=1 stage=Silent error=None"),
            "!! core 1 (apic 1) did not come up: it stopped at stage Silent"
        );
        assert_eq!(
            text("[core 0] @flotilla/1 core-timeout core=1 apic=1 stage=LongMode error=0x5"),
            "!! core 1 (apic 1) did not come up: it stopped at stage LongMode (0x5)"
        );
        assert_eq!(
            text(
                "[core 0] @flotilla/1 fault vector=14 name=page-fault error=0x0 rip=0xffff cr2=0xdead0000"
            ),
            "!! FAULT on core 0: page-fault (vector 14) at rip 0xffff, error code 0x0, cr2 0xdead0000"
        );
        assert_eq!(
            text("[core 3] @flotilla/1 panic file=x.rs line=1"),
            "!! PANIC on core 3 at x.rs:1"
        );
        assert_eq!(
            text(
                "[core 1] @flotilla/1 user-fault program=probe vector=14 rip=0x4009ee error=0x4 cr2=0x10"
            ),
            "!! FAULT in ring 3 on core 1: program 'probe' ended by vector 14 at rip 0x4009ee, error code 0x4, cr2 0x10"
        );
        assert_eq!(
            text("[core 1] @flotilla/1 program-panic file=src/main.rs line=7"),
            "!! PANIC in ring 3 on core 1: a program panicked at src/main.rs:7"
        );
        assert_eq!(
            text(
                "[core 1] @flotilla/1 program-panic core=1 program=hostile file=a.rs line=7 domain=1"
            ),
            "!! PANIC in a domain on core 1: 'hostile' panicked at a.rs:7 and ended alone"
        );
        assert_eq!(
            text(
                "[core 1] @flotilla/1 user-killed program=hostile reason=noncanonical-rip rip=0x800000000000 rsp=0x7ff0"
            ),
            "!! ENDED in ring 3 on core 1: program 'hostile' would have returned with a noncanonical-rip (rip 0x800000000000, rsp 0x7ff0)"
        );
        assert_eq!(
            text("[core 1] [boot monitor] @flotilla/1 monitor-error what=pool-too-small"),
            "!! monitor 1 stopped: pool-too-small"
        );
        assert_eq!(
            text("[core 0] @flotilla/1 shutdown program=monitor result=fail"),
            "!! core 0: program 'monitor' ended the run: fail"
        );
        assert_eq!(
            text(
                "[core 2] [boot monitor] @flotilla/1 monitor-done ok=0 sent=1 received=2 dropped=3 blocks=0"
            ),
            "!! monitor 2 finished with errors: 1 sent, 2 received, 3 dropped"
        );
    }

    #[test]
    fn ring_3_records_read_as_sentences() {
        assert_eq!(
            text("[core 2] [boot monitor] @flotilla/1 monitor-up cores=4 pool_frames=1044"),
            "monitor 2 up"
        );
        assert_eq!(
            text(
                "[core 0] [boot monitor] @flotilla/1 mesh-complete cores=4 channels=6 cycles=24600000"
            ),
            "mesh complete: 6 channels in 12.3 ms"
        );
        let no_clock = human(
            &rec(
                "[core 0] [boot monitor] @flotilla/1 mesh-complete cores=4 channels=6 cycles=24600000",
            ),
            None,
        );
        assert_eq!(no_clock.unwrap().text, "mesh complete: 6 channels");
        assert!(hidden(
            "[core 1] [boot monitor] @flotilla/1 mesh-member links=3 cycles=37557740"
        ));
        assert_eq!(
            text(
                "[core 3] [boot monitor] @flotilla/1 monitor-done ok=1 sent=10 received=11 dropped=0 blocks=6"
            ),
            "monitor 3 done: 10 sent, 11 received, 0 dropped"
        );
        assert_eq!(
            text(
                "[core 1] [boot monitor] @flotilla/1 dropped channel=mesh peer=2 tag=7 reason=unknown-tag"
            ),
            "monitor 1 dropped a message from core 2 on its mesh channel (tag 7: unknown-tag)"
        );
        assert_eq!(
            text("[core 0] @flotilla/1 shutdown program=monitor result=pass"),
            "core 0: program 'monitor' ended the run: pass"
        );
        assert_eq!(
            text("[core 1] @flotilla/1 program-exit program=probe code=0"),
            "core 1: program 'probe' exited with code 0"
        );
    }

    #[test]
    fn probe_and_experiment_records() {
        assert!(hidden(
            "[core 1] [boot probe] @flotilla/1 syscall-check call=print expected=BadPointer got=BadPointer pass=1"
        ));
        assert_eq!(
            text(
                "[core 1] [boot probe] @flotilla/1 syscall-check call=print expected=BadPointer got=Ok pass=0"
            ),
            "!! probe on core 1: system call print returned Ok, expected BadPointer"
        );
        assert_eq!(
            text("[core 1] [boot probe] @flotilla/1 probe checks=11 next=fault"),
            "probe on core 1: 11 system-call checks done, next: fault"
        );
        assert_eq!(
            text("[core 0] [boot monitor] @flotilla/1 exp-start exp=urpc cores=2 quick=1 rounds=1"),
            "experiment urpc started on 2 cores, quick"
        );
        assert_eq!(
            text("[core 0] [boot monitor] @flotilla/1 exp-start exp=update-cost cores=1 quick=0"),
            "experiment update-cost started on 1 core"
        );
        assert_eq!(
            text("[core 0] [boot monitor] @flotilla/1 exp-done exp=urpc cores=2 ok=1"),
            "experiment urpc done"
        );
        assert_eq!(
            text("[core 0] [boot monitor] @flotilla/1 exp-done exp=urpc cores=2 ok=0"),
            "!! experiment urpc failed"
        );
        for measurement in [
            "[core 0] [boot monitor] @flotilla/1 urpc-pair src=0 dst=1 variant=ack rtt_median=900",
            "[core 0] [boot monitor] @flotilla/1 update-cost series=shm k=1 cycles=5",
            "[core 0] [boot monitor] @flotilla/1 hosted pinned=1",
            "[core 0] @flotilla/1 something-new a=1",
        ] {
            assert!(hidden(measurement), "{measurement}");
        }
    }

    #[test]
    fn people_see_log_lines_and_sentences_with_one_time_base() {
        let mut console = Console::new(Echo::People);
        assert_eq!(console.header(), Some("time: seconds since QEMU started"));
        let shown: Vec<Option<String>> = [
            serial(78, "[core 0] INFO  Flotilla CPU driver: 2 core(s)"),
            serial(
                119,
                "[core 0] @flotilla/1 clocks tsc_hz=2000000000 source=pit lapic_timer_hz=1000000",
            ),
            serial(120, "[core 1] @flotilla/1 core-up apic=1 node=0 x2apic=0"),
            serial(
                121,
                "[core 1] [boot monitor] @flotilla/1 mesh-member links=1 cycles=5",
            ),
            serial(
                122,
                "[core 0] [boot monitor] @flotilla/1 mesh-complete channels=1 cycles=4000000",
            ),
            serial(123, "[core 0] @flotilla/1 broken field"),
            serial(12_345, "[core 0] @flotilla/1 panic file=a.rs line=2"),
        ]
        .iter()
        .map(|l| console.show(l))
        .collect();
        assert_eq!(
            shown,
            [
                Some("+0.078s  [core 0] INFO  Flotilla CPU driver: 2 core(s)".to_owned()),
                Some(
                    "+0.119s  TSC at 2.00 GHz (measured against the PIT), APIC timer at 1.00 MHz"
                        .to_owned()
                ),
                Some("+0.120s  core 1 up (apic 1, node 0)".to_owned()),
                None,
                Some("+0.122s  mesh complete: 1 channel in 2.0 ms".to_owned()),
                None,
                Some("+12.345s !! PANIC on core 0 at a.rs:2".to_owned()),
            ]
        );
    }

    #[test]
    fn people_see_a_forged_record_as_an_alert_and_a_programs_lines_as_printed() {
        let mut console = Console::new(Echo::People);
        let forged = "[core 1] [domain hostile] @flotilla/1 sync-check exp=locks cores=2 kind=tas violations=0";
        let shown: Vec<Option<String>> = [
            serial(5, "[core 1] [domain hello] hello from core 1"),
            serial(6, forged),
            serial(
                7,
                "[core 1] [boot probe] @flotilla/1 shutdown program=monitor result=pass",
            ),
            serial(8, "[core 1] [domain hostile] @flotilla/1 broken field"),
        ]
        .iter()
        .map(|l| console.show(l))
        .collect();
        assert_eq!(
            shown,
            [
                Some("+0.005s  [core 1] [domain hello] hello from core 1".to_owned()),
                Some(format!(
                    "+0.006s  !! core 1: domain 'hostile' printed a `sync-check` record, which only boot program 'monitor' may print: {forged}"
                )),
                Some(
                    "+0.007s  !! core 1: boot program 'probe' printed a `shutdown` record, which only the kernel may print: [core 1] [boot probe] @flotilla/1 shutdown program=monitor result=pass"
                        .to_owned()
                ),
                None,
            ]
        );
    }

    #[test]
    fn records_mode_shows_every_line_as_printed_and_quiet_shows_none() {
        let line = serial(
            5,
            "[core 0] [boot monitor] @flotilla/1 mesh-member links=1 cycles=5",
        );
        let mut console = Console::new(Echo::Records);
        assert_eq!(
            console.show(&line).as_deref(),
            Some("+0.005s  [core 0] [boot monitor] @flotilla/1 mesh-member links=1 cycles=5")
        );
        let mut quiet = Console::new(Echo::Quiet);
        assert_eq!(quiet.header(), None);
        assert_eq!(quiet.show(&line), None);
        assert!(quiet.observer(|_| {}).is_none());
        assert_eq!(Echo::from_flags(true, true), Echo::Quiet);
        assert_eq!(Echo::from_flags(false, true), Echo::Records);
        assert_eq!(Echo::from_flags(false, false), Echo::People);
    }

    #[test]
    fn the_observer_prints_what_show_gives() {
        use std::sync::{Arc, Mutex};
        let printed = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&printed);
        let mut observer = Console::new(Echo::People)
            .observer(move |s| sink.lock().unwrap().push(s.to_owned()))
            .unwrap();
        observer(&serial(
            1,
            "[core 0] [boot monitor] @flotilla/1 monitor-up cores=1",
        ));
        observer(&serial(
            2,
            "[core 0] [boot monitor] @flotilla/1 mesh-member links=0 cycles=1",
        ));
        assert_eq!(*printed.lock().unwrap(), ["+0.001s  monitor 0 up"]);
    }
}
