//! The system-call ABI between the CPU driver and ring-3 programs.
//!
//! Both sides of the boundary use this crate: the CPU driver decodes and
//! checks calls with [`Syscall::decode`], and ring-3 code makes them with the
//! typed wrappers in `user` (built only for the bare-metal target).
//!
//! # Calling convention
//!
//! `syscall` with the number in `rax` and up to six arguments in `rdi`,
//! `rsi`, `rdx`, `r10`, `r8`, `r9`. On return `rax` is 0 on success or an
//! error code, and `rdx` holds the result. `rcx` and `r11` are clobbered, as
//! the instruction requires; every other register is kept.
//!
//! Error codes are [`SysError`] codes (1 to 13) for every call, and
//! [`CapError`] codes (from `0x100`) for the capability invocations; the
//! two ranges are disjoint, and [`Error`] decodes either.
//!
//! Every argument is checked: a bad pointer, length, core id, frame or
//! capability address returns an error and changes nothing.
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
//! # Address space of a program
//!
//! | range | contents |
//! |---|---|
//! | [`IMAGE_BASE`] .. [`IMAGE_LIMIT`] | the program's ELF segments |
//! | [`HEAP_BASE`], [`HEAP_SIZE`] bytes | the program's heap |
//! | [`CAP_MAP_BASE`], [`CAP_MAP_SIZE`] bytes | frames mapped with [`Syscall::CapMap`] |
//! | [`STACK_TOP`] − [`STACK_SIZE`] .. [`STACK_TOP`] | the stack, with an unmapped guard page below |
//!
//! A program starts at its ELF entry point with `rdi` = core id, `rsi` =
//! number of cores, `rdx` = a [`StartTest`] code (0 outside the kernel's
//! deliberate ring-3 failure scenarios), `rsp` = [`STACK_TOP`] and
//! interrupts enabled.
//!
//! # Panics
//!
//! A panic in ring 3 (an allocation failure included: on `no_std` the
//! default allocation error handler panics) ends the whole run. The
//! runtime's panic handler prints the message with [`Syscall::Print`] and
//! then makes [`Syscall::Panic`] with the panic's location; the CPU driver
//! prints a `program-panic` record and stops the machine with the `panic`
//! exit code, as for a kernel panic.
#![no_std]

pub mod attack;
pub mod cap;
pub mod disp;
pub use cap::{CPtr, CapError};

/// Lowest address an ELF segment may occupy.
pub const IMAGE_BASE: u64 = 0x40_0000;
/// One past the highest address an ELF segment may occupy.
pub const IMAGE_LIMIT: u64 = 0x8000_0000;
/// Base of a program's heap.
pub const HEAP_BASE: u64 = 0x1000_0000_0000;
/// Size of a program's heap.
pub const HEAP_SIZE: u64 = 8 << 20;
/// Base of the window where frames are mapped by capability
/// ([`Syscall::CapMap`]).
pub const CAP_MAP_BASE: u64 = 0x3000_0000_0000;
/// Size of that window: one PML4 entry's reach (512 GiB).
pub const CAP_MAP_SIZE: u64 = 1 << 39;
/// Top of a program's stack.
pub const STACK_TOP: u64 = 0x7fff_0000_0000;
/// Size of a program's stack.
pub const STACK_SIZE: u64 = 256 * 1024;
/// Size of a frame.
pub const FRAME: u64 = 4096;
/// Longest argument string a program is given ([`Syscall::Args`]; the
/// kernel's `user=` option), in bytes. The monitor's items need most: see
/// `services::monitor::MAX_ARGS_NEEDED`.
pub const MAX_ARGS: usize = 1024;
// The regions of a program's address space are disjoint and in the lower
// half.
const _: () = assert!(IMAGE_LIMIT <= HEAP_BASE);
const _: () = assert!(HEAP_BASE + HEAP_SIZE <= CAP_MAP_BASE);
const _: () = assert!(CAP_MAP_BASE + CAP_MAP_SIZE <= STACK_TOP - STACK_SIZE);
const _: () = assert!(CAP_MAP_BASE.is_multiple_of(CAP_MAP_SIZE));
const _: () = assert!(STACK_TOP < 0x0000_8000_0000_0000);

/// Where the CPU driver's `syscall` entry is linked (the first bytes of its
/// text). A program never needs it; it is here because the kernel keeps
/// nothing secret about its layout, and the hostile test program jumps
/// there to prove that doing so gains nothing.
pub const SYSCALL_ENTRY: u64 = 0xffff_ffff_8020_0000;

/// Longest line [`Syscall::Print`] accepts.
pub const MAX_PRINT: u64 = 1024;
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

/// Messages one dispatcher's LMP buffer holds.
pub const LMP_BUFFER: usize = 4;

/// The flags an [`Syscall::LmpRecv`] returns in `rdi`.
pub mod lmp {
    /// A capability came with the message and is in the slot given.
    pub const CAP: u64 = 1;
    /// A capability came with the message, but no slot was given (or the
    /// slot was not usable): it was deleted.
    pub const CAP_DROPPED: u64 = 2;
}

