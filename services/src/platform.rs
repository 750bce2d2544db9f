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
}

impl fmt::Display for PlatformError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PlatformError::BadFrame => "frame range outside the shared pool",
            PlatformError::BadCore => "no such core",
            PlatformError::NoMemory => "out of memory for mappings",
        })
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

    /// Prints one line, attributed to this core. Lines that are structured
    /// records start with `boot::protocol::RECORD_TAG`.
    fn print(&mut self, line: fmt::Arguments<'_>);

    /// Prints a structured record: `@flotilla/1 <kind> <fields>`.
    fn record(&mut self, kind: &str, fields: fmt::Arguments<'_>) {
        self.print(format_args!("@flotilla/1 {kind} {fields}"));
    }
}
