//! `captest`: invokes capabilities from ring 3, with the core's first
//! cspace (the one its monitor gets next).
//!
//! With the argument `check` (`test=caps`) it identifies its initial
//! capabilities, retypes RAM into frames, maps one, writes and reads it,
//! unmaps it, mints a copy without WRITE and sees a writable mapping of it
//! refused, revokes and sees the copies gone, and makes bad invocations,
//! each of which must get its typed error. Every check prints a
//! `cap-check` record (`name`, `expected`, `got`, `pass`). It leaves the
//! cspace as it found it, prints a `captest` record with the count, and
//! then reads the page it unmapped, on purpose: the kernel must end it for
//! that fault.
//!
//! With `isolation` (`test=caps-isolation`) it tries to reach what it
//! holds no capability for: memory past its RAM (another core's partition)
//! or below it, kernel memory, and the channel pool other than through its
//! Frames; each must be a typed error. Then it maps a frame of its RAM, revokes the RAM, and
//! touches the page, on purpose: the revoke took the mapping, so the
//! kernel must end it for that fault.
//!
//! With `xfer` (`test=caps-xfer`) a capability crosses cores: core 0
//! retypes a piece of its RAM into a Frame, writes a pattern into it
//! through the capability window and exports it (`cap_export`, with the
//! Kernel capability); core 1 imports the bytes (`cap_import`), maps the
//! Frame and reads the pattern back. Bytes that do not encode a
//! capability, a type that may not cross, a wrong owner and an import
//! without the Kernel capability each get their typed error. Until the
//! monitors carry capabilities in their messages, the bytes travel through
//! the last frame of the shared pool (mapped through the pool's Frames), which the
//! monitors leave unused at this size; core 0 waits for core 1 to finish
//! with the mailbox and the Frame before it exits and its monitor starts.
//!
//! With `bench` (`test=caps-bench`) it times identify (the null
//! invocation), retype, map and unmap in batches and prints `caps-bench`
//! records, then exits.
#![no_std]
#![no_main]
#![deny(unsafe_code)]

extern crate alloc;

use abi::cap::{CPtr, CapIdentity, rights, slot, ty};
use abi::{CAP_MAP_BASE, CapError, Error};
use alloc::vec::Vec;
use services::platform::Platform;
use services::platforms::ring3::{self, Ring3, record, sys};

const REGION: u64 = 2 << 20;
const RW: u8 = rights::READ | rights::WRITE;

fn l1(i: u32) -> CPtr {
    CPtr::l1(i)
}

fn l2(i: u32, j: u8) -> CPtr {
    CPtr::l2(i, j).unwrap_or(CPtr::l1(u32::MAX))
}

fn root() -> CPtr {
    l1(slot::ROOT_CNODE)
}

/// The shared check records, with the expected error a capability error.
struct Checks(ring3::checks::Checks);

impl Checks {
    fn new() -> Checks {
        Checks(ring3::checks::Checks::new("cap-check"))
    }

    /// Records whether `got` is what was expected: success (`None`) or that
    /// error.
    fn check<T>(&mut self, name: &str, want: Option<CapError>, got: Result<T, Error>) -> Option<T> {
        self.0.check(name, want.map(Error::Cap), got)
    }

    /// Records a property that must hold.
    fn holds(&mut self, name: &str, ok: bool) {
        self.0.holds(name, ok);
    }
}

fn id(cap: CPtr) -> Result<CapIdentity, Error> {
    sys::cap_identify(cap)
}

