//! The failure report that tests and the command line print.

use std::fmt::Write as _;
use std::time::Duration;

use crate::accel::AccelDecision;
use crate::outcome::Outcome;
use crate::runner::SerialLine;

/// What went into a run and what came out of it.
#[derive(Clone, Debug)]
pub struct RunSummary<'a> {
    /// How it ended; `None` while QEMU still runs.
    pub outcome: Option<&'a Outcome>,
    /// The accelerator and why, if known.
    pub accel: Option<&'a AccelDecision>,
    /// How long QEMU ran (or has been running).
    pub elapsed: Duration,
    /// The serial log.
    pub lines: &'a [SerialLine],
    /// Whether the serial log was read to its end.
    pub serial_complete: bool,
    /// QEMU's stderr.
    pub stderr: String,
    /// The shell-quoted command that reproduces the run.
    pub command_line: String,
}

/// A plain-text report of a failed run: what failed and why, the whole
/// serial log with timestamps, QEMU's stderr, and the one-line command that
/// reproduces it.
pub fn failure_report(what: &str, run: &RunSummary<'_>) -> String {
    let mut out = String::new();
    // Writing to a String cannot fail.
    let _ = write_report(&mut out, what, run);
    out
}

fn write_report(out: &mut String, what: &str, run: &RunSummary<'_>) -> std::fmt::Result {
    writeln!(out, "FAILED: {what}")?;
    match run.outcome {
        Some(outcome) => writeln!(out, "Outcome: {outcome}")?,
        None => writeln!(out, "Outcome: QEMU was still running.")?,
    }
    if let Some(accel) = run.accel {
        writeln!(out, "Accelerator: {accel}")?;
    }
    writeln!(out, "Ran for: {:.3} s", run.elapsed.as_secs_f64())?;
    writeln!(out)?;
    writeln!(out, "--- serial log ({} lines) ---", run.lines.len())?;
    for line in run.lines {
        writeln!(out, "{line}")?;
    }
    if !run.serial_complete {
        writeln!(
            out,
            "(the serial log may be incomplete: it was not read to its end)"
        )?;
    }
    writeln!(out, "--- end of serial log ---")?;
    let stderr = run.stderr.trim_end();
    if stderr.is_empty() {
        writeln!(out, "--- QEMU stderr: empty ---")?;
    } else {
        writeln!(out, "--- QEMU stderr ---")?;
        writeln!(out, "{stderr}")?;
        writeln!(out, "--- end of QEMU stderr ---")?;
    }
    writeln!(out, "Reproduce with:")?;
    writeln!(out, "  {}", run.command_line)
}

#[cfg(test)]
mod tests {
    use boot::protocol::ExitCode;

    use super::*;
    use crate::accel::{ResolvedAccel, decide_accel};

    #[test]
    fn report_has_every_part() {
        let lines = [
            SerialLine {
                at: Duration::from_millis(5),
                text: "[core 0] INFO boot".into(),
            },
            SerialLine {
                at: Duration::from_millis(1500),
                text: "[core 0] @flotilla/1 check ok=0".into(),
            },
        ];
        let outcome = Outcome::Exit(ExitCode::Fail);
        let accel = decide_accel(crate::Accel::Tcg, "", false);
        assert_eq!(accel.accel, ResolvedAccel::Tcg);
        let run = RunSummary {
            outcome: Some(&outcome),
            accel: Some(&accel),
            elapsed: Duration::from_millis(1600),
            lines: &lines,
            serial_complete: true,
            stderr: "qemu: warning: something\n".into(),
            command_line: "qemu-system-x86_64 -append 'a b'".into(),
        };
        let report = failure_report("boot 2 cores", &run);
        let expected = "\
FAILED: boot 2 cores
Outcome: The image reported a failed check (exit status 35).
Accelerator: tcg: asked for with --accel tcg
Ran for: 1.600 s

--- serial log (2 lines) ---
[    0.005s] [core 0] INFO boot
[    1.500s] [core 0] @flotilla/1 check ok=0
--- end of serial log ---
--- QEMU stderr ---
qemu: warning: something
--- end of QEMU stderr ---
Reproduce with:
  qemu-system-x86_64 -append 'a b'
";
        assert_eq!(report, expected);
    }

    #[test]
    fn report_of_a_running_silent_run() {
        let run = RunSummary {
            outcome: None,
            accel: None,
            elapsed: Duration::ZERO,
            lines: &[],
            serial_complete: false,
            stderr: String::new(),
            command_line: "qemu".into(),
        };
        let report = failure_report("x", &run);
        assert!(
            report.contains("Outcome: QEMU was still running."),
            "{report}"
        );
        assert!(report.contains("--- serial log (0 lines) ---"), "{report}");
        assert!(report.contains("may be incomplete"), "{report}");
        assert!(report.contains("--- QEMU stderr: empty ---"), "{report}");
        assert!(!report.contains("Accelerator"), "{report}");
    }
}
