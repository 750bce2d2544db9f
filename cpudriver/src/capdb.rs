//! This core's capability database, its cspaces, and the effects of
//! capability operations on real memory and page tables.
//!
//! Each CPU driver owns one [`caps::Mdb`], built at start in its own heap:
//! like every kernel static it is private to the core. Two cspaces are
//! made at start, their CNodes in the kernel's own frames:
//!
//! - the **first cspace**, which the monitor (and, under `test=caps`, the
//!   `captest` program) holds; its slots are `abi::cap::slot`: the root
//!   CNode itself, the Kernel capability (without GRANT: it is never
//!   copied on), RAM for the part of the partition handed out
//!   (`layout::user_ram`), the channel pool's Frames, a CNode of one
//!   Notify capability per core, and the Shutdown capability;
//! - the **kernel cspace**, which no program can name: for every 2 MiB
//!   region of a program's capability window (`abi::CAP_MAP_BASE`) where
//!   frames are mapped, it holds a RAM capability for one kernel frame and
//!   the Pt capability retyped from it. Mapping a frame a program holds is
//!   then the library's own map from the program's cspace into that table
//!   ([`caps::Mdb::map_across`]), and deleting or revoking the frame unmaps
//!   it through the same records.
//!
//! Every operation's [`Effect`]s are applied before the call returns
//! ([`Caps::apply`]).
//!
//! # Slots of the kernel cspace
//!
//! The kernel cspace has 1,024 slots ([`KERNEL_BITS`]); slot 0 holds its
//! root's own capability, so 1,023 serve two uses: the capability-window
//! page tables (two slots each) and the capabilities of LMP messages in
//! flight (one slot each, `crate::user::lmp`). So that no program can take
//! the slots every program of the core needs:
//!
//! - capabilities in flight take at most [`HELD_MAX`] = 512 slots, all
//!   senders together, which leaves 511 to the tables: [`TABLES_MIN`] =
//!   255 of them (510 MiB of capability windows mapped on the core) never
//!   fail for want of a slot;
//! - each sender takes at most [`HELD_SHARE`] = 16 of those, four full LMP
//!   buffers (`abi::LMP_BUFFER`). A sender is a dispatcher (by its
//!   Dispatcher object) or, for a program the kernel started, its cspace.
//!   The slot is the sender's until the receiver takes the capability or
//!   it is deleted (the receiver named no slot, or ended).
//!
//! A send that would go past either gets `SysError::CapsInFlight`, and
//! nothing is sent.

use abi::cap::slot;
use boot::plan::PhysRange;
use caps::{
    CSpace, Cap, CapAddr, CapError, CapType, Effect, Gate, Level, Mdb, RemoteRelations, Rights,
};
use spin::{Mutex, MutexGuard};
use x86_64::structures::paging::PageTableFlags as F;

use crate::console::record;
use crate::frames;
use crate::layout::phys_to_virt;
use crate::percpu;

/// Slot bits of the kernel cspace's root: 1024 slots, two per page table
/// and one per capability in flight.
pub const KERNEL_BITS: u32 = 10;
/// Most slots of the kernel cspace that capabilities in flight take, all
/// senders together; the rest are the capability-window tables'.
pub const HELD_MAX: usize = 512;
/// Most capabilities in flight one sender has.
pub const HELD_SHARE: u32 = 16;
/// Capability-window tables that always find their two slots each.
pub const TABLES_MIN: usize = 255;
const _: () = assert!(HELD_MAX + 2 * TABLES_MIN < 1 << KERNEL_BITS);

/// Who sent a capability in flight, for its share of the kernel cspace.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Sender {
    /// A dispatcher, by the base of its Dispatcher object.
    Dispatcher(u64),
    /// A program the kernel started, by the root of its cspace.
    CSpace(u64),
}

