//! `disptest`: checks the invocations that build and start domains from
//! user level (`test=caps-dispatch`), on every core, before its monitor.
//!
//! It starts domains through the monitor's own loader, and makes every
//! refusal of `DispatcherRun`, `DispatcherStatus`, `VnodeMap` and
//! `VnodeUnmap` happen once, each a `cap-check` record (`name`,
//! `expected`, `got`, `pass`): capabilities of the wrong type, a missing
//! right, a second start, an entry or stack in the kernel half or
//! misaligned, a bad name or parameter block, a PML4 entry of the kernel
//! half (on objects of a free chunk of the loader's, handed back after).
//! It ends two running `forever` domains by deleting their Dispatcher and
//! their PML4 (the kernel must end each with a `domain-revoked` record),
//! waits for a `hello` to exit with 0, hands every capability back,
//! prints a `disptest` record and exits.
#![no_std]
#![no_main]
#![deny(unsafe_code)]

use abi::cap::{CPtr, rights, slot, ty};
use abi::disp::{DispatcherParams, Status};
use abi::{CapError, Error, SysError};
use services::platform::Platform;
use services::platforms::ring3::checks::Checks;
use services::platforms::ring3::{self, Ring3, record, sys};

/// Root slots this program fills, above the loader's.
const PIECES: u32 = 200;
const DISP: u32 = 210;
const CNODE: u32 = 211;
const PML4: u32 = 212;
const PDPT: u32 = 213;
const FRAME: u32 = 214;
const DISP_READ_ONLY: u32 = 215;

fn l1(i: u32) -> CPtr {
    CPtr::l1(i)
}

/// A change that spoils one field of good parameters.
type Spoil = fn(&mut DispatcherParams);

/// Parameters that would start a domain in the CNode and PML4 at the given
/// root slots.
fn params(cspace: u32, vspace: u32) -> DispatcherParams {
    let mut p = DispatcherParams {
        cspace: l1(cspace).raw(),
        vspace: l1(vspace).raw(),
        entry: abi::IMAGE_BASE,
        stack: abi::STACK_TOP,
        name_len: 4,
        name: [0; abi::disp::MAX_NAME],
    };
    p.name[..4].copy_from_slice(b"none");
    p
}

fn cap(e: CapError) -> Option<Error> {
    Some(Error::Cap(e))
}

fn sys_err(e: SysError) -> Option<Error> {
    Some(Error::Sys(e))
}

