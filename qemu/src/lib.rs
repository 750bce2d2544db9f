//! Host library that runs Flotilla images in QEMU.
//!
//! A run goes through these pieces, one module each:
//!
//! - [`config`]: [`QemuConfig`] says what to run (machine, cores, NUMA nodes,
//!   memory, accelerator, CPU model, kernel and initrd, command line, gdb,
//!   timeout) and
//!   [`QemuConfig::validate`] refuses what cannot work, with a
//!   [`ConfigError`] that says what to change.
//! - [`accel`]: [`decide_accel`] picks KVM or TCG for `auto`, with the
//!   reason; [`kvm_usable`] tells whether KVM works at all.
//! - [`qemu_cmdline`]: [`qemu_args`] builds the command line as a pure function;
//!   [`shell_join`] renders it as one line a shell runs unchanged.
//! - [`binary`]: [`find_qemu`] finds the QEMU binary (config, then
//!   `$FLOTILLA_QEMU`, then `PATH`) or says how to install it;
//!   [`qemu_version`] reads its version.
//! - [`launch`]: [`Launch::prepare`] ties the above into one resolved
//!   command, and [`Launch::start`] runs it.
//! - [`runner`]: [`Qemu`] is a running QEMU. It streams serial lines with
//!   timestamps, waits for markers or records with timeouts, collects all of
//!   its output, and kills QEMU on timeout and on drop.
//! - [`outcome`]: [`Outcome`] decodes QEMU's exit status into what the image
//!   reported. Only [`Outcome::is_pass`] is a pass.
//! - [`report`]: [`failure_report`] prints what failed, the whole serial log,
//!   stderr and the command to reproduce.
//! - [`records`](mod@records): owned copies of the structured `@flotilla/1` records,
//!   each with the [`Printer`] the kernel's stamp names.
//! - [`ownership`]: the one table of which printer owns which record kind;
//!   a record from any other printer is [`Forged`] and does not count.
//!
//! # Example
//!
//! ```no_run
//! use std::time::Duration;
//! use qemu::{Machine, Qemu, QemuConfig};
//!
//! let config = QemuConfig::new("target/x86_64-unknown-none/release/cpudriver")
//!     .machine(Machine::Q35)
//!     .cores(4)
//!     .numa_nodes(2)
//!     .append("log=info");
//! let mut run = Qemu::start(&config)?;
//! if let Err(err) = run.wait_for_marker("all cores up", Duration::from_secs(30)) {
//!     panic!("{err}\n{}", run.failure_report("boot 4 cores"));
//! }
//! let outcome = run.wait_end();
//! assert!(outcome.is_pass(), "{}", run.failure_report("boot 4 cores"));
//! # Ok::<(), qemu::LaunchError>(())
//! ```

pub mod accel;
pub mod binary;
pub mod config;
pub mod launch;
pub mod outcome;
pub mod ownership;
mod process;
pub mod qemu_cmdline;
pub mod records;
pub mod report;
pub mod runner;

pub use accel::{
    AccelDecision, ResolvedAccel, cpu_has_virtualization, decide_accel, detect_accel, kvm_openable,
    kvm_usable,
};
pub use binary::{
    DEFAULT_QEMU, INSTALL_COMMAND, QEMU_ENV, QemuNotFound, VersionError, find_qemu,
    parse_qemu_version, qemu_version,
};
pub use boot::protocol::ExitCode;
pub use config::{
    Accel, ConfigError, Machine, ParseChoiceError, QemuConfig, TCG_MAX_CORES, default_memory_mib,
};
pub use launch::{Launch, LaunchError};
pub use outcome::Outcome;
pub use ownership::{Forged, Owner};
pub use qemu_cmdline::{
    GDB_PORT, cpu_model, cpu_note, default_cpu, gdb_instructions, kernel_cmdline, qemu_args,
    shell_join, shell_quote,
};
pub use records::{
    OwnedRecord, Printer, ReadError, forged_records, malformed_records, records, records_of_kind,
};
pub use report::{RunSummary, failure_report};
pub use runner::{Observer, Qemu, SerialLine, WaitError};
