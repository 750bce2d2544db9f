//! The legacy 8259 interrupt controllers, which Flotilla does not use.
//!
//! Firmware may leave them delivering timer interrupts on vectors 8-15,
//! where they would look like CPU exceptions. They are remapped above the
//! exception vectors and masked. Machines without them ignore the writes.

use super::outb;

/// Vector base the PICs are moved to before being masked.
const BASE: u8 = 0x30;

/// Remaps and masks both PICs.
pub fn disable() {
    // SAFETY: the standard ICW1-ICW4 sequence on the PIC ports, followed by
    // masking every line; nothing else in the kernel uses these ports.
    unsafe {
        outb(0x20, 0x11);
        outb(0xa0, 0x11);
        outb(0x21, BASE);
        outb(0xa1, BASE + 8);
        outb(0x21, 4);
        outb(0xa1, 2);
        outb(0x21, 1);
        outb(0xa1, 1);
        outb(0x21, 0xff);
        outb(0xa1, 0xff);
    }
}
