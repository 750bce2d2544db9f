//! A running QEMU: its serial stream, waits with timeouts, and its end.
//!
//! Three helper threads feed one channel: the serial reader (stdout, split
//! into timestamped lines), the stderr reader, and an exit watcher. The
//! [`Qemu`] handle consumes that channel only while a caller waits, keeps
//! every line it has seen, and kills QEMU's whole process group when a wait
//! runs out of time, when asked, and when the handle is dropped.

use std::fmt;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, ChildStderr, ChildStdout, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender, TryRecvError};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use crate::accel::AccelDecision;
use crate::launch::{Launch, LaunchError};
use crate::outcome::Outcome;
use crate::process;
use crate::records::{self, OwnedRecord};
use crate::report::{self, RunSummary};

/// How long to keep collecting output after QEMU has ended, for output still
/// in the pipes.
const DRAIN_GRACE: Duration = Duration::from_secs(2);

/// At most this much of QEMU's stderr is kept.
const STDERR_LIMIT: usize = 1 << 20;

/// How often, at most, starting a binary that is momentarily busy (just
/// written, `ETXTBSY`) is retried.
const BUSY_RETRIES: u32 = 20;

/// A callback that sees every serial line as it arrives.
pub type Observer = Box<dyn FnMut(&SerialLine) + Send + 'static>;

/// One line of the guest's serial output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SerialLine {
    /// When the host read it, counted from QEMU's start.
    pub at: Duration,
    /// The line without its terminator (`\n` or `\r\n`); invalid UTF-8 is
    /// replaced with U+FFFD.
    pub text: String,
}

impl fmt::Display for SerialLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{:>9.3}s] {}", self.at.as_secs_f64(), self.text)
    }
}

/// Why a wait did not see what it waited for.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WaitError {
    /// The time ran out; QEMU has been killed.
    #[error(
        "timed out after {:.1} s waiting for {what} ({:.1} s after QEMU started); QEMU was killed",
        waited.as_secs_f64(),
        elapsed.as_secs_f64()
    )]
    Timeout {
        /// What was awaited.
        what: String,
        /// How long this wait lasted.
        waited: Duration,
        /// How long QEMU had run.
        elapsed: Duration,
    },
    /// QEMU ended without printing it.
    #[error("QEMU ended before {what} appeared: {outcome}")]
    Exited {
        /// What was awaited.
        what: String,
        /// How QEMU ended.
        outcome: Outcome,
    },
}

impl WaitError {
    /// How QEMU ended: the exit for [`WaitError::Exited`], and
    /// [`Outcome::TimedOut`] for [`WaitError::Timeout`].
    pub fn outcome(&self) -> Outcome {
        match self {
            WaitError::Timeout { .. } => Outcome::TimedOut,
            WaitError::Exited { outcome, .. } => outcome.clone(),
        }
    }
}

enum Event {
    Line(SerialLine),
    SerialClosed,
    StderrClosed,
    Exited,
}

enum Pumped {
    Progress,
    OutOfTime,
}

/// A running (or finished) QEMU process.
///
/// Waits consume the serial stream in order: [`Qemu::wait_for`] looks at the
/// lines after the one the previous successful wait matched, so a sequence of
/// waits checks that lines appear in that order. Every line stays in
/// [`Qemu::lines`] regardless.
///
/// Every wait is bounded by its own timeout and by the run's overall timeout
/// (counted from the start), whichever ends first; with gdb there is neither.
/// A wait that runs out of time kills QEMU, because a run that missed its
/// deadline is over.
///
/// Dropping the handle kills QEMU. QEMU also dies if the thread that started
/// it exits, so keep the handle on that thread.
pub struct Qemu {
    child: Child,
    pid: u32,
    launch: Launch,
    started: Instant,
    deadline: Option<Instant>,
    events: Receiver<Event>,
    lines: Vec<SerialLine>,
    cursor: usize,
    stderr: Arc<Mutex<Vec<u8>>>,
    serial_open: bool,
    stderr_open: bool,
    outcome: Option<Outcome>,
}

impl Qemu {
    /// Prepares and starts a run of `config`; see [`Launch::prepare`].
    pub fn start(config: &crate::QemuConfig) -> Result<Qemu, LaunchError> {
        Launch::prepare(config)?.start()
    }