fn check(core: u32) -> u64 {
    let mut c = Checks::new();
    let ok = None;
    use CapError as E;

    // The first cspace.
    let r = c.check("identify-root", ok, id(root()));
    c.holds(
        "root-is-a-cnode-of-256-slots",
        r.is_some_and(|r| r.ty == ty::CNODE && r.size == 64 << slot::ROOT_BITS),
    );
    let k = c.check("identify-kernel", ok, id(l1(slot::KERNEL)));
    c.holds(
        "kernel-cap-is-kernel",
        k.is_some_and(|k| k.ty == ty::KERNEL),
    );
    let Some(ram) = c.check("identify-ram", ok, id(l1(slot::RAM))) else {
        record(
            "captest",
            format_args!("checks={} failed={} next=exit", c.0.done, c.0.failed + 1),
        );
        return 1;
    };
    c.holds(
        "ram-is-2mib-aligned-with-every-right",
        ram.ty == ty::RAM
            && ram.rights == rights::ALL
            && ram.base.is_multiple_of(REGION)
            && ram.size >= REGION
            && ram.size.is_multiple_of(REGION),
    );
    // The channel pool: a CNode of its 2 MiB Frames, on every core.
    let pool = c.check("identify-pool", ok, id(l1(slot::POOL)));
    c.holds(
        "the-pool-is-a-cnode",
        pool.is_some_and(|p| p.ty == ty::CNODE && p.rights == rights::READ | rights::WRITE),
    );
    let region = c.check("identify-a-pool-frame", ok, id(l2(slot::POOL, 1)));
    c.holds(
        "a-pool-frame-is-read-write-without-grant",
        region.is_some_and(|f| {
            f.ty == ty::FRAME && f.rights == rights::READ | rights::WRITE && f.size <= REGION
        }),
    );
    c.check(
        "the-pool-cnode-has-no-slot-for-a-frame-0",
        Some(E::EmptySlot),
        id(l2(slot::POOL, 0)),
    );
    c.check(
        "first-free-slot-is-empty",
        Some(E::EmptySlot),
        id(l1(slot::FIRST_FREE)),
    );
    record(
        "caps-initial",
        format_args!("ram_base={:#x} ram_size={:#x}", ram.base, ram.size),
    );

    // Retype RAM into four frames, in slots 4..8.
    let frames_at = slot::FIRST_FREE;
    c.check(
        "retype-ram-into-4-frames",
        ok,
        sys::cap_retype(l1(slot::RAM), ty::FRAME, 0, 4096, 4, root(), frames_at),
    );
    let f0 = c.check("identify-frame-0", ok, id(l1(frames_at)));
    c.holds(
        "frame-0-is-the-first-page-of-ram",
        f0.is_some_and(|f| f.ty == ty::FRAME && f.base == ram.base && f.size == 4096),
    );
    let f3 = c.check("identify-frame-3", ok, id(l1(frames_at + 3)));
    c.holds(
        "frame-3-is-the-fourth-page",
        f3.is_some_and(|f| f.base == ram.base + 3 * 4096),
    );
    c.check(
        "retype-ram-with-descendants",
        Some(E::HasDescendants),
        sys::cap_retype(l1(slot::RAM), ty::FRAME, 1 << 20, 4096, 1, root(), 40),
    );

    // Map frame 0 writable, write it, read it back.
    let va = CAP_MAP_BASE;
    let pattern = 0x5eed_0000_0000_0000 | u64::from(core);
    c.check(
        "map-frame-rw",
        ok,
        sys::cap_map(l1(frames_at), va, RW, 0, 1),
    );
    c.holds(
        "a-new-frame-reads-zero",
        sys::window_read(va) == Some(0) && sys::window_read(va + 4088) == Some(0),
    );
    let wrote = sys::window_write(va, pattern) && sys::window_write(va + 4088, !pattern);
    c.holds(
        "the-frame-reads-back-what-was-written",
        wrote
            && sys::window_read(va) == Some(pattern)
            && sys::window_read(va + 4088) == Some(!pattern),
    );
    c.check(
        "map-frame-1-read-only",
        ok,
        sys::cap_map(l1(frames_at + 1), va + 4096, rights::READ, 0, 1),
    );
    c.holds("frame-1-reads-zero", sys::window_read(va + 4096) == Some(0));
    c.check(
        "map-a-mapped-copy-again",
        Some(E::AlreadyMapped),
        sys::cap_map(l1(frames_at), va + 8 * 4096, rights::READ, 0, 1),
    );
    c.check(
        "map-over-a-mapping",
        Some(E::WouldOverlap),
        sys::cap_map(l1(frames_at + 2), va, rights::READ, 0, 1),
    );

    // Mint a copy of frame 2 without WRITE (slot 8), copy frame 3 (slot 9)
    // and the RAM (slot 10).
    let minted = frames_at + 4;
    c.check(
        "mint-frame-read-grant",
        ok,
        sys::cap_mint(
            l1(frames_at + 2),
            root(),
            minted,
            rights::READ | rights::GRANT,
            0,
        ),
    );
    let m = c.check("identify-minted", ok, id(l1(minted)));
    c.holds(
        "minted-copy-has-fewer-rights",
        m.is_some_and(|m| {
            m.rights == rights::READ | rights::GRANT && m.base == ram.base + 2 * 4096
        }),
    );
    c.check(
        "map-read-only-copy-writable",
        Some(E::MissingRight),
        sys::cap_map(l1(minted), va + 2 * 4096, RW, 0, 1),
    );
    c.check(
        "map-read-only-copy-readable",
        ok,
        sys::cap_map(l1(minted), va + 2 * 4096, rights::READ, 0, 1),
    );
    c.check(
        "mint-more-rights-than-held",
        Some(E::MissingRight),
        sys::cap_mint(l1(minted), root(), minted + 1, rights::ALL, 0),
    );
    c.check(
        "badge-on-a-frame",
        Some(E::WrongType),
        sys::cap_mint(l1(frames_at + 3), root(), minted + 1, rights::READ, 7),
    );
    c.check(
        "copy-frame-3",
        ok,
        sys::cap_copy(l1(frames_at + 3), root(), minted + 1),
    );
    c.check(
        "copy-into-an-occupied-slot",
        Some(E::SlotOccupied),
        sys::cap_copy(l1(frames_at + 3), root(), minted + 1),
    );
    c.check(
        "copy-ram",
        ok,
        sys::cap_copy(l1(slot::RAM), root(), minted + 2),
    );

    // Unmap frame 0; its capability stays, and it maps again with its data.
    c.check("unmap-frame-0", ok, sys::cap_unmap(va));
    c.check(
        "unmap-frame-0-again",
        Some(E::NotMapped),
        sys::cap_unmap(va),
    );
    c.check("frame-0-stays-after-unmap", ok, id(l1(frames_at)));
    c.check(
        "map-frame-0-again",
        ok,
        sys::cap_map(l1(frames_at), va, rights::READ, 0, 1),
    );
    c.holds(
        "frame-0-kept-its-data",
        sys::window_read(va) == Some(pattern),
    );
    c.check("unmap-frame-0-once-more", ok, sys::cap_unmap(va));

    // Revoke the RAM: every frame, the mint and both copies go, and with
    // them the mappings of frames 1 and 2.
    c.check("revoke-ram", ok, sys::cap_revoke(l1(slot::RAM)));
    let gone = [
        "revoked-frame-0",
        "revoked-frame-1",
        "revoked-frame-2",
        "revoked-frame-3",
        "revoked-minted-copy",
        "revoked-frame-copy",
        "revoked-ram-copy",
    ];
    for (i, name) in gone.iter().enumerate() {
        c.check(name, Some(E::EmptySlot), id(l1(frames_at + i as u32)));
    }
    c.check("ram-stays-after-revoke", ok, id(l1(slot::RAM)));
    c.check(
        "revoke-took-the-mapping-of-frame-1",
        Some(E::NotMapped),
        sys::cap_unmap(va + 4096),
    );
    c.check(
        "revoke-took-the-mapping-of-frame-2",
        Some(E::NotMapped),
        sys::cap_unmap(va + 2 * 4096),
    );
    c.check(
        "retype-after-revoke",
        ok,
        sys::cap_retype(l1(slot::RAM), ty::FRAME, 0, 8192, 1, root(), frames_at),
    );

    // Bad invocations, each with its typed error.
    c.check("identify-empty-slot", Some(E::EmptySlot), id(l1(200)));
    c.check(
        "identify-past-the-root",
        Some(E::NoSuchSlot),
        id(l1(1 << slot::ROOT_BITS)),
    );
    c.check(
        "identify-through-a-non-cnode",
        Some(E::WrongType),
        id(l2(slot::KERNEL, 0)),
    );
    c.check(
        "identify-through-an-empty-slot",
        Some(E::EmptySlot),
        id(l2(200, 0)),
    );
    c.check(
        "identify-depth-3",
        Some(E::BadArgument),
        id(CPtr { bits: 1, depth: 3 }),
    );
    c.check(
        "retype-the-kernel-cap",
        Some(E::WrongType),
        sys::cap_retype(l1(slot::KERNEL), ty::FRAME, 0, 4096, 1, root(), 40),
    );
    c.check(
        "retype-a-frame-into-a-frame",
        Some(E::WrongType),
        sys::cap_retype(l1(frames_at), ty::FRAME, 0, 4096, 1, root(), 40),
    );
    // RAM has a descendant again (the 8 KiB frame): delete it first.
    c.check("delete-frame", ok, sys::cap_delete(l1(frames_at)));
    c.check(
        "deleted-slot-is-empty",
        Some(E::EmptySlot),
        id(l1(frames_at)),
    );
    c.check(
        "retype-unknown-type",
        Some(E::BadArgument),
        sys::cap_retype(l1(slot::RAM), 99, 0, 4096, 1, root(), 40),
    );
    c.check(
        "retype-misaligned-offset",
        Some(E::Misaligned),
        sys::cap_retype(l1(slot::RAM), ty::FRAME, 100, 4096, 1, root(), 40),
    );
    c.check(
        "retype-misaligned-size",
        Some(E::Misaligned),
        sys::cap_retype(l1(slot::RAM), ty::FRAME, 0, 100, 1, root(), 40),
    );
    c.check(
        "retype-past-the-end",
        Some(E::OutOfRange),
        sys::cap_retype(l1(slot::RAM), ty::FRAME, ram.size, 4096, 1, root(), 40),
    );
    c.check(
        "retype-zero-objects",
        Some(E::BadArgument),
        sys::cap_retype(l1(slot::RAM), ty::FRAME, 0, 4096, 0, root(), 40),
    );
    c.check(
        "retype-into-an-occupied-slot",
        Some(E::SlotOccupied),
        sys::cap_retype(l1(slot::RAM), ty::FRAME, 0, 4096, 1, root(), slot::KERNEL),
    );
    c.check(
        "retype-past-the-root",
        Some(E::NoSuchSlot),
        sys::cap_retype(l1(slot::RAM), ty::FRAME, 0, 4096, 2, root(), 255),
    );
    c.check(
        "retype-a-pool-frame",
        Some(E::WrongType),
        sys::cap_retype(l2(slot::POOL, 1), ty::FRAME, 0, 4096, 1, root(), 40),
    );
    c.check(
        "copy-a-pool-frame-without-grant",
        Some(E::MissingRight),
        sys::cap_copy(l2(slot::POOL, 1), root(), 40),
    );
    c.check(
        "map-a-ram-cap",
        Some(E::WrongType),
        sys::cap_map(l1(slot::RAM), va, rights::READ, 0, 1),
    );
    c.check(
        "map-an-empty-slot",
        Some(E::EmptySlot),
        sys::cap_map(l1(200), va, rights::READ, 0, 1),
    );
    c.check(
        "map-misaligned-address",
        Some(E::Misaligned),
        sys::cap_map(l1(slot::RAM), va + 8, rights::READ, 0, 1),
    );
    c.check(
        "map-in-the-kernel-half",
        Some(E::KernelHalf),
        sys::cap_map(l1(slot::RAM), 0xffff_8000_0000_0000, rights::READ, 0, 1),
    );
    c.check(
        "map-outside-the-window",
        Some(E::OutOfRange),
        sys::cap_map(l1(slot::RAM), 0x40_0000, rights::READ, 0, 1),
    );
    c.check(
        "map-unknown-rights",
        Some(E::BadArgument),
        sys::cap_map(l1(slot::RAM), va, 0x80, 0, 1),
    );
    // With a two-page frame in slot 4.
    c.check(
        "retype-a-two-page-frame",
        ok,
        sys::cap_retype(l1(slot::RAM), ty::FRAME, 0, 8192, 1, root(), frames_at),
    );
    let f = l1(frames_at);
    c.check(
        "map-across-a-2mib-boundary",
        Some(E::OutOfRange),
        sys::cap_map(f, CAP_MAP_BASE + REGION - 4096, rights::READ, 0, 2),
    );
    c.check(
        "map-past-the-frame",
        Some(E::OutOfRange),
        sys::cap_map(f, va, rights::READ, 0, 3),
    );
    c.check(
        "map-misaligned-offset",
        Some(E::Misaligned),
        sys::cap_map(f, va, rights::READ, 12, 1),
    );
    c.check(
        "map-without-read",
        Some(E::BadArgument),
        sys::cap_map(f, va, rights::WRITE, 0, 1),
    );
    c.check(
        "map-zero-pages",
        Some(E::BadArgument),
        sys::cap_map(f, va, rights::READ, 0, 0),
    );
    c.check(
        "unmap-in-the-kernel-half",
        Some(E::KernelHalf),
        sys::cap_unmap(0xffff_ffff_8000_0000),
    );
    c.check(
        "unmap-where-nothing-was-mapped",
        Some(E::NotMapped),
        sys::cap_unmap(CAP_MAP_BASE + 100 * REGION),
    );
    c.check(
        "mint-unknown-rights",
        Some(E::BadArgument),
        sys::cap_mint(f, root(), 40, 0x40, 0),
    );
    c.check(
        "delete-an-empty-slot",
        Some(E::EmptySlot),
        sys::cap_delete(l1(200)),
    );
    c.check(
        "revoke-past-the-root",
        Some(E::NoSuchSlot),
        sys::cap_revoke(l1(4096)),
    );
    c.check("delete-the-two-page-frame", ok, sys::cap_delete(f));
    marks(&mut c);

    // The cspace is as it was: the monitor gets it next.
    c.check("frames-slot-empty-at-the-end", Some(E::EmptySlot), id(f));
    c.check("ram-at-the-end", ok, id(l1(slot::RAM)));

    record(
        "captest",
        format_args!(
            "checks={} failed={} next=fault va={va:#x}",
            c.0.done, c.0.failed
        ),
    );
    // A deliberate fault: the page was unmapped, so the kernel must end
    // this program here.
    let touched = sys::window_read(va);
    record(
        "captest-touch",
        format_args!("va={va:#x} read={touched:?} unexpected=1"),
    );
    1
}