/// Syscall numbers, in `rax`.
pub mod number {
    /// [`super::Syscall::Print`].
    pub const PRINT: u64 = 0;
    /// [`super::Syscall::Info`].
    pub const INFO: u64 = 1;
    /// [`super::Syscall::Yield`].
    pub const YIELD: u64 = 2;
    /// [`super::Syscall::Wait`].
    pub const WAIT: u64 = 3;
    /// [`super::Syscall::Notify`].
    pub const NOTIFY: u64 = 4;
    /// Not a call any more (it mapped the channel pool without a
    /// capability): refused as unknown.
    pub const RETIRED_5: u64 = 5;
    /// [`super::Syscall::Args`].
    pub const ARGS: u64 = 6;
    /// [`super::Syscall::Exit`].
    pub const EXIT: u64 = 7;
    /// [`super::Syscall::Shutdown`].
    pub const SHUTDOWN: u64 = 8;
    /// [`super::Syscall::Panic`].
    pub const PANIC: u64 = 9;
    /// [`super::Syscall::CapIdentify`].
    pub const CAP_IDENTIFY: u64 = 10;
    /// [`super::Syscall::CapRetype`].
    pub const CAP_RETYPE: u64 = 11;
    /// [`super::Syscall::CapCopy`].
    pub const CAP_COPY: u64 = 12;
    /// [`super::Syscall::CapMint`].
    pub const CAP_MINT: u64 = 13;
    /// [`super::Syscall::CapDelete`].
    pub const CAP_DELETE: u64 = 14;
    /// [`super::Syscall::CapRevoke`].
    pub const CAP_REVOKE: u64 = 15;
    /// [`super::Syscall::CapMap`].
    pub const CAP_MAP: u64 = 16;
    /// [`super::Syscall::CapUnmap`].
    pub const CAP_UNMAP: u64 = 17;
    /// [`super::Syscall::CapExport`].
    pub const CAP_EXPORT: u64 = 18;
    /// [`super::Syscall::CapImport`].
    pub const CAP_IMPORT: u64 = 19;
    /// [`super::Syscall::VnodeMap`].
    pub const VNODE_MAP: u64 = 20;
    /// [`super::Syscall::VnodeUnmap`].
    pub const VNODE_UNMAP: u64 = 21;
    /// [`super::Syscall::DispatcherRun`].
    pub const DISPATCHER_RUN: u64 = 22;
    /// [`super::Syscall::DispatcherStatus`].
    pub const DISPATCHER_STATUS: u64 = 23;
    /// [`super::Syscall::LmpSend`].
    pub const LMP_SEND: u64 = 24;
    /// [`super::Syscall::LmpRecv`].
    pub const LMP_RECV: u64 = 25;
    /// [`super::Syscall::FaultHandler`].
    pub const FAULT_HANDLER: u64 = 26;
    /// [`super::Syscall::FaultResume`].
    pub const FAULT_RESUME: u64 = 27;
    /// [`super::Syscall::VnodeProtect`].
    pub const VNODE_PROTECT: u64 = 28;
    /// [`super::Syscall::DispatcherUpcall`].
    pub const DISPATCHER_UPCALL: u64 = 29;
    /// [`super::Syscall::DispatcherResume`].
    pub const DISPATCHER_RESUME: u64 = 30;
    /// The highest call number.
    pub const LAST: u64 = DISPATCHER_RESUME;
}

impl Syscall {
    /// Decodes a call from its number and argument registers. An unknown
    /// number is [`SysError::UnknownSyscall`]; a capability invocation's
    /// registers that cannot be what they should is a [`CapError`]: a bad
    /// capability address as [`CPtr::decode`] says, a slot index, count or
    /// right bits that do not fit, set bits that must be clear
    /// (`BadArgument`).
    pub fn decode(number: u64, args: [u64; 6]) -> Result<Syscall, Error> {
        let [a0, a1, a2, a3, a4, a5] = args;
        Ok(match number {
            number::PRINT => Syscall::Print { ptr: a0, len: a1 },
            number::INFO => Syscall::Info { ptr: a0, len: a1 },
            number::YIELD => Syscall::Yield,
            number::WAIT => Syscall::Wait { timeout: a0 },
            number::NOTIFY => Syscall::Notify {
                cap: CPtr::decode(a0)?,
            },
            number::ARGS => Syscall::Args { ptr: a0, len: a1 },
            number::EXIT => Syscall::Exit { code: a0 },
            number::SHUTDOWN => Syscall::Shutdown {
                cap: CPtr::decode(a0)?,
                code: a1,
            },
            number::PANIC => Syscall::Panic {
                file: a0,
                file_len: a1,
                line: a2,
            },
            number::CAP_IDENTIFY => Syscall::CapIdentify {
                cap: CPtr::decode(a0)?,
                ptr: a1,
            },
            number::CAP_RETYPE => {
                if a1 & 0xffff_ff00 != 0 {
                    return Err(CapError::BadArgument.into());
                }
                Syscall::CapRetype {
                    src: CPtr::decode(a0)?,
                    ty: a1 as u8,
                    count: (a1 >> 32) as u32,
                    offset: a2,
                    size: a3,
                    dest: CPtr::decode(a4)?,
                    dest_slot: slot_index(a5)?,
                }
            }
            number::CAP_COPY => Syscall::CapCopy {
                src: CPtr::decode(a0)?,
                dest: CPtr::decode(a1)?,
                dest_slot: slot_index(a2)?,
            },
            number::CAP_MINT => Syscall::CapMint {
                src: CPtr::decode(a0)?,
                dest: CPtr::decode(a1)?,
                dest_slot: slot_index(a2)?,
                rights: rights_bits(a3)?,
                badge: a4,
            },
            number::CAP_DELETE => Syscall::CapDelete {
                cap: CPtr::decode(a0)?,
            },
            number::CAP_REVOKE => Syscall::CapRevoke {
                cap: CPtr::decode(a0)?,
            },
            number::CAP_MAP => Syscall::CapMap {
                frame: CPtr::decode(a0)?,
                va: a1,
                rights: rights_bits(a2)?,
                offset: a3,
                count: u32::try_from(a4).map_err(|_| CapError::OutOfRange)?,
            },
            number::CAP_UNMAP => Syscall::CapUnmap { va: a0 },
            number::CAP_EXPORT => {
                zero(&[a3, a4, a5])?;
                Syscall::CapExport {
                    kernel: CPtr::decode(a0)?,
                    cap: CPtr::decode(a1)?,
                    ptr: a2,
                }
            }
            number::CAP_IMPORT => {
                zero(&[a5])?;
                Syscall::CapImport {
                    kernel: CPtr::decode(a0)?,
                    ptr: a1,
                    dest: CPtr::decode(a2)?,
                    dest_slot: slot_index(a3)?,
                    owner: u32::try_from(a4).map_err(|_| CapError::BadArgument)?,
                }
            }
            number::VNODE_MAP => Syscall::VnodeMap {
                table: CPtr::decode(a0)?,
                index: u32::try_from(a1).map_err(|_| CapError::OutOfRange)?,
                src: CPtr::decode(a2)?,
                rights: rights_bits(a3)?,
                offset: a4,
                count: u32::try_from(a5).map_err(|_| CapError::OutOfRange)?,
            },
            number::VNODE_UNMAP => {
                zero(&[a2, a3, a4, a5])?;
                Syscall::VnodeUnmap {
                    table: CPtr::decode(a0)?,
                    index: u32::try_from(a1).map_err(|_| CapError::OutOfRange)?,
                }
            }
            number::DISPATCHER_RUN => {
                zero(&[a3, a4, a5])?;
                Syscall::DispatcherRun {
                    disp: CPtr::decode(a0)?,
                    ptr: a1,
                    len: a2,
                }
            }
            number::DISPATCHER_STATUS => {
                zero(&[a1, a2, a3, a4, a5])?;
                Syscall::DispatcherStatus {
                    disp: CPtr::decode(a0)?,
                }
            }
            number::LMP_SEND => Syscall::LmpSend {
                ep: CPtr::decode(a0)?,
                cap: optional_cptr(a1)?,
                words: [a2, a3, a4, a5],
            },
            number::DISPATCHER_UPCALL => {
                zero(&[a2, a3, a4, a5])?;
                Syscall::DispatcherUpcall {
                    entry: a0,
                    stack: a1,
                }
            }
            number::DISPATCHER_RESUME => {
                zero(&[a0, a1, a2, a3, a4, a5])?;
                Syscall::DispatcherResume
            }
            number::VNODE_PROTECT => {
                zero(&[a3, a4, a5])?;
                Syscall::VnodeProtect {
                    table: CPtr::decode(a0)?,
                    index: u32::try_from(a1).map_err(|_| CapError::OutOfRange)?,
                    rights: rights_bits(a2)?,
                }
            }
            number::FAULT_HANDLER => {
                zero(&[a2, a3, a4, a5])?;
                Syscall::FaultHandler {
                    entry: a0,
                    stack: a1,
                }
            }
            number::FAULT_RESUME => {
                zero(&[a1, a2, a3, a4, a5])?;
                Syscall::FaultResume {
                    give_up: match a0 {
                        0 => false,
                        1 => true,
                        _ => return Err(SysError::BadCode.into()),
                    },
                }
            }
            number::LMP_RECV => {
                zero(&[a3, a4, a5])?;
                let dest = optional_cptr(a0)?;
                if dest.is_none() && a1 != 0 {
                    return Err(CapError::BadArgument.into());
                }
                Syscall::LmpRecv {
                    dest,
                    slot: slot_index(a1)?,
                    timeout: a2,
                }
            }
            _ => return Err(SysError::UnknownSyscall.into()),
        })
    }
}

