//! The [`Platform`] of a ring-3 program: system calls to the CPU driver.

use core::fmt;
use core::ptr::NonNull;

use abi::cap::{CPtr, rights, slot};
use abi::{CapError, ProgramInfo, SysError};

use super::domain_loader::Loader;
use super::sys;
use crate::platform::{Platform, PlatformError, SpawnError};
use crate::shm::Arena;

/// Where the shared pool is mapped in the capability window: its `r`-th
/// 2 MiB at `POOL_VA + r × 2 MiB`.
const POOL_VA: u64 = abi::CAP_MAP_BASE + (128 << 30);
/// Pages of one Frame of the pool (`abi::cap::slot::POOL`).
const REGION_PAGES: u64 = 512;

/// The platform of a ring-3 program on the CPU driver.
#[derive(Debug)]
pub struct Ring3 {
    info: ProgramInfo,
    loader: Loader,
    /// Which 2 MiB regions of the pool are mapped, one bit each.
    pool_mapped: [u64; 4],
}

impl Ring3 {
    /// Asks the CPU driver where this program runs.
    pub fn new() -> Result<Ring3, SysError> {
        Ok(Ring3 {
            info: sys::info()?,
            loader: Loader::default(),
            pool_mapped: [0; 4],
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

impl Ring3 {
    /// Maps the pool's `r`-th 2 MiB through its Frame in the pool CNode,
    /// once.
    fn map_pool_region(&mut self, r: u64) -> Result<(), PlatformError> {
        let (word, bit) = ((r / 64) as usize, 1u64 << (r % 64));
        if self.pool_mapped.get(word).is_some_and(|w| w & bit != 0) {
            return Ok(());
        }
        let frame = u8::try_from(r + 1)
            .ok()
            .and_then(|i| CPtr::l2(slot::POOL, i))
            .ok_or(PlatformError::BadFrame)?;
        let pages = (self.info.pool_frames - r * REGION_PAGES).min(REGION_PAGES) as u32;
        let va = POOL_VA + r * REGION_PAGES * abi::FRAME;
        match sys::cap_map(frame, va, rights::READ | rights::WRITE, 0, pages) {
            Ok(_) => {}
            // No pool Frame here, or (a spawned domain) no capability
            // window to map it in.
            Err(abi::Error::Cap(
                CapError::EmptySlot
                | CapError::NoSuchSlot
                | CapError::WrongType
                | CapError::NotPermitted,
            )) => return Err(PlatformError::Denied),
            Err(abi::Error::Sys(SysError::NoMemory)) => return Err(PlatformError::NoMemory),
            Err(_) => return Err(PlatformError::BadFrame),
        }
        self.pool_mapped[word] |= bit;
        Ok(())
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
        // RDTSC is allowed in ring 3: the CPU driver leaves CR4.TSD clear.
        urpc::bench::rdtsc()
    }

    fn pool_frames(&self) -> u64 {
        self.info.pool_frames
    }

    fn map_pool(&mut self, first: u64, count: u64) -> Result<Arena, PlatformError> {
        let frames = self.info.pool_frames;
        if count == 0 || first.checked_add(count).is_none_or(|end| end > frames) {
            return Err(PlatformError::BadFrame);
        }
        for r in first / REGION_PAGES..=(first + count - 1) / REGION_PAGES {
            self.map_pool_region(r)?;
        }
        let ptr = (POOL_VA + first * abi::FRAME) as *mut u8;
        let base = NonNull::new(ptr).ok_or(PlatformError::BadFrame)?;
        // SAFETY: the frames are mapped (above, or before: a region stays
        // mapped for the rest of the program), page aligned, readable and
        // writable, at the same address for every arena that names them;
        // every user of an arena accesses it atomically.
        Ok(unsafe { Arena::new(first, count, base) })
    }

    fn notify(&mut self, core: u32) -> Result<(), PlatformError> {
        // Slot `core` of the NOTIFY CNode holds that core's Notify
        // capability.
        let cap = u8::try_from(core)
            .ok()
            .and_then(|c| abi::cap::CPtr::l2(abi::cap::slot::NOTIFY, c))
            .ok_or(PlatformError::BadCore)?;
        sys::notify(cap).map_err(|e| match e {
            abi::Error::Sys(e) => platform_error(e),
            abi::Error::Cap(_) => PlatformError::Denied,
        })
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