/// The monitor's marks (what it does while the cores agree on a revoke):
/// a marked capability behaves as deleted, at once, until it is unmarked
/// or swept; only the holder of the Kernel capability marks.
fn marks(c: &mut Checks) {
    let ok = None;
    use CapError as E;
    let kernel = l1(slot::KERNEL);
    let (a, b) = (l1(43), l1(44));
    let Some(ram) = c.check("identify-ram-for-marks", ok, id(l1(slot::RAM))) else {
        return;
    };
    let offset = ram.size - 2 * 4096;
    let made = sys::cap_retype(l1(slot::RAM), ty::FRAME, offset, 4096, 1, root(), 43);
    if c.check("retype-a-frame-to-mark", ok, made).is_none()
        || c.check("copy-the-frame-to-mark", ok, sys::cap_copy(a, root(), 44))
            .is_none()
    {
        return;
    }
    c.check(
        "mark-without-the-kernel-cap",
        Some(E::NoKernelCap),
        sys::cap_mark(a, a),
    );
    let n = c.check("mark-a-frame", ok, sys::cap_mark(kernel, a));
    c.holds("mark-marks-both-copies", n == Some(2));
    c.check("a-marked-frame-refuses-identify", Some(E::Marked), id(a));
    c.check("its-marked-copy-refuses-identify", Some(E::Marked), id(b));
    c.check(
        "a-marked-frame-refuses-copy",
        Some(E::Marked),
        sys::cap_copy(a, root(), 45),
    );
    let n = c.check("unmark-the-frame", ok, sys::cap_unmark(kernel, a));
    c.holds("unmark-restores-both-copies", n == Some(2));
    c.check("an-unmarked-frame-identifies", ok, id(b));
    c.check("mark-it-again", ok, sys::cap_mark(kernel, b));
    let n = c.check("sweep", ok, sys::cap_sweep(kernel));
    c.holds("sweep-removes-both-copies", n == Some(2));
    c.check("a-swept-slot-is-empty", Some(E::EmptySlot), id(a));
    c.check("its-copy-is-gone-too", Some(E::EmptySlot), id(b));
}