/// A capability address register that may be 0 (none).
fn optional_cptr(v: u64) -> Result<Option<CPtr>, CapError> {
    if v == 0 {
        return Ok(None);
    }
    CPtr::decode(v).map(Some)
}

/// A slot index register: it must fit in 32 bits.
fn slot_index(v: u64) -> Result<u32, CapError> {
    u32::try_from(v).map_err(|_| CapError::NoSuchSlot)
}

/// Registers a call does not use: they must be zero.
fn zero(regs: &[u64]) -> Result<(), CapError> {
    if regs.iter().any(|r| *r != 0) {
        return Err(CapError::BadArgument);
    }
    Ok(())
}

/// A rights register: only the bits of [`cap::rights::ALL`].
fn rights_bits(v: u64) -> Result<u8, CapError> {
    if v & !u64::from(cap::rights::ALL) != 0 {
        return Err(CapError::BadArgument);
    }
    Ok(v as u8)
}

/// Why a system call failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u64)]
pub enum SysError {
    /// No such system call.
    UnknownSyscall = 1,
    /// A pointer does not lie in the program's own mapped, writable (where
    /// written) memory.
    BadPointer = 2,
    /// A length is zero, too large, or wrong for the call.
    BadLength = 3,
    /// No such core.
    BadCore = 4,
    /// The frame range is outside the shared pool.
    BadFrame = 5,
    /// The text is not UTF-8.
    BadUtf8 = 6,
    /// The code is not one the call accepts.
    BadCode = 7,
    /// The core's memory is exhausted.
    NoMemory = 8,
    /// The receiver's LMP buffer is full ([`Syscall::LmpSend`]).
    Full = 9,
    /// The endpoint's dispatcher is not running: never started, or ended.
    NoReceiver = 10,
    /// Nothing arrived before the timeout ([`Syscall::LmpRecv`]).
    TimedOut = 11,
    /// [`Syscall::FaultResume`] outside an exception handler.
    NoFault = 12,
    /// The sender already has its share of capabilities in flight in LMP
    /// messages not yet received (or the core has its most of them):
    /// [`Syscall::LmpSend`] with a capability sent nothing.
    CapsInFlight = 13,
}

impl SysError {
    /// Every error.
    pub const ALL: [SysError; 13] = [
        SysError::UnknownSyscall,
        SysError::BadPointer,
        SysError::BadLength,
        SysError::BadCore,
        SysError::BadFrame,
        SysError::BadUtf8,
        SysError::BadCode,
        SysError::NoMemory,
        SysError::Full,
        SysError::NoReceiver,
        SysError::TimedOut,
        SysError::NoFault,
        SysError::CapsInFlight,
    ];

    /// Decodes a non-zero `rax`.
    pub fn from_code(code: u64) -> Option<SysError> {
        SysError::ALL.into_iter().find(|e| *e as u64 == code)
    }

    /// A short name, for records.
    pub fn name(self) -> &'static str {
        match self {
            SysError::UnknownSyscall => "unknown-syscall",
            SysError::BadPointer => "bad-pointer",
            SysError::BadLength => "bad-length",
            SysError::BadCore => "bad-core",
            SysError::BadFrame => "bad-frame",
            SysError::BadUtf8 => "bad-utf8",
            SysError::BadCode => "bad-code",
            SysError::NoMemory => "no-memory",
            SysError::Full => "full",
            SysError::NoReceiver => "no-receiver",
            SysError::TimedOut => "timed-out",
            SysError::NoFault => "no-fault",
            SysError::CapsInFlight => "caps-in-flight",
        }
    }
}

/// Turns the `(rax, rdx)` pair of a returning call into a result.
pub fn result(rax: u64, rdx: u64) -> Result<u64, SysError> {
    match rax {
        0 => Ok(rdx),
        code => Err(SysError::from_code(code).unwrap_or(SysError::UnknownSyscall)),
    }
}

/// Why a call failed: a system-call error or, for a capability invocation,
/// a capability error. Their codes in `rax` are disjoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// A [`SysError`] (codes 1 to 13).
    Sys(SysError),
    /// A [`CapError`] (codes from `0x100`).
    Cap(CapError),
}

