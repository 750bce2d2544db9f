//! Building a core's own address space from frames of its own partition.
//!
//! Runs in the core's early code, on the boot page tables, where physical
//! memory is identity mapped and no kernel static may be touched. Everything
//! it creates (page tables, the copy of the writable data, stacks, heap) is
//! allocated from the core's partition, so no two cores share a writable
//! kernel frame. See `layout` for what is mapped where.

use boot::handoff::{EarlyError, Given};
use boot::plan::PhysRange;
use x86_64::structures::paging::mapper::MapToError;
use x86_64::structures::paging::{
    FrameAllocator, Mapper, OffsetPageTable, Page, PageTable, PageTableFlags as F, PhysFrame,
    Size2MiB, Size4KiB,
};
use x86_64::{PhysAddr, VirtAddr};

use crate::arch::apic::XAPIC_PHYS;
use crate::layout::{DATA_VMA, HEAP_VMA, Image, Stack, heap_size, phys_to_virt};

const PAGE: u64 = 4096;
const HUGE: u64 = 2 << 20;

/// Hands out the frames of a partition from the bottom up.
pub struct Bump {
    next: u64,
    end: u64,
}

impl Bump {
    /// A bump allocator over `range`.
    pub fn new(range: PhysRange) -> Bump {
        Bump {
            next: range.start,
            end: range.end,
        }
    }

    /// Takes `bytes` (rounded up to pages) of contiguous frames.
    pub fn take(&mut self, bytes: u64) -> Result<u64, EarlyError> {
        let bytes = bytes.div_ceil(PAGE) * PAGE;
        let start = self.next;
        let end = start.checked_add(bytes).ok_or(EarlyError::OutOfFrames)?;
        if end > self.end {
            return Err(EarlyError::OutOfFrames);
        }
        self.next = end;
        Ok(start)
    }

    /// The first frame not handed out.
    pub fn next(&self) -> u64 {
        self.next
    }
}

// SAFETY: every frame returned is a distinct, unused frame of the partition.
unsafe impl FrameAllocator<Size4KiB> for Bump {
    fn allocate_frame(&mut self) -> Option<PhysFrame<Size4KiB>> {
        let phys = self.take(PAGE).ok()?;
        Some(PhysFrame::containing_address(PhysAddr::new(phys)))
    }
}

/// A core's freshly built address space.
pub struct Space {
    /// Physical address of the PML4.
    pub pml4: u64,
    /// First partition frame not used by the address space.
    pub first_free: u64,
}

fn map_err<S: x86_64::structures::paging::PageSize>(_: MapToError<S>) -> EarlyError {
    EarlyError::MapFailed
}

/// Maps `[virt, virt + len)` to `[phys, phys + len)`, with 2 MiB pages where
/// both sides are aligned.
fn map_range(
    mapper: &mut OffsetPageTable<'_>,
    frames: &mut Bump,
    virt: u64,
    phys: u64,
    len: u64,
    flags: F,
) -> Result<(), EarlyError> {
    let mut off = 0;
    while off < len {
        let (v, p) = (virt + off, phys + off);
        if v % HUGE == 0 && p % HUGE == 0 && len - off >= HUGE {
            let page = Page::<Size2MiB>::containing_address(VirtAddr::new(v));
            let frame = PhysFrame::<Size2MiB>::containing_address(PhysAddr::new(p));
            // SAFETY: the frame is either this core's own memory or the
            // read-only kernel image, mapped with the flags the caller chose
            // for it; the table is not live yet, so nothing can be aliased.
            unsafe { mapper.map_to(page, frame, flags | F::HUGE_PAGE, frames) }
                .map_err(map_err)?
                .ignore();
            off += HUGE;
        } else {
            let page = Page::<Size4KiB>::containing_address(VirtAddr::new(v));
            let frame = PhysFrame::<Size4KiB>::containing_address(PhysAddr::new(p));
            // SAFETY: as above.
            unsafe { mapper.map_to(page, frame, flags, frames) }
                .map_err(map_err)?
                .ignore();
            off += PAGE;
        }
    }
    Ok(())
}