/// The mailbox word core 0 sets once the bytes are in place.
const SENT: u64 = 0xf107_ca95_0000_0001;
/// The mailbox word core 1 sets once it is done with the Frame.
const DONE: u64 = 0xf107_ca95_0000_0002;
/// Where the Frame is mapped on either core.
const XFER_VA: u64 = CAP_MAP_BASE + 5 * REGION;
/// The root slot of the Frame on either core.
const XFER_SLOT: u32 = 30;
/// The word at index `i` of the pattern.
fn pattern(i: u64) -> u64 {
    0x5a17_0000_0000_0000 | (i * 0x1_0001)
}

/// The mailbox: the last pool frame (see the module's comment).
fn mailbox(p: &mut Ring3, c: &mut Checks) -> Option<services::shm::arena::Arena> {
    let frames = p.pool_frames();
    let needed = services::shm::pool::Layout::new(p.cores()).frames_needed();
    c.holds("the-pool-has-a-spare-frame", frames > needed);
    if frames <= needed {
        return None;
    }
    c.check(
        "map-the-mailbox",
        None,
        p.map_pool(frames - 1, 1)
            .map_err(|_| Error::Sys(abi::SysError::BadFrame)),
    )
}

/// Waits until word 0 of the mailbox is `want`, for at most ten seconds.
fn await_word(p: &mut Ring3, word: &core::sync::atomic::AtomicU64, want: u64) -> bool {
    use core::sync::atomic::Ordering;
    let hz = p.info().tsc_hz.max(1);
    let end = p.now().saturating_add(10 * hz);
    while word.load(Ordering::Acquire) != want {
        if p.now() > end {
            return false;
        }
        p.wait(hz / 100);
    }
    true
}