/// The core's capability state.
pub struct Caps {
    /// The database.
    pub mdb: Mdb,
    /// The first cspace, the monitor's.
    pub first: CSpace,
    /// The kernel's own cspace.
    pub kernel: CSpace,
    /// Free slots of the kernel cspace.
    free: alloc::vec::Vec<u32>,
    /// The kernel-cspace slots that hold a capability in flight, with its
    /// sender.
    held: alloc::collections::BTreeMap<u32, Sender>,
    /// How many capabilities in flight each sender has (none: no entry).
    shares: alloc::collections::BTreeMap<Sender, u32>,
    /// The kernel's page tables, by physical address: the PML4 of the
    /// address space that links each and the first address it maps, so
    /// that an unmap invalidates just its pages.
    tables: alloc::collections::BTreeMap<u64, (u64, u64)>,
}

static CAPS: Mutex<Option<Caps>> = Mutex::new(None);

/// The core's capability state, once [`init`] has run.
pub fn lock() -> MutexGuard<'static, Option<Caps>> {
    CAPS.lock()
}

/// Builds the database and both cspaces. `user_ram` is the part of the
/// partition handed out; the frame allocator must already exclude it.
/// Prints a `caps-boot` record. Returns false (after saying why) when the
/// kernel's frames cannot hold the CNodes.
pub fn init(user_ram: PhysRange) -> bool {
    let core = percpu::this();
    let mut mdb = Mdb::new(core.id);
    if crate::user::fuzz_watch::enabled() {
        mdb.set_fuzz_mode(crate::user::fuzz_watch::interval());
    }
    let root_bytes = caps::types::SLOT_SIZE << slot::ROOT_BITS;
    let kernel_bytes = caps::types::SLOT_SIZE << KERNEL_BITS;
    let pool = core.params.given.shared_pool;
    let regions = pool.len().div_ceil(POOL_REGION);
    if regions >= 1 << abi::cap::L2_BITS {
        log::error!("the shared pool has {regions} regions of 2 MiB, more than a CNode names");
        return false;
    }
    let pool_bytes = caps::types::SLOT_SIZE << abi::cap::L2_BITS;
    let Some(notify_cnode) = frames::alloc_aligned(pool_bytes, pool_bytes) else {
        log::error!("no frames for the CNode of the Notify capabilities");
        return false;
    };
    let pool_cnode = if pool.is_empty() {
        None
    } else {
        match frames::alloc_aligned(pool_bytes, pool_bytes) {
            Some(base) => Some(base),
            None => {
                log::error!("no frames for the CNode of the shared pool");
                return false;
            }
        }
    };
    let (Some(root), Some(kroot)) = (
        frames::alloc_aligned(root_bytes, root_bytes),
        frames::alloc_aligned(kernel_bytes, kernel_bytes),
    ) else {
        log::error!("no frames for the CNodes of the first cspaces");
        return false;
    };
    let built = (|| -> Result<(CSpace, CSpace), CapError> {
        let first = mdb.boot_cspace(root, slot::ROOT_BITS)?;
        let kernel = mdb.boot_cspace(kroot, KERNEL_BITS)?;
        // Without GRANT: no copy of the Kernel capability leaves the first
        // cspace (not by copy, mint or LMP).
        let mut kernel_cap = Cap::new(CapType::Kernel, 0, 0);
        kernel_cap.rights = Rights::ALL - Rights::GRANT;
        mdb.boot_insert(first, slot::KERNEL, kernel_cap)?;
        let mut shutdown = Cap::new(CapType::Shutdown, 0, 0);
        shutdown.rights = Rights::WRITE;
        mdb.boot_insert(first, slot::SHUTDOWN, shutdown)?;
        notify_caps(&mut mdb, first, notify_cnode, core.count)?;
        if !user_ram.is_empty() {
            let ram = Cap::new(CapType::Ram, user_ram.start, user_ram.len());
            mdb.boot_insert(first, slot::RAM, ram)?;
        }
        if let Some(frame) = initrd_frame() {
            mdb.boot_insert(first, slot::INITRD, frame)?;
        }
        if let Some(base) = pool_cnode {
            pool_frames(
                &mut mdb,
                first,
                base,
                core.params.given.shared_pool,
                core.id,
                core.count,
            )?;
        }
        Ok((first, kernel))
    })();
    let (first, kernel) = match built {
        Ok(spaces) => spaces,
        Err(e) => {
            log::error!("cannot build the first cspace: {e}");
            return false;
        }
    };
    // Slot 0 holds the kernel root's own capability.
    let free = (1..1u32 << KERNEL_BITS).rev().collect();
    record(
        "caps-boot",
        format_args!(
            "root_slots={} ram={:#x}-{:#x} ram_kib={} pool_kib={} pool_regions={regions} records={}",
            1u32 << slot::ROOT_BITS,
            user_ram.start,
            user_ram.end,
            user_ram.len() / 1024,
            pool.len() / 1024,
            mdb.len()
        ),
    );
    *CAPS.lock() = Some(Caps {
        mdb,
        first,
        kernel,
        free,
        held: alloc::collections::BTreeMap::new(),
        shares: alloc::collections::BTreeMap::new(),
        tables: alloc::collections::BTreeMap::new(),
    });
    true
}