impl Error {
    /// The code in `rax`.
    pub fn code(self) -> u64 {
        match self {
            Error::Sys(e) => e as u64,
            Error::Cap(e) => e.code(),
        }
    }

    /// Decodes a non-zero `rax`.
    pub fn from_code(code: u64) -> Option<Error> {
        SysError::from_code(code)
            .map(Error::Sys)
            .or_else(|| CapError::from_code(code).map(Error::Cap))
    }

    /// A short name, for records.
    pub fn name(self) -> &'static str {
        match self {
            Error::Sys(e) => e.name(),
            Error::Cap(e) => e.name(),
        }
    }
}

impl From<SysError> for Error {
    fn from(e: SysError) -> Error {
        Error::Sys(e)
    }
}

impl From<CapError> for Error {
    fn from(e: CapError) -> Error {
        Error::Cap(e)
    }
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

/// Turns the `(rax, rdx)` pair of a capability invocation into a result;
/// an unknown code reads as [`SysError::UnknownSyscall`].
pub fn invoke_result(rax: u64, rdx: u64) -> Result<u64, Error> {
    match rax {
        0 => Ok(rdx),
        code => Err(Error::from_code(code).unwrap_or(Error::Sys(SysError::UnknownSyscall))),
    }
}

/// A message received with [`Syscall::LmpRecv`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LmpMessage {
    /// The badge of the endpoint it came through (0: none).
    pub badge: u64,
    /// The [`lmp`] flags.
    pub flags: u64,
    /// The words.
    pub words: [u64; 4],
}

/// What a program learns about where it runs ([`Syscall::Info`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub struct ProgramInfo {
    /// The core it runs on.
    pub core: u32,
    /// Number of cores.
    pub cores: u32,
    /// TSC ticks per second.
    pub tsc_hz: u64,
    /// Frames in the shared pool.
    pub pool_frames: u64,
    /// Base of the heap.
    pub heap_base: u64,
    /// Size of the heap.
    pub heap_size: u64,
    /// 1 when the core runs under a hypervisor whose ring 0 is emulated
    /// (timings there are only meaningful in ring 3).
    pub hypervisor: u32,
    /// 1 in a domain started from user level ([`Syscall::DispatcherRun`]),
    /// whose runtime pages its own heap; 0 in a program the CPU driver
    /// loaded at boot.
    pub domain: u32,
    /// Offset of the boot-module archive inside the frame of
    /// [`cap::slot::INITRD`] (0 when the machine has none).
    pub initrd_offset: u64,
    /// Length of the archive in bytes (0: no archive, and the slot is
    /// empty).
    pub initrd_len: u64,
}

/// A deliberate failure that the runtime carries out before the program's
/// main function, for the kernel's `test=` scenarios. The CPU driver passes
/// its code in `rdx` at the program's entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u64)]
pub enum StartTest {
    /// Nothing deliberate: run the program.
    None = 0,
    /// Panic (`test=user-panic`).
    Panic = 1,
    /// Allocate until the heap is exhausted (`test=user-oom`).
    ExhaustHeap = 2,
}

impl StartTest {
    /// Decodes the entry register; an unknown code is `None`.
    pub fn from_code(code: u64) -> StartTest {
        match code {
            1 => StartTest::Panic,
            2 => StartTest::ExhaustHeap,
            _ => StartTest::None,
        }
    }
}

/// The ring-3 side: typed wrappers around the `syscall` instruction.
#[cfg(target_os = "none")]
pub mod user {
    use super::cap::{CPtr, CapIdentity, WIRE_LEN};
    use super::{Error, ProgramInfo, SysError, invoke_result, number, result};

    /// Makes a raw system call.
    ///
    /// # Safety
    ///
    /// The arguments must be valid for the call (pointers into memory the
    /// caller owns, with the lengths given); the kernel checks them, but
    /// cannot know whether the caller meant to let it write there.
    #[inline(always)]
    pub unsafe fn raw(n: u64, a0: u64, a1: u64, a2: u64) -> Result<u64, SysError> {
        let (rax, rdx): (u64, u64);
        // SAFETY: `syscall` enters the CPU driver, which preserves every
        // register but rax, rdx (results), rcx and r11 (clobbered by the
        // instruction); the caller vouches for the arguments.
        unsafe {
            core::arch::asm!(
                "syscall",
                inlateout("rax") n => rax,
                in("rdi") a0,
                in("rsi") a1,
                inlateout("rdx") a2 => rdx,
                out("rcx") _,
                out("r11") _,
                options(nostack)
            );
        }
        result(rax, rdx)
    }

    /// Makes a raw system call with six arguments and decodes either kind
    /// of error (for the capability invocations).
    ///
    /// # Safety
    ///
    /// As for [`raw`].
    #[inline(always)]
    pub unsafe fn raw6(n: u64, a: [u64; 6]) -> Result<u64, Error> {
        // SAFETY: the caller vouches for the arguments, as `raw6_regs` asks.
        let (rax, rdx) = unsafe { raw6_regs(n, a) };
        invoke_result(rax, rdx)
    }

    /// Makes a raw system call with six arguments and returns `rax` and
    /// `rdx` as the kernel left them, undecoded (for a fuzzer, which must
    /// see a code that no [`Error`] has).
    ///
    /// # Safety
    ///
    /// As for [`raw`].
    #[inline(always)]
    pub unsafe fn raw6_regs(n: u64, a: [u64; 6]) -> (u64, u64) {
        let (rax, rdx): (u64, u64);
        // SAFETY: as in `raw`; r10, r8 and r9 are inputs only and the
        // kernel keeps them.
        unsafe {
            core::arch::asm!(
                "syscall",
                inlateout("rax") n => rax,
                in("rdi") a[0],
                in("rsi") a[1],
                inlateout("rdx") a[2] => rdx,
                in("r10") a[3],
                in("r8") a[4],
                in("r9") a[5],
                out("rcx") _,
                out("r11") _,
                options(nostack)
            );
        }
        (rax, rdx)
    }