/// `xfer`: a Frame made on core 0 becomes a capability on core 1.
fn xfer(core: u32) -> u64 {
    let mut c = Checks::new();
    let mut p = match Ring3::new() {
        Ok(p) => p,
        Err(e) => {
            ring3::print(format_args!("captest: info: {}", e.name()));
            return 1;
        }
    };
    if core < 2 {
        match mailbox(&mut p, &mut c) {
            Some(mb) if core == 0 => xfer_send(&mut p, &mut c, &mb),
            Some(mb) => xfer_receive(&mut p, &mut c, &mb),
            None => {}
        }
    }
    record(
        "captest",
        format_args!("checks={} failed={} next=exit", c.0.done, c.0.failed),
    );
    u64::from(c.0.failed != 0)
}

fn xfer_send(p: &mut Ring3, c: &mut Checks, mb: &services::shm::arena::Arena) {
    use core::sync::atomic::Ordering;
    let ok = None;
    use CapError as E;
    let kernel = l1(slot::KERNEL);
    let frame = l1(XFER_SLOT);
    let shared = mb.shared();
    // A Frame of one page from the top of the RAM, filled with the pattern.
    let Some(ram) = c.check("identify-ram", ok, id(l1(slot::RAM))) else {
        return;
    };
    let offset = ram.size - 4096;
    if c.check(
        "retype-a-frame",
        ok,
        sys::cap_retype(l1(slot::RAM), ty::FRAME, offset, 4096, 1, root(), XFER_SLOT),
    )
    .is_none()
    {
        return;
    }
    if c.check("map-the-frame", ok, sys::cap_map(frame, XFER_VA, RW, 0, 1))
        .is_some()
    {
        for i in 0..512 {
            sys::window_write(XFER_VA + i * 8, pattern(i));
        }
        c.check("unmap-the-frame", ok, sys::cap_unmap(XFER_VA));
    }

    // Export needs the Kernel capability, GRANT and a type that may cross.
    let ram_cap = l1(slot::RAM);
    c.check(
        "export-without-the-kernel-cap",
        Some(E::NoKernelCap),
        sys::cap_export(ram_cap, frame),
    );
    c.check(
        "export-with-an-empty-kernel-slot",
        Some(E::EmptySlot),
        sys::cap_export(l1(XFER_SLOT + 1), frame),
    );
    c.check(
        "export-a-cnode",
        Some(E::NotPermitted),
        sys::cap_export(kernel, root()),
    );
    // The Kernel capability has no GRANT: it leaves no cspace.
    c.check(
        "export-the-kernel-cap",
        Some(E::MissingRight),
        sys::cap_export(kernel, kernel),
    );
    let no_grant = l1(XFER_SLOT + 1);
    c.check(
        "mint-without-grant",
        ok,
        sys::cap_mint(frame, root(), XFER_SLOT + 1, rights::READ, 0),
    );
    c.check(
        "export-without-grant",
        Some(E::MissingRight),
        sys::cap_export(kernel, no_grant),
    );
    c.check("delete-the-minted-copy", ok, sys::cap_delete(no_grant));
    let mut out = CapIdentity::default();
    let kernel_half = sys::invoke_regs(
        abi::number::CAP_EXPORT,
        [kernel.raw(), frame.raw(), 0xffff_8000_0000_0000, 0, 0, 0],
        &mut out,
    );
    c.holds(
        "export-writes-no-kernel-memory",
        kernel_half.map(|r| r.0) == Some(abi::SysError::BadPointer as u64),
    );
    let mut out = CapIdentity::default();
    let extra = sys::invoke_regs(
        abi::number::CAP_EXPORT,
        [kernel.raw(), frame.raw(), 0, 0, 0, 1],
        &mut out,
    );
    c.holds(
        "export-with-a-stray-register",
        extra.map(|r| r.0) == Some(E::BadArgument.code()),
    );

    let Some(bytes) = c.check("export-the-frame", ok, sys::cap_export(kernel, frame)) else {
        return;
    };
    c.holds(
        "the-bytes-name-the-frame",
        bytes[0] == 1
            && bytes[1] == ty::FRAME
            && u64::from_le_bytes(bytes[8..16].try_into().unwrap_or([0; 8])) == ram.base + offset
            && u64::from_le_bytes(bytes[16..24].try_into().unwrap_or([0; 8])) == 4096,
    );
    record(
        "caps-xfer",
        format_args!("side=send base={:#x} size=4096 owner=0", ram.base + offset),
    );
    for (k, chunk) in bytes.chunks_exact(8).enumerate() {
        let w = u64::from_le_bytes(chunk.try_into().unwrap_or([0; 8]));
        shared.word(8 + 8 * k).store(w, Ordering::Relaxed);
    }
    shared.word(0).store(SENT, Ordering::Release);
    let _ = p.notify(1);
    c.holds(
        "core-1-is-done-with-the-frame",
        await_word(p, shared.word(0), DONE),
    );
    // The cspace is as it was: the monitor gets it next.
    c.check("delete-the-frame", ok, sys::cap_delete(frame));
    c.check("ram-at-the-end", ok, id(l1(slot::RAM)));
}

