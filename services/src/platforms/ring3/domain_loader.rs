//! Building a domain from user level: a program of the boot modules loaded
//! into memory retyped from this monitor's own RAM, in an address space of
//! VNodes it maps itself, and started as a Dispatcher, with nothing but
//! capability invocations. The kernel checks each invocation; this module
//! only decides what to ask for.
//!
//! **Memory.** On first use the monitor's RAM (slot `RAM`) is retyped into
//! [`CHILDREN`] chunks of [`CHUNK`] bytes, one per domain that may exist at
//! once. A domain's chunk is retyped into [`PIECES`] equal pieces, and each
//! piece into the objects of one type: the backing frame
//! (`crate::image`), the domain's root CNode, its PML4, its PDPTs, PDs and
//! PTs, its Dispatcher, a CNode of this monitor's that holds every
//! capability of the domain, and for the domain's own pager
//! (`super::pager`) the RAM of its heap and a CNode for the heap's frames,
//! which go into its cspace with the heap's page table
//! (`abi::cap::domain`). When the domain has ended, revoking the chunk
//! deletes every one of them (and every mapping of them), and the chunk
//! serves the next domain.
//!
//! **The image.** The boot-module archive is a read-only Frame (slot
//! `INITRD`); it is mapped once, 2 MiB at a time (a capability copy maps
//! once), at [`INITRD_VA`] of the capability window. The backing frame is
//! mapped at a scratch address of the window while the segments are
//! written, then unmapped; each run of pages is mapped into the domain's
//! page tables by a copy of the frame's capability with its own rights.
//!
//! The domain's root CNode holds its own capability in slot 0 and nothing
//! else: it can name no memory but its own pages.

use abi::cap::{CPtr, domain, rights, slot, ty};
use abi::disp::{DispatcherParams, MAX_NAME, Status};
use abi::user as sys;
use abi::{Error, ProgramInfo};
use modules::initrd::Archive;

use crate::image::{self, PAGE, Plan};
use crate::platform::SpawnError;

/// Domains that may exist at once.
pub const CHILDREN: usize = 8;
/// Bytes of RAM per domain.
pub const CHUNK: u64 = 8 << 20;
/// Pieces of a chunk.
pub const PIECES: u32 = 16;
/// Bytes of each piece; the backing frame is one, the heap's RAM another.
const PIECE: u64 = CHUNK / PIECES as u64;
/// Pages the backing frame may have.
pub const MAX_PAGES: u64 = PIECE / PAGE;
/// Where the boot-module archive is mapped in the capability window.
pub const INITRD_VA: u64 = abi::CAP_MAP_BASE + (256 << 30);
/// Most 2 MiB pieces of the archive mapped.
const INITRD_REGIONS: u32 = (abi::layout::MAX_INITRD >> 21) as u32;
/// Where a domain's backing frame is mapped while it is written (a 2 MiB
/// region per domain).
const SCRATCH_VA: u64 = abi::CAP_MAP_BASE + (384 << 30);

/// Root slots: the archive's copies, the chunks, then per domain its
/// pieces and its holding CNode.
const INITRD_COPIES: u32 = slot::FIRST_FREE;
const CHUNKS: u32 = INITRD_COPIES + INITRD_REGIONS;
const DOMAINS: u32 = CHUNKS + CHILDREN as u32;
const PER_DOMAIN: u32 = PIECES + 1;
const _: () = assert!(DOMAINS + PER_DOMAIN * CHILDREN as u32 <= 1 << slot::ROOT_BITS);

/// Slots of a domain's holding CNode.
mod held {
    /// The domain's root CNode.
    pub const ROOT: u8 = 0;
    /// Its PML4.
    pub const PML4: u8 = 1;
    /// Its Dispatcher.
    pub const DISP: u8 = 2;
    /// The backing frame.
    pub const FRAME: u8 = 3;
    /// The frame's copy mapped at the scratch address.
    pub const WINDOW: u8 = 4;
    /// The CNode for the heap's frames.
    pub const HEAP_FRAMES: u8 = 5;
    /// PDPTs from here (at most 8), PDs (8), PTs (32), run copies (the
    /// rest).
    pub const PDPT: u8 = 8;
    /// First PD.
    pub const PD: u8 = 16;
    /// First PT.
    pub const PT: u8 = 24;
    /// First run copy.
    pub const RUN: u8 = 56;
}
/// Slots of a holding CNode.
const HELD_SLOTS: u64 = 256;

