//! The boot handshake: the only memory that two cores write during boot.
//!
//! Flotilla's CPU drivers share no kernel state. Two exceptions are tolerated
//! and confined to the **handshake area**, a range below 4 GiB that the boot
//! core sets aside before it starts any other core (see [`crate::plan`]):
//!
//! 1. **The boot handshake.** For every core the boot core fills a
//!    [`BootParams`] page (its [`BootParams::given`] half) *before* it sends
//!    the start-up IPI and never writes it again. The started core writes only
//!    the [`BootParams::report`] half: how far it got, and that it is up.
//!    The boot core's own report also carries its go-ahead for ring-3
//!    programs ([`Report::programs_go`]), which the other cores read. So
//!    each variable has exactly one writer.
//! 2. **Serial-line arbitration.** There is one UART. The boot core
//!    programs it once and places its driver state in the [`Header`],
//!    behind a test-and-set lock that every core takes to print one whole
//!    line, so lines never interleave.
//!
//! Layout of the area, for `n` cores (all offsets page aligned):
//!
//! | offset | contents |
//! |---|---|
//! | 0 | [`Header`]: serial lock, AP lookup table size |
//! | 4 KiB | the AP lookup table: `n` × [`ApEntry`], read by the trampoline |
//! | [`Layout::params`] | `n` × one [`BootParams`] page |
//! | [`Layout::stacks`] | `n` × [`EARLY_STACK`] bytes: each core's first stack |
//!
//! A core switches to a stack in its own partition as soon as its own page
//! tables are live; after that it writes the area only to report progress.

use core::sync::atomic::{AtomicU32, AtomicU64};

use crate::kernel_cmdline::Config;
use crate::plan::PhysRange;

/// Size of a page.
pub const PAGE: u64 = 4096;
/// Size of each core's early stack in the handshake area.
pub const EARLY_STACK: u64 = 32 * 1024;
/// `BootParams::given.magic`.
pub const PARAMS_MAGIC: u64 = 0x666c_6f74_696c_6c61; // "flotilla"

/// The first page of the handshake area.
///
/// `S` is the serial driver's state (the CPU driver uses its UART type);
/// it is generic so that this crate does not depend on a driver.
#[repr(C, align(4096))]
pub struct Header<S> {
    /// The serial line: whoever holds the lock owns the UART for one line.
    pub serial: spin::mutex::SpinMutex<S>,
    /// Number of [`ApEntry`] records in the lookup table.
    pub ap_entries: AtomicU64,
}

/// One record of the AP lookup table.
///
/// A core arriving from the real-mode trampoline reads its own APIC id,
/// finds its record here and switches to `stack_top` before it runs any Rust
/// code. The layout is fixed because assembly reads it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(C)]
pub struct ApEntry {
    /// The core's local APIC id.
    pub apic_id: u32,
    /// Reserved, zero.
    pub _reserved: u32,
    /// Physical address of the core's [`BootParams`].
    pub params: u64,
    /// Top of the core's early stack (a physical address, identity mapped).
    pub stack_top: u64,
    /// Reserved, zero.
    pub _reserved2: u64,
}

/// What the boot core gives a core. Written once, before the core starts.
#[derive(Clone, Copy, Debug)]
#[repr(C)]
pub struct Given {
    /// [`PARAMS_MAGIC`].
    pub magic: u64,
    /// Logical core id (0 is the boot core).
    pub core_id: u32,
    /// Number of cores in the system.
    pub core_count: u32,
    /// Local APIC id.
    pub apic_id: u32,
    /// NUMA node.
    pub node: u32,
    /// The boot core's APIC id, where notifications to it go.
    pub boot_apic_id: u32,
    /// Number of NUMA nodes with cores (1 without a SRAT).
    pub numa_nodes: u32,
    /// The core's private partition.
    pub partition: PhysRange,
    /// The whole handshake area.
    pub handshake: PhysRange,
    /// The shared channel-frame pool.
    pub shared_pool: PhysRange,
    /// Physical address of the kernel's pristine writable-data image.
    pub data_template: u64,
    /// TSC ticks per second, measured once by the boot core.
    pub tsc_hz: u64,
    /// Local APIC timer ticks per second (divide-by-16), measured once by the
    /// boot core.
    pub lapic_timer_hz: u64,
    /// The boot core's TSC when it entered the kernel.
    pub boot_tsc: u64,
    /// The first boot module (the initrd archive), empty when there is none.
    pub initrd: PhysRange,
    /// Usable RAM in the memory map, in bytes.
    pub usable_bytes: u64,
    /// The parsed kernel command line.
    pub config: Config,
}

/// How far a core has come. Values only increase.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, strum::FromRepr)]
#[repr(u32)]
pub enum Stage {
    /// Nothing heard from the core.
    Silent = 0,
    /// The core reached 64-bit code through the trampoline.
    LongMode = 1,
    /// The core's first Rust code runs on its early stack.
    Early = 2,
    /// The core built its own page tables and switched to them.
    OwnPaging = 3,
    /// The core set up its descriptor tables, heap and local APIC.
    Initialised = 4,
    /// The core passed its self checks and is idle, waiting for work.
    Up = 5,
    /// The core stopped on an error; see [`Report::error`].
    Failed = 6,
}