fn xfer_receive(p: &mut Ring3, c: &mut Checks, mb: &services::shm::arena::Arena) {
    use core::sync::atomic::Ordering;
    let ok = None;
    use CapError as E;
    let kernel = l1(slot::KERNEL);
    let frame = l1(XFER_SLOT);
    let shared = mb.shared();
    let arrived = await_word(p, shared.word(0), SENT);
    c.holds("the-bytes-arrive", arrived);
    if !arrived {
        return;
    }
    let mut bytes = [0u8; abi::cap::WIRE_LEN];
    for (k, chunk) in bytes.chunks_exact_mut(8).enumerate() {
        let w = shared.word(8 + 8 * k).load(Ordering::Relaxed);
        chunk.copy_from_slice(&w.to_le_bytes());
    }
    let import = |b: &[u8], k: CPtr, owner: u32| sys::cap_import(k, b, root(), XFER_SLOT, owner);

    // Refusals first: each changes nothing.
    c.check(
        "import-without-the-kernel-cap",
        Some(E::NoKernelCap),
        import(&bytes, l1(slot::RAM), 0),
    );
    c.check(
        "import-with-an-empty-kernel-slot",
        Some(E::EmptySlot),
        import(&bytes, l1(XFER_SLOT + 1), 0),
    );
    let with = |at: usize, v: u8| {
        let mut b = bytes;
        b[at] = v;
        b
    };
    c.check(
        "import-an-unknown-version",
        Some(E::Malformed),
        import(&with(0, 9), kernel, 0),
    );
    c.check(
        "import-an-unknown-type",
        Some(E::Malformed),
        import(&with(1, 0x7f), kernel, 0),
    );
    c.check(
        "import-unknown-rights",
        Some(E::Malformed),
        import(&with(2, 0x80), kernel, 0),
    );
    c.check(
        "import-a-reserved-byte",
        Some(E::Malformed),
        import(&with(5, 1), kernel, 0),
    );
    c.check(
        "import-a-misaligned-frame",
        Some(E::Malformed),
        import(&with(8, bytes[8] | 1), kernel, 0),
    );
    c.check(
        "import-a-short-encoding",
        Some(E::Malformed),
        import(&bytes[..10], kernel, 0),
    );
    c.check(
        "import-a-cnode",
        Some(E::NotPermitted),
        import(&with(1, ty::CNODE), kernel, 0),
    );
    c.check(
        "import-owned-by-this-core",
        Some(E::NotPermitted),
        import(&bytes, kernel, 1),
    );
    c.check(
        "import-owned-by-no-core",
        Some(E::BadArgument),
        import(&bytes, kernel, 7),
    );
    c.check(
        "import-into-an-occupied-slot",
        Some(E::SlotOccupied),
        sys::cap_import(kernel, &bytes, root(), slot::KERNEL, 0),
    );
    c.check("nothing-was-imported", Some(E::EmptySlot), id(frame));

    // The import, and the Frame it makes.
    if c.check("import-the-frame", ok, import(&bytes, kernel, 0))
        .is_none()
    {
        return;
    }
    let base = u64::from_le_bytes(bytes[8..16].try_into().unwrap_or([0; 8]));
    record(
        "caps-xfer",
        format_args!("side=receive base={base:#x} size=4096 owner=0"),
    );
    let got = c.check("identify-the-frame", ok, id(frame));
    c.holds(
        "it-is-the-frame-core-0-made",
        got.is_some_and(|f| {
            f.ty == ty::FRAME && f.base == base && f.size == 4096 && f.rights == bytes[2]
        }),
    );
    let ram = id(l1(slot::RAM)).ok();
    c.holds(
        "it-lies-outside-this-cores-ram",
        ram.is_some_and(|r| base + 4096 <= r.base || base >= r.base + r.size),
    );
    c.check(
        "import-it-twice-into-one-slot",
        Some(E::SlotOccupied),
        import(&bytes, kernel, 0),
    );
    if c.check(
        "map-the-frame",
        ok,
        sys::cap_map(frame, XFER_VA, rights::READ, 0, 1),
    )
    .is_some()
    {
        let same = (0..512).all(|i| sys::window_read(XFER_VA + i * 8) == Some(pattern(i)));
        c.holds("the-pattern-reads-back", same);
        record(
            "caps-xfer",
            format_args!(
                "side=read first={:#x} last={:#x} same={}",
                sys::window_read(XFER_VA).unwrap_or(0),
                sys::window_read(XFER_VA + 511 * 8).unwrap_or(0),
                u8::from(same)
            ),
        );
        c.check("unmap-the-frame", ok, sys::cap_unmap(XFER_VA));
    }
    c.check("delete-the-frame", ok, sys::cap_delete(frame));
    c.check("frame-slot-empty-at-the-end", Some(E::EmptySlot), id(frame));
    shared.word(0).store(DONE, Ordering::Release);
    let _ = p.notify(0);
}

