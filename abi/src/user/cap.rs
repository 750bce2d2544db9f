//! Capability invocations: identify, retype, copy, mint, delete, revoke,
//! map and unmap, export and import, the VNode and dispatcher calls, LMP
//! and exception handling, and the capability window's words.

use super::raw::{invoke, raw6};
use crate::cap::{CPtr, CapError, CapIdentity, WIRE_LEN};
use crate::layout::{CAP_MAP_BASE, CAP_MAP_SIZE};
use crate::{Error, LmpMessage, SysError, disp, invoke_result, number};

/// What the capability at `cap` is.
pub fn cap_identify(cap: CPtr) -> Result<CapIdentity, Error> {
    let mut id = CapIdentity::default();
    let ptr = &raw mut id as u64;
    // SAFETY: the kernel writes exactly one `CapIdentity` to `id`.
    unsafe { raw6(number::CAP_IDENTIFY, [cap.raw(), ptr, 0, 0, 0, 0]) }.map(|_| id)
}

/// Retypes `src` into `count` objects of type `ty` (see
/// [`crate::Syscall::CapRetype`]) placed from `dest_slot` of the CNode at
/// `dest`.
pub fn cap_retype(
    src: CPtr,
    ty: u8,
    offset: u64,
    size: u64,
    count: u32,
    dest: CPtr,
    dest_slot: u32,
) -> Result<(), Error> {
    let packed = u64::from(ty) | (u64::from(count) << 32);
    invoke(
        number::CAP_RETYPE,
        [
            src.raw(),
            packed,
            offset,
            size,
            dest.raw(),
            u64::from(dest_slot),
        ],
    )
    .map(|_| ())
}

/// Copies `src` into slot `dest_slot` of the CNode at `dest`.
pub fn cap_copy(src: CPtr, dest: CPtr, dest_slot: u32) -> Result<(), Error> {
    let a = [src.raw(), dest.raw(), u64::from(dest_slot), 0, 0, 0];
    invoke(number::CAP_COPY, a).map(|_| ())
}

/// Copies `src` with `rights` and `badge` into slot `dest_slot` of the
/// CNode at `dest`.
pub fn cap_mint(
    src: CPtr,
    dest: CPtr,
    dest_slot: u32,
    rights: u8,
    badge: u64,
) -> Result<(), Error> {
    let a = [
        src.raw(),
        dest.raw(),
        u64::from(dest_slot),
        u64::from(rights),
        badge,
        0,
    ];
    invoke(number::CAP_MINT, a).map(|_| ())
}

/// Deletes the capability at `cap`.
pub fn cap_delete(cap: CPtr) -> Result<(), Error> {
    invoke(number::CAP_DELETE, [cap.raw(), 0, 0, 0, 0, 0]).map(|_| ())
}

/// Deletes every other copy and every descendant of `cap`.
pub fn cap_revoke(cap: CPtr) -> Result<(), Error> {
    invoke(number::CAP_REVOKE, [cap.raw(), 0, 0, 0, 0, 0]).map(|_| ())
}

/// Maps `count` pages of the Frame at `frame` from `offset` at `va`
/// with `rights`; returns `va`.
pub fn cap_map(
    frame: CPtr,
    va: u64,
    rights: u8,
    offset: u64,
    count: u32,
) -> Result<*mut u8, Error> {
    let a = [
        frame.raw(),
        va,
        u64::from(rights),
        offset,
        u64::from(count),
        0,
    ];
    invoke(number::CAP_MAP, a).map(|va| va as *mut u8)
}

/// The encoding of the capability at `cap` for another core; needs
/// the Kernel capability at `kernel`.
pub fn cap_export(kernel: CPtr, cap: CPtr) -> Result<[u8; WIRE_LEN], Error> {
    let mut bytes = [0u8; WIRE_LEN];
    let ptr = bytes.as_mut_ptr() as u64;
    let a = [kernel.raw(), cap.raw(), ptr, 0, 0, 0];
    // SAFETY: the kernel writes exactly `WIRE_LEN` bytes to `bytes`.
    unsafe { raw6(number::CAP_EXPORT, a) }.map(|_| bytes)
}

/// Makes the capability that `bytes` (from [`cap_export`] on core
/// `owner`) encode, in slot `dest_slot` of the CNode at `dest`; needs
/// the Kernel capability at `kernel`. Bytes of another length than
/// `WIRE_LEN` are `Malformed` before any call.
pub fn cap_import(
    kernel: CPtr,
    bytes: &[u8],
    dest: CPtr,
    dest_slot: u32,
    owner: u32,
) -> Result<(), Error> {
    if bytes.len() != WIRE_LEN {
        return Err(Error::Cap(CapError::Malformed));
    }
    let a = [
        kernel.raw(),
        bytes.as_ptr() as u64,
        dest.raw(),
        u64::from(dest_slot),
        u64::from(owner),
        0,
    ];
    // SAFETY: the kernel only reads `WIRE_LEN` bytes of `bytes`.
    unsafe { raw6(number::CAP_IMPORT, a) }.map(|_| ())
}

