//! The boot modules: a `newc` cpio archive of ring-3 ELF programs, loaded
//! by QEMU as the initrd and mapped read-only by every core.
//!
//! The archive is read only through [`boot::initrd::Archive`], which checks
//! it whole first: the boot core refuses a corrupt archive before any core
//! starts a program (see `programs`).

use boot::initrd::{Archive, InitrdError};

use crate::layout::phys_to_virt;
use crate::percpu;

/// The archive's bytes, if the machine was given one.
pub fn bytes() -> Option<&'static [u8]> {
    let range = percpu::this().params.given.initrd;
    if range.is_empty() {
        return None;
    }
    // SAFETY: the boot core reserved the initrd range from the memory plan
    // and every core maps it read-only in its direct map for the whole run.
    Some(unsafe {
        core::slice::from_raw_parts(phys_to_virt(range.start) as *const u8, range.len() as usize)
    })
}

/// The checked archive; `Ok(None)` when the machine was given none. A
/// zero-byte initrd reaches the kernel as no module at all (QEMU passes
/// none for it), so it is `Ok(None)` here too.
pub fn archive() -> Result<Option<Archive<'static>>, InitrdError<'static>> {
    bytes().map(Archive::parse).transpose()
}