/// `isolation`: what the program holds no capability for, it cannot
/// reach, each refusal a typed error; and a frame that goes with a revoke
/// of its RAM leaves the address space.
fn isolation(core: u32) -> u64 {
    let mut c = Checks::new();
    let ok = None;
    use CapError as E;
    let Some(ram) = c.check("identify-ram", ok, id(l1(slot::RAM))) else {
        record(
            "captest",
            format_args!("checks={} failed={} next=exit", c.0.done, c.0.failed + 1),
        );
        return 1;
    };
    record(
        "caps-initial",
        format_args!("ram_base={:#x} ram_size={:#x}", ram.base, ram.size),
    );
    let va = CAP_MAP_BASE + 3 * REGION;
    let spare = 40;

    // The channel pool: only through its Frames, which a monitor (and this
    // program in its place) holds; they map nowhere but the window, carve
    // no other object, and leave no copy.
    c.check(
        "a-pool-frame-maps-only-in-the-window",
        Some(E::OutOfRange),
        sys::cap_map(l2(slot::POOL, 1), abi::HEAP_BASE, rights::READ, 0, 1),
    );
    c.check(
        "a-pool-frame-retypes-into-nothing",
        Some(E::WrongType),
        sys::cap_retype(l2(slot::POOL, 1), ty::FRAME, 0, 4096, 1, root(), spare),
    );
    c.check(
        "a-pool-frame-is-not-copied",
        Some(E::MissingRight),
        sys::cap_copy(l2(slot::POOL, 1), root(), spare),
    );
    c.check(
        "the-pool-cnode-is-not-copied",
        Some(E::MissingRight),
        sys::cap_copy(l1(slot::POOL), root(), spare),
    );
    for s in [slot::FIRST_FREE, 100, 255] {
        c.check(
            "an-empty-slot-maps-nothing",
            Some(E::EmptySlot),
            sys::cap_map(l1(s), va, rights::READ, 0, 1),
        );
    }

    // Another core's partition, and the kernel's memory around this RAM:
    // retype carves only inside the RAM it names.
    for (name, offset) in [
        ("retype-past-the-ram-into-the-next-partition", ram.size),
        ("retype-16-mib-past-the-ram", ram.size + (16 << 20)),
        ("retype-below-the-ram-by-wrapping", 0u64.wrapping_sub(4096)),
        (
            "retype-at-physical-zero-by-wrapping",
            0u64.wrapping_sub(ram.base),
        ),
    ] {
        c.check(
            name,
            Some(E::OutOfRange),
            sys::cap_retype(l1(slot::RAM), ty::FRAME, offset, 4096, 1, root(), spare),
        );
    }
    c.check(
        "retype-a-frame-larger-than-the-ram",
        Some(E::OutOfRange),
        sys::cap_retype(
            l1(slot::RAM),
            ty::FRAME,
            0,
            ram.size + 4096,
            1,
            root(),
            spare,
        ),
    );

    // Kernel memory: no capability names it, and the kernel half is
    // refused as a mapping address and as a pointer.
    c.check(
        "the-kernel-cap-maps-nothing",
        Some(E::WrongType),
        sys::cap_map(l1(slot::KERNEL), va, rights::READ, 0, 1),
    );
    c.check(
        "the-kernel-cap-retypes-into-nothing",
        Some(E::WrongType),
        sys::cap_retype(l1(slot::KERNEL), ty::FRAME, 0, 4096, 1, root(), spare),
    );
    c.check(
        "the-root-cnode-maps-nothing",
        Some(E::WrongType),
        sys::cap_map(root(), va, rights::READ, 0, 1),
    );
    c.check(
        "no-mapping-into-the-kernel-half",
        Some(E::KernelHalf),
        sys::cap_map(l1(slot::RAM), 0xffff_8000_0000_0000, rights::READ, 0, 1),
    );
    c.check(
        "no-unmap-in-the-kernel-half",
        Some(E::KernelHalf),
        sys::cap_unmap(0xffff_ffff_8000_0000),
    );
    let into_kernel = sys::invoke_regs(
        abi::number::CAP_IDENTIFY,
        [l1(slot::RAM).raw(), 0xffff_8000_0010_0000, 0, 0, 0, 0],
        &mut CapIdentity::default(),
    )
    .map(|(rax, rdx)| abi::invoke_result(rax, rdx));
    c.holds(
        "identify-writes-no-kernel-memory",
        into_kernel == Some(Err(Error::Sys(abi::SysError::BadPointer))),
    );

    // A frame of this RAM, mapped and written; a revoke of the RAM takes
    // the frame and its mapping.
    let frame = l1(spare);
    c.check(
        "retype-a-frame",
        ok,
        sys::cap_retype(l1(slot::RAM), ty::FRAME, 0, 4096, 1, root(), spare),
    );
    let f = c.check("identify-the-frame", ok, id(frame));
    c.holds(
        "the-frame-lies-in-this-cores-ram",
        f.is_some_and(|f| f.base >= ram.base && f.base + f.size <= ram.base + ram.size),
    );
    c.check("map-the-frame", ok, sys::cap_map(frame, va, RW, 0, 1));
    let pattern = 0x150_1a7e_0000_0000 | u64::from(core);
    c.holds(
        "the-frame-reads-back",
        sys::window_write(va, pattern) && sys::window_read(va) == Some(pattern),
    );
    c.check("revoke-the-ram", ok, sys::cap_revoke(l1(slot::RAM)));
    c.check("the-frame-is-gone", Some(E::EmptySlot), id(frame));
    c.check(
        "its-mapping-is-gone",
        Some(E::NotMapped),
        sys::cap_unmap(va),
    );
    record(
        "captest",
        format_args!(
            "checks={} failed={} next=fault va={va:#x}",
            c.0.done, c.0.failed
        ),
    );
    // A deliberate fault: the revoke unmapped the page, so the kernel must
    // end this program here.
    let touched = sys::window_read(va);
    record(
        "captest-touch",
        format_args!("va={va:#x} read={touched:?} unexpected=1"),
    );
    1
}

