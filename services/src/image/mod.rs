//! The memory of a new domain, planned from its ELF image: which pages of
//! one backing frame hold what, where each run of them is mapped and with
//! which rights, and which page tables that takes.
//!
//! The plan is pure: it reads the image and computes; the ring-3 loader
//! (`platforms::ring3::domain_loader`) carries it out with capability invocations,
//! and the kernel checks every one of those. It is tested here on the host.
//!
//! The backing frame holds, in order, the pages the image's loadable
//! segments cover (from the lowest segment page to the highest), then
//! [`STACK_PAGES`] of stack below `abi::STACK_TOP`. A page two segments
//! share gets the union of their rights. Runs never cross a 2 MiB region
//! (one page table each). The heap is not in the plan: the domain pages it
//! itself from RAM of its own, into the page table of the heap's first
//! 2 MiB, which the plan's tables include (`platforms::ring3::pager`).
//!
//! Only static `x86_64` executables whose loadable segments lie inside
//! `[abi::IMAGE_BASE, abi::IMAGE_LIMIT)` are accepted, with the entry point
//! in an executable segment; anything else is a typed [`ImageError`].

use alloc::vec::Vec;
use core::fmt;
use core::ops::Range;

use abi::cap::rights;
use elf::ElfBytes;
use elf::abi::{EM_X86_64, ET_EXEC, PF_W, PF_X, PT_LOAD};
use elf::endian::LittleEndian;
use modules::initrd::{ElfTruncated, check_elf_extent};

/// Bytes in a page.
pub const PAGE: u64 = 4096;
/// Pages of stack a spawned domain gets (its top page at `abi::STACK_TOP`).
pub const STACK_PAGES: u64 = 16;

/// Why an image cannot become a domain; its name in records
/// ([`ImageError::name`]) is the variant's in kebab case.
#[derive(Clone, Copy, Debug, PartialEq, Eq, strum::IntoStaticStr)]
#[strum(serialize_all = "kebab-case")]
pub enum ImageError {
    /// The image is shorter than its own headers say.
    Truncated(ElfTruncated),
    /// Not a well-formed 64-bit little-endian ELF file.
    NotElf,
    /// Not an `x86_64` static executable.
    WrongKind,
    /// A segment lies outside the program image range or outside the file,
    /// or has more file bytes than memory bytes.
    BadSegment,
    /// The entry point is not in an executable segment.
    BadEntry,
    /// The image, stack and heap need more pages than the loader has.
    TooLarge {
        /// Pages needed.
        pages: u64,
        /// Pages there are.
        limit: u64,
    },
}

impl ImageError {
    /// A short name, for records.
    pub fn name(&self) -> &'static str {
        self.into()
    }
}

impl fmt::Display for ImageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ImageError::Truncated(t) => write!(f, "{t}"),
            ImageError::NotElf => f.write_str("not a 64-bit little-endian ELF file"),
            ImageError::WrongKind => f.write_str("not an x86_64 static executable"),
            ImageError::BadSegment => {
                f.write_str("a loadable segment lies outside the program range or the file")
            }
            ImageError::BadEntry => f.write_str("the entry point is not in an executable segment"),
            ImageError::TooLarge { pages, limit } => {
                write!(f, "the domain needs {pages} pages, at most {limit} fit")
            }
        }
    }
}

/// A run of pages of the backing frame mapped at consecutive addresses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Run {
    /// The first address (page aligned).
    pub va: u64,
    /// The first page of the backing frame.
    pub page: u64,
    /// Pages in the run (all in one 2 MiB region).
    pub count: u32,
    /// Rights of the mapping (`abi::cap::rights`).
    pub rights: u8,
}

/// The plan for one domain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    /// The entry point.
    pub entry: u64,
    /// Pages of the backing frame.
    pub pages: u64,
    /// Bytes to copy: from this range of the image to this byte offset of
    /// the backing frame (which starts zeroed).
    pub copies: Vec<(Range<usize>, u64)>,
    /// The runs to map, in address order.
    pub runs: Vec<Run>,
}

/// The page tables an address space needs: the base of each region of
/// 512 GiB (a PDPT each), 1 GiB (a PD each) and 2 MiB (a PT each) that a
/// run or the heap's first page touches, ascending.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tables {
    /// 512 GiB regions.
    pub pdpt: Vec<u64>,
    /// 1 GiB regions.
    pub pd: Vec<u64>,
    /// 2 MiB regions.
    pub pt: Vec<u64>,
}

/// The region of `1 << shift` bytes that holds `va`.
pub fn region(va: u64, shift: u32) -> u64 {
    va & !((1u64 << shift) - 1)
}

