//! The address space of a program.
//!
//! | range | contents |
//! |---|---|
//! | [`IMAGE_BASE`] .. [`IMAGE_LIMIT`] | the program's ELF segments |
//! | [`HEAP_BASE`], [`HEAP_SIZE`] bytes | the program's heap |
//! | [`CAP_MAP_BASE`], [`CAP_MAP_SIZE`] bytes | frames mapped with [`Syscall::CapMap`] |
//! | [`STACK_TOP`] − [`STACK_SIZE`] .. [`STACK_TOP`] | the stack, with an unmapped guard page below |
//!
//! Everything above is in the lower half; the kernel's entry
//! ([`SYSCALL_ENTRY`]) is in the upper half.

#[cfg(doc)]
use crate::Syscall;

/// Lowest address an ELF segment may occupy.
pub const IMAGE_BASE: u64 = 0x40_0000;
/// One past the highest address an ELF segment may occupy.
pub const IMAGE_LIMIT: u64 = 0x8000_0000;
/// Base of a program's heap.
pub const HEAP_BASE: u64 = 0x1000_0000_0000;
/// Size of a program's heap.
pub const HEAP_SIZE: u64 = 8 << 20;
/// Base of the window where frames are mapped by capability
/// ([`Syscall::CapMap`]).
pub const CAP_MAP_BASE: u64 = 0x3000_0000_0000;
/// Size of that window: one PML4 entry's reach (512 GiB).
pub const CAP_MAP_SIZE: u64 = 1 << 39;
/// Top of a program's stack.
pub const STACK_TOP: u64 = 0x7fff_0000_0000;
/// Size of a program's stack.
pub const STACK_SIZE: u64 = 256 * 1024;
/// Size of a frame.
pub const FRAME: u64 = 4096;
/// Most bytes of the boot-module archive a monitor's loader maps (32
/// pieces of 2 MiB); the host refuses to boot a larger one.
pub const MAX_INITRD: u64 = 64 << 20;
// The regions of a program's address space are disjoint and in the lower
// half.
const _: () = assert!(IMAGE_LIMIT <= HEAP_BASE);
const _: () = assert!(HEAP_BASE + HEAP_SIZE <= CAP_MAP_BASE);
const _: () = assert!(CAP_MAP_BASE + CAP_MAP_SIZE <= STACK_TOP - STACK_SIZE);
const _: () = assert!(CAP_MAP_BASE.is_multiple_of(CAP_MAP_SIZE));
const _: () = assert!(STACK_TOP < 0x0000_8000_0000_0000);

/// Where the CPU driver's `syscall` entry is linked (the first bytes of its
/// text). A program never needs it; it is here because the kernel keeps
/// nothing secret about its layout, and the hostile test program jumps
/// there to prove that doing so gains nothing.
pub const SYSCALL_ENTRY: u64 = 0xffff_ffff_8020_0000;