/// Cycles per operation of each batch, in hundredths, sorted.
struct Samples(Vec<u64>);

impl Samples {
    fn report(&mut self, op: &str, batch: u64, hypervisor: u32) {
        self.0.sort_unstable();
        let n = self.0.len();
        if n == 0 {
            return;
        }
        let (min, median, max) = (self.0[0], self.0[n / 2], self.0[n - 1]);
        let hundredths = |v: u64| Hundredths(v);
        record(
            "caps-bench",
            format_args!(
                "op={op} batch={batch} batches={n} min_cycles={} median_cycles={} max_cycles={} hypervisor={hypervisor}",
                hundredths(min),
                hundredths(median),
                hundredths(max)
            ),
        );
        ring3::print(format_args!(
            "caps-bench: {op}: {} cycles per call (median of {n} batches of {batch}; min {}, max {})",
            hundredths(median),
            hundredths(min),
            hundredths(max)
        ));
    }
}

struct Hundredths(u64);

impl core::fmt::Display for Hundredths {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}.{:02}", self.0 / 100, self.0 % 100)
    }
}

/// Times `ops` calls of `f` (with the call's index) in batches of `batch`.
fn time(
    p: &Ring3,
    ops: u64,
    batch: u64,
    mut f: impl FnMut(u64) -> Result<(), Error>,
) -> Result<Samples, Error> {
    let mut out = Vec::new();
    let mut i = 0;
    while i + batch <= ops {
        let t0 = p.now();
        for k in i..i + batch {
            f(k)?;
        }
        let t1 = p.now();
        out.push((t1 - t0) * 100 / batch);
        i += batch;
    }
    Ok(Samples(out))
}

fn bench() -> u64 {
    let p = match Ring3::new() {
        Ok(p) => p,
        Err(e) => {
            ring3::print(format_args!("captest: info: {}", e.name()));
            return 1;
        }
    };
    let hyp = p.info().hypervisor;
    match run_bench(&p, hyp) {
        Ok(()) => 0,
        Err(e) => {
            ring3::print(format_args!("captest: benchmark failed: {e}"));
            record("caps-bench-error", format_args!("error={e}"));
            1
        }
    }
}

fn run_bench(p: &Ring3, hyp: u32) -> Result<(), Error> {
    const BATCH: u64 = 32;
    const PIECES: u32 = 256;
    const ROUNDS: u32 = 4;
    let ram = l1(slot::RAM);
    // The null invocation.
    let mut s = time(p, 64 * 64, 64, |_| sys::cap_identify(ram).map(|_| ()))?;
    s.report("identify", 64, hyp);
    // Split the RAM: 2 MiB pieces in root slots 20.., two CNodes of 256
    // slots from the first (root slots 40, 41), and from the second, 256
    // RAM pieces of 8 KiB in CNode 40 each round.
    sys::cap_retype(ram, ty::RAM, 0, REGION, 2, root(), 20)?;
    sys::cap_retype(l1(20), ty::CNODE, 0, 256, 2, root(), 40)?;
    let va = CAP_MAP_BASE + 2 * REGION;
    let (mut retype, mut map, mut unmap) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        sys::cap_retype(l1(21), ty::RAM, 0, 8192, PIECES, l1(40), 0)?;
        let s = time(p, u64::from(PIECES), BATCH, |i| {
            sys::cap_retype(l2(40, i as u8), ty::FRAME, 0, 4096, 1, l1(41), i as u32)
        })?;
        retype.extend(s.0);
        // The first map into a region also makes its page table: not
        // part of the measured maps.
        sys::cap_map(l2(41, 0), va, rights::READ, 0, 1)?;
        sys::cap_unmap(va)?;
        let s = time(p, u64::from(PIECES), BATCH, |i| {
            sys::cap_map(l2(41, i as u8), va + i * 4096, RW, 0, 1).map(|_| ())
        })?;
        map.extend(s.0);
        // Touch every page once, as a program would.
        for i in 0..u64::from(PIECES) {
            sys::window_write(va + i * 4096, i);
        }
        let s = time(p, u64::from(PIECES), BATCH, |i| {
            sys::cap_unmap(va + i * 4096)
        })?;
        unmap.extend(s.0);
        sys::cap_revoke(l1(21))?;
    }
    Samples(retype).report("retype", BATCH, hyp);
    Samples(map).report("map", BATCH, hyp);
    Samples(unmap).report("unmap", BATCH, hyp);
    sys::cap_revoke(ram)?;
    sys::cap_identify(l1(20)).map_or(Ok(()), |_| Err(Error::Cap(CapError::NotPermitted)))?;
    Ok(())
}

// The runtime calls the program's entry by this name.
#[allow(unsafe_code)]
#[unsafe(no_mangle)]
extern "C" fn program_main(core: u32, _cores: u32) -> u64 {
    let mut buf = [0u8; 16];
    let n = sys::args(&mut buf).unwrap_or(0).min(buf.len());
    match &buf[..n] {
        b"check" => check(core),
        b"bench" => bench(),
        b"isolation" => isolation(core),
        b"xfer" => xfer(core),
        _ => {
            ring3::print(format_args!(
                "captest: the argument is 'check', 'bench', 'isolation' or 'xfer'"
            ));
            2
        }
    }
}
