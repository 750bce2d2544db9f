//! The system calls: [`Syscall`], one variant per call with its
//! arguments, and the limits of the calls that take text.
//! [`Syscall::decode`] turns a call's number and registers into one.
//!
//! Error codes are [`SysError`] codes (1 to 13) for every call, and
//! [`CapError`] codes (from `0x100`) for the capability invocations; the
//! two ranges are disjoint, and [`Error`] decodes either.
//!
//! # Capability invocations
//!
//! [`Syscall::CapIdentify`] to [`Syscall::CapImport`] invoke the
//! capabilities in the caller's cspace, named by [`cap::CPtr`]. The first
//! cspace of a core and its slots are described in [`cap::slot`].
//! [`Syscall::CapExport`] and [`Syscall::CapImport`] need the Kernel
//! capability: they turn a capability into [`cap::WIRE_LEN`] bytes for
//! another core, and such bytes back into a capability.
//!
//! A domain's retype, revoke or delete that needs the other cores (the
//! object is owned by another core, or has copies, ancestors or
//! descendants there) is refused with `RetryThroughMonitor` and changes
//! nothing; the monitor runs the cross-core protocol and carries out the
//! result with the calls that need the Kernel capability too:
//! [`Syscall::CapMark`], [`Syscall::CapUnmark`], [`Syscall::CapSweep`],
//! [`Syscall::CapDeleteAgreed`], [`Syscall::CapRevokeAgreed`] and
//! [`Syscall::CapRetypeAgreed`]. The programs the CPU driver starts at
//! boot, in the core's first cspace, are the monitor: their own retype,
//! revoke and delete are never refused so.
//!
//! # Panics
//!
//! A panic in ring 3 (an allocation failure included: on `no_std` the
//! default allocation error handler panics) ends the whole run. The
//! runtime's panic handler prints the message with [`Syscall::Print`] and
//! then makes [`Syscall::Panic`] with the panic's location; the CPU driver
//! prints a `program-panic` record and stops the machine with the `panic`
//! exit code, as for a kernel panic.

mod decode;

use crate::cap::CPtr;
#[cfg(doc)]
use crate::{CAP_MAP_BASE, CapError, Error, LMP_BUFFER, ProgramInfo, SysError, cap, disp, lmp};

/// Longest line [`Syscall::Print`] accepts.
pub const MAX_PRINT: u64 = 1024;
/// Longest argument string a program is given ([`Syscall::Args`]; the
/// kernel's `user=` option), in bytes. The monitor's items need most: see
/// `services::monitor::MAX_ARGS_NEEDED`.
pub const MAX_ARGS: usize = 1024;
/// Longest file name [`Syscall::Panic`] accepts.
pub const MAX_PANIC_FILE: u64 = 256;