/// Marks every copy and descendant here of the object at `cap` for an
/// agreed revoke or delete; returns how many were not marked before.
/// Needs the Kernel capability at `kernel`.
pub fn cap_mark(kernel: CPtr, cap: CPtr) -> Result<u64, Error> {
    invoke(number::CAP_MARK, [kernel.raw(), cap.raw(), 0, 0, 0, 0])
}

/// Clears the marks of the copies and descendants here of the object at
/// `cap`; returns how many were marked. Needs the Kernel capability.
pub fn cap_unmark(kernel: CPtr, cap: CPtr) -> Result<u64, Error> {
    invoke(number::CAP_UNMARK, [kernel.raw(), cap.raw(), 0, 0, 0, 0])
}

/// Deletes every marked capability of this core; returns how many went.
/// Needs the Kernel capability.
pub fn cap_sweep(kernel: CPtr) -> Result<u64, Error> {
    invoke(number::CAP_SWEEP, [kernel.raw(), 0, 0, 0, 0, 0])
}

/// [`cap_delete`] as the cores agreed. Needs the Kernel capability.
pub fn cap_delete_agreed(kernel: CPtr, cap: CPtr) -> Result<(), Error> {
    invoke(
        number::CAP_DELETE_AGREED,
        [kernel.raw(), cap.raw(), 0, 0, 0, 0],
    )
    .map(|_| ())
}

/// [`cap_revoke`] as the cores agreed. Needs the Kernel capability.
pub fn cap_revoke_agreed(kernel: CPtr, cap: CPtr) -> Result<(), Error> {
    invoke(
        number::CAP_REVOKE_AGREED,
        [kernel.raw(), cap.raw(), 0, 0, 0, 0],
    )
    .map(|_| ())
}

/// [`cap_retype`] as the cores agreed. Needs the Kernel capability. A
/// `dest_slot` past 24 bits names no slot of any CNode: `NoSuchSlot`
/// before any call.
#[allow(clippy::too_many_arguments)]
pub fn cap_retype_agreed(
    kernel: CPtr,
    src: CPtr,
    ty: u8,
    offset: u64,
    size: u64,
    count: u32,
    dest: CPtr,
    dest_slot: u32,
) -> Result<(), Error> {
    if dest_slot >= 1 << 24 {
        return Err(Error::Cap(CapError::NoSuchSlot));
    }
    let packed = u64::from(ty) | (u64::from(dest_slot) << 8) | (u64::from(count) << 32);
    let a = [src.raw(), packed, offset, size, dest.raw(), kernel.raw()];
    invoke(number::CAP_RETYPE_AGREED, a).map(|_| ())
}

/// Removes the mapping that starts at `va`.
pub fn cap_unmap(va: u64) -> Result<(), Error> {
    invoke(number::CAP_UNMAP, [va, 0, 0, 0, 0, 0]).map(|_| ())
}

/// Maps `count` entries of the Frame or VNode at `src` into the VNode
/// at `table` from entry `index`, with `rights` (a frame from
/// `offset`).
pub fn vnode_map(
    table: CPtr,
    index: u32,
    src: CPtr,
    rights: u8,
    offset: u64,
    count: u32,
) -> Result<(), Error> {
    let a = [
        table.raw(),
        u64::from(index),
        src.raw(),
        u64::from(rights),
        offset,
        u64::from(count),
    ];
    invoke(number::VNODE_MAP, a).map(|_| ())
}

/// Removes the mapping that starts at entry `index` of the VNode at
/// `table`.
pub fn vnode_unmap(table: CPtr, index: u32) -> Result<(), Error> {
    invoke(
        number::VNODE_UNMAP,
        [table.raw(), u64::from(index), 0, 0, 0, 0],
    )
    .map(|_| ())
}

/// Lowers the rights of the mapping at entry `index` of the VNode at
/// `table` to `rights`.
pub fn vnode_protect(table: CPtr, index: u32, rights: u8) -> Result<(), Error> {
    invoke(
        number::VNODE_PROTECT,
        [table.raw(), u64::from(index), u64::from(rights), 0, 0, 0],
    )
    .map(|_| ())
}

/// Starts the dispatcher at `disp` with `params`.
pub fn dispatcher_run(disp: CPtr, params: &disp::DispatcherParams) -> Result<(), Error> {
    let len = core::mem::size_of::<disp::DispatcherParams>() as u64;
    let a = [disp.raw(), params as *const _ as u64, len, 0, 0, 0];
    // SAFETY: the kernel only reads `len` bytes of `params`.
    unsafe { raw6(number::DISPATCHER_RUN, a) }.map(|_| ())
}

