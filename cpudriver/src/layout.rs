//! The virtual address layout every core builds for itself.
//!
//! All cores use the same virtual addresses; each core's page tables map them
//! to frames of its own partition. That is what makes every kernel `static`
//! per core.
//!
//! | virtual range | contents | backing frames |
//! |---|---|---|
//! | [`PHYS_VMA`] + p | direct map of the core's own partition, the handshake area and device pages | the core's own, plus the handshake area |
//! | [`boot::x86::KERNEL_VMA`] + p | kernel text and read-only data | the kernel image, read-only, same on every core |
//! | [`DATA_VMA`] | the kernel's writable data (`.data`, `.bss`) | a private copy per core |
//! | [`STACKS_VMA`] | kernel stack and the IST stacks, each below a guard page | per core |
//! | [`HEAP_VMA`] | the kernel heap | per core |

use boot::plan::PhysRange;

/// Base of the direct physical map.
pub const PHYS_VMA: u64 = 0xffff_8000_0000_0000;
/// Base of the per-core data window; the link map places `.data` here.
pub const DATA_VMA: u64 = 0xffff_ffff_c000_0000;
/// Base of the per-core stack area.
pub const STACKS_VMA: u64 = 0xffff_ffff_d000_0000;
/// Base of the per-core heap.
pub const HEAP_VMA: u64 = 0xffff_ffff_e000_0000;
/// Largest heap a core maps.
pub const HEAP_MAX: u64 = 16 << 20;

/// Size of the kernel stack.
pub const KERNEL_STACK: u64 = 64 * 1024;
/// Size of each interrupt stack (NMI, double fault, machine check).
pub const IST_STACK: u64 = 16 * 1024;
/// Size of the unmapped guard below every stack.
pub const GUARD: u64 = 4096;

/// The stacks of a core, in the order they are laid out above
/// [`STACKS_VMA`], each with a guard page below it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stack {
    /// The kernel stack.
    Kernel = 0,
    /// The NMI stack (IST 1).
    Nmi = 1,
    /// The double-fault stack (IST 2).
    DoubleFault = 2,
    /// The machine-check stack (IST 3).
    MachineCheck = 3,
}

impl Stack {
    /// Every stack.
    pub const ALL: [Stack; 4] = [
        Stack::Kernel,
        Stack::Nmi,
        Stack::DoubleFault,
        Stack::MachineCheck,
    ];

    /// The stack's size.
    pub const fn size(self) -> u64 {
        match self {
            Stack::Kernel => KERNEL_STACK,
            _ => IST_STACK,
        }
    }

    /// Lowest mapped address of the stack (just above its guard page).
    pub const fn bottom(self) -> u64 {
        let mut base = STACKS_VMA;
        let mut i = 0;
        while i < self as usize {
            base += GUARD + Stack::ALL[i].size();
            i += 1;
        }
        base + GUARD
    }

    /// One past the highest address: the initial stack pointer.
    pub const fn top(self) -> u64 {
        self.bottom() + self.size()
    }
}

/// How much heap a core with this partition gets: a quarter of the
/// partition, at most [`HEAP_MAX`], in whole 2 MiB pages where it is that
/// large (so that it maps with large pages).
pub const fn heap_size(partition: &PhysRange) -> u64 {
    let quarter = partition.len() / 4;
    let size = if quarter < HEAP_MAX {
        quarter
    } else {
        HEAP_MAX
    };
    let huge = 2 << 20;
    if size >= huge {
        size / huge * huge
    } else {
        size / 4096 * 4096
    }
}

/// Frames the CPU driver keeps for itself, at least, out of what its
/// early address space left of the partition: ring-3 program images,
/// heaps, stacks, page tables and the kernel's capability objects (see
/// [`user_ram`]).
pub const KERNEL_FRAMES_MIN: u64 = 24 << 20;

/// The part of a partition handed out as RAM capabilities.
///
/// A partition is split, from the bottom up, into the early address space
/// (heap, page tables, stacks, writable data: everything below
/// `first_free`), the kernel's frame pool (the frames `crate::frames`
/// allocates), and the RAM handed out. The kernel keeps half of what is
/// left above `first_free`, and at least [`KERNEL_FRAMES_MIN`]; the rest,
/// from a 2 MiB boundary up to the partition's end (2 MiB aligned too), is
/// handed out. A partition too small to spare 2 MiB hands out nothing (an
/// empty range at `end`).
pub const fn user_ram(first_free: u64, end: u64) -> PhysRange {
    let huge = 2 << 20;
    let free = end.saturating_sub(first_free);
    let keep = if free / 2 > KERNEL_FRAMES_MIN {
        free / 2
    } else {
        KERNEL_FRAMES_MIN
    };
    let start = (first_free.saturating_add(keep)).div_ceil(huge) * huge;
    let end_aligned = end / huge * huge;
    if start + huge > end_aligned {
        PhysRange::new(end, end)
    } else {
        PhysRange::new(start, end_aligned)
    }
}

/// The direct-map address of physical address `phys`.
pub const fn phys_to_virt(phys: u64) -> u64 {
    PHYS_VMA + phys
}

/// The link-time value of a symbol the link map defines.
///
/// The boot symbols lie in the first megabytes of the address space, out of
/// reach of RIP-relative addressing from the higher half, so they are loaded
/// as 64-bit immediates.
macro_rules! link_symbol {
    ($name:ident) => {{
        unsafe extern "C" {
            static $name: u8;
        }
        let value: u64;
        // SAFETY: this only loads a link-time constant into a register; no
        // memory is read or written.
        unsafe {
            core::arch::asm!(
                "movabs ${s}, {v}",
                s = sym $name,
                v = out(reg) value,
                options(att_syntax, nomem, nostack, pure, preserves_flags)
            );
        }
        value
    }};
}

/// Addresses the link map defines.
#[derive(Clone, Copy, Debug)]
pub struct Image {
    /// Physical range of the whole loaded image, boot tables included.
    pub phys: PhysRange,
    /// Virtual range of `.text`.
    pub text: (u64, u64),
    /// Virtual range of `.rodata`.
    pub rodata: (u64, u64),
    /// Bytes of initialised writable data (`.data`).
    pub data_bytes: u64,
    /// Bytes of the whole writable-data window (`.data` and `.bss`).
    pub window_bytes: u64,
    /// Physical address of the pristine `.data` image.
    pub data_template: u64,
    /// Physical address of the boot page tables' PML4.
    pub boot_pml4: u64,
}

/// Reads the link map's symbols.
pub fn image() -> Image {
    let data_start = link_symbol!(__data_start);
    Image {
        phys: PhysRange::new(
            link_symbol!(__image_start_phys),
            link_symbol!(__image_end_phys),
        ),
        text: (link_symbol!(__text_start), link_symbol!(__text_end)),
        rodata: (link_symbol!(__rodata_start), link_symbol!(__rodata_end)),
        data_bytes: link_symbol!(__data_end) - data_start,
        window_bytes: link_symbol!(__bss_end) - data_start,
        data_template: link_symbol!(__data_template_phys),
        boot_pml4: link_symbol!(boot_pml4),
    }
}