/// Bytes of the shared pool each of its Frames covers.
pub const POOL_REGION: u64 = 2 << 20;

/// Puts the shared pool in slot `POOL` of the first cspace `first`: a CNode
/// (at `base`, of the kernel's frames; slot 0 empty) whose slot `1 + r`
/// holds a Frame of
/// the pool's `r`-th 2 MiB, with READ and WRITE (not GRANT: no copy leaves
/// the monitor). Core 0 owns the frames; every other core holds a copy,
/// marked as one whose object lives there. So a monitor maps its channels
/// as it maps any frame, and a program without the slot reaches none.
fn pool_frames(
    mdb: &mut Mdb,
    first: CSpace,
    base: u64,
    pool: PhysRange,
    core: u32,
    cores: u32,
) -> Result<(), CapError> {
    let pool_cs = sub_cnode(mdb, first, base, slot::POOL)?;
    let rw = Rights::READ | Rights::WRITE;
    let kernel = CapAddr::l1(slot::KERNEL);
    let into = CapAddr::l1(slot::POOL);
    let mut at = pool.start;
    let mut index = 1;
    while at < pool.end {
        let mut frame = Cap::new(CapType::Frame, at, (pool.end - at).min(POOL_REGION));
        frame.rights = rw;
        if core == 0 {
            mdb.boot_insert(pool_cs, index, frame)?;
            if cores > 1 {
                let here = CapAddr::l2(slot::POOL, index as u8).ok_or(CapError::NoSuchSlot)?;
                mdb.set_remote(first, kernel, here, RemoteRelations::COPIES)?;
            }
        } else {
            let bytes = caps::wire::to_bytes(&frame);
            mdb.create_received(
                first,
                kernel,
                &bytes,
                0,
                RemoteRelations::COPIES,
                into,
                index,
            )?;
        }
        at += POOL_REGION;
        index += 1;
    }
    Ok(())
}

/// Makes a CNode of `1 << L2_BITS` slots at `base` (the kernel's frames),
/// empty, and puts its capability, without GRANT, in root slot `at` of the
/// first cspace `first`; returns the CNode's own cspace handle, for the
/// kernel to fill.
fn sub_cnode(mdb: &mut Mdb, first: CSpace, base: u64, at: u32) -> Result<CSpace, CapError> {
    let cs = mdb.boot_cspace(base, abi::cap::L2_BITS)?;
    // Its own capability, without GRANT, into the first cspace; the spare
    // slot is empty at boot.
    let spare = CapAddr::l1(slot::FIRST_FREE);
    mdb.copy_across(
        cs,
        CapAddr::l1(0),
        first,
        CapAddr::l1(slot::ROOT_CNODE),
        slot::FIRST_FREE,
    )?;
    mdb.mint(
        first,
        spare,
        CapAddr::l1(slot::ROOT_CNODE),
        at,
        Rights::READ | Rights::WRITE,
        0,
    )?;
    mdb.delete(first, spare)?;
    // Nor does the CNode keep its own capability, with GRANT, in slot 0.
    mdb.delete(cs, CapAddr::l1(0))?;
    Ok(cs)
}