/// The loader's state in one monitor.
#[derive(Debug)]
pub struct Loader {
    /// The mapped archive's length, once mapped.
    initrd: Option<usize>,
    /// How many chunks exist (0: not made yet).
    chunks: usize,
    /// Which chunks hold a domain.
    busy: [bool; CHILDREN],
    /// The start of each domain built but not started yet.
    unstarted: [Option<DispatcherParams>; CHILDREN],
    /// The 512 GiB region each PDPT of a domain maps, by its place in the
    /// holding CNode (`NO_REGION`: none).
    pdpts: [[u64; MAX_PDPTS]; CHILDREN],
}

/// Most PDPTs a domain has.
const MAX_PDPTS: usize = 8;
/// No PDPT in that place.
const NO_REGION: u64 = u64::MAX;

impl Default for Loader {
    fn default() -> Loader {
        Loader {
            initrd: None,
            chunks: 0,
            busy: [false; CHILDREN],
            unstarted: [None; CHILDREN],
            pdpts: [[NO_REGION; MAX_PDPTS]; CHILDREN],
        }
    }
}

fn step(step: &'static str) -> impl Fn(Error) -> SpawnError {
    move |error| SpawnError::Invocation { step, error }
}

fn l1(s: u32) -> CPtr {
    CPtr::l1(s)
}

/// Slot `index` of domain `c`'s holding CNode.
fn held(c: usize, index: u8) -> CPtr {
    // The root slots of the holding CNodes are far below 2^24.
    CPtr::l2(holder(c), index).unwrap_or(CPtr::l1(0))
}

/// The root slot of domain `c`'s holding CNode.
fn holder(c: usize) -> u32 {
    piece(c, 0) + PIECES
}

/// The root slot of piece `k` of domain `c`.
fn piece(c: usize, k: u32) -> u32 {
    DOMAINS + PER_DOMAIN * c as u32 + k
}

impl Loader {
    /// Starts program `name` as a new domain; returns its handle.
    pub fn spawn(&mut self, info: &ProgramInfo, name: &str) -> Result<u32, SpawnError> {
        let child = self.prepare(info, name)?;
        self.start(child).inspect_err(|_| {
            let _ = self.release(child);
        })?;
        Ok(child)
    }

    /// Builds program `name` as a new domain without starting it, so that
    /// capabilities can be put in its cspace first
    /// ([`Loader::root_cnode`]); [`Loader::start`] starts it.
    pub fn prepare(&mut self, info: &ProgramInfo, name: &str) -> Result<u32, SpawnError> {
        if name.is_empty() || name.len() > MAX_NAME {
            return Err(SpawnError::NotFound);
        }
        let archive = self.archive(info)?;
        let bytes = archive.find(name).map_err(|_| SpawnError::NotFound)?;
        let plan = image::plan(bytes, MAX_PAGES).map_err(SpawnError::Image)?;
        self.make_chunks()?;
        let c = (0..self.chunks)
            .find(|&c| !self.busy[c])
            .ok_or(SpawnError::Busy)?;
        self.busy[c] = true;
        match build(c, &plan, bytes, name) {
            Ok((params, pdpts)) => {
                self.unstarted[c] = Some(params);
                self.pdpts[c] = pdpts;
                Ok(c as u32)
            }
            Err(e) => {
                // Whatever was made goes with the chunk's descendants.
                let _ = sys::cap_revoke(l1(CHUNKS + c as u32));
                self.busy[c] = false;
                Err(e)
            }
        }
    }

    /// Starts domain `child`, built by [`Loader::prepare`].
    pub fn start(&mut self, child: u32) -> Result<(), SpawnError> {
        self.start_with(child, |_| {})
    }

    /// Starts domain `child` with its start parameters (entry, stack,
    /// name) changed by `change` first: for a program that enters a
    /// domain of its own image at another function.
    pub fn start_with(
        &mut self,
        child: u32,
        change: impl FnOnce(&mut DispatcherParams),
    ) -> Result<(), SpawnError> {
        let c = self.live(child)?;
        let mut params = self.unstarted[c].take().ok_or(SpawnError::NoSuchChild)?;
        change(&mut params);
        sys::dispatcher_run(held(c, held::DISP), &params).map_err(step("start the dispatcher"))
    }

