//! Address spaces of ring-3 programs.
//!
//! A program's PML4 shares the upper half with the core's kernel PML4 (the
//! kernel's entries carry no user bit, so ring 3 cannot touch them) and owns
//! the lower half. Every frame a program's address space uses comes from
//! the core's own partition and returns to it when the program ends.

use abi::SysError;
use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use x86_64::structures::paging::mapper::{MapToError, TranslateResult};
use x86_64::structures::paging::{
    FrameAllocator, Mapper, OffsetPageTable, Page, PageTable, PageTableFlags as F, PhysFrame,
    Size4KiB, Translate,
};
use x86_64::{PhysAddr, VirtAddr};

use crate::capdb::KernelTable;
use crate::frames;
use crate::layout::{PHYS_VMA, phys_to_virt};

const FRAME: u64 = 4096;
/// First PML4 slot of the kernel half.
const KERNEL_HALF: usize = 256;
/// One past the highest user address.
pub const USER_END: u64 = 0x0000_8000_0000_0000;

/// Page-table frames come from the core's allocator and are remembered so
/// that they are freed with the address space.
struct TableFrames<'a>(&'a mut Vec<u64>);

// SAFETY: every frame returned is a fresh, zeroed frame of this core.
unsafe impl FrameAllocator<Size4KiB> for TableFrames<'_> {
    fn allocate_frame(&mut self) -> Option<PhysFrame<Size4KiB>> {
        let frame = frames::alloc()?;
        self.0.push(frame);
        Some(PhysFrame::containing_address(PhysAddr::new(frame)))
    }
}

/// How a user page is mapped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Read only, not executable.
    Read,
    /// Read and write, not executable.
    Write,
    /// Read and execute.
    Execute,
}

impl Access {
    fn flags(self) -> F {
        let base = F::PRESENT | F::USER_ACCESSIBLE;
        match self {
            Access::Read => base | F::NO_EXECUTE,
            Access::Write => base | F::WRITABLE | F::NO_EXECUTE,
            Access::Execute => base,
        }
    }
}

/// A program's address space.
pub struct AddressSpace {
    pml4: u64,
    /// Page-table frames, freed with the space.
    tables: Vec<u64>,
    /// Frames of the program's own memory, freed with the space.
    owned: Vec<u64>,
    /// The page tables of the capability window, by 2 MiB region
    /// (`va >> 21`): kernel VNode objects of the capability database, which
    /// the owner must drop there ([`AddressSpace::take_cap_tables`]) before
    /// the space goes.
    cap_tables: BTreeMap<u64, KernelTable>,
    /// Whether the tables are VNode objects of the capability database (a
    /// domain built from user level, [`AddressSpace::of_vnode`]): then the
    /// space owns no frame, maps nothing itself, and frees nothing.
    vnode: bool,
}

fn table(phys: u64) -> &'static mut PageTable {
    // SAFETY: page tables of this core live in its partition, which its
    // direct map covers; callers hold the only reference for the duration
    // of one operation (the CPU driver is single threaded).
    unsafe { &mut *(phys_to_virt(phys) as *mut PageTable) }
}

impl AddressSpace {
    /// A new address space sharing the kernel half of the live one.
    pub fn new() -> Result<AddressSpace, SysError> {
        let pml4 = frames::alloc().ok_or(SysError::NoMemory)?;
        let (live, _) = x86_64::registers::control::Cr3::read();
        let kernel = table(live.start_address().as_u64());
        let user = table(pml4);
        for slot in KERNEL_HALF..512 {
            user[slot] = kernel[slot].clone();
        }
        Ok(AddressSpace {
            pml4,
            tables: Vec::new(),
            owned: Vec::new(),
            cap_tables: BTreeMap::new(),
            vnode: false,
        })
    }

    /// The address space of a domain whose PML4 is the VNode object at
    /// `pml4` (its kernel half shared when it was made): its holder maps
    /// every page through capability invocations. Dropping it frees
    /// nothing; the objects go with their last capabilities.
    pub fn of_vnode(pml4: u64) -> AddressSpace {
        AddressSpace {
            pml4,
            tables: Vec::new(),
            owned: Vec::new(),
            cap_tables: BTreeMap::new(),
            vnode: true,
        }
    }

