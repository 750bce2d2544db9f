//! Loading a program's ELF image into its address space.
//!
//! Only static `x86_64` executables whose loadable segments lie inside
//! `[abi::IMAGE_BASE, abi::IMAGE_LIMIT)` are accepted; anything else is a
//! typed [`LoadError`], never a panic or a wild write.

use boot::initrd::{ElfTruncated, check_elf_extent};
use elf::ElfBytes;
use elf::abi::{EM_X86_64, ET_EXEC, PF_W, PF_X, PT_LOAD};
use elf::endian::LittleEndian;

use super::space::{Access, AddressSpace};

const FRAME: u64 = 4096;

/// Why an image was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoadError {
    /// The image is shorter than its own headers say.
    Truncated(ElfTruncated),
    /// Not a well-formed 64-bit little-endian ELF file.
    NotElf,
    /// Not an `x86_64` static executable.
    WrongKind,
    /// A segment lies outside the program image range or outside the file.
    BadSegment,
    /// The entry point is not in an executable segment.
    BadEntry,
    /// The core ran out of memory.
    NoMemory,
}

impl core::fmt::Display for LoadError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        if let LoadError::Truncated(t) = self {
            return write!(f, "{t}");
        }
        f.write_str(match self {
            LoadError::Truncated(_) => "truncated",
            LoadError::NotElf => "not a 64-bit little-endian ELF file",
            LoadError::WrongKind => "not an x86_64 static executable",
            LoadError::BadSegment => {
                "a loadable segment lies outside the program range or the file"
            }
            LoadError::BadEntry => "the entry point is not in an executable segment",
            LoadError::NoMemory => "the core is out of memory",
        })
    }
}

/// Loads `image` into `space`; returns the entry point.
pub fn load(space: &mut AddressSpace, image: &[u8]) -> Result<u64, LoadError> {
    // Truncation first: the parser below would call a cut image "not ELF".
    check_elf_extent(image).map_err(LoadError::Truncated)?;
    let file = ElfBytes::<LittleEndian>::minimal_parse(image).map_err(|_| LoadError::NotElf)?;
    if file.ehdr.e_machine != EM_X86_64 || file.ehdr.e_type != ET_EXEC {
        return Err(LoadError::WrongKind);
    }
    let segments = file.segments().ok_or(LoadError::NotElf)?;
    let entry = file.ehdr.e_entry;
    let mut entry_ok = false;
    for seg in segments.iter().filter(|s| s.p_type == PT_LOAD) {
        let start = seg.p_vaddr;
        let end = start
            .checked_add(seg.p_memsz)
            .ok_or(LoadError::BadSegment)?;
        let file_end = seg
            .p_offset
            .checked_add(seg.p_filesz)
            .ok_or(LoadError::BadSegment)?;
        if start < abi::IMAGE_BASE
            || end > abi::IMAGE_LIMIT
            || seg.p_filesz > seg.p_memsz
            || file_end > image.len() as u64
        {
            return Err(LoadError::BadSegment);
        }
        let access = if seg.p_flags & PF_X != 0 {
            Access::Execute
        } else if seg.p_flags & PF_W != 0 {
            Access::Write
        } else {
            Access::Read
        };
        if access == Access::Execute && (start..end).contains(&entry) {
            entry_ok = true;
        }
        let mut page = start & !(FRAME - 1);
        while page < end {
            if space.lookup(page).is_some() {
                space
                    .widen(page, access)
                    .map_err(|_| LoadError::BadSegment)?;
            } else {
                space
                    .map_fresh(page, FRAME, access)
                    .map_err(|_| LoadError::NoMemory)?;
            }
            page += FRAME;
        }
        let bytes = &image[seg.p_offset as usize..file_end as usize];
        space
            .write(start, bytes)
            .map_err(|_| LoadError::BadSegment)?;
    }
    if !entry_ok {
        return Err(LoadError::BadEntry);
    }
    Ok(entry)
}
