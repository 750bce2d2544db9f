//! The boot modules: a `newc` cpio archive of ring-3 ELF programs, loaded
//! by QEMU as the initrd and mapped read-only by every core.

use crate::layout::phys_to_virt;
use crate::percpu;

/// The archive's bytes, if the machine was given one.
pub fn archive() -> Option<&'static [u8]> {
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

/// The program named `name` in the archive.
pub fn find(name: &str) -> Option<&'static [u8]> {
    cpio_reader::iter_files(archive()?)
        .find(|e| e.name() == name)
        .map(|e| e.file())
}

/// Names of every file in the archive, comma separated.
pub fn names(out: &mut impl core::fmt::Write) -> core::fmt::Result {
    let Some(archive) = archive() else {
        return out.write_str("none");
    };
    for (i, e) in cpio_reader::iter_files(archive).enumerate() {
        if i > 0 {
            out.write_char(',')?;
        }
        out.write_str(e.name())?;
    }
    Ok(())
}
