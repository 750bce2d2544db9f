//! The [`Platform`] of a ring-3 program: system calls to the CPU driver.

use core::fmt;
use core::ptr::NonNull;

use abi::{ProgramInfo, SysError};

use super::spawn::Loader;
use super::sys;
use crate::platform::{Platform, PlatformError, SpawnError};
use crate::shm::Arena;

/// The platform of a ring-3 program on the CPU driver.
#[derive(Debug)]
pub struct Ring3 {
    info: ProgramInfo,
    loader: Loader,
}

impl Ring3 {
    /// Asks the CPU driver where this program runs.
    pub fn new() -> Result<Ring3, SysError> {
        Ok(Ring3 {
            info: sys::info()?,
            loader: Loader::default(),
        })
    }

    /// What the CPU driver reported.
    pub fn info(&self) -> &ProgramInfo {
        &self.info
    }

    /// The loader of spawned domains.
    pub fn loader(&mut self) -> &mut Loader {
        &mut self.loader
    }
}

fn platform_error(e: SysError) -> PlatformError {
    match e {
        SysError::BadCore => PlatformError::BadCore,
        SysError::NoMemory => PlatformError::NoMemory,
        _ => PlatformError::BadFrame,
    }
}

impl Platform for Ring3 {
    fn core(&self) -> u32 {
        self.info.core
    }

    fn cores(&self) -> u32 {
        self.info.cores
    }

    fn tsc_hz(&self) -> u64 {
        self.info.tsc_hz
    }

    fn now(&self) -> u64 {
        // SAFETY: RDTSC is allowed in ring 3 (the CPU driver leaves CR4.TSD
        // clear) and has no memory effects.
        unsafe { core::arch::x86_64::_rdtsc() }
    }

    fn pool_frames(&self) -> u64 {
        self.info.pool_frames
    }

    fn map_pool(&mut self, first: u64, count: u64) -> Result<Arena, PlatformError> {
        let ptr = sys::map_pool(first, count).map_err(|e| match e {
            abi::Error::Sys(e) => platform_error(e),
            abi::Error::Cap(_) => PlatformError::Denied,
        })?;
        let base = NonNull::new(ptr).ok_or(PlatformError::BadFrame)?;
        // SAFETY: the CPU driver mapped the frames, page aligned, readable
        // and writable, for the rest of the program; every user of an
        // arena accesses it atomically.
        Ok(unsafe { Arena::new(first, count, base) })
    }

    fn notify(&mut self, core: u32) -> Result<(), PlatformError> {
        sys::notify(core).map_err(platform_error)
    }

    fn wait(&mut self, timeout: u64) -> bool {
        sys::wait(timeout)
    }

    fn spawn(&mut self, name: &str) -> Result<u32, SpawnError> {
        self.loader.spawn(&self.info, name)
    }

    fn child(&mut self, child: u32) -> Result<abi::disp::Status, SpawnError> {
        self.loader.status(child)
    }

    fn release(&mut self, child: u32) -> Result<(), SpawnError> {
        self.loader.release(child)
    }

    fn print(&mut self, line: fmt::Arguments<'_>) {
        super::print(line);
    }
}