/// [`dispatcher_run`] with the parameter block at `ptr`, `len` bytes
/// long, as given: for a test of the kernel's checks of the block.
pub fn dispatcher_run_at(disp: CPtr, ptr: u64, len: u64) -> Result<(), Error> {
    // The kernel only reads the block: whatever `ptr` and `len` are,
    // no memory of the caller's changes.
    invoke(number::DISPATCHER_RUN, [disp.raw(), ptr, len, 0, 0, 0]).map(|_| ())
}

/// Sends `words` (and `cap`, if given) through the Endpoint at `ep`.
pub fn lmp_send(ep: CPtr, cap: Option<CPtr>, words: [u64; 4]) -> Result<(), Error> {
    let c = cap.map_or(0, CPtr::raw);
    invoke(
        number::LMP_SEND,
        [ep.raw(), c, words[0], words[1], words[2], words[3]],
    )
    .map(|_| ())
}

/// Receives the next message, waiting up to `timeout` cycles (0: no
/// limit); a capability that comes with it goes to slot `dest.1` of the
/// CNode at `dest.0`.
pub fn lmp_recv(dest: Option<(CPtr, u32)>, timeout: u64) -> Result<LmpMessage, Error> {
    let (cnode, slot) = dest.map_or((0, 0), |(c, s)| (c.raw(), u64::from(s)));
    let (rax, rdx, flags, w0, w1, w2, w3): (u64, u64, u64, u64, u64, u64, u64);
    // SAFETY: `syscall` clobbers only rcx and r11; the kernel writes
    // the result registers named here and no memory of the caller's
    // (a capability goes into its cspace, not its memory).
    unsafe {
        core::arch::asm!(
            "syscall",
            inlateout("rax") number::LMP_RECV => rax,
            inlateout("rdi") cnode => flags,
            inlateout("rsi") slot => w0,
            inlateout("rdx") timeout => rdx,
            inlateout("r10") 0u64 => w1,
            inlateout("r8") 0u64 => w2,
            inlateout("r9") 0u64 => w3,
            out("rcx") _,
            out("r11") _,
            options(nostack)
        );
    }
    invoke_result(rax, rdx).map(|badge| LmpMessage {
        badge,
        flags,
        words: [w0, w1, w2, w3],
    })
}

/// Registers this domain's exception handler `entry`, entered on the
/// stack whose top is `stack`.
pub fn fault_handler(entry: u64, stack: u64) -> Result<(), Error> {
    invoke(number::FAULT_HANDLER, [entry, stack, 0, 0, 0, 0]).map(|_| ())
}

/// Registers this domain's run upcall `entry`, entered on the stack
/// whose top is `stack` after each turn lost to the time slice.
pub fn dispatcher_upcall(entry: u64, stack: u64) -> Result<(), Error> {
    invoke(number::DISPATCHER_UPCALL, [entry, stack, 0, 0, 0, 0]).map(|_| ())
}

/// Ends the exception handler: retries the faulting instruction, or
/// (`give_up`) ends the domain. Returns only with `NoFault`.
pub fn fault_resume(give_up: bool) -> Error {
    match invoke(number::FAULT_RESUME, [u64::from(give_up), 0, 0, 0, 0, 0]) {
        Err(e) => e,
        Ok(_) => Error::Sys(SysError::NoFault),
    }
}

/// The state of the dispatcher at `disp`.
pub fn dispatcher_status(disp: CPtr) -> Result<disp::Status, Error> {
    let raw = invoke(number::DISPATCHER_STATUS, [disp.raw(), 0, 0, 0, 0, 0])?;
    disp::Status::decode(raw).ok_or(Error::Sys(SysError::BadCode))
}

/// The address of word `va` of the capability window, if it is one.
fn window_word(va: u64) -> Option<*mut u64> {
    let window = CAP_MAP_BASE..CAP_MAP_BASE + CAP_MAP_SIZE;
    (window.contains(&va) && va.is_multiple_of(8)).then_some(va as *mut u64)
}

/// Reads the word at `va` of the capability window (`None` outside it
/// or misaligned). Where nothing is mapped, the read faults and the
/// kernel ends the program.
pub fn window_read(va: u64) -> Option<u64> {
    let at = window_word(va)?;
    // SAFETY: the window holds only frames mapped with `cap_map`; no
    // Rust object lives there, so the access aliases nothing. An
    // unmapped page faults, and the kernel ends the program.
    Some(unsafe { at.read_volatile() })
}

/// Writes the word at `va` of the capability window (false outside it
/// or misaligned). Faults as [`window_read`] does.
pub fn window_write(va: u64, value: u64) -> bool {
    let Some(at) = window_word(va) else {
        return false;
    };
    // SAFETY: as in `window_read`; a read-only mapping faults.
    unsafe { at.write_volatile(value) };
    true
}
