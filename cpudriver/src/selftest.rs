//! The deliberate test scenarios selected with `test=` on the command line
//! (see `boot::kernel_cmdline::SelfTest`).

use core::sync::atomic::{AtomicU64, Ordering};

use crate::console::record;
use crate::layout::DATA_VMA;
use crate::paging::translate;
use crate::percpu;

/// Incremented exactly once on every core by the isolation test. If kernel
/// data were shared, the cores would see 1, 2, 3, ...
static ISOLATION_PROBE: AtomicU64 = AtomicU64::new(0);

/// Increments the probe once and reports what this core sees: the value,
/// the probe's virtual address and the physical frames behind it and behind
/// the start of the data window.
pub fn isolation() {
    let value = ISOLATION_PROBE.fetch_add(1, Ordering::SeqCst) + 1;
    let virt = &raw const ISOLATION_PROBE as u64;
    let phys = translate(virt).unwrap_or(0);
    let data = translate(DATA_VMA).unwrap_or(0);
    let part = percpu::this().params.given.partition;
    record(
        "isolation",
        format_args!(
            "value={value} virt={virt:#x} phys={phys:#x} data_phys={data:#x} partition={:#x}-{:#x}",
            part.start, part.end
        ),
    );
}

/// Reads an address no core maps: a kernel page fault.
pub fn page_fault() -> ! {
    let addr = 0xdead_0000u64 as *const u64;
    log::info!("test=page-fault: reading unmapped address {addr:p}");
    // SAFETY: not safe, on purpose: the read must fault, and the fault
    // handler ends the run without returning here.
    let value = unsafe { core::ptr::read_volatile(addr) };
    panic!("read of unmapped address {addr:p} returned {value:#x} instead of faulting")
}

/// Executes a `div` by zero: a divide error.
pub fn divide_error() -> ! {
    log::info!("test=divide-error: dividing by zero");
    let zero = core::hint::black_box(0u64);
    // SAFETY: not safe, on purpose: DIV by zero raises #DE, and the fault
    // handler ends the run without returning here.
    unsafe {
        core::arch::asm!("div {0}", in(reg) zero, inout("rax") 1u64 => _, inout("rdx") 0u64 => _);
    }
    panic!("division by zero did not fault")
}

#[inline(never)]
#[allow(unconditional_recursion)]
fn recurse(depth: u64) -> u64 {
    let frame = core::hint::black_box([depth; 64]);
    core::hint::black_box(recurse(depth + 1)) + frame[0]
}

/// Recurses until the kernel stack runs into its guard page. The page
/// fault cannot be delivered on the dead stack, so it becomes a double
/// fault, handled on its own IST stack.
pub fn stack_overflow() -> ! {
    log::info!("test=stack-overflow: recursing into the kernel stack's guard page");
    let sum = recurse(0);
    panic!("unbounded recursion returned {sum}")
}