/// Builds the address space of the core described by `given`.
///
/// # Safety
///
/// Must run on the boot page tables (physical memory identity mapped), on
/// the core that owns `given.partition`, before anything else uses that
/// partition.
pub unsafe fn build(given: &Given, image: &Image) -> Result<Space, EarlyError> {
    let mut frames = Bump::new(given.partition);
    // The heap comes first: the partition is 2 MiB aligned, so the heap is
    // mapped with 2 MiB pages and costs a handful of page-table entries.
    let heap = heap_size(&given.partition);
    let heap_phys = frames.take(heap)?;
    let pml4 = frames.take(PAGE)?;
    // SAFETY: `pml4` is a fresh frame of this core's partition, identity
    // mapped; nothing else refers to it.
    let table = unsafe { &mut *(pml4 as *mut PageTable) };
    table.zero();
    // SAFETY: physical memory is identity mapped (offset 0) while the core
    // runs on the boot page tables, as the caller guarantees.
    let mut mapper = unsafe { OffsetPageTable::new(table, VirtAddr::new(0)) };
    let kernel_vma = boot::x86::KERNEL_VMA;
    let rw = F::PRESENT | F::WRITABLE | F::NO_EXECUTE | F::GLOBAL;

    // Kernel text and read-only data: shared frames, never writable.
    let (ts, te) = image.text;
    map_range(
        &mut mapper,
        &mut frames,
        ts,
        ts - kernel_vma,
        te - ts,
        F::PRESENT | F::GLOBAL,
    )?;
    let (rs, re) = image.rodata;
    let ro = F::PRESENT | F::NO_EXECUTE | F::GLOBAL;
    map_range(&mut mapper, &mut frames, rs, rs - kernel_vma, re - rs, ro)?;

    // This core's own copy of the writable data: the template, then zeroes.
    let window = image.window_bytes.div_ceil(PAGE) * PAGE;
    let data_phys = frames.take(window)?;
    // SAFETY: the template lies in the loaded image and the destination in
    // this core's partition; both are identity mapped and do not overlap.
    unsafe {
        core::ptr::copy_nonoverlapping(
            given.data_template as *const u8,
            data_phys as *mut u8,
            image.data_bytes as usize,
        );
        core::ptr::write_bytes(
            (data_phys + image.data_bytes) as *mut u8,
            0,
            (window - image.data_bytes) as usize,
        );
    }
    map_range(&mut mapper, &mut frames, DATA_VMA, data_phys, window, rw)?;

    // Stacks, each with an unmapped guard page below it.
    for stack in Stack::ALL {
        let phys = frames.take(stack.size())?;
        map_range(
            &mut mapper,
            &mut frames,
            stack.bottom(),
            phys,
            stack.size(),
            rw,
        )?;
    }

    // The heap.
    map_range(&mut mapper, &mut frames, HEAP_VMA, heap_phys, heap, rw)?;

    // The direct map: this core's partition, the handshake area and the
    // local APIC page. No other core's partition is mapped.
    let part = given.partition;
    map_range(
        &mut mapper,
        &mut frames,
        phys_to_virt(part.start),
        part.start,
        part.len(),
        rw,
    )?;
    let hs = given.handshake;
    map_range(
        &mut mapper,
        &mut frames,
        phys_to_virt(hs.start),
        hs.start,
        hs.len(),
        rw,
    )?;
    // The boot modules, read only: every core loads its programs from them.
    let initrd = given.initrd;
    if !initrd.is_empty() {
        let start = initrd.start & !(PAGE - 1);
        let end = initrd.end.div_ceil(PAGE) * PAGE;
        map_range(
            &mut mapper,
            &mut frames,
            phys_to_virt(start),
            start,
            end - start,
            ro,
        )?;
    }
    let device = rw | F::NO_CACHE | F::WRITE_THROUGH;
    map_range(
        &mut mapper,
        &mut frames,
        phys_to_virt(XAPIC_PHYS),
        XAPIC_PHYS,
        PAGE,
        device,
    )?;

    Ok(Space {
        pml4,
        first_free: frames.next(),
    })
}

/// Translates a virtual address through the live page tables of this core.
pub fn translate(virt: u64) -> Option<u64> {
    use x86_64::structures::paging::Translate;
    let (frame, _) = x86_64::registers::control::Cr3::read();
    let pml4 = phys_to_virt(frame.start_address().as_u64());
    // SAFETY: the live PML4 lies in this core's partition, which its direct
    // map covers at `PHYS_VMA`; the reference is only used for reading here.
    let table = unsafe { &mut *(pml4 as *mut PageTable) };
    // SAFETY: every page-table frame of this core is in its partition and so
    // reachable through the direct map at this offset.
    let mapper = unsafe { OffsetPageTable::new(table, VirtAddr::new(crate::layout::PHYS_VMA)) };
    mapper
        .translate_addr(VirtAddr::new(virt))
        .map(|p| p.as_u64())
}