    /// The root CNode of domain `child`'s cspace, in this program's cspace
    /// (slot 0 of it holds the CNode itself; the others are free).
    pub fn root_cnode(&self, child: u32) -> Result<CPtr, SpawnError> {
        Ok(held(self.live(child)?, held::ROOT))
    }

    /// The state of domain `child`.
    pub fn status(&self, child: u32) -> Result<Status, SpawnError> {
        let c = self.live(child)?;
        sys::dispatcher_status(held(c, held::DISP)).map_err(step("dispatcher status"))
    }

    /// Deletes every object of domain `child` (it should have ended: a
    /// running domain ends with its Dispatcher).
    pub fn release(&mut self, child: u32) -> Result<(), SpawnError> {
        let c = self.live(child)?;
        sys::cap_revoke(l1(CHUNKS + c as u32)).map_err(step("revoke the domain's RAM"))?;
        self.busy[c] = false;
        self.unstarted[c] = None;
        Ok(())
    }

    /// The Dispatcher capability of domain `child`, in this program's
    /// cspace (for tests of the dispatcher invocations).
    pub fn dispatcher(&self, child: u32) -> Result<CPtr, SpawnError> {
        Ok(held(self.live(child)?, held::DISP))
    }

    /// The capability of the PDPT that PML4 entry `index` of domain `child`
    /// holds, if the loader made one there.
    pub fn pdpt(&self, child: u32, index: u32) -> Result<CPtr, SpawnError> {
        let c = self.live(child)?;
        let region = u64::from(index) << 39;
        let k = self.pdpts[c]
            .iter()
            .position(|r| *r == region)
            .ok_or(SpawnError::NoSuchChild)?;
        Ok(held(c, held::PDPT + k as u8))
    }

    /// The PML4 capability of domain `child`.
    pub fn pml4(&self, child: u32) -> Result<CPtr, SpawnError> {
        Ok(held(self.live(child)?, held::PML4))
    }

    /// The RAM capability of a chunk that holds no domain, if the chunks
    /// exist and one is free (for a test that retypes objects of its own
    /// and revokes them before the next spawn).
    pub fn free_chunk(&self) -> Option<CPtr> {
        (0..self.chunks)
            .find(|&k| !self.busy[k])
            .map(|k| l1(CHUNKS + k as u32))
    }

    /// Takes back everything the loader made: every domain's objects, the
    /// chunks and the archive's mappings, leaving the cspace as the kernel
    /// handed it out (for a program that runs before the monitor).
    pub fn reset(&mut self) -> Result<(), SpawnError> {
        sys::cap_revoke(l1(slot::RAM)).map_err(step("revoke RAM"))?;
        sys::cap_revoke(l1(slot::INITRD)).map_err(step("revoke the initrd's copies"))?;
        *self = Loader::default();
        Ok(())
    }

    fn live(&self, child: u32) -> Result<usize, SpawnError> {
        let c = child as usize;
        if c < self.chunks && self.busy[c] {
            Ok(c)
        } else {
            Err(SpawnError::NoSuchChild)
        }
    }

    /// The archive, mapped on first use.
    fn archive(&mut self, info: &ProgramInfo) -> Result<Archive<'static>, SpawnError> {
        if info.initrd_len == 0 {
            return Err(SpawnError::NoInitrd);
        }
        let len = match self.initrd {
            Some(len) => len,
            None => {
                let len = map_initrd(info)?;
                self.initrd = Some(len);
                len
            }
        };
        // SAFETY: `map_initrd` mapped `len` bytes of the archive read-only
        // at `INITRD_VA` (from `initrd_offset` into the frame) for the rest
        // of the program; nothing writes there.
        let bytes = unsafe {
            core::slice::from_raw_parts((INITRD_VA + info.initrd_offset) as *const u8, len)
        };
        Archive::parse(bytes).map_err(|_| SpawnError::BadArchive)
    }

    /// Retypes the monitor's RAM into the chunks, once.
    fn make_chunks(&mut self) -> Result<(), SpawnError> {
        if self.chunks > 0 {
            return Ok(());
        }
        let ram = sys::cap_identify(l1(slot::RAM)).map_err(step("identify RAM"))?;
        let n = (ram.size / CHUNK).min(CHILDREN as u64) as u32;
        if n == 0 {
            return Err(SpawnError::NoMemory);
        }
        sys::cap_retype(l1(slot::RAM), ty::RAM, 0, CHUNK, n, root(), CHUNKS)
            .map_err(step("retype RAM into chunks"))?;
        self.chunks = n as usize;
        Ok(())
    }
}

