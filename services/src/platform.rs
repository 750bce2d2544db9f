//! The one narrow interface between Flotilla's protocols and wherever they
//! run.
//!
//! A [`Platform`] is what one core's protocol driver (a monitor, an
//! experiment) needs from its surroundings: who it is, a clock, the shared
//! pool of frames that channels live in, notifications to and from other
//! cores, and a way to print one line. The same driver code runs
//!
//! 1. in ring 3 on the CPU driver (`platforms::ring3`), where these are
//!    system calls and the pool is the boot core's shared-frame pool;
//! 2. on Linux threads pinned to host cores (`platforms::hosted`), where
//!    the pool is one allocation shared by the threads;
//! 3. under test, with any implementation a test needs (one that delegates
//!    to a real platform: only a platform can make an [`Arena`]).
//!
//! Everything a driver shares with another core lives in pool frames,
//! reached through the [`Arena`] that [`Platform::map_pool`] returns; the
//! drivers never share Rust objects.

use core::fmt;

use crate::shm::Arena;

/// Why a platform call failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlatformError {
    /// The frame range is outside the pool.
    BadFrame,
    /// No such core.
    BadCore,
    /// The platform ran out of memory for mappings.
    NoMemory,
    /// The program holds no authority for the pool.
    Denied,
}

impl fmt::Display for PlatformError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PlatformError::BadFrame => "frame range outside the shared pool",
            PlatformError::BadCore => "no such core",
            PlatformError::NoMemory => "out of memory for mappings",
            PlatformError::Denied => "no capability for the shared pool",
        })
    }
}

/// Why a program could not be spawned ([`Platform::spawn`]). Each has a
/// stable code ([`SpawnError::code`]) that the spawn protocol carries back
/// to the requesting core.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpawnError {
    /// The platform cannot start programs (hosted threads, the simulator).
    Unsupported,
    /// The machine has no boot-module archive to load programs from.
    NoInitrd,
    /// The archive does not hold the program.
    NotFound,
    /// The archive is corrupt.
    BadArchive,
    /// The program's image cannot be a domain.
    Image(crate::image::ImageError),
    /// The platform already runs as many spawned domains as it can hold.
    Busy,
    /// Not enough memory for a domain.
    NoMemory,
    /// A capability invocation failed at this step.
    Invocation {
        /// What the loader was doing.
        step: &'static str,
        /// The kernel's error.
        error: abi::Error,
    },
    /// No domain has this handle.
    NoSuchChild,
}

impl SpawnError {
    /// The stable code (never 0): its kind, and for an invocation failure
    /// the kernel's error code above it.
    pub fn code(&self) -> u32 {
        match self {
            SpawnError::Unsupported => 1,
            SpawnError::NoInitrd => 2,
            SpawnError::NotFound => 3,
            SpawnError::BadArchive => 4,
            SpawnError::Image(_) => 5,
            SpawnError::Busy => 6,
            SpawnError::NoMemory => 7,
            SpawnError::Invocation { error, .. } => 8 | ((error.code() as u32) << 8),
            SpawnError::NoSuchChild => 9,
        }
    }

    /// The name of a code's kind, for records on the requesting core.
    pub fn code_name(code: u32) -> &'static str {
        match code & 0xff {
            1 => "unsupported",
            2 => "no-initrd",
            3 => "not-found",
            4 => "bad-archive",
            5 => "bad-image",
            6 => "busy",
            7 => "no-memory",
            8 => "invocation",
            9 => "no-such-child",
            _ => "unknown",
        }
    }
}

impl fmt::Display for SpawnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SpawnError::Unsupported => f.write_str("this platform cannot start programs"),
            SpawnError::NoInitrd => f.write_str("the machine has no boot-module archive"),
            SpawnError::NotFound => f.write_str("the boot-module archive does not hold it"),
            SpawnError::BadArchive => f.write_str("the boot-module archive is corrupt"),
            SpawnError::Image(e) => write!(f, "bad image: {e}"),
            SpawnError::Busy => f.write_str("every slot for a spawned domain is in use"),
            SpawnError::NoMemory => f.write_str("not enough RAM for a domain"),
            SpawnError::Invocation { step, error } => write!(f, "{step}: {}", error.name()),
            SpawnError::NoSuchChild => f.write_str("no such domain"),
        }
    }
}

/// What a protocol driver needs from the place it runs on one core.
pub trait Platform {
    /// This core's logical id (0 is the boot core).
    fn core(&self) -> u32;

    /// Number of cores.
    fn cores(&self) -> u32;

    /// TSC ticks per second.
    fn tsc_hz(&self) -> u64;

    /// The TSC now (no ordering fences: for timeouts, not measurements).
    fn now(&self) -> u64;

    /// Number of frames in the shared pool.
    fn pool_frames(&self) -> u64;

    /// Maps pool frames `first .. first + count` and returns them as an
    /// arena. Every core that maps the same frames sees the same memory;
    /// mapping a frame again gives the same address. The mapping lasts as
    /// long as the run.
    fn map_pool(&mut self, first: u64, count: u64) -> Result<Arena, PlatformError>;

    /// Wakes core `core` if it is blocked in [`Platform::wait`] (or makes
    /// its next wait return at once).
    fn notify(&mut self, core: u32) -> Result<(), PlatformError>;

    /// Blocks until this core is notified (returns `true`) or `timeout`
    /// TSC cycles pass (`false`). A notification sent since the last wait
    /// ends the wait at once.
    fn wait(&mut self, timeout: u64) -> bool;

    /// The core that aborted the run, if one did (its hosted thread
    /// panicked): a driver that waits for other cores then gives up. In
    /// ring 3 a panic ends the whole run at once, so this stays `None`.
    fn aborted_by(&self) -> Option<u32> {
        None
    }

    /// Starts program `name` from the boot modules as a new domain on this
    /// core; returns a handle for [`Platform::child`].
    fn spawn(&mut self, name: &str) -> Result<u32, SpawnError> {
        let _ = name;
        Err(SpawnError::Unsupported)
    }

    /// The state of the domain `child`.
    fn child(&mut self, child: u32) -> Result<abi::disp::Status, SpawnError> {
        let _ = child;
        Err(SpawnError::Unsupported)
    }

    /// Takes back every object of the ended domain `child`.
    fn release(&mut self, child: u32) -> Result<(), SpawnError> {
        let _ = child;
        Err(SpawnError::Unsupported)
    }

    /// Prints one line, attributed to this core. Lines that are structured
    /// records start with `boot::protocol::RECORD_TAG`.
    fn print(&mut self, line: fmt::Arguments<'_>);

    /// Prints a structured record: `@flotilla/1 <kind> <fields>`.
    fn record(&mut self, kind: &str, fields: fmt::Arguments<'_>) {
        self.print(format_args!("@flotilla/1 {kind} {fields}"));
    }
}