    pub(crate) fn spawn(launch: Launch, observer: Option<Observer>) -> Result<Qemu, LaunchError> {
        let program = launch.program.display().to_string();
        let spawn_error = |source| LaunchError::Spawn {
            program: program.clone(),
            source,
        };
        let mut command = Command::new(&launch.program);
        command
            .args(&launch.args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        process::configure(&mut command);
        let started = Instant::now();
        let mut child = spawn_retrying(&mut command).map_err(|source| {
            if source.kind() == std::io::ErrorKind::NotFound {
                LaunchError::QemuNotFound(crate::binary::QemuNotFound {
                    looked: format!("`{program}` could not be executed ({source})"),
                })
            } else {
                spawn_error(source)
            }
        })?;
        let pid = child.id();
        let (stdout, stderr_pipe) = match (child.stdout.take(), child.stderr.take()) {
            (Some(out), Some(err)) => (out, err),
            _ => {
                kill_and_reap(&mut child);
                return Err(spawn_error(std::io::Error::other("missing output pipes")));
            }
        };
        let (tx, events) = mpsc::channel();
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let threads = start_threads(pid, started, stdout, stderr_pipe, &stderr, observer, tx);
        if let Err(source) = threads {
            kill_and_reap(&mut child);
            return Err(spawn_error(source));
        }
        Ok(Qemu {
            child,
            pid,
            deadline: launch.timeout.map(|t| started + t),
            launch,
            started,
            events,
            lines: Vec::new(),
            cursor: 0,
            stderr,
            serial_open: true,
            stderr_open: true,
            outcome: None,
        })
    }

    /// QEMU's process id (also its process group id).
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// The command that was started.
    pub fn launch(&self) -> &Launch {
        &self.launch
    }

    /// The accelerator in use, and why.
    pub fn accel(&self) -> &AccelDecision {
        &self.launch.accel
    }

    /// The command as one shell-quoted line that reproduces the run.
    pub fn command_line(&self) -> String {
        self.launch.command_line()
    }

    /// How long QEMU has been running.
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// Every serial line received so far, in order.
    ///
    /// Lines are collected while a wait runs (or [`Qemu::poll`] is called);
    /// after [`Qemu::wait_exit`] this is the whole log.
    pub fn lines(&self) -> &[SerialLine] {
        &self.lines
    }

    /// Everything QEMU has written to stderr so far (at most 1 MiB).
    pub fn stderr(&self) -> String {
        let bytes = self.stderr.lock().unwrap_or_else(PoisonError::into_inner);
        String::from_utf8_lossy(&bytes).into_owned()
    }

    /// How QEMU ended, once it has.
    pub fn outcome(&self) -> Option<&Outcome> {
        self.outcome.as_ref()
    }

    /// Whether the serial stream was read to its end. It may not be when
    /// something outside QEMU's process group held the pipe open.
    pub fn serial_complete(&self) -> bool {
        !self.serial_open
    }

    /// The well-formed structured records received so far.
    pub fn records(&self) -> Vec<OwnedRecord> {
        records::records(&self.lines)
    }

    /// Collects whatever output has arrived, without blocking, and notices an
    /// exit or an expired overall timeout. Returns the outcome once there is
    /// one.
    pub fn poll(&mut self) -> Option<&Outcome> {
        while self.outcome.is_none() {
            match self.events.try_recv() {
                Ok(Event::Exited) | Err(TryRecvError::Disconnected) => self.finish(None),
                Ok(event) => self.apply(event),
                Err(TryRecvError::Empty) => {
                    if self.deadline.is_some_and(|d| Instant::now() >= d) {
                        self.finish(Some(Outcome::TimedOut));
                    }
                    break;
                }
            }
        }
        self.outcome.as_ref()
    }

    /// Waits for the next serial line for which `matches` holds, and returns
    /// it. `what` names it in errors.
    ///
    /// Lines already received but not yet examined by an earlier wait are
    /// examined first. If QEMU ends first, the lines it printed before ending
    /// are still examined, then [`WaitError::Exited`] carries the outcome.
    pub fn wait_for(
        &mut self,
        what: &str,
        timeout: Duration,
        mut matches: impl FnMut(&str) -> bool,
    ) -> Result<SerialLine, WaitError> {
        let began = Instant::now();
        let until = self.until(timeout);
        loop {
            while let Some(line) = self.lines.get(self.cursor) {
                self.cursor += 1;
                if matches(&line.text) {
                    return Ok(line.clone());
                }
            }
            if let Some(outcome) = &self.outcome {
                return Err(WaitError::Exited {
                    what: what.to_owned(),
                    outcome: outcome.clone(),
                });
            }
            if let Pumped::OutOfTime = self.pump(until) {
                self.finish(Some(Outcome::TimedOut));
                return Err(WaitError::Timeout {
                    what: what.to_owned(),
                    waited: began.elapsed(),
                    elapsed: self.elapsed(),
                });
            }
        }
    }

    /// Waits for the next line that contains `marker`.
    pub fn wait_for_marker(
        &mut self,
        marker: &str,
        timeout: Duration,
    ) -> Result<SerialLine, WaitError> {
        self.wait_for(&format!("`{marker}`"), timeout, |line| {
            line.contains(marker)
        })
    }

    /// Waits for the next well-formed record of `kind`.
    pub fn wait_for_record(
        &mut self,
        kind: &str,
        timeout: Duration,
    ) -> Result<OwnedRecord, WaitError> {
        let what = format!("a `{kind}` record");
        let line = self.wait_for(&what, timeout, |line| {
            OwnedRecord::parse(line).is_ok_and(|r| r.kind == kind)
        })?;
        Ok(OwnedRecord::parse(&line.text).expect("the line matched as a record"))
    }

    /// Waits for QEMU to end, at most `timeout` (and the overall timeout),
    /// then collects the rest of its output. Returns how it ended:
    /// [`Outcome::TimedOut`] if it had to be killed.
    pub fn wait_exit(&mut self, timeout: Duration) -> Outcome {
        let until = self.until(timeout);
        self.wait_until_end(until)
    }

    /// Waits for QEMU to end within the run's overall timeout (forever with
    /// gdb); see [`Qemu::wait_exit`].
    pub fn wait_end(&mut self) -> Outcome {
        self.wait_until_end(self.deadline)
    }

    /// Kills QEMU now, unless it has already ended, and returns how it ended
    /// ([`Outcome::Killed`] if it was still running).
    pub fn kill(&mut self) -> Outcome {
        self.finish(Some(Outcome::Killed));
        self.outcome.clone().expect("finish sets the outcome")
    }

    /// What went into this run and what came out of it, for reports.
    pub fn summary(&self) -> RunSummary<'_> {
        RunSummary {
            outcome: self.outcome.as_ref(),
            accel: Some(&self.launch.accel),
            elapsed: self.elapsed(),
            lines: &self.lines,
            serial_complete: self.serial_complete(),
            stderr: self.stderr(),
            command_line: self.command_line(),
        }
    }