    /// Whether this is a domain's own VNode tree ([`AddressSpace::of_vnode`]).
    pub fn is_vnode(&self) -> bool {
        self.vnode
    }

    /// Physical address of the PML4.
    pub fn root(&self) -> u64 {
        self.pml4
    }

    /// The capability-window page table that covers `va`, if there is one.
    pub fn cap_table(&self, va: u64) -> Option<KernelTable> {
        self.cap_tables.get(&(va >> 21)).copied()
    }

    /// Links `t` as the page table of the 2 MiB region of the capability
    /// window that holds `va`, allocating the directories above it.
    pub fn link_cap_table(&mut self, va: u64, t: KernelTable) -> Result<(), SysError> {
        let window = abi::CAP_MAP_BASE..abi::CAP_MAP_BASE + abi::CAP_MAP_SIZE;
        if !window.contains(&va) || self.cap_tables.contains_key(&(va >> 21)) {
            return Err(SysError::BadPointer);
        }
        let parents = F::PRESENT | F::WRITABLE | F::USER_ACCESSIBLE;
        let mut at = self.pml4;
        for shift in [39u64, 30] {
            let entry = &mut table(at)[((va >> shift) & 511) as usize];
            if entry.is_unused() {
                let frame = frames::alloc().ok_or(SysError::NoMemory)?;
                self.tables.push(frame);
                entry.set_addr(PhysAddr::new(frame), parents);
            } else if entry.flags().contains(F::HUGE_PAGE) {
                return Err(SysError::BadPointer);
            }
            at = entry.addr().as_u64();
        }
        let entry = &mut table(at)[((va >> 21) & 511) as usize];
        if !entry.is_unused() {
            return Err(SysError::BadPointer);
        }
        entry.set_addr(PhysAddr::new(t.phys), parents);
        self.cap_tables.insert(va >> 21, t);
        Ok(())
    }

    /// Unlinks the capability-window page table of `va`'s region.
    pub fn unlink_cap_table(&mut self, va: u64) -> Option<KernelTable> {
        let t = self.cap_tables.remove(&(va >> 21))?;
        let mut at = self.pml4;
        for shift in [39u64, 30] {
            at = table(at)[((va >> shift) & 511) as usize].addr().as_u64();
        }
        table(at)[((va >> 21) & 511) as usize].set_unused();
        x86_64::instructions::tlb::flush_all();
        Some(t)
    }

    /// Every capability-window page table, for the owner to drop from the
    /// capability database when the space ends.
    pub fn take_cap_tables(&mut self) -> Vec<KernelTable> {
        core::mem::take(&mut self.cap_tables)
            .into_values()
            .collect()
    }