/// Every refusal, on objects retyped from a free chunk of the loader's.
fn refusals(c: &mut Checks, chunk: CPtr) {
    let ok = None;
    let root = l1(slot::ROOT_CNODE);
    c.check(
        "retype-pieces",
        ok,
        sys::cap_retype(chunk, ty::RAM, 0, 64 << 10, 8, root, PIECES),
    );
    let make = |k: u32, t: u8, size: u64, at: u32| {
        sys::cap_retype(l1(PIECES + k), t, 0, size, 1, root, at)
    };
    c.check("make-a-dispatcher", ok, make(0, ty::DISPATCHER, 0, DISP));
    c.check("make-a-cnode", ok, make(1, ty::CNODE, 16, CNODE));
    c.check("make-a-pml4", ok, make(2, ty::PML4, 0, PML4));
    c.check("make-a-pdpt", ok, make(3, ty::PDPT, 0, PDPT));
    c.check("make-a-frame", ok, make(4, ty::FRAME, 4096, FRAME));
    c.check(
        "mint-a-read-only-dispatcher",
        ok,
        sys::cap_mint(l1(DISP), root, DISP_READ_ONLY, rights::READ, 0),
    );

    let good = params(CNODE, PML4);
    let run = |d: u32, p: &DispatcherParams| sys::dispatcher_run(l1(d), p);
    c.holds(
        "status-of-an-unstarted-dispatcher",
        sys::dispatcher_status(l1(DISP)) == Ok(Status::NotStarted),
    );
    c.check(
        "status-of-a-frame",
        cap(CapError::WrongType),
        sys::dispatcher_status(l1(FRAME)),
    );
    c.check(
        "status-of-an-empty-slot",
        cap(CapError::EmptySlot),
        sys::dispatcher_status(l1(199)),
    );
    c.check("run-a-frame", cap(CapError::WrongType), run(FRAME, &good));
    c.check(
        "run-without-write",
        cap(CapError::MissingRight),
        run(DISP_READ_ONLY, &good),
    );
    c.check(
        "run-with-a-frame-as-cspace",
        cap(CapError::WrongType),
        run(DISP, &params(FRAME, PML4)),
    );
    c.check(
        "run-with-a-cnode-as-vspace",
        cap(CapError::WrongType),
        run(DISP, &params(CNODE, CNODE)),
    );
    c.check(
        "run-with-a-pdpt-as-vspace",
        cap(CapError::WrongType),
        run(DISP, &params(CNODE, PDPT)),
    );
    c.check(
        "run-with-an-empty-cspace-slot",
        cap(CapError::EmptySlot),
        run(DISP, &params(199, PML4)),
    );
    // One field of the parameters wrong at a time.
    let bad_fields: [(&str, Option<Error>, Spoil); 7] = [
        (
            "run-with-a-bad-cspace-address",
            cap(CapError::BadArgument),
            |p| p.cspace = 7 << 32,
        ),
        ("run-with-a-kernel-entry", cap(CapError::KernelHalf), |p| {
            p.entry = 0xffff_8000_0000_0000
        }),
        (
            "run-with-the-stack-at-the-user-end",
            cap(CapError::KernelHalf),
            |p| p.stack = 0x8000_0000_0000,
        ),
        (
            "run-with-a-misaligned-stack",
            cap(CapError::Misaligned),
            |p| p.stack = abi::STACK_TOP - 8,
        ),
        ("run-with-no-name", sys_err(SysError::BadLength), |p| {
            p.name_len = 0
        }),
        ("run-with-a-long-name", sys_err(SysError::BadLength), |p| {
            p.name_len = 33
        }),
        (
            "run-with-a-non-utf8-name",
            sys_err(SysError::BadUtf8),
            |p| p.name[0] = 0xff,
        ),
    ];
    for (name, want, change) in bad_fields {
        let mut bad = good;
        change(&mut bad);
        c.check(name, want, run(DISP, &bad));
    }
    c.check(
        "run-with-a-short-block",
        sys_err(SysError::BadLength),
        sys::dispatcher_run_at(l1(DISP), 0x1000, 8),
    );
    c.check(
        "run-with-an-unmapped-block",
        sys_err(SysError::BadPointer),
        sys::dispatcher_run_at(
            l1(DISP),
            0x1000,
            core::mem::size_of::<DispatcherParams>() as u64,
        ),
    );
    c.holds(
        "refused-runs-start-nothing",
        sys::dispatcher_status(l1(DISP)) == Ok(Status::NotStarted),
    );

    // The VNodes: entries of the kernel half, a frame in a PML4, a second
    // map of one copy, an unmap of nothing.
    let rw = rights::READ | rights::WRITE;
    c.check(
        "map-a-pdpt-into-the-kernel-half",
        cap(CapError::KernelHalf),
        sys::vnode_map(l1(PML4), 256, l1(PDPT), rw, 0, 1),
    );
    c.check(
        "map-a-frame-into-a-pml4",
        cap(CapError::WrongType),
        sys::vnode_map(l1(PML4), 0, l1(FRAME), rw, 0, 1),
    );
    c.check(
        "map-a-cnode-into-a-pml4",
        cap(CapError::WrongType),
        sys::vnode_map(l1(PML4), 0, l1(CNODE), rw, 0, 1),
    );
    c.check(
        "map-into-a-frame",
        cap(CapError::WrongType),
        sys::vnode_map(l1(FRAME), 0, l1(PDPT), rw, 0, 1),
    );
    c.check(
        "map-a-pdpt",
        ok,
        sys::vnode_map(l1(PML4), 1, l1(PDPT), rw, 0, 1),
    );
    c.check(
        "map-the-pdpt-again",
        cap(CapError::AlreadyMapped),
        sys::vnode_map(l1(PML4), 2, l1(PDPT), rw, 0, 1),
    );
    c.check(
        "unmap-an-empty-entry",
        cap(CapError::NotMapped),
        sys::vnode_unmap(l1(PML4), 3),
    );
    c.check(
        "unmap-past-the-table",
        cap(CapError::OutOfRange),
        sys::vnode_unmap(l1(PML4), 512),
    );
    c.check("unmap-the-pdpt", ok, sys::vnode_unmap(l1(PML4), 1));
    c.check("hand-back-the-chunk", ok, sys::cap_revoke(chunk));
}

/// Starts `program` and checks a second start of its dispatcher is
/// refused (and, for one that never ends by itself, that it is running);
/// returns its handle.
fn start(p: &mut Ring3, c: &mut Checks, name: &str, program: &str) -> Option<u32> {
    let child = c.check(name, None, p.spawn(program).map_err(spawn_error))?;
    let disp = p.loader().dispatcher(child).ok()?;
    if program == "forever" {
        c.holds(
            "a-started-dispatcher-is-running",
            sys::dispatcher_status(disp) == Ok(Status::Running),
        );
    }
    let again = params(slot::ROOT_CNODE, slot::ROOT_CNODE);
    c.check(
        "start-a-started-dispatcher",
        cap(CapError::NotPermitted),
        sys::dispatcher_run(disp, &again),
    );
    Some(child)
}