    /// A report of this run for a failure described by `what`: the outcome,
    /// the whole serial log, stderr and the command to reproduce it.
    pub fn failure_report(&self, what: &str) -> String {
        report::failure_report(what, &self.summary())
    }

    /// The kernel this run boots.
    pub fn kernel(&self) -> &Path {
        &self.launch.kernel
    }

    fn until(&self, timeout: Duration) -> Option<Instant> {
        if self.launch.gdb {
            return None;
        }
        let mine = Instant::now().checked_add(timeout);
        match (mine, self.deadline) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn wait_until_end(&mut self, until: Option<Instant>) -> Outcome {
        while self.outcome.is_none() {
            if let Pumped::OutOfTime = self.pump(until) {
                self.finish(Some(Outcome::TimedOut));
            }
        }
        self.outcome.clone().expect("the loop ends with an outcome")
    }

    /// Handles one event, waiting for it until `until` (forever for `None`).
    fn pump(&mut self, until: Option<Instant>) -> Pumped {
        let event = match until {
            None => self
                .events
                .recv()
                .map_err(|_| RecvTimeoutError::Disconnected),
            Some(until) => self
                .events
                .recv_timeout(until.saturating_duration_since(Instant::now())),
        };
        match event {
            Ok(Event::Exited) | Err(RecvTimeoutError::Disconnected) => self.finish(None),
            Ok(event) => self.apply(event),
            Err(RecvTimeoutError::Timeout) => return Pumped::OutOfTime,
        }
        Pumped::Progress
    }

    fn apply(&mut self, event: Event) {
        match event {
            Event::Line(line) => self.lines.push(line),
            Event::SerialClosed => self.serial_open = false,
            Event::StderrClosed => self.stderr_open = false,
            Event::Exited => {}
        }
    }

    /// Ends the run: kills the process group (QEMU and anything it left
    /// behind), reaps QEMU, collects the output still in flight and records
    /// the outcome. `killed` is the outcome to record if the kill is what
    /// ended QEMU; `None` when it had already exited.
    fn finish(&mut self, killed: Option<Outcome>) {
        if self.outcome.is_some() {
            return;
        }
        process::kill_group(self.pid);
        let status = self.child.wait();
        let grace = Instant::now() + DRAIN_GRACE;
        while self.serial_open || self.stderr_open {
            match self
                .events
                .recv_timeout(grace.saturating_duration_since(Instant::now()))
            {
                Ok(event) => self.apply(event),
                Err(_) => break,
            }
        }
        let stderr = self.stderr();
        let outcome = match (status, killed) {
            (Ok(status), Some(killed)) if is_sigkill(status) => killed,
            (Ok(status), _) => Outcome::from_status(status, &stderr),
            (Err(_), Some(killed)) => killed,
            (Err(err), None) => Outcome::QemuError {
                status: -1,
                stderr: format!("could not collect QEMU's exit status: {err}\n{stderr}"),
            },
        };
        self.outcome = Some(outcome);
    }
}

impl Drop for Qemu {
    fn drop(&mut self) {
        if self.outcome.is_none() {
            kill_and_reap(&mut self.child);
        }
    }
}

impl fmt::Debug for Qemu {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Qemu")
            .field("pid", &self.pid)
            .field("command", &self.command_line())
            .field("lines", &self.lines.len())
            .field("outcome", &self.outcome)
            .finish_non_exhaustive()
    }
}

