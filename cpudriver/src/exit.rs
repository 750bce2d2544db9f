//! Ending a run through QEMU's `isa-debug-exit` device.

use boot::protocol::{ExitCode, ISA_DEBUG_EXIT_PORT};

/// Ends the run with `code`. Any core may call it; QEMU stops every core.
///
/// Touches no kernel static, so it also works on the boot page tables.
pub fn exit(code: ExitCode) -> ! {
    // SAFETY: the exit device at this port has no state to break; writing it
    // stops the machine.
    unsafe { crate::arch::outb(ISA_DEBUG_EXIT_PORT, code.guest_value()) };
    // Still running: the machine has no exit device.
    crate::console::early_line(
        u32::MAX,
        format_args!(
            "no isa-debug-exit device at port {ISA_DEBUG_EXIT_PORT:#x}; halting with result '{}'",
            code.name()
        ),
    );
    crate::arch::halt_forever()
}