/// Puts in slot `NOTIFY` of the first cspace a CNode (at `base`) whose slot
/// `c` holds the Notify capability of core `c`, READ and WRITE without
/// GRANT: the right to notify each core, which the monitor cannot pass on.
fn notify_caps(mdb: &mut Mdb, first: CSpace, base: u64, cores: u32) -> Result<(), CapError> {
    let cs = sub_cnode(mdb, first, base, slot::NOTIFY)?;
    for c in 0..cores {
        let mut notify = Cap::new(CapType::Notify, u64::from(c), 0);
        notify.rights = Rights::READ | Rights::WRITE;
        mdb.boot_insert(cs, c, notify)?;
    }
    Ok(())
}

/// The memory capabilities received from other cores may name
/// (`caps::Mdb::create_received_within`): for each core, the RAM it hands
/// out to its monitor, as it reported it before its first program ran
/// (nothing yet for a core that has not), kept inside the partition the
/// boot core gave it; and the shared pool, which core 0 owns. Never a
/// kernel's own frames, page tables or heap.
pub fn importable() -> alloc::vec::Vec<caps::Importable> {
    use core::sync::atomic::Ordering;
    let me = percpu::this();
    let mut ranges = alloc::vec::Vec::new();
    for core in 0..me.count {
        let params = percpu::params_of(core);
        let end = params.report.user_ram_end.load(Ordering::Acquire);
        let start = params.report.user_ram_start.load(Ordering::Relaxed);
        let part = params.given.partition;
        if start < end && start >= part.start && end <= part.end {
            ranges.push(caps::Importable {
                owner: core,
                base: start,
                end,
            });
        }
    }
    let pool = me.params.given.shared_pool;
    if !pool.is_empty() {
        ranges.push(caps::Importable {
            owner: 0,
            base: pool.start,
            end: pool.end,
        });
    }
    ranges
}

/// The read-only Frame over the boot-module archive's pages, if the
/// machine has an archive that starts on a page boundary (QEMU loads boot
/// modules page aligned). The bytes of its last page past the archive's end
/// are no other object's: the memory plan reserves the archive's pages
/// whole.
fn initrd_frame() -> Option<Cap> {
    let initrd = percpu::this().params.given.initrd;
    if initrd.is_empty() || !initrd.start.is_multiple_of(4096) {
        return None;
    }
    let mut frame = Cap::new(
        CapType::Frame,
        initrd.start,
        initrd.len().div_ceil(4096) * 4096,
    );
    frame.rights = Rights::READ | Rights::GRANT;
    Some(frame)
}

/// Where the archive starts inside the frame of [`initrd_frame`], and its
/// length; `(0, 0)` when there is no such frame.
pub fn initrd_extent() -> (u64, u64) {
    let initrd = percpu::this().params.given.initrd;
    match initrd_frame() {
        Some(_) => (0, initrd.len()),
        None => (0, 0),
    }
}

/// Objects whose last capability went in the effects applied since the
/// last [`take_gone`]: the dispatchers and PML4s, whose domains must end.
static GONE: Mutex<alloc::vec::Vec<(CapType, u64)>> = Mutex::new(alloc::vec::Vec::new());
/// Whether [`GONE`] may hold something: the common call looks only here.
static GONE_PENDING: core::sync::atomic::AtomicBool = core::sync::atomic::AtomicBool::new(false);

/// Whether a dispatcher or PML4 may have been destroyed since the last
/// [`take_gone`].
pub fn gone_pending() -> bool {
    GONE_PENDING.load(core::sync::atomic::Ordering::Relaxed)
}

/// Takes the list of dispatchers and PML4s destroyed since the last call.
pub fn take_gone() -> alloc::vec::Vec<(CapType, u64)> {
    if !GONE_PENDING.swap(false, core::sync::atomic::Ordering::Relaxed) {
        return alloc::vec::Vec::new();
    }
    core::mem::take(&mut *GONE.lock())
}