    fn mapper(&self) -> OffsetPageTable<'static> {
        // SAFETY: the PML4 and every table below it are frames of this core,
        // reachable through the direct map at `PHYS_VMA`.
        unsafe { OffsetPageTable::new(table(self.pml4), VirtAddr::new(PHYS_VMA)) }
    }

    /// Maps `frame` at `va` for ring 3. The frame is freed with the space
    /// when `owned`.
    pub fn map(
        &mut self,
        va: u64,
        frame: u64,
        access: Access,
        owned: bool,
    ) -> Result<(), SysError> {
        if self.vnode || va >= USER_END || !va.is_multiple_of(FRAME) {
            return Err(SysError::BadPointer);
        }
        let page = Page::<Size4KiB>::containing_address(VirtAddr::new(va));
        let phys = PhysFrame::<Size4KiB>::containing_address(PhysAddr::new(frame));
        let parents = F::PRESENT | F::WRITABLE | F::USER_ACCESSIBLE;
        let mut mapper = self.mapper();
        let mut alloc = TableFrames(&mut self.tables);
        // SAFETY: `va` is in the user half of this space, and the frame is
        // either the program's own or a shared-pool frame meant for it.
        let result = unsafe {
            mapper.map_to_with_table_flags(page, phys, access.flags(), parents, &mut alloc)
        };
        match result {
            Ok(flush) => flush.flush(),
            Err(MapToError::FrameAllocationFailed) => return Err(SysError::NoMemory),
            Err(_) => return Err(SysError::BadPointer),
        }
        if owned {
            self.owned.push(frame);
        }
        Ok(())
    }

    /// Allocates zeroed frames for `[va, va + len)` and maps them.
    pub fn map_fresh(&mut self, va: u64, len: u64, access: Access) -> Result<(), SysError> {
        let mut page = va;
        while page < va + len {
            let frame = frames::alloc().ok_or(SysError::NoMemory)?;
            if let Err(e) = self.map(page, frame, access, true) {
                frames::free(frame);
                return Err(e);
            }
            page += FRAME;
        }
        Ok(())
    }

    /// The frame and flags behind user address `va`.
    pub fn lookup(&self, va: u64) -> Option<(u64, F)> {
        if va >= USER_END {
            return None;
        }
        match self.mapper().translate(VirtAddr::new(va)) {
            TranslateResult::Mapped {
                frame,
                offset,
                flags,
            } => Some((frame.start_address().as_u64() + offset, flags)),
            _ => None,
        }
    }

    /// Raises the access of an already mapped page (for ELF segments that
    /// share a page).
    pub fn widen(&mut self, va: u64, access: Access) -> Result<(), SysError> {
        let page = Page::<Size4KiB>::containing_address(VirtAddr::new(va));
        let (_, old) = self.lookup(va).ok_or(SysError::BadPointer)?;
        let executable = !old.contains(F::NO_EXECUTE) || access == Access::Execute;
        let mut flags = old | access.flags();
        flags.set(F::NO_EXECUTE, !executable);
        // SAFETY: only the flags of a user page of this space change.
        unsafe { self.mapper().update_flags(page, flags) }
            .map_err(|_| SysError::BadPointer)?
            .flush();
        Ok(())
    }

    /// Copies `bytes` to user address `va` through the direct map (the
    /// space need not be live). The range must be mapped.
    pub fn write(&self, va: u64, bytes: &[u8]) -> Result<(), SysError> {
        let mut done = 0usize;
        while done < bytes.len() {
            let at = va + done as u64;
            let (phys, _) = self.lookup(at).ok_or(SysError::BadPointer)?;
            let room = (FRAME - at % FRAME) as usize;
            let n = room.min(bytes.len() - done);
            // SAFETY: `phys` is a frame of this core mapped in this space;
            // `n` bytes stay inside that frame.
            unsafe {
                core::ptr::copy_nonoverlapping(
                    bytes[done..].as_ptr(),
                    phys_to_virt(phys) as *mut u8,
                    n,
                )
            };
            done += n;
        }
        Ok(())
    }

    /// Whether this is the live address space (in CR3).
    pub fn is_live(&self) -> bool {
        x86_64::registers::control::Cr3::read()
            .0
            .start_address()
            .as_u64()
            == self.pml4
    }

    /// Makes this the live address space.
    pub fn activate(&self) {
        let (live, flags) = x86_64::registers::control::Cr3::read();
        if live.start_address().as_u64() != self.pml4 {
            let frame = PhysFrame::containing_address(PhysAddr::new(self.pml4));
            // SAFETY: the space maps the kernel half exactly as the live one
            // does, so the kernel keeps running after the switch.
            unsafe { x86_64::registers::control::Cr3::write(frame, flags) };
        }
    }
}

impl Drop for AddressSpace {
    fn drop(&mut self) {
        if self.vnode {
            return;
        }
        if !self.cap_tables.is_empty() {
            // The capability database still names these tables: keep
            // their frames out of the allocator rather than hand them out
            // twice.
            log::error!(
                "an address space ended with {} capability tables still recorded",
                self.cap_tables.len()
            );
        }
        for &frame in self.owned.iter().chain(self.tables.iter()) {
            frames::free(frame);
        }
        frames::free(self.pml4);
    }
}