impl Plan {
    /// The page tables the runs need.
    pub fn tables(&self) -> Tables {
        let mut t = Tables::default();
        let heap = core::iter::once(abi::HEAP_BASE);
        for va in self.runs.iter().map(|r| r.va).chain(heap) {
            for (list, shift) in [(&mut t.pdpt, 39), (&mut t.pd, 30), (&mut t.pt, 21)] {
                let r = region(va, shift);
                if !list.contains(&r) {
                    list.push(r);
                }
            }
        }
        for list in [&mut t.pdpt, &mut t.pd, &mut t.pt] {
            list.sort_unstable();
        }
        t
    }
}

/// Plans `image` as a domain whose backing frame has at most `limit`
/// pages.
pub fn plan(image: &[u8], limit: u64) -> Result<Plan, ImageError> {
    check_elf_extent(image).map_err(ImageError::Truncated)?;
    let file = ElfBytes::<LittleEndian>::minimal_parse(image).map_err(|_| ImageError::NotElf)?;
    if file.ehdr.e_machine != EM_X86_64 || file.ehdr.e_type != ET_EXEC {
        return Err(ImageError::WrongKind);
    }
    let segments = file.segments().ok_or(ImageError::NotElf)?;
    let entry = file.ehdr.e_entry;
    let mut loads = Vec::new();
    let mut entry_ok = false;
    for seg in segments.iter().filter(|s| s.p_type == PT_LOAD) {
        let start = seg.p_vaddr;
        let end = start
            .checked_add(seg.p_memsz)
            .ok_or(ImageError::BadSegment)?;
        let file_end = seg
            .p_offset
            .checked_add(seg.p_filesz)
            .ok_or(ImageError::BadSegment)?;
        if start < abi::IMAGE_BASE
            || end > abi::IMAGE_LIMIT
            || seg.p_filesz > seg.p_memsz
            || file_end > image.len() as u64
        {
            return Err(ImageError::BadSegment);
        }
        let mut r = rights::READ;
        if seg.p_flags & PF_W != 0 {
            r |= rights::WRITE;
        }
        if seg.p_flags & PF_X != 0 {
            r |= rights::EXECUTE;
            entry_ok |= (start..end).contains(&entry);
        }
        if seg.p_memsz > 0 {
            loads.push((start, end, seg.p_offset as usize..file_end as usize, r));
        }
    }
    if !entry_ok {
        return Err(ImageError::BadEntry);
    }
    let lo = loads.iter().map(|l| region(l.0, 12)).min().unwrap_or(0);
    let hi = loads
        .iter()
        .map(|l| l.1.div_ceil(PAGE) * PAGE)
        .max()
        .unwrap_or(0);
    let image_pages = (hi - lo) / PAGE;
    let pages = image_pages + STACK_PAGES;
    if pages > limit {
        return Err(ImageError::TooLarge { pages, limit });
    }
    let mut page_rights = alloc::vec![0u8; image_pages as usize];
    let mut copies = Vec::new();
    for (start, end, bytes, r) in &loads {
        let first = (region(*start, 12) - lo) / PAGE;
        let last = (end.div_ceil(PAGE) * PAGE - lo) / PAGE;
        for p in first..last {
            page_rights[p as usize] |= r;
        }
        if !bytes.is_empty() {
            copies.push((bytes.clone(), start - lo));
        }
    }
    let mut runs = Vec::new();
    for (p, &r) in page_rights.iter().enumerate() {
        if r != 0 {
            push_page(&mut runs, lo + p as u64 * PAGE, p as u64, r);
        }
    }
    let stack = abi::STACK_TOP - STACK_PAGES * PAGE;
    for k in 0..STACK_PAGES {
        push_page(
            &mut runs,
            stack + k * PAGE,
            image_pages + k,
            rights::READ | rights::WRITE,
        );
    }
    Ok(Plan {
        entry,
        pages,
        copies,
        runs,
    })
}

/// Adds page `page` of the frame at `va` with `r`: to the last run when it
/// continues it (next address, next page, same rights, same 2 MiB region).
fn push_page(runs: &mut Vec<Run>, va: u64, page: u64, r: u8) {
    if let Some(last) = runs.last_mut() {
        let next_va = last.va + u64::from(last.count) * PAGE;
        let next_page = last.page + u64::from(last.count);
        if next_va == va
            && next_page == page
            && last.rights == r
            && region(last.va, 21) == region(va, 21)
        {
            last.count += 1;
            return;
        }
    }
    runs.push(Run {
        va,
        page,
        count: 1,
        rights: r,
    });
}

#[cfg(test)]
mod tests;