/// The kernel error inside a loader failure, for the check records.
fn spawn_error(e: services::platform::SpawnError) -> Error {
    match e {
        services::platform::SpawnError::Invocation { error, .. } => error,
        _ => Error::Sys(SysError::BadCode),
    }
}

/// What only a domain started from user level may do: this program was
/// loaded at boot.
fn not_a_domain(c: &mut Checks) {
    let refused = cap(CapError::NotPermitted);
    let stack = abi::STACK_TOP - 4096;
    c.check(
        "a-boot-program-registers-no-fault-handler",
        refused,
        sys::fault_handler(abi::IMAGE_BASE, stack),
    );
    c.check(
        "a-boot-program-registers-no-run-upcall",
        refused,
        sys::dispatcher_upcall(abi::IMAGE_BASE, stack),
    );
    c.check(
        "a-boot-program-receives-no-lmp",
        refused,
        sys::lmp_recv(None, 1).map(|_| ()),
    );
    c.check(
        "resume-outside-a-fault-handler",
        sys_err(SysError::NoFault),
        Err::<(), _>(sys::fault_resume(false)),
    );
}

fn dispatch(p: &mut Ring3) -> Checks {
    let mut c = Checks::new("cap-check");
    not_a_domain(&mut c);
    // Two domains that never end by themselves, ended by deleting their
    // Dispatcher and their PML4; then one that runs to its end.
    let first = start(
        p,
        &mut c,
        "spawn-forever-to-revoke-by-dispatcher",
        "forever",
    );
    let second = start(p, &mut c, "spawn-forever-to-revoke-by-pml4", "forever");
    if let Some(child) = first {
        let disp = p.loader().dispatcher(child).unwrap_or(l1(0));
        c.check("delete-a-running-dispatcher", None, sys::cap_delete(disp));
        c.check(
            "its-status-is-gone-with-it",
            cap(CapError::EmptySlot),
            sys::dispatcher_status(disp),
        );
        c.check(
            "release-the-first",
            None,
            p.release(child).map_err(spawn_error),
        );
    }
    if let Some(child) = second {
        let pml4 = p.loader().pml4(child).unwrap_or(l1(0));
        let disp = p.loader().dispatcher(child).unwrap_or(l1(0));
        c.check("delete-a-running-pml4", None, sys::cap_delete(pml4));
        c.holds(
            "a-domain-without-its-pml4-is-revoked",
            sys::dispatcher_status(disp) == Ok(Status::Revoked),
        );
        c.check(
            "release-the-second",
            None,
            p.release(child).map_err(spawn_error),
        );
    }
    match p.loader().free_chunk() {
        Some(chunk) => refusals(&mut c, chunk),
        None => c.holds("a-free-chunk", false),
    }
    let third = start(p, &mut c, "spawn-hello-to-run", "hello");
    if let Some(child) = third {
        let mut status = p.child(child);
        for _ in 0..1000 {
            if !matches!(status, Ok(Status::Running)) {
                break;
            }
            sys::wait(1_000_000);
            status = p.child(child);
        }
        c.holds(
            "the-third-exits-with-0",
            matches!(status, Ok(Status::Exited(0))),
        );
        c.check(
            "release-the-third",
            None,
            p.release(child).map_err(spawn_error),
        );
    }
    c.check(
        "hand-everything-back",
        None,
        p.loader().reset().map_err(spawn_error),
    );
    c
}

// The runtime calls the program's entry by this name.
#[allow(unsafe_code)]
#[unsafe(no_mangle)]
extern "C" fn program_main(core: u32, _cores: u32) -> u64 {
    let mut buf = [0u8; 16];
    let n = sys::args(&mut buf).unwrap_or(0).min(buf.len());
    let mut p = match Ring3::new() {
        Ok(p) => p,
        Err(e) => {
            ring3::print(format_args!("disptest: info: {}", e.name()));
            return 1;
        }
    };
    if &buf[..n] != b"dispatch" {
        ring3::print(format_args!("disptest: unknown mode"));
        return 1;
    }
    let c = dispatch(&mut p);
    record(
        "disptest",
        format_args!("core={core} checks={} failed={}", c.done, c.failed),
    );
    u64::from(c.failed > 0)
}