/// The caller's root CNode, as a destination.
fn root() -> CPtr {
    l1(slot::ROOT_CNODE)
}

/// Maps the archive's frame at [`INITRD_VA`], one copy per 2 MiB; returns
/// the archive's length.
fn map_initrd(info: &ProgramInfo) -> Result<usize, SpawnError> {
    let frame = sys::cap_identify(l1(slot::INITRD)).map_err(step("identify the initrd"))?;
    if frame.ty != ty::FRAME || info.initrd_offset + info.initrd_len > frame.size {
        return Err(SpawnError::NoInitrd);
    }
    let pages = frame.size / PAGE;
    let regions = pages.div_ceil(512);
    if regions > u64::from(INITRD_REGIONS) {
        return Err(SpawnError::BadArchive);
    }
    for r in 0..regions as u32 {
        let copy = INITRD_COPIES + r;
        sys::cap_copy(l1(slot::INITRD), root(), copy).map_err(step("copy the initrd frame"))?;
        let first = u64::from(r) * 512;
        let count = (pages - first).min(512) as u32;
        sys::cap_map(
            l1(copy),
            INITRD_VA + first * PAGE,
            rights::READ,
            first * PAGE,
            count,
        )
        .map_err(step("map the initrd"))?;
    }
    Ok(info.initrd_len as usize)
}