/// The page table the kernel keeps for one 2 MiB region of a program's
/// capability window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KernelTable {
    /// Physical address of the table.
    pub phys: u64,
    /// Kernel-cspace slot of the RAM capability for its frame.
    pub ram: u32,
    /// Kernel-cspace slot of its Pt capability.
    pub pt: u32,
}

impl Caps {
    /// A new, empty page table recorded in the kernel cspace, for the
    /// 2 MiB region from `va` of the address space rooted at `pml4`. The
    /// caller links it there.
    pub fn new_table(&mut self, pml4: u64, va: u64) -> Result<KernelTable, abi::Error> {
        if self.free.len() < 2 {
            return Err(abi::SysError::NoMemory.into());
        }
        let phys = frames::alloc().ok_or(abi::SysError::NoMemory)?;
        let (Some(ram), Some(pt)) = (self.free.pop(), self.free.pop()) else {
            frames::free(phys);
            return Err(abi::SysError::NoMemory.into());
        };
        let made = self
            .mdb
            .boot_insert(self.kernel, ram, Cap::new(CapType::Ram, phys, 4096))
            .and_then(|()| {
                let args = caps::RetypeArgs {
                    ty: CapType::Pt,
                    offset: 0,
                    size: 0,
                    count: 1,
                };
                self.mdb
                    .retype(self.kernel, CapAddr::l1(ram), args, CapAddr::l1(0), pt)
            });
        match made {
            Ok(effects) => {
                self.apply(&effects);
                self.tables.insert(phys, (pml4, va));
                Ok(KernelTable { phys, ram, pt })
            }
            Err(e) => {
                // Only an inconsistent database refuses these; undo.
                let _ = self
                    .mdb
                    .delete_as(Gate::Agreed, self.kernel, CapAddr::l1(ram));
                self.free.extend([pt, ram]);
                frames::free(phys);
                Err(e.into())
            }
        }
    }

    /// Deletes a table made by [`Caps::new_table`]: every frame mapped in
    /// it is unmapped (its capability stays with its holder), and the frame
    /// returns to the allocator. The caller has unlinked it, or is about to
    /// free the address space that links it.
    pub fn drop_table(&mut self, t: KernelTable) {
        for slot in [t.pt, t.ram] {
            match self
                .mdb
                .delete_as(Gate::Agreed, self.kernel, CapAddr::l1(slot))
            {
                Ok(effects) => self.apply(&effects),
                Err(e) => log::error!("kernel table {:#x}: delete refused: {e}", t.phys),
            }
        }
        self.tables.remove(&t.phys);
        self.free.extend([t.pt, t.ram]);
        frames::free(t.phys);
    }

    /// Holds a copy of the capability at `src` of `cs` in a slot of the
    /// kernel cspace, for an LMP message in flight from `sender`; returns
    /// the slot. The source needs GRANT. `CapsInFlight` when the sender
    /// has its share of slots ([`HELD_SHARE`]) or all senders have
    /// [`HELD_MAX`]; nothing is held then.
    pub fn hold(&mut self, cs: CSpace, src: CapAddr, sender: Sender) -> Result<u32, abi::Error> {
        let share = self.shares.get(&sender).copied().unwrap_or(0);
        // A slot is taken only under both limits, so the free list always
        // keeps the tables' slots.
        if share >= HELD_SHARE || self.held.len() >= HELD_MAX {
            return Err(abi::SysError::CapsInFlight.into());
        }
        let slot = self.free.pop().ok_or(abi::SysError::NoMemory)?;
        match self
            .mdb
            .copy_across(cs, src, self.kernel, CapAddr::l1(0), slot)
        {
            Ok(()) => {
                self.held.insert(slot, sender);
                self.shares.insert(sender, share + 1);
                Ok(slot)
            }
            Err(e) => {
                self.free.push(slot);
                Err(e.into())
            }
        }
    }