impl Stage {
    /// Decodes a stored stage.
    pub fn from_u32(v: u32) -> Option<Stage> {
        Stage::from_repr(v)
    }

    /// A short description for reports.
    pub fn describe(self) -> &'static str {
        match self {
            Stage::Silent => {
                "never reached 64-bit mode (the start-up IPI or the trampoline failed)"
            }
            Stage::LongMode => "reached 64-bit mode but did not start its early Rust code",
            Stage::Early => "started but did not finish building its own page tables",
            Stage::OwnPaging => "switched to its own page tables but did not finish initialising",
            Stage::Initialised => "initialised but did not finish its self checks",
            Stage::Up => "is up",
            Stage::Failed => "stopped on an error",
        }
    }
}

/// Errors a core can report before it can print.
#[derive(Clone, Copy, Debug, PartialEq, Eq, strum::FromRepr)]
#[repr(u32)]
pub enum EarlyError {
    /// No error.
    None = 0,
    /// The parameter page has a bad magic number.
    BadParams = 1,
    /// The partition ran out of frames while building the address space.
    OutOfFrames = 2,
    /// A mapping could not be made.
    MapFailed = 3,
}

impl EarlyError {
    /// Decodes a stored error.
    pub fn from_u32(v: u32) -> EarlyError {
        EarlyError::from_repr(v).unwrap_or(EarlyError::None)
    }
}

/// What a core reports back. Written only by that core.
#[repr(C, align(64))]
pub struct Report {
    /// The core's [`Stage`].
    pub stage: AtomicU32,
    /// An [`EarlyError`] when `stage` is [`Stage::Failed`].
    pub error: AtomicU32,
    /// How many notification IPIs the core has taken.
    pub ipis: AtomicU32,
    /// The core's TSC when it reached [`Stage::Up`].
    pub up_tsc: AtomicU64,
    /// Used in the boot core's own report only: non-zero once the boot
    /// core has printed `boot-done` and checked the initrd. The other cores
    /// read it and start their ring-3 programs only after it is set.
    pub programs_go: AtomicU32,
    /// First byte of the RAM the core hands out to its monitor (set with
    /// [`Report::user_ram_end`] before its first program runs; both zero
    /// until then). Other cores accept capabilities owned by this core
    /// only over this RAM.
    pub user_ram_start: AtomicU64,
    /// One past the last byte of that RAM.
    pub user_ram_end: AtomicU64,
}

/// The per-core parameter page.
#[repr(C, align(4096))]
pub struct BootParams {
    /// Written by the boot core before start-up.
    pub given: Given,
    /// Written by the core itself.
    pub report: Report,
}

const _: () = assert!(core::mem::size_of::<BootParams>() == PAGE as usize);
const _: () = assert!(core::mem::size_of::<Header<[u64; 8]>>() == PAGE as usize);
const _: () = assert!(core::mem::size_of::<ApEntry>() == 32);

/// Offsets inside the handshake area for a given core count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    /// Number of cores.
    pub cores: u64,
    /// Offset of the AP lookup table.
    pub table: u64,
    /// Offset of the first [`BootParams`] page.
    pub params: u64,
    /// Offset of the first early stack.
    pub stacks: u64,
    /// Total size in bytes.
    pub size: u64,
}

impl Layout {
    /// The layout for `cores` cores.
    pub const fn new(cores: u64) -> Layout {
        let table = PAGE;
        let table_bytes = (cores * core::mem::size_of::<ApEntry>() as u64).div_ceil(PAGE) * PAGE;
        let params = table + table_bytes;
        let stacks = params + cores * PAGE;
        let size = stacks + cores * EARLY_STACK;
        Layout {
            cores,
            table,
            params,
            stacks,
            size,
        }
    }

    /// Offset of core `core`'s parameter page.
    pub const fn params_of(&self, core: u64) -> u64 {
        self.params + core * PAGE
    }

    /// Offset of the top of core `core`'s early stack.
    pub const fn stack_top_of(&self, core: u64) -> u64 {
        self.stacks + (core + 1) * EARLY_STACK
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_regions_do_not_overlap() {
        for cores in [1u64, 2, 63, 64, 127, 128, 512] {
            let l = Layout::new(cores);
            assert!(l.table >= PAGE);
            assert!(l.table + cores * 32 <= l.params);
            assert_eq!(l.params % PAGE, 0);
            assert_eq!(l.params_of(cores - 1) + PAGE, l.stacks);
            assert_eq!(l.stack_top_of(cores - 1), l.size);
            assert_eq!(l.stack_top_of(0) - EARLY_STACK, l.stacks);
        }
    }

    #[test]
    fn stages_round_trip_and_order() {
        for v in 0..7 {
            assert_eq!(Stage::from_u32(v).unwrap() as u32, v);
        }
        assert_eq!(Stage::from_u32(7), None);
        assert!(Stage::LongMode < Stage::Up);
        assert_eq!(EarlyError::from_u32(2), EarlyError::OutOfFrames);
        assert_eq!(EarlyError::from_u32(99), EarlyError::None);
    }
}