/// The system calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Syscall {
    /// Print one line (`ptr`, `len`): the CPU driver adds the core prefix.
    Print {
        /// Address of the UTF-8 text.
        ptr: u64,
        /// Its length in bytes, at most [`MAX_PRINT`].
        len: u64,
    },
    /// Copy a [`ProgramInfo`] to `ptr` (`len` must be its size).
    Info {
        /// Where to write.
        ptr: u64,
        /// `size_of::<ProgramInfo>()`.
        len: u64,
    },
    /// Let the core's other runnable programs run first.
    Yield,
    /// Block until a notification arrives or `timeout` TSC cycles pass
    /// (0: no timeout). Returns 1 when notified, 0 on timeout. A
    /// notification that arrived since the last wait ends it at once.
    Wait {
        /// Cycles to wait at most; 0 waits without limit.
        timeout: u64,
    },
    /// Send a notification IPI to the core a Notify capability names. A
    /// monitor's first cspace holds one per core ([`cap::slot::NOTIFY`]);
    /// a program without one cannot notify any core.
    Notify {
        /// The Notify capability.
        cap: CPtr,
    },
    /// Copy the program's argument string to `ptr` (at most `len` bytes).
    /// Returns the argument string's full length.
    Args {
        /// Where to write.
        ptr: u64,
        /// Room at `ptr`.
        len: u64,
    },
    /// End this program with `code`.
    Exit {
        /// The program's exit code.
        code: u64,
    },
    /// End the whole run: 0 passes, 1 fails. It needs the Shutdown
    /// capability, which only the programs the CPU driver starts at boot
    /// hold ([`cap::slot::SHUTDOWN`]); returns only with an error.
    Shutdown {
        /// The Shutdown capability.
        cap: CPtr,
        /// 0 (pass) or 1 (fail).
        code: u64,
    },
    /// The program panicked: after a `program-panic` record that names the
    /// core, the program and the panic's source location, a program the CPU
    /// driver started at boot ends the whole run at once with the `panic`
    /// exit code; a domain built from user level ends alone, with the
    /// `panicked` status. Returns only with an error,
    /// for a bad pointer, length or UTF-8 in the file name.
    Panic {
        /// Address of the UTF-8 source file name.
        file: u64,
        /// Its length in bytes, at most [`MAX_PANIC_FILE`]; 0 when the
        /// location is unknown.
        file_len: u64,
        /// The source line (0 when unknown).
        line: u64,
    },
    /// Write a [`cap::CapIdentity`] of the capability at `cap` to `ptr`.
    CapIdentify {
        /// The capability.
        cap: CPtr,
        /// Where to write `size_of::<CapIdentity>()` bytes.
        ptr: u64,
    },
    /// Retype the RAM at `src` into `count` objects of type `ty`, from
    /// `offset` bytes into it, each of `size`, into the slots `dest_slot ..`
    /// of the CNode at `dest`. `size` is bytes (a multiple of 4 KiB) for RAM
    /// and Frame, the number of slots (a power of two) for a CNode, and 0
    /// for the types of fixed size.
    ///
    /// Registers: `rdi` = `src`, `rsi` = `ty` in bits 0..8 and `count` in
    /// bits 32..64 (bits 8..32 zero), `rdx` = `offset`, `r10` = `size`, `r8`
    /// = `dest`, `r9` = `dest_slot`.
    CapRetype {
        /// The source capability.
        src: CPtr,
        /// The type code of the new objects ([`cap::ty`]).
        ty: u8,
        /// How many objects.
        count: u32,
        /// Offset of the first object from the source's base.
        offset: u64,
        /// Size of each object.
        size: u64,
        /// The destination CNode.
        dest: CPtr,
        /// The first destination slot.
        dest_slot: u32,
    },
    /// Copy the capability at `src` into slot `dest_slot` of the CNode at
    /// `dest`. The source needs GRANT.
    CapCopy {
        /// The source capability.
        src: CPtr,
        /// The destination CNode.
        dest: CPtr,
        /// The destination slot.
        dest_slot: u32,
    },
    /// Copy the capability at `src` with `rights` (a subset of its own) and,
    /// for an unbadged Endpoint, `badge` (0: keep the source's).
    CapMint {
        /// The source capability.
        src: CPtr,
        /// The destination CNode.
        dest: CPtr,
        /// The destination slot.
        dest_slot: u32,
        /// The rights of the copy ([`cap::rights`]).
        rights: u8,
        /// The badge.
        badge: u64,
    },
    /// Delete the capability at `cap` (the last copy takes its object, and
    /// every mapping of it, along).
    CapDelete {
        /// The capability.
        cap: CPtr,
    },
    /// Delete every copy of the capability at `cap` but this one, and every
    /// descendant.
    CapRevoke {
        /// The capability.
        cap: CPtr,
    },
    /// Map `count` 4 KiB pages of the Frame at `frame`, from `offset` bytes
    /// into it, at `va` in the caller's address space, with `rights` (READ
    /// needed; WRITE and EXECUTE as the frame's capability allows). `va`
    /// lies in the window at [`CAP_MAP_BASE`] and the pages stay inside one
    /// 2 MiB-aligned region. Returns `va`.
    CapMap {
        /// The Frame capability.
        frame: CPtr,
        /// Where to map it.
        va: u64,
        /// The rights of the mapping ([`cap::rights`]).
        rights: u8,
        /// Offset into the frame, a multiple of 4 KiB.
        offset: u64,
        /// Pages to map.
        count: u32,
    },
    /// Remove the mapping that starts at `va` (made by [`Syscall::CapMap`]).
    /// The frame's capability stays.
    CapUnmap {
        /// The first address of the mapping.
        va: u64,
    },
    /// Write the [`cap::WIRE_LEN`]-byte encoding of the capability at `cap`
    /// to `ptr`, for another core. Needs the Kernel capability at `kernel`
    /// (`NoKernelCap`); the capability needs GRANT and a type that may
    /// cross cores: RAM, Frame or Notify (`NotPermitted`). Nothing changes
    /// in the caller's cspace.
    ///
    /// Registers: `rdi` = `kernel`, `rsi` = `cap`, `rdx` = `ptr`; `r10`,
    /// `r8` and `r9` zero (`BadArgument`).
    CapExport {
        /// The Kernel capability.
        kernel: CPtr,
        /// The capability to encode.
        cap: CPtr,
        /// Where to write the bytes (writable memory of the caller).
        ptr: u64,
    },
    /// Make a capability, in slot `dest_slot` of the CNode at `dest`, from
    /// the [`cap::WIRE_LEN`] bytes at `ptr` that [`Syscall::CapExport`]
    /// wrote on core `owner`. The new copy is owned by `owner` (another
    /// core: `NotPermitted` for this one) and records that a copy exists
    /// there. Needs the Kernel capability at `kernel` (`NoKernelCap`);
    /// bytes that do not encode a capability are `Malformed`; only RAM,
    /// Frame and Notify may arrive (`NotPermitted`); the memory of a RAM
    /// or Frame must lie in what core `owner` hands out, the RAM given to
    /// its monitor or (core 0) the shared pool (`NotImportable`); the
    /// object may not overlap a local one partially (`WouldOverlap`).
    ///
    /// Registers: `rdi` = `kernel`, `rsi` = `ptr`, `rdx` = `dest`, `r10` =
    /// `dest_slot`, `r8` = `owner` (a core id: `BadArgument` otherwise);
    /// `r9` zero (`BadArgument`).
    CapImport {
        /// The Kernel capability.
        kernel: CPtr,
        /// Where the bytes are (readable memory of the caller).
        ptr: u64,
        /// The destination CNode.
        dest: CPtr,
        /// The destination slot.
        dest_slot: u32,
        /// The core that owns the object (the exporter's).
        owner: u32,
    },
    /// Mark every copy and descendant on this core of the object the
    /// capability at `cap` names, for a revoke or delete the cores agreed:
    /// each behaves as deleted from now on (every invocation naming it, or
    /// reaching a slot through a marked CNode, is `Marked`) until
    /// [`Syscall::CapSweep`] removes it or [`Syscall::CapUnmark`] restores
    /// it. Needs the Kernel capability at `kernel` (`NoKernelCap`).
    /// Returns how many were not marked before.
    ///
    /// Registers: `rdi` = `kernel`, `rsi` = `cap`; the rest zero
    /// (`BadArgument`).
    CapMark {
        /// The Kernel capability.
        kernel: CPtr,
        /// A copy of the object.
        cap: CPtr,
    },
    /// Clear the marks [`Syscall::CapMark`] set on the copies and
    /// descendants of the object at `cap` (an abandoned operation). Needs
    /// the Kernel capability. Returns how many were marked.
    ///
    /// Registers: `rdi` = `kernel`, `rsi` = `cap`; the rest zero.
    CapUnmark {
        /// The Kernel capability.
        kernel: CPtr,
        /// A copy of the object.
        cap: CPtr,
    },
    /// Delete every marked capability of this core, as
    /// [`Syscall::CapDelete`] would (an object goes only with its last copy
    /// here, and not while a copy is recorded on another core). Needs the
    /// Kernel capability. Returns how many capabilities went.
    ///
    /// Registers: `rdi` = `kernel`; the rest zero.
    CapSweep {
        /// The Kernel capability.
        kernel: CPtr,
    },
    /// [`Syscall::CapDelete`] as the cores agreed: never
    /// `RetryThroughMonitor`. Needs the Kernel capability.
    ///
    /// Registers: `rdi` = `kernel`, `rsi` = `cap`; the rest zero.
    CapDeleteAgreed {
        /// The Kernel capability.
        kernel: CPtr,
        /// The capability.
        cap: CPtr,
    },
    /// [`Syscall::CapRevoke`] as the cores agreed: never
    /// `RetryThroughMonitor`. Needs the Kernel capability.
    ///
    /// Registers: `rdi` = `kernel`, `rsi` = `cap`; the rest zero.
    CapRevokeAgreed {
        /// The Kernel capability.
        kernel: CPtr,
        /// The capability.
        cap: CPtr,
    },
    /// [`Syscall::CapRetype`] as the cores agreed: never
    /// `RetryThroughMonitor` (a source owned by another core stays
    /// `NotPermitted`, one with descendants on another core
    /// `HasDescendants`). Needs the Kernel capability.
    ///
    /// Registers: as [`Syscall::CapRetype`], but `rsi` packs the type code
    /// in bits 0..8, `dest_slot` in bits 8..32 (a CNode has at most 4096
    /// slots) and the count in bits 32..64, and `r9` = `kernel`.
    CapRetypeAgreed {
        /// The Kernel capability.
        kernel: CPtr,
        /// The source capability.
        src: CPtr,
        /// The type code of the new objects ([`cap::ty`]).
        ty: u8,
        /// How many objects.
        count: u32,
        /// Offset of the first object from the source's base.
        offset: u64,
        /// Size of each object.
        size: u64,
        /// The destination CNode.
        dest: CPtr,
        /// The first destination slot.
        dest_slot: u32,
    },
    /// Map the Frame or VNode at `src` into `count` entries from `index` of
    /// the VNode at `table`, both in the caller's cspace, with `rights`; a
    /// frame is mapped from `offset` bytes into it. The checks are the
    /// capability library's (`WrongType`, `MissingRight`, `AlreadyMapped`,
    /// `KernelHalf` for a PML4 entry of the kernel half, `Misaligned`,
    /// `OutOfRange`, `WouldOverlap`, `BadArgument`).
    ///
    /// Registers: `rdi` = `table`, `rsi` = `index`, `rdx` = `src`, `r10` =
    /// `rights`, `r8` = `offset`, `r9` = `count`.
    VnodeMap {
        /// The VNode written.
        table: CPtr,
        /// Its first entry.
        index: u32,
        /// The Frame or VNode mapped.
        src: CPtr,
        /// The rights of the entries ([`cap::rights`]).
        rights: u8,
        /// Offset into a frame, a multiple of the page size.
        offset: u64,
        /// Entries to write.
        count: u32,
    },
    /// Remove the mapping that starts at entry `index` of the VNode at
    /// `table` (`NotMapped` when none starts there).
    ///
    /// Registers: `rdi` = `table`, `rsi` = `index`; the rest zero
    /// (`BadArgument`).
    VnodeUnmap {
        /// The VNode.
        table: CPtr,
        /// The first entry of the mapping.
        index: u32,
    },
    /// Register the running domain's run upcall `entry` and the top of its
    /// stack (`entry` 0: remove it). After each turn the domain loses to
    /// the time slice while enabled, its next turn starts there, disabled,
    /// with `rdi` = the turns it has lost so far; [`Syscall::DispatcherResume`]
    /// ends the upcall. Only a domain started with
    /// [`Syscall::DispatcherRun`] has one (`NotPermitted`); the addresses
    /// lie in the user half (`BadPointer`), the stack 16-byte aligned
    /// (`Misaligned`).
    ///
    /// Registers: `rdi` = `entry`, `rsi` = `stack`.
    DispatcherUpcall {
        /// The upcall's first instruction.
        entry: u64,
        /// The top of its stack.
        stack: u64,
    },
    /// End the run upcall: resume the turn it followed, with the registers
    /// it had, enabled again. `NoFault` outside a run upcall; the call does
    /// not return otherwise.
    DispatcherResume,
    /// Lower the rights of the mapping that starts at entry `index` of the
    /// VNode at `table` to `rights`, which include READ (`BadArgument`) and
    /// are a subset of the mapping's (`MissingRight`); `NotMapped` when no
    /// mapping starts there. The TLB forgets the old rights before the call
    /// returns.
    ///
    /// Registers: `rdi` = `table`, `rsi` = `index`, `rdx` = `rights`; the
    /// rest zero (`BadArgument`).
    VnodeProtect {
        /// The VNode.
        table: CPtr,
        /// The first entry of the mapping.
        index: u32,
        /// The new rights ([`cap::rights`]).
        rights: u8,
    },
    /// Start the dispatcher at `disp` on this core with the
    /// [`disp::DispatcherParams`] at `ptr` (`len` must be their size:
    /// `BadLength`). The dispatcher needs WRITE (`MissingRight`) and must
    /// be unstarted (`NotPermitted`: a dispatcher starts once), the cspace
    /// must name a CNode and the vspace a PML4 (`WrongType`), and
    /// the entry and stack must lie in the user half (`KernelHalf`) with
    /// the stack 16-byte aligned (`Misaligned`); the name is 1 to
    /// [`disp::MAX_NAME`] bytes of UTF-8 (`BadLength`, `BadUtf8`). The new
    /// domain starts with `rdi` = core id, `rsi` = number of cores and
    /// `rdx` = 0, and is scheduled with the core's other programs.
    ///
    /// Registers: `rdi` = `disp`, `rsi` = `ptr`, `rdx` = `len`; the rest
    /// zero (`BadArgument`).
    DispatcherRun {
        /// The Dispatcher capability.
        disp: CPtr,
        /// Where the parameters are (readable memory of the caller).
        ptr: u64,
        /// Their size.
        len: u64,
    },
    /// The state of the dispatcher at `disp`: a [`disp::Status`] in its
    /// register form. Its ending also notifies the core, so a parent
    /// blocked in [`Syscall::Wait`] wakes to look.
    ///
    /// Registers: `rdi` = `disp`; the rest zero (`BadArgument`).
    DispatcherStatus {
        /// The Dispatcher capability.
        disp: CPtr,
    },
    /// Send four words, and optionally a capability, to the dispatcher the
    /// Endpoint at `ep` names, on this core (LMP). When the receiver is
    /// blocked in [`Syscall::LmpRecv`] it gets the message at once, and for
    /// a message without a capability the CPU driver switches to it
    /// (handoff); the sender runs again on a later turn. Otherwise
    /// the message waits in the receiver's buffer of [`LMP_BUFFER`]
    /// messages (`Full` when it is full). The endpoint must be an Endpoint
    /// (`WrongType`) of a running dispatcher (`NoReceiver`); a capability
    /// sent needs GRANT (`MissingRight`) and travels as a copy, held by
    /// the kernel until it is received: each sender may have a fixed number
    /// of them in flight (`CapsInFlight` past it; nothing is sent). The
    /// receiver sees the endpoint's badge.
    ///
    /// Registers: `rdi` = `ep`, `rsi` = the capability's register form (0:
    /// none), `rdx`, `r10`, `r8`, `r9` = the words.
    LmpSend {
        /// The Endpoint.
        ep: CPtr,
        /// The capability to send, if any.
        cap: Option<CPtr>,
        /// The message.
        words: [u64; 4],
    },
    /// Take the next message for this dispatcher, waiting up to `timeout`
    /// TSC cycles (0: without limit) for one (`TimedOut`). A capability
    /// that comes with it is copied into slot `slot` of the CNode at
    /// `dest` (none given: it is deleted, and the flags say so). Only a
    /// domain started with [`Syscall::DispatcherRun`] receives
    /// (`NotPermitted`).
    ///
    /// Registers: `rdi` = `dest`'s register form (0: accept no
    /// capability), `rsi` = `slot`, `rdx` = `timeout`; the rest zero. On
    /// return `rdx` holds the badge, `rdi` the [`lmp`] flags and `rsi`,
    /// `r10`, `r8`, `r9` the words.
    LmpRecv {
        /// Where a capability that arrives goes, if anywhere.
        dest: Option<CPtr>,
        /// Its slot there.
        slot: u32,
        /// Cycles to wait at most; 0 waits without limit.
        timeout: u64,
    },
    /// Register the running domain's exception handler and the top of its
    /// stack (`entry` 0: remove it). Only a domain started with
    /// [`Syscall::DispatcherRun`] has one (`NotPermitted`); the addresses
    /// lie in the user half (`BadPointer`) and the stack is 16-byte
    /// aligned (`Misaligned`). On an exception the handler is entered on
    /// that stack with `rdi` = vector, `rsi` = faulting address, `rdx` =
    /// error code, `rcx` = the faulting instruction's address.
    ///
    /// Registers: `rdi` = `entry`, `rsi` = `stack`.
    FaultHandler {
        /// The handler's first instruction.
        entry: u64,
        /// The top of its stack.
        stack: u64,
    },
    /// End the exception handler: retry the faulting instruction with the
    /// registers it had (`give_up` 0), or end the domain for the exception
    /// (`give_up` 1). `NoFault` when no exception is being handled; the
    /// call does not return otherwise.
    ///
    /// Registers: `rdi` = `give_up`.
    FaultResume {
        /// Whether the handler could not handle it.
        give_up: bool,
    },
}

impl Syscall {
    /// For an agreed delete, revoke or retype of the monitor: the Kernel
    /// capability it shows and the plain call it carries out without the
    /// `RetryThroughMonitor` gate. `None` for every other call.
    pub fn agreed(self) -> Option<(CPtr, Syscall)> {
        Some(match self {
            Syscall::CapDeleteAgreed { kernel, cap } => (kernel, Syscall::CapDelete { cap }),
            Syscall::CapRevokeAgreed { kernel, cap } => (kernel, Syscall::CapRevoke { cap }),
            Syscall::CapRetypeAgreed {
                kernel,
                src,
                ty,
                count,
                offset,
                size,
                dest,
                dest_slot,
            } => (
                kernel,
                Syscall::CapRetype {
                    src,
                    ty,
                    count,
                    offset,
                    size,
                    dest,
                    dest_slot,
                },
            ),
            _ => return None,
        })
    }
}
