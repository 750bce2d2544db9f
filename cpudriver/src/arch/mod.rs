//! x86_64 mechanisms of one core: descriptor tables, traps, the local APIC,
//! the legacy PIC, the TSC and CPU identification.

pub mod apic;
pub mod cpu;
pub mod gdt;
pub mod pic;
pub mod trap;
pub mod tsc;

/// Reads the time-stamp counter (CR4.TSD is clear, so ring 3 may too).
pub use urpc::bench::rdtsc;

/// Writes a byte to an I/O port.
///
/// # Safety
///
/// The write must not break an invariant of the device behind `port`.
#[inline(always)]
pub unsafe fn outb(port: u16, value: u8) {
    // SAFETY: the caller vouches for the device; OUT touches no memory.
    unsafe { x86_64::instructions::port::Port::new(port).write(value) }
}

/// Reads a byte from an I/O port.
///
/// # Safety
///
/// The read must not break an invariant of the device behind `port` (some
/// device registers change state when read).
#[inline(always)]
pub unsafe fn inb(port: u16) -> u8 {
    // SAFETY: the caller vouches for the device; IN touches no memory.
    unsafe { x86_64::instructions::port::Port::new(port).read() }
}

/// Enables interrupts and halts until one arrives, atomically: an interrupt
/// that becomes pending between the two instructions still wakes the core.
/// Returns with interrupts disabled again.
#[inline(always)]
pub fn wait_for_interrupt() {
    // SAFETY: STI;HLT runs pending handlers, which are installed before any
    // caller gets here; CLI restores the kernel's interrupts-off rule.
    unsafe { core::arch::asm!("sti", "hlt", "cli", options(nomem, nostack)) }
}

/// Lets pending interrupts run, without halting, then disables them again.
#[inline(always)]
pub fn poll_interrupts() {
    // SAFETY: as for `wait_for_interrupt`; NOP gives the one-instruction
    // window after STI in which pending interrupts are taken.
    unsafe { core::arch::asm!("sti", "nop", "cli", options(nomem, nostack)) }
}

/// Stops this core for good.
pub fn halt_forever() -> ! {
    loop {
        x86_64::instructions::interrupts::disable();
        x86_64::instructions::hlt();
    }
}

/// Whether the core still runs on the boot page tables (its own address
/// space, and with it every kernel static, is not yet mapped).
pub fn on_boot_page_tables() -> bool {
    let (frame, _) = x86_64::registers::control::Cr3::read();
    frame.start_address().as_u64() == crate::layout::image().boot_pml4
}