    /// How a fuzzer's call enters the kernel ([`invoke_regs_via`]).
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum Via {
        /// A plain `syscall`.
        Syscall,
        /// A `syscall` made with these RFLAGS (set with `popfq`, so only
        /// the bits ring 3 may change take effect), restored after it.
        Flags(u64),
        /// A jump to the kernel's entry ([`super::SYSCALL_ENTRY`]) from
        /// ring 3, with RCX just after a `syscall` instruction of the
        /// caller's and this word in R11, as if SYSCALL had not reached
        /// ring 0: the kernel must serve it as a call with the caller's
        /// own flags.
        Forged(u64),
    }

    /// Makes a raw system call as `via` says; returns `rax`, `rdx` and the
    /// RFLAGS the kernel returned with (before any restore).
    ///
    /// # Safety
    ///
    /// As for [`raw`].
    #[inline(always)]
    pub unsafe fn raw6_via(n: u64, a: [u64; 6], via: Via) -> (u64, u64, u64) {
        let (rax, rdx, flags): (u64, u64, u64);
        match via {
            Via::Syscall => {
                // SAFETY: as in `raw6_regs`; the stack holds the flags
                // word only between the two pushes and pops.
                unsafe {
                    core::arch::asm!(
                        "syscall",
                        "pushfq",
                        "popq {flags}",
                        flags = lateout(reg) flags,
                        inlateout("rax") n => rax,
                        in("rdi") a[0],
                        in("rsi") a[1],
                        inlateout("rdx") a[2] => rdx,
                        in("r10") a[3],
                        in("r8") a[4],
                        in("r9") a[5],
                        out("rcx") _,
                        out("r11") _,
                        options(att_syntax)
                    );
                }
            }
            Via::Flags(set) => {
                // SAFETY: as in `raw6_regs`; the caller's flags are saved
                // on the stack and restored after the call.
                unsafe {
                    core::arch::asm!(
                        "pushfq",
                        "pushq {set}",
                        "popfq",
                        "syscall",
                        "pushfq",
                        "popq {set}",
                        "popfq",
                        set = inlateout(reg) set => flags,
                        inlateout("rax") n => rax,
                        in("rdi") a[0],
                        in("rsi") a[1],
                        inlateout("rdx") a[2] => rdx,
                        in("r10") a[3],
                        in("r8") a[4],
                        in("r9") a[5],
                        out("rcx") _,
                        out("r11") _,
                        options(att_syntax)
                    );
                }
            }
            Via::Forged(r11) => {
                // SAFETY: the jump to the kernel's entry faults as a ring-3
                // fetch of a kernel page, which the kernel serves as this
                // call and returns from at label 2 (the `syscall` before it
                // is never executed); registers as in `raw6_regs`. The
                // caller's flags are saved on the stack and restored after
                // (R11 may set DF or AC).
                unsafe {
                    core::arch::asm!(
                        "pushfq",
                        "lea 2f(%rip), %rcx",
                        "jmp *{entry}",
                        "syscall",
                        "2:",
                        "pushfq",
                        "popq {entry}",
                        "popfq",
                        entry = inlateout(reg) super::SYSCALL_ENTRY => flags,
                        inlateout("rax") n => rax,
                        in("rdi") a[0],
                        in("rsi") a[1],
                        inlateout("rdx") a[2] => rdx,
                        in("r10") a[3],
                        in("r8") a[4],
                        in("r9") a[5],
                        out("rcx") _,
                        inlateout("r11") r11 => _,
                        options(att_syntax)
                    );
                }
            }
        }
        (rax, rdx, flags)
    }

    /// Makes call `n` with arbitrary registers `a`, for a fuzzer, and
    /// returns `rax` and `rdx` as the kernel left them, undecoded. Only the
    /// capability invocations and the numbers above them are made (the
    /// other calls print, block or end the program); for a lower number it
    /// returns `None`. The pointer the kernel writes to, identify's
    /// (`a[1]`) and export's (`a[2]`), where it could name the caller's own
    /// memory (a lower-half address from [`IMAGE_BASE`] up), is replaced by
    /// `out`'s address, so that the kernel writes nothing of the caller's
    /// but `out`; a pointer into the null region below [`IMAGE_BASE`], the
    /// kernel half or a non-canonical one goes through as given, for the
    /// kernel to refuse. Import's pointer is only read, and goes through.
    ///
    /// [`IMAGE_BASE`]: super::IMAGE_BASE
    pub fn invoke_regs(n: u64, a: [u64; 6], out: &mut CapIdentity) -> Option<(u64, u64)> {
        invoke_regs_via(n, a, out, Via::Syscall).map(|(rax, rdx, _)| (rax, rdx))
    }

    /// As [`invoke_regs`], entering the kernel as `via` says; also returns
    /// the RFLAGS the kernel returned with.
    pub fn invoke_regs_via(
        n: u64,
        mut a: [u64; 6],
        out: &mut CapIdentity,
        via: Via,
    ) -> Option<(u64, u64, u64)> {
        if n < number::CAP_IDENTIFY {
            return None;
        }
        let written = match n {
            number::CAP_IDENTIFY => Some(1),
            number::CAP_EXPORT => Some(2),
            _ => None,
        };
        if let Some(i) = written
            && (super::IMAGE_BASE..0x0000_8000_0000_0000).contains(&a[i])
        {
            a[i] = &raw mut *out as u64;
        }
        const _: () = assert!(core::mem::size_of::<CapIdentity>() == super::cap::WIRE_LEN);
        // SAFETY: of the calls from `CAP_IDENTIFY` up, identify and export
        // write through a pointer, which names `out` or memory the program
        // does not own (never mapped below `IMAGE_BASE`, or not in the user
        // half): the kernel writes at most 32 bytes, one `CapIdentity`'s
        // size, to `out`, or refuses. Import only reads.
        Some(unsafe { raw6_via(n, a, via) })
    }

    /// Invokes a capability with arguments that hold no pointer.
    #[inline(always)]
    fn invoke(n: u64, a: [u64; 6]) -> Result<u64, Error> {
        // SAFETY: none of these calls takes a pointer: the kernel writes no
        // memory of the caller's but the page tables it manages.
        unsafe { raw6(n, a) }
    }

