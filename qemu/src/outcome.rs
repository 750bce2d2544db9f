//! How a run ended, decoded from QEMU's exit status.

use std::fmt;
use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;

use boot::protocol::ExitCode;

/// How a QEMU run ended.
///
/// Only [`Outcome::Exit`] with [`ExitCode::Pass`] is a pass: QEMU exits 0
/// when the guest triple-faults (with `-no-reboot`), so status 0 is
/// [`Outcome::Reset`], not success.
#[derive(Clone, Debug, PartialEq, Eq, strum::IntoStaticStr)]
#[strum(serialize_all = "kebab-case")]
pub enum Outcome {
    /// The image wrote this code to `isa-debug-exit`.
    #[strum(transparent)]
    Exit(ExitCode),
    /// QEMU exited 0: the guest reset, triple-faulted or shut down without
    /// writing an exit code.
    Reset,
    /// QEMU exited with a status the image cannot produce: 1 for QEMU's own
    /// errors (bad option, missing file), or anything else unexpected.
    QemuError {
        /// The exit status.
        status: i32,
        /// What QEMU wrote to stderr.
        stderr: String,
    },
    /// QEMU was killed by a signal that the host did not send.
    Signal(i32),
    /// A wait ran out of time and the host killed QEMU.
    #[strum(serialize = "timeout")]
    TimedOut,
    /// The host stopped QEMU on request before it ended by itself.
    Killed,
}

impl Outcome {
    /// Decodes a process exit status; `stderr` is what QEMU wrote there.
    pub fn from_status(status: ExitStatus, stderr: &str) -> Outcome {
        match (status.code(), status.signal()) {
            (Some(code), _) => Outcome::from_exit_code(code, stderr),
            (None, Some(signal)) => Outcome::Signal(signal),
            (None, None) => Outcome::QemuError {
                status: status.into_raw(),
                stderr: stderr.to_owned(),
            },
        }
    }

    /// Decodes an exit code (a process that exited rather than being
    /// signalled).
    pub fn from_exit_code(code: i32, stderr: &str) -> Outcome {
        if code == 0 {
            return Outcome::Reset;
        }
        match ExitCode::from_qemu_status(code) {
            Some(exit) => Outcome::Exit(exit),
            None => Outcome::QemuError {
                status: code,
                stderr: stderr.to_owned(),
            },
        }
    }

    /// Whether the run passed: the image wrote [`ExitCode::Pass`].
    pub fn is_pass(&self) -> bool {
        matches!(self, Outcome::Exit(ExitCode::Pass))
    }

    /// The image's exit code, when it wrote one.
    pub fn exit_code(&self) -> Option<ExitCode> {
        match self {
            Outcome::Exit(code) => Some(*code),
            _ => None,
        }
    }

    /// A short lower-case label, for tables and result metadata: `pass`,
    /// `fail`, `panic`, `fault`, `reset`, `qemu-error`, `signal`, `timeout` or
    /// `killed`.
    pub fn label(&self) -> &'static str {
        self.into()
    }
}

fn first_line(text: &str) -> Option<&str> {
    text.lines().map(str::trim).find(|l| !l.is_empty())
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Exit(code) => {
                let status = code.qemu_status();
                match code {
                    ExitCode::Pass => write!(f, "The image passed (exit status {status})."),
                    ExitCode::Fail => write!(
                        f,
                        "The image reported a failed check (exit status {status})."
                    ),
                    ExitCode::Panic => {
                        write!(f, "A core panicked (exit status {status}).")
                    }
                    ExitCode::Fault => write!(
                        f,
                        "A core took an unexpected CPU exception (exit status {status})."
                    ),
                }
            }
            Outcome::Reset => f.write_str(
                "The guest reset or shut down without writing an exit code (QEMU exit status 0, \
                 which is how a triple fault ends).",
            ),
            Outcome::QemuError { status, stderr } => {
                if *status == 1 {
                    write!(f, "QEMU reported an error (exit status 1)")?;
                } else {
                    write!(
                        f,
                        "QEMU exited with status {status}, which the image never produces"
                    )?;
                }
                match first_line(stderr) {
                    Some(line) => write!(f, ": {line}"),
                    None => f.write_str("."),
                }
            }
            Outcome::Signal(signal) => {
                write!(f, "QEMU was killed by signal {signal}")?;
                match signal_name(*signal) {
                    Some(name) => write!(f, " ({name})."),
                    None => f.write_str("."),
                }
            }
            Outcome::TimedOut => f.write_str("The run timed out and the host killed QEMU."),
            Outcome::Killed => f.write_str("The host stopped QEMU before the run ended."),
        }
    }
}