/// Builds domain `c` from `plan`; returns what starts it and the region of
/// each PDPT it made.
fn build(
    c: usize,
    plan: &Plan,
    bytes: &[u8],
    name: &str,
) -> Result<(DispatcherParams, [u64; MAX_PDPTS]), SpawnError> {
    let chunk = l1(CHUNKS + c as u32);
    sys::cap_retype(chunk, ty::RAM, 0, PIECE, PIECES, root(), piece(c, 0))
        .map_err(step("retype the chunk into pieces"))?;
    let into = |k: u32, t: u8, size: u64, count: u32, dest: CPtr, at: u32, what: &'static str| {
        sys::cap_retype(l1(piece(c, k)), t, 0, size, count, dest, at).map_err(step(what))
    };
    into(
        7,
        ty::CNODE,
        HELD_SLOTS,
        1,
        root(),
        holder(c),
        "make the holding CNode",
    )?;
    let h = l1(holder(c));
    let at = |i: u8| u32::from(i);
    into(
        1,
        ty::CNODE,
        HELD_SLOTS,
        1,
        h,
        at(held::ROOT),
        "make the root CNode",
    )?;
    into(2, ty::PML4, 0, 1, h, at(held::PML4), "make the PML4")?;
    into(
        6,
        ty::DISPATCHER,
        0,
        1,
        h,
        at(held::DISP),
        "make the dispatcher",
    )?;
    into(
        0,
        ty::FRAME,
        plan.pages * PAGE,
        1,
        h,
        at(held::FRAME),
        "make the frame",
    )?;
    let tables = plan.tables();
    let (n3, n2, n1) = (tables.pdpt.len(), tables.pd.len(), tables.pt.len());
    if n3 > MAX_PDPTS || n2 > 8 || n1 > 32 || plan.runs.len() > 200 {
        return Err(SpawnError::Image(image::ImageError::TooLarge {
            pages: plan.pages,
            limit: MAX_PAGES,
        }));
    }
    into(
        3,
        ty::PDPT,
        0,
        n3 as u32,
        h,
        at(held::PDPT),
        "make the PDPTs",
    )?;
    into(4, ty::PD, 0, n2 as u32, h, at(held::PD), "make the PDs")?;
    into(5, ty::PT, 0, n1 as u32, h, at(held::PT), "make the PTs")?;
    write_image(c, plan, bytes)?;
    let rw = rights::READ | rights::WRITE;
    let index = |va: u64, shift: u32| ((va >> shift) & 511) as u32;
    let find = |list: &[u64], r: u64| list.iter().position(|x| *x == r).unwrap_or(0) as u8;
    for (k, &r) in tables.pdpt.iter().enumerate() {
        let pdpt = held(c, held::PDPT + k as u8);
        sys::vnode_map(held(c, held::PML4), index(r, 39), pdpt, rw, 0, 1)
            .map_err(step("map a PDPT"))?;
    }
    for (k, &r) in tables.pd.iter().enumerate() {
        let up = held(c, held::PDPT + find(&tables.pdpt, image::region(r, 39)));
        sys::vnode_map(up, index(r, 30), held(c, held::PD + k as u8), rw, 0, 1)
            .map_err(step("map a PD"))?;
    }
    for (k, &r) in tables.pt.iter().enumerate() {
        let up = held(c, held::PD + find(&tables.pd, image::region(r, 30)));
        sys::vnode_map(up, index(r, 21), held(c, held::PT + k as u8), rw, 0, 1)
            .map_err(step("map a PT"))?;
    }
    for (k, run) in plan.runs.iter().enumerate() {
        let copy = held::RUN + k as u8;
        sys::cap_copy(held(c, held::FRAME), h, u32::from(copy)).map_err(step("copy the frame"))?;
        let pt = held(c, held::PT + find(&tables.pt, image::region(run.va, 21)));
        sys::vnode_map(
            pt,
            index(run.va, 12),
            held(c, copy),
            run.rights,
            run.page * PAGE,
            run.count,
        )
        .map_err(step("map a run of pages"))?;
    }
    sys::cap_copy(held(c, held::ROOT), held(c, held::ROOT), 0)
        .map_err(step("give the domain its root CNode"))?;
    // What the domain's pager pages its heap from.
    let child = held(c, held::ROOT);
    sys::cap_copy(l1(piece(c, 8)), child, domain::HEAP_RAM)
        .map_err(step("give the domain its heap's RAM"))?;
    let heap_pt = held(
        c,
        held::PT + find(&tables.pt, image::region(abi::HEAP_BASE, 21)),
    );
    sys::cap_copy(heap_pt, child, domain::HEAP_PT)
        .map_err(step("give the domain its heap's page table"))?;
    into(
        9,
        ty::CNODE,
        HELD_SLOTS,
        1,
        h,
        at(held::HEAP_FRAMES),
        "make the heap's CNode",
    )?;
    sys::cap_copy(held(c, held::HEAP_FRAMES), child, domain::HEAP_FRAMES)
        .map_err(step("give the domain its heap's CNode"))?;
    let mut params = DispatcherParams {
        cspace: held(c, held::ROOT).raw(),
        vspace: held(c, held::PML4).raw(),
        entry: plan.entry,
        stack: abi::STACK_TOP,
        name_len: name.len() as u64,
        name: [0; MAX_NAME],
    };
    params.name[..name.len()].copy_from_slice(name.as_bytes());
    let mut pdpts = [NO_REGION; MAX_PDPTS];
    pdpts[..n3].copy_from_slice(&tables.pdpt);
    Ok((params, pdpts))
}

/// Writes the image's segments into the backing frame through a scratch
/// mapping, which is gone again when this returns.
fn write_image(c: usize, plan: &Plan, bytes: &[u8]) -> Result<(), SpawnError> {
    let h = l1(holder(c));
    sys::cap_copy(held(c, held::FRAME), h, u32::from(held::WINDOW))
        .map_err(step("copy the frame for writing"))?;
    let va = SCRATCH_VA + c as u64 * (2 << 20);
    sys::cap_map(
        held(c, held::WINDOW),
        va,
        rights::READ | rights::WRITE,
        0,
        plan.pages as u32,
    )
    .map_err(step("map the frame for writing"))?;
    for (range, offset) in &plan.copies {
        let src = &bytes[range.clone()];
        // SAFETY: `[va, va + pages * PAGE)` is the frame just mapped
        // writable here and nowhere else in this program; the plan keeps
        // every copy inside the image pages of the frame.
        unsafe {
            core::ptr::copy_nonoverlapping(src.as_ptr(), (va + offset) as *mut u8, src.len())
        };
    }
    sys::cap_unmap(va).map_err(step("unmap the frame"))?;
    sys::cap_delete(held(c, held::WINDOW)).map_err(step("delete the frame's copy"))
}