    /// Gives kernel slot `slot` back to its sender's share and to the free
    /// slots, once its capability has gone.
    fn release_held(&mut self, slot: u32) {
        if let Some(sender) = self.held.remove(&slot) {
            match self.shares.get(&sender).copied() {
                Some(n) if n > 1 => {
                    self.shares.insert(sender, n - 1);
                }
                _ => {
                    self.shares.remove(&sender);
                }
            }
        }
        self.free.push(slot);
    }

    /// Moves the capability held in kernel slot `slot` into slot
    /// `dest_slot` of the CNode at `dest` in `cs`. On a refusal it stays
    /// held.
    pub fn deliver(
        &mut self,
        slot: u32,
        cs: CSpace,
        dest: CapAddr,
        dest_slot: u32,
    ) -> Result<(), CapError> {
        self.mdb
            .copy_across(self.kernel, CapAddr::l1(slot), cs, dest, dest_slot)?;
        self.drop_held(slot);
        Ok(())
    }

    /// Deletes the capability held in kernel slot `slot`.
    pub fn drop_held(&mut self, slot: u32) {
        match self
            .mdb
            .delete_as(Gate::Agreed, self.kernel, CapAddr::l1(slot))
        {
            Ok(effects) => self.apply(&effects),
            Err(e) => log::error!("held capability in kernel slot {slot}: delete refused: {e}"),
        }
        self.release_held(slot);
    }

    /// Applies the effects of one operation, in order: zeroes created
    /// objects, writes and clears page-table entries, and invalidates the
    /// TLB after an unmap or protect: just the pages, for a table of the
    /// live address space; nothing, for a table of another space (a space
    /// that is not live has no entries in this core's TLB: the CPU driver
    /// does not use PCIDs, and an address space runs on one core); all of
    /// it, for a table the kernel does not know while the live space is
    /// one a program built of its own VNodes (which may link that table),
    /// and nothing when the live space is one the kernel built.
    ///
    /// Every address an effect names is memory of an object of this core's
    /// database, so it lies in this core's partition; one that did not
    /// would mean a corrupt database, and is reported and left alone.
    pub fn apply(&self, effects: &[Effect]) {
        let mut flush_all = false;
        for e in effects {
            apply_one(e);
            let (table, index, count) = match *e {
                Effect::Unmap {
                    table,
                    index,
                    count,
                    ..
                }
                | Effect::Protect {
                    table,
                    index,
                    count,
                    ..
                } => (table, index, count),
                _ => continue,
            };
            match self.tables.get(&table) {
                Some(&(pml4, va)) => {
                    let (live, _) = x86_64::registers::control::Cr3::read();
                    if live.start_address().as_u64() == pml4 {
                        for k in 0..u64::from(count) {
                            let page = va + (u64::from(index) + k) * 4096;
                            x86_64::instructions::tlb::flush(x86_64::VirtAddr::new(page));
                        }
                    }
                }
                // A table the kernel does not keep is a VNode object of
                // a program's own address space. The live space can link
                // one only if it is such a space itself: a space the kernel
                // built links nothing but the kernel's own tables, and a
                // switch to another space flushes the TLB (no PCIDs).
                None => flush_all |= self.mdb.is_vnode(live_root()),
            }
        }
        if flush_all {
            x86_64::instructions::tlb::flush_all();
        }
    }
}

/// The physical address of the live PML4.
fn live_root() -> u64 {
    x86_64::registers::control::Cr3::read()
        .0
        .start_address()
        .as_u64()
}

/// Whether `[base, base + size)` lies in this core's partition, which its
/// direct map covers and no other core touches.
fn in_partition(base: u64, size: u64) -> bool {
    let part = percpu::this().params.given.partition;
    base.checked_add(size)
        .is_some_and(|end| base >= part.start && end <= part.end)
}

/// The entry bits for an entry mapping `target` with `rights`: a frame of
/// `page` bytes at `level`, or a table.
fn entry(level: Level, target: u64, page: u64, rights: Rights, table: bool) -> u64 {
    let mut flags = F::PRESENT | F::USER_ACCESSIBLE;
    if table {
        flags |= F::WRITABLE;
    } else {
        if rights.contains(Rights::WRITE) {
            flags |= F::WRITABLE;
        }
        if !rights.contains(Rights::EXECUTE) {
            flags |= F::NO_EXECUTE;
        }
        if level != Level::Pt && page > 4096 {
            flags |= F::HUGE_PAGE;
        }
    }
    target | flags.bits()
}