fn is_sigkill(status: std::process::ExitStatus) -> bool {
    use std::os::unix::process::ExitStatusExt;
    status.signal() == Some(libc::SIGKILL)
}

fn kill_and_reap(child: &mut Child) {
    process::kill_group(child.id());
    let _ = child.wait();
}

fn spawn_retrying(command: &mut Command) -> std::io::Result<Child> {
    let mut attempt = 0;
    loop {
        match command.spawn() {
            Err(err) if err.raw_os_error() == Some(libc::ETXTBSY) && attempt < BUSY_RETRIES => {
                // Right after the binary was written, a child forked by another
                // thread may still hold it open for writing; back off and retry.
                attempt += 1;
                thread::sleep(Duration::from_millis(u64::from(attempt) * 5));
            }
            result => return result,
        }
    }
}

fn start_threads(
    pid: u32,
    started: Instant,
    stdout: ChildStdout,
    stderr: ChildStderr,
    stderr_buf: &Arc<Mutex<Vec<u8>>>,
    observer: Option<Observer>,
    tx: Sender<Event>,
) -> std::io::Result<()> {
    let serial_tx = tx.clone();
    thread::Builder::new()
        .name(format!("qemu-{pid}-serial"))
        .spawn(move || read_serial(stdout, started, observer, serial_tx))?;
    let stderr_tx = tx.clone();
    let buf = Arc::clone(stderr_buf);
    thread::Builder::new()
        .name(format!("qemu-{pid}-stderr"))
        .spawn(move || read_stderr(stderr, &buf, stderr_tx))?;
    thread::Builder::new()
        .name(format!("qemu-{pid}-exit"))
        .spawn(move || {
            process::wait_exited_keep_zombie(pid);
            let _ = tx.send(Event::Exited);
        })?;
    Ok(())
}

/// Splits QEMU's stdout into lines. Keeps reading after the handle is gone
/// so that QEMU never blocks on a full pipe before it is killed.
fn read_serial(
    stdout: ChildStdout,
    started: Instant,
    mut observer: Option<Observer>,
    tx: Sender<Event>,
) {
    let mut reader = BufReader::new(stdout);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        match reader.read_until(b'\n', &mut buf) {
            Ok(0) => break,
            Ok(_) => {
                let line = SerialLine {
                    at: started.elapsed(),
                    text: line_text(&buf),
                };
                if let Some(observer) = observer.as_mut() {
                    observer(&line);
                }
                let _ = tx.send(Event::Line(line));
            }
            Err(err) if err.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    let _ = tx.send(Event::SerialClosed);
}

fn line_text(raw: &[u8]) -> String {
    let raw = raw.strip_suffix(b"\n").unwrap_or(raw);
    let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
    String::from_utf8_lossy(raw).into_owned()
}

fn read_stderr(mut stderr: ChildStderr, buf: &Mutex<Vec<u8>>, tx: Sender<Event>) {
    let mut chunk = [0u8; 4096];
    loop {
        match stderr.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => {
                let mut kept = buf.lock().unwrap_or_else(PoisonError::into_inner);
                let room = STDERR_LIMIT.saturating_sub(kept.len());
                kept.extend_from_slice(&chunk[..n.min(room)]);
            }
            Err(err) if err.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    let _ = tx.send(Event::StderrClosed);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_terminators_are_stripped() {
        assert_eq!(line_text(b"abc\r\n"), "abc");
        assert_eq!(line_text(b"abc\n"), "abc");
        assert_eq!(line_text(b"abc"), "abc");
        assert_eq!(line_text(b"a\rb\n"), "a\rb");
        assert_eq!(line_text(b"\xff\n"), "\u{fffd}");
    }

    #[test]
    fn serial_lines_display_with_timestamps() {
        let line = SerialLine {
            at: Duration::from_millis(1234),
            text: "[core 0] hi".into(),
        };
        assert_eq!(line.to_string(), "[    1.234s] [core 0] hi");
    }
}