fn signal_name(signal: i32) -> Option<&'static str> {
    Some(match signal {
        libc::SIGHUP => "SIGHUP",
        libc::SIGINT => "SIGINT",
        libc::SIGQUIT => "SIGQUIT",
        libc::SIGILL => "SIGILL",
        libc::SIGABRT => "SIGABRT",
        libc::SIGBUS => "SIGBUS",
        libc::SIGFPE => "SIGFPE",
        libc::SIGKILL => "SIGKILL",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGPIPE => "SIGPIPE",
        libc::SIGTERM => "SIGTERM",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exited(code: i32) -> Outcome {
        Outcome::from_status(ExitStatus::from_raw(code << 8), "qemu: oops\nmore")
    }

    #[test]
    fn decodes_statuses() {
        assert_eq!(exited(0), Outcome::Reset);
        assert_eq!(
            exited(1),
            Outcome::QemuError {
                status: 1,
                stderr: "qemu: oops\nmore".into()
            }
        );
        assert_eq!(exited(33), Outcome::Exit(ExitCode::Pass));
        assert_eq!(exited(35), Outcome::Exit(ExitCode::Fail));
        assert_eq!(exited(37), Outcome::Exit(ExitCode::Panic));
        assert_eq!(exited(39), Outcome::Exit(ExitCode::Fault));
        for other in [2, 3, 32, 34, 41, 255] {
            assert!(
                matches!(exited(other), Outcome::QemuError { status, .. } if status == other),
                "{other}"
            );
        }
        assert_eq!(
            Outcome::from_status(ExitStatus::from_raw(libc::SIGSEGV), ""),
            Outcome::Signal(libc::SIGSEGV)
        );
    }

    #[test]
    fn only_pass_is_a_pass() {
        assert!(exited(33).is_pass());
        for other in [0, 1, 35, 37, 39, 3] {
            assert!(!exited(other).is_pass(), "{other}");
        }
        for other in [
            Outcome::Signal(9),
            Outcome::TimedOut,
            Outcome::Killed,
            Outcome::Reset,
        ] {
            assert!(!other.is_pass(), "{other:?}");
        }
        assert_eq!(exited(37).exit_code(), Some(ExitCode::Panic));
        assert_eq!(exited(0).exit_code(), None);
    }

    #[test]
    fn displays_one_sentence() {
        assert_eq!(exited(33).to_string(), "The image passed (exit status 33).");
        assert!(exited(0).to_string().contains("triple fault"));
        assert_eq!(
            exited(1).to_string(),
            "QEMU reported an error (exit status 1): qemu: oops"
        );
        assert!(
            exited(2)
                .to_string()
                .contains("status 2, which the image never")
        );
        assert_eq!(
            Outcome::QemuError {
                status: 1,
                stderr: String::new()
            }
            .to_string(),
            "QEMU reported an error (exit status 1)."
        );
        assert_eq!(
            Outcome::Signal(11).to_string(),
            "QEMU was killed by signal 11 (SIGSEGV)."
        );
        for outcome in [
            exited(33),
            exited(35),
            exited(37),
            exited(39),
            exited(0),
            exited(1),
            Outcome::Signal(64),
            Outcome::TimedOut,
            Outcome::Killed,
        ] {
            let text = outcome.to_string();
            assert!(!text.contains('\n'), "{text}");
            assert!(text.ends_with('.') || text.contains(": "), "{text}");
        }
    }

    #[test]
    fn labels() {
        assert_eq!(exited(33).label(), "pass");
        assert_eq!(exited(39).label(), "fault");
        assert_eq!(exited(0).label(), "reset");
        assert_eq!(exited(1).label(), "qemu-error");
        assert_eq!(Outcome::TimedOut.label(), "timeout");
        let labels = [
            Outcome::Exit(ExitCode::Pass),
            Outcome::Exit(ExitCode::Fail),
            Outcome::Exit(ExitCode::Panic),
            Outcome::Exit(ExitCode::Fault),
            Outcome::Reset,
            Outcome::QemuError {
                status: 1,
                stderr: String::new(),
            },
            Outcome::Signal(9),
            Outcome::TimedOut,
            Outcome::Killed,
        ]
        .map(|o| o.label());
        assert_eq!(
            labels,
            [
                "pass",
                "fail",
                "panic",
                "fault",
                "reset",
                "qemu-error",
                "signal",
                "timeout",
                "killed"
            ]
        );
    }
}