/// Carries out one effect on memory and page tables (the TLB is
/// [`Caps::apply`]'s).
fn apply_one(e: &Effect) {
    match *e {
        Effect::Created { ty, base, size } => {
            if !in_partition(base, size) {
                log::error!("created object {base:#x}+{size:#x} is outside the partition");
                return;
            }
            // RAM is never mapped or read: every object retyped from it is
            // zeroed when it is made, so zeroing RAM itself would only
            // write the same bytes twice.
            if ty == CapType::Ram {
                return;
            }
            // SAFETY: the new object's memory lies in this core's
            // partition (checked), which the direct map covers, and the
            // database has just given it to the new object alone.
            unsafe { core::ptr::write_bytes(phys_to_virt(base) as *mut u8, 0, size as usize) };
            if ty == CapType::Pml4 {
                share_kernel_half(base);
            }
        }
        Effect::Destroyed { ty, base, .. } => {
            if matches!(ty, CapType::Dispatcher | CapType::Pml4) {
                GONE.lock().push((ty, base));
                GONE_PENDING.store(true, core::sync::atomic::Ordering::Relaxed);
            }
        }
        Effect::Map {
            table,
            level,
            index,
            count,
            target,
            page,
            rights,
        } => {
            let is_table = level.page_size().is_none() || (level != Level::Pt && page == 4096);
            for k in 0..u64::from(count) {
                let bits = entry(level, target + k * page, page, rights, is_table);
                write_entry(table, u64::from(index) + k, |_| bits);
            }
        }
        Effect::Unmap {
            table,
            index,
            count,
            ..
        } => {
            for k in 0..u64::from(count) {
                write_entry(table, u64::from(index) + k, |_| 0);
            }
        }
        Effect::Protect {
            table,
            index,
            count,
            rights,
            ..
        } => {
            for k in 0..u64::from(count) {
                write_entry(table, u64::from(index) + k, |old| {
                    let mut f = F::from_bits_truncate(old);
                    f.set(F::WRITABLE, rights.contains(Rights::WRITE));
                    f.set(F::NO_EXECUTE, !rights.contains(Rights::EXECUTE));
                    (old & 0x000f_ffff_ffff_f000) | f.bits()
                });
            }
        }
    }
}

/// Gives the new, zeroed PML4 at `pml4` the kernel half of the core's own
/// address space (its entries carry no user bit), as every address space
/// of the core has it: the CPU driver keeps running when it is live. The
/// capability library refuses every map into those entries.
fn share_kernel_half(pml4: u64) {
    let kernel = percpu::this().kernel_root;
    for index in caps::vnode::KERNEL_HALF_FIRST..caps::vnode::ENTRIES {
        let at = (u64::from(index) * 8) as usize;
        // SAFETY: the core's kernel PML4 is one of its frames, reachable
        // through the direct map; an aligned entry is read.
        let bits = unsafe {
            core::ptr::read_volatile((phys_to_virt(kernel) as *const u8).add(at) as *const u64)
        };
        write_entry(pml4, u64::from(index), |_| bits);
    }
}

/// Rewrites entry `index` of the page table at physical `table`.
fn write_entry(table: u64, index: u64, f: impl FnOnce(u64) -> u64) {
    if index >= 512 || !in_partition(table, 4096) {
        log::error!("page-table entry {table:#x}[{index}] is outside the partition");
        return;
    }
    let at = (phys_to_virt(table) + index * 8) as *mut u64;
    // SAFETY: the table is a VNode object of this core's database, in its
    // partition (checked) and reached through the direct map; the entry is
    // inside it (index < 512). The CPU driver is single threaded, and the
    // database gives this run of entries to one mapping only.
    unsafe { at.write_volatile(f(at.read_volatile())) };
}
