//! What a program is given when it starts and learns about where it runs.
//!
//! A program starts at its ELF entry point with `rdi` = core id, `rsi` =
//! number of cores, `rdx` = a [`StartTest`] code (0 outside the kernel's
//! deliberate ring-3 failure scenarios), `rsp` = [`STACK_TOP`] and
//! interrupts enabled. [`Syscall::Info`] then gives it a [`ProgramInfo`].

#[cfg(doc)]
use crate::{Syscall, cap, layout::STACK_TOP};

/// What a program learns about where it runs ([`Syscall::Info`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub struct ProgramInfo {
    /// The core it runs on.
    pub core: u32,
    /// Number of cores.
    pub cores: u32,
    /// TSC ticks per second.
    pub tsc_hz: u64,
    /// Frames in the shared pool.
    pub pool_frames: u64,
    /// Base of the heap.
    pub heap_base: u64,
    /// Size of the heap.
    pub heap_size: u64,
    /// 1 when the core runs under a hypervisor whose ring 0 is emulated
    /// (timings there are only meaningful in ring 3).
    pub hypervisor: u32,
    /// 1 in a domain started from user level ([`Syscall::DispatcherRun`]),
    /// whose runtime pages its own heap; 0 in a program the CPU driver
    /// loaded at boot.
    pub domain: u32,
    /// Offset of the boot-module archive inside the frame of
    /// [`cap::slot::INITRD`] (0 when the machine has none).
    pub initrd_offset: u64,
    /// Length of the archive in bytes (0: no archive, and the slot is
    /// empty).
    pub initrd_len: u64,
}

/// A deliberate failure that the runtime carries out before the program's
/// main function, for the kernel's `test=` scenarios. The CPU driver passes
/// its code in `rdx` at the program's entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, strum::FromRepr)]
#[repr(u64)]
pub enum StartTest {
    /// Nothing deliberate: run the program.
    None = 0,
    /// Panic (`test=user-panic`).
    Panic = 1,
    /// Allocate until the heap is exhausted (`test=user-oom`).
    ExhaustHeap = 2,
}

impl StartTest {
    /// Decodes the entry register; an unknown code is `None`.
    pub fn from_code(code: u64) -> StartTest {
        StartTest::from_repr(code).unwrap_or(StartTest::None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_tests_decode() {
        for t in [StartTest::None, StartTest::Panic, StartTest::ExhaustHeap] {
            assert_eq!(StartTest::from_code(t as u64), t);
        }
        assert_eq!(StartTest::from_code(77), StartTest::None);
    }
}