    /// What the capability at `cap` is.
    pub fn cap_identify(cap: CPtr) -> Result<CapIdentity, Error> {
        let mut id = CapIdentity::default();
        let ptr = &raw mut id as u64;
        // SAFETY: the kernel writes exactly one `CapIdentity` to `id`.
        unsafe { raw6(number::CAP_IDENTIFY, [cap.raw(), ptr, 0, 0, 0, 0]) }.map(|_| id)
    }

    /// Retypes `src` into `count` objects of type `ty` (see
    /// [`super::Syscall::CapRetype`]) placed from `dest_slot` of the CNode at
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
            return Err(Error::Cap(super::CapError::Malformed));
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
    pub fn dispatcher_run(disp: CPtr, params: &crate::disp::DispatcherParams) -> Result<(), Error> {
        let len = core::mem::size_of::<crate::disp::DispatcherParams>() as u64;
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
    pub fn lmp_recv(dest: Option<(CPtr, u32)>, timeout: u64) -> Result<super::LmpMessage, Error> {
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
        super::invoke_result(rax, rdx).map(|badge| super::LmpMessage {
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
    pub fn dispatcher_status(disp: CPtr) -> Result<crate::disp::Status, Error> {
        let raw = invoke(number::DISPATCHER_STATUS, [disp.raw(), 0, 0, 0, 0, 0])?;
        crate::disp::Status::decode(raw).ok_or(Error::Sys(SysError::BadCode))
    }

    /// The address of word `va` of the capability window, if it is one.
    fn window_word(va: u64) -> Option<*mut u64> {
        let window = super::CAP_MAP_BASE..super::CAP_MAP_BASE + super::CAP_MAP_SIZE;
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

    /// Prints one line.
    pub fn print(text: &str) -> Result<(), SysError> {
        // SAFETY: the text is borrowed for the call and only read.
        unsafe { raw(number::PRINT, text.as_ptr() as u64, text.len() as u64, 0) }.map(|_| ())
    }

    /// Where this program runs.
    pub fn info() -> Result<ProgramInfo, SysError> {
        let mut info = ProgramInfo::default();
        let ptr = &raw mut info as u64;
        let len = core::mem::size_of::<ProgramInfo>() as u64;
        // SAFETY: the kernel writes exactly one `ProgramInfo` to `info`.
        unsafe { raw(number::INFO, ptr, len, 0) }.map(|_| info)
    }

    /// Lets other programs on this core run.
    pub fn yield_now() {
        // SAFETY: no arguments.
        let _ = unsafe { raw(number::YIELD, 0, 0, 0) };
    }

    /// Blocks until notified (true) or `timeout` cycles pass (false).
    pub fn wait(timeout: u64) -> bool {
        // SAFETY: no pointers.
        let woken = unsafe { raw(number::WAIT, timeout, 0, 0) };
        woken == Ok(1)
    }

    /// Notifies the core that the Notify capability `cap` names.
    pub fn notify(cap: CPtr) -> Result<(), Error> {
        invoke(number::NOTIFY, [cap.raw(), 0, 0, 0, 0, 0]).map(|_| ())
    }

    /// Copies the argument string into `buf`; returns its full length.
    pub fn args(buf: &mut [u8]) -> Result<usize, SysError> {
        // SAFETY: the kernel writes at most `buf.len()` bytes into `buf`.
        unsafe { raw(number::ARGS, buf.as_mut_ptr() as u64, buf.len() as u64, 0) }
            .map(|n| n as usize)
    }

    /// Ends this program.
    pub fn exit(code: u64) -> ! {
        // SAFETY: no pointers; the call does not return.
        let _ = unsafe { raw(number::EXIT, code, 0, 0) };
        unreachable!("exit returned")
    }

    /// Ends the whole run, pass or fail, with the Shutdown capability
    /// `cap`. Returns only when the kernel refuses: the error says why.
    pub fn shutdown(cap: CPtr, pass: bool) -> Error {
        match invoke(number::SHUTDOWN, [cap.raw(), u64::from(!pass), 0, 0, 0, 0]) {
            Err(e) => e,
            Ok(_) => Error::Sys(SysError::BadCode),
        }
    }

    /// Reports a panic at `file:line` and ends the whole run with the
    /// `panic` exit code. For the runtime's panic handler: it never panics
    /// itself.
    pub fn panic(file: &str, line: u32) -> ! {
        let line = u64::from(line);
        // SAFETY: the file name is borrowed for the call and only read.
        let _ = unsafe { raw(number::PANIC, file.as_ptr() as u64, file.len() as u64, line) };
        // The kernel refused the name (too long, say): report without it.
        // SAFETY: no pointers.
        let _ = unsafe { raw(number::PANIC, 0, 0, line) };
        // Not reached: a call without a name is always accepted. Should it
        // return all the same, end at least this program.
        exit(101)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_every_call_and_refuses_unknown_numbers() {
        let a = [7, 9, 0, 0, 0, 0];
        assert_eq!(
            Syscall::decode(number::PRINT, a),
            Ok(Syscall::Print { ptr: 7, len: 9 })
        );
        assert_eq!(
            Syscall::decode(number::RETIRED_5, a),
            Err(Error::Sys(SysError::UnknownSyscall)),
            "mapping the pool without a capability is gone"
        );
        assert_eq!(
            Syscall::decode(number::SHUTDOWN, [CPtr::l1(6).raw(), 7, 0, 0, 0, 0]),
            Ok(Syscall::Shutdown {
                cap: CPtr::l1(6),
                code: 7
            })
        );
        assert_eq!(
            Syscall::decode(number::PANIC, [1, 2, 3, 0, 0, 0]),
            Ok(Syscall::Panic {
                file: 1,
                file_len: 2,
                line: 3
            })
        );
        assert_eq!(
            Syscall::decode(99, a),
            Err(Error::Sys(SysError::UnknownSyscall))
        );
        let cptr = CPtr::l1(7).raw();
        let good = [cptr, cptr, 0, 0, cptr, 0];
        for n in (0..=number::LAST).filter(|&n| n != number::RETIRED_5) {
            let args = match n {
                number::CAP_MAP => [cptr, CAP_MAP_BASE, 1, 0, 1, 0],
                number::CAP_EXPORT => [cptr, cptr, 0, 0, 0, 0],
                number::CAP_IMPORT => [cptr, 0, cptr, 0, 1, 0],
                number::VNODE_MAP => [cptr, 0, cptr, 1, 0, 1],
                number::VNODE_UNMAP | number::DISPATCHER_STATUS => [cptr, 0, 0, 0, 0, 0],
                number::DISPATCHER_RUN => [cptr, 0x1000, 72, 0, 0, 0],
                number::LMP_RECV => [cptr, 0, 0, 0, 0, 0],
                number::FAULT_HANDLER | number::FAULT_RESUME => [0; 6],
                number::VNODE_PROTECT => [cptr, 0, 1, 0, 0, 0],
                number::DISPATCHER_UPCALL | number::DISPATCHER_RESUME => [0; 6],
                _ => good,
            };
            assert!(Syscall::decode(n, args).is_ok(), "{n}");
        }
        assert_eq!(
            Syscall::decode(number::LAST + 1, good),
            Err(Error::Sys(SysError::UnknownSyscall))
        );
    }

    #[test]
    fn decodes_capability_invocations_and_checks_their_registers() {
        let src = CPtr::l1(4);
        let dest = CPtr::l2(3, 9).unwrap();
        let packed = u64::from(cap::ty::FRAME) | (5u64 << 32);
        assert_eq!(
            Syscall::decode(
                number::CAP_RETYPE,
                [src.raw(), packed, 8192, 4096, dest.raw(), 17]
            ),
            Ok(Syscall::CapRetype {
                src,
                ty: cap::ty::FRAME,
                count: 5,
                offset: 8192,
                size: 4096,
                dest,
                dest_slot: 17
            })
        );
        let bad = |n, a| Syscall::decode(n, a).err();
        // Bits between the type and the count.
        assert_eq!(
            bad(number::CAP_RETYPE, [src.raw(), 1 << 8, 0, 0, 0, 0]),
            Some(Error::Cap(CapError::BadArgument))
        );
        // A depth of three, a depth of zero, bits above the depth.
        for raw in [3u64 << 32, 0, 1 << 40 | 1 << 32] {
            assert_eq!(
                bad(number::CAP_DELETE, [raw, 0, 0, 0, 0, 0]),
                Some(Error::Cap(CapError::BadArgument)),
                "{raw:#x}"
            );
        }
        // A slot index that does not fit.
        assert_eq!(
            bad(number::CAP_COPY, [src.raw(), dest.raw(), 1 << 32, 0, 0, 0]),
            Some(Error::Cap(CapError::NoSuchSlot))
        );
        // Unknown right bits.
        assert_eq!(
            bad(number::CAP_MINT, [src.raw(), dest.raw(), 1, 0x10, 0, 0]),
            Some(Error::Cap(CapError::BadArgument))
        );
        assert_eq!(
            bad(number::CAP_MAP, [src.raw(), CAP_MAP_BASE, 0x81, 0, 1, 0]),
            Some(Error::Cap(CapError::BadArgument))
        );
        // A page count that does not fit.
        assert_eq!(
            bad(number::CAP_MAP, [src.raw(), CAP_MAP_BASE, 1, 0, 1 << 32, 0]),
            Some(Error::Cap(CapError::OutOfRange))
        );
        assert_eq!(
            Syscall::decode(number::CAP_UNMAP, [CAP_MAP_BASE, 0, 0, 0, 0, 0]),
            Ok(Syscall::CapUnmap { va: CAP_MAP_BASE })
        );
    }

    #[test]
    fn decodes_export_and_import_and_checks_every_register() {
        let k = CPtr::l1(cap::slot::KERNEL);
        let f = CPtr::l2(3, 9).unwrap();
        let root = CPtr::l1(0);
        assert_eq!(
            Syscall::decode(number::CAP_EXPORT, [k.raw(), f.raw(), 0x5000, 0, 0, 0]),
            Ok(Syscall::CapExport {
                kernel: k,
                cap: f,
                ptr: 0x5000
            })
        );
        let import = [k.raw(), 0x5000, root.raw(), 12, 1, 0];
        assert_eq!(
            Syscall::decode(number::CAP_IMPORT, import),
            Ok(Syscall::CapImport {
                kernel: k,
                ptr: 0x5000,
                dest: root,
                dest_slot: 12,
                owner: 1
            })
        );
        let bad = |n, a| Syscall::decode(n, a).err().map(|e: Error| e.name());
        for i in 3..6 {
            let mut a = [k.raw(), f.raw(), 0x5000, 0, 0, 0];
            a[i] = 1;
            assert_eq!(bad(number::CAP_EXPORT, a), Some("bad-argument"), "{i}");
        }
        for (i, v, want) in [
            (0, 7, "bad-argument"),
            (2, 1 << 40, "bad-argument"),
            (3, 1 << 32, "no-such-slot"),
            (4, 1 << 32, "bad-argument"),
            (5, 1, "bad-argument"),
        ] {
            let mut a = import;
            a[i] = v;
            assert_eq!(bad(number::CAP_IMPORT, a), Some(want), "{i}");
        }
        assert_eq!(
            bad(number::CAP_EXPORT, [k.raw(), 3 << 32, 0x5000, 0, 0, 0]),
            Some("bad-argument")
        );
    }

    #[test]
    fn decodes_the_vnode_and_dispatcher_calls_and_checks_every_register() {
        let t = CPtr::l1(9);
        let f = CPtr::l2(3, 4).unwrap();
        assert_eq!(
            Syscall::decode(number::VNODE_MAP, [t.raw(), 5, f.raw(), 3, 0x2000, 7]),
            Ok(Syscall::VnodeMap {
                table: t,
                index: 5,
                src: f,
                rights: 3,
                offset: 0x2000,
                count: 7
            })
        );
        assert_eq!(
            Syscall::decode(number::VNODE_UNMAP, [t.raw(), 511, 0, 0, 0, 0]),
            Ok(Syscall::VnodeUnmap {
                table: t,
                index: 511
            })
        );
        assert_eq!(
            Syscall::decode(number::DISPATCHER_RUN, [t.raw(), 0x4000, 72, 0, 0, 0]),
            Ok(Syscall::DispatcherRun {
                disp: t,
                ptr: 0x4000,
                len: 72
            })
        );
        assert_eq!(
            Syscall::decode(number::DISPATCHER_STATUS, [t.raw(), 0, 0, 0, 0, 0]),
            Ok(Syscall::DispatcherStatus { disp: t })
        );
        let bad = |n, a| Syscall::decode(n, a).err().map(Error::name);
        let map = [t.raw(), 5, f.raw(), 3, 0, 1];
        for (i, v, want) in [
            (0, 3 << 32, "bad-argument"),
            (1, 1 << 32, "out-of-range"),
            (2, 0, "bad-argument"),
            (3, 0x10, "bad-argument"),
            (5, 1 << 32, "out-of-range"),
        ] {
            let mut a = map;
            a[i] = v;
            assert_eq!(bad(number::VNODE_MAP, a), Some(want), "{i}");
        }
        for i in 2..6 {
            let mut a = [t.raw(), 0, 0, 0, 0, 0];
            a[i] = 1;
            assert_eq!(bad(number::VNODE_UNMAP, a), Some("bad-argument"), "{i}");
            assert_eq!(
                bad(number::DISPATCHER_STATUS, a),
                Some("bad-argument"),
                "{i}"
            );
            if i >= 3 {
                assert_eq!(bad(number::DISPATCHER_RUN, a), Some("bad-argument"), "{i}");
            }
        }
        assert_eq!(
            bad(number::DISPATCHER_STATUS, [0, 0, 0, 0, 0, 0]),
            Some("bad-argument")
        );
        assert_eq!(
            core::mem::size_of::<disp::DispatcherParams>(),
            72,
            "the parameters' size is part of the ABI"
        );
        assert_eq!(
            Syscall::decode(number::LMP_SEND, [t.raw(), 0, 1, 2, 3, 4]),
            Ok(Syscall::LmpSend {
                ep: t,
                cap: None,
                words: [1, 2, 3, 4]
            })
        );
        assert_eq!(
            Syscall::decode(number::LMP_SEND, [t.raw(), f.raw(), 0, 0, 0, 0]),
            Ok(Syscall::LmpSend {
                ep: t,
                cap: Some(f),
                words: [0; 4]
            })
        );
        assert_eq!(
            bad(number::LMP_SEND, [t.raw(), 5 << 32, 0, 0, 0, 0]),
            Some("bad-argument")
        );
        assert_eq!(
            Syscall::decode(number::LMP_RECV, [t.raw(), 7, 100, 0, 0, 0]),
            Ok(Syscall::LmpRecv {
                dest: Some(t),
                slot: 7,
                timeout: 100
            })
        );
        assert_eq!(
            Syscall::decode(number::LMP_RECV, [0, 0, 0, 0, 0, 0]),
            Ok(Syscall::LmpRecv {
                dest: None,
                slot: 0,
                timeout: 0
            })
        );
        assert_eq!(
            bad(number::LMP_RECV, [0, 3, 0, 0, 0, 0]),
            Some("bad-argument"),
            "a slot without a CNode"
        );
        assert_eq!(
            bad(number::LMP_RECV, [t.raw(), 1 << 32, 0, 0, 0, 0]),
            Some("no-such-slot")
        );
        for i in 3..6 {
            let mut a = [t.raw(), 0, 0, 0, 0, 0];
            a[i] = 1;
            assert_eq!(bad(number::LMP_RECV, a), Some("bad-argument"), "{i}");
        }
        assert_eq!(
            Syscall::decode(number::FAULT_HANDLER, [0x40_1000, 0x50_0000, 0, 0, 0, 0]),
            Ok(Syscall::FaultHandler {
                entry: 0x40_1000,
                stack: 0x50_0000
            })
        );
        assert_eq!(
            Syscall::decode(number::FAULT_RESUME, [1, 0, 0, 0, 0, 0]),
            Ok(Syscall::FaultResume { give_up: true })
        );
        assert_eq!(
            bad(number::FAULT_RESUME, [2, 0, 0, 0, 0, 0]),
            Some("bad-code")
        );
        assert_eq!(
            bad(number::FAULT_HANDLER, [1, 2, 3, 0, 0, 0]),
            Some("bad-argument")
        );
        assert_eq!(
            Syscall::decode(number::VNODE_PROTECT, [t.raw(), 3, 1, 0, 0, 0]),
            Ok(Syscall::VnodeProtect {
                table: t,
                index: 3,
                rights: 1
            })
        );
        assert_eq!(
            bad(number::VNODE_PROTECT, [t.raw(), 3, 0x20, 0, 0, 0]),
            Some("bad-argument")
        );
        assert_eq!(
            Syscall::decode(
                number::DISPATCHER_UPCALL,
                [0x40_2000, 0x60_0000, 0, 0, 0, 0]
            ),
            Ok(Syscall::DispatcherUpcall {
                entry: 0x40_2000,
                stack: 0x60_0000
            })
        );
        assert_eq!(
            Syscall::decode(number::DISPATCHER_RESUME, [0; 6]),
            Ok(Syscall::DispatcherResume)
        );
        assert_eq!(
            bad(number::DISPATCHER_RESUME, [1, 0, 0, 0, 0, 0]),
            Some("bad-argument")
        );
        assert_eq!(number::LAST, number::DISPATCHER_RESUME);
    }

    #[test]
    fn both_kinds_of_error_travel_in_rax() {
        for e in SysError::ALL {
            assert_eq!(invoke_result(e as u64, 5), Err(Error::Sys(e)));
            assert_eq!(Error::from(e).code(), e as u64);
        }
        for e in CapError::ALL {
            assert_eq!(invoke_result(e.code(), 5), Err(Error::Cap(e)));
            assert_eq!(Error::from(e).code(), e.code());
            assert_eq!(Error::from(e).name(), e.name());
        }
        assert_eq!(invoke_result(0, 5), Ok(5));
        assert_eq!(
            invoke_result(0x7777, 0),
            Err(Error::Sys(SysError::UnknownSyscall))
        );
    }

    #[test]
    fn start_tests_decode() {
        for t in [StartTest::None, StartTest::Panic, StartTest::ExhaustHeap] {
            assert_eq!(StartTest::from_code(t as u64), t);
        }
        assert_eq!(StartTest::from_code(77), StartTest::None);
    }

    #[test]
    fn errors_round_trip_through_rax() {
        for e in SysError::ALL {
            assert_eq!(result(e as u64, 5), Err(e));
        }
        assert_eq!(result(0, 5), Ok(5));
        assert_eq!(result(1234, 0), Err(SysError::UnknownSyscall));
    }
}
