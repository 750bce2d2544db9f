//! Turning a configuration into a ready-to-start QEMU command.

use std::path::PathBuf;
use std::time::Duration;

use crate::accel::AccelDecision;
use crate::binary::{QemuNotFound, find_qemu};
use crate::config::{ConfigError, QemuConfig};
use crate::qemu_cmdline::{gdb_instructions, qemu_args, shell_join};
use crate::runner::{Qemu, SerialLine};

/// Why QEMU could not be started.
#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    /// The configuration is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The QEMU binary is missing.
    #[error(transparent)]
    QemuNotFound(#[from] QemuNotFound),
    /// The operating system refused to start the process or its readers.
    #[error("could not start `{program}`: {source}")]
    Spawn {
        /// The program.
        program: String,
        /// The error.
        source: std::io::Error,
    },
}

/// A fully resolved QEMU command, ready to [`start`](Launch::start).
///
/// [`Launch::prepare`] fills it from a [`QemuConfig`]. The fields are public
/// so a caller can inspect or adjust the command before starting it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Launch {
    /// The QEMU binary.
    pub program: PathBuf,
    /// Its arguments.
    pub args: Vec<String>,
    /// The accelerator chosen, and why.
    pub accel: AccelDecision,
    /// The overall timeout; `None` with gdb.
    pub timeout: Option<Duration>,
    /// The kernel ELF, for gdb instructions.
    pub kernel: PathBuf,
    /// Whether QEMU waits for gdb.
    pub gdb: bool,
}

impl Launch {
    /// Validates `config`, decides the accelerator and checks the
    /// configuration against it, finds QEMU, and builds the command line.
    pub fn prepare(config: &QemuConfig) -> Result<Launch, LaunchError> {
        config.validate()?;
        let accel = config.resolve_accel()?;
        let program = find_qemu(config.qemu_binary.as_deref())?;
        let args = qemu_args(config, accel.accel);
        Ok(Launch {
            program,
            args,
            accel,
            timeout: config.effective_timeout(),
            kernel: config.kernel.clone(),
            gdb: config.gdb,
        })
    }

    /// The program followed by its arguments.
    pub fn argv(&self) -> Vec<String> {
        std::iter::once(self.program.display().to_string())
            .chain(self.args.iter().cloned())
            .collect()
    }

    /// The command as one shell-quoted line that reproduces the run.
    pub fn command_line(&self) -> String {
        shell_join(self.argv())
    }

    /// How to attach gdb, when the run waits for it.
    pub fn gdb_instructions(&self) -> Option<String> {
        self.gdb.then(|| gdb_instructions(&self.kernel))
    }

    /// Starts QEMU.
    pub fn start(self) -> Result<Qemu, LaunchError> {
        Qemu::spawn(self, None)
    }

    /// Starts QEMU and calls `observer` with every serial line as it arrives,
    /// on a reader thread, before any wait sees it. A command line uses this
    /// to print the log live.
    pub fn start_with_observer(
        self,
        observer: impl FnMut(&SerialLine) + Send + 'static,
    ) -> Result<Qemu, LaunchError> {
        Qemu::spawn(self, Some(Box::new(observer)))
    }
}
