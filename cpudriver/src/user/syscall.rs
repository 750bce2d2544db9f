//! System-call dispatch. Every argument is checked before anything is
//! changed; a bad argument returns a typed `abi::SysError`.

use core::sync::atomic::Ordering;

use abi::{CapError, Error, ProgramInfo, SysError, Syscall};
use boot::protocol::ExitCode;
use caps::CapType;

use super::uslice::{UAccess, USlice};
use super::{PENDING, SCHED, State, end_current, save_current, schedule};
use crate::arch::rdtsc;
use crate::arch::trap::{NOTIFY_VECTOR, TrapFrame};
use crate::console::{fatal_record, record};
use crate::percpu;

/// What a handled call does to the caller.
pub(super) enum Done {
    /// Return this result to the caller.
    Return(Result<u64, Error>),
    /// The frame now holds another program (or the caller, resumed later
    /// with its result already in its saved registers).
    Switched,
}

/// Whether a ring-3 page fault is a `syscall` that never reached ring 0.
///
/// Some hypervisors (this project's KVM host among them) carry out
/// SYSCALL's register effects (RIP from LSTAR, the return address in RCX,
/// the flags in R11) without switching to ring 0, so the first instruction
/// of `syscall_entry` faults as a ring-3 instruction fetch of a kernel page.
/// That fault is recognised exactly: the faulting address is the entry
/// point itself, the access is a user instruction fetch, and the two bytes
/// before the return address in RCX are a `syscall` instruction.
pub fn undelivered(frame: &TrapFrame, cr2: u64) -> bool {
    const USER_FETCH: u64 = 0x14;
    let entry = super::entry::syscall_entry_address();
    if cr2 != entry || frame.rip != entry || frame.error & USER_FETCH != USER_FETCH {
        return false;
    }
    let Some(at) = frame.rcx.checked_sub(2) else {
        return false;
    };
    let bytes = with_space(|space, _| {
        USlice::new(space, at, 2, UAccess::Read)
            .ok()
            .map(|u| u.read::<[u8; 2]>())
    });
    bytes.flatten() == Some([0x0f, 0x05])
}

/// Serves a system call that arrived as [`undelivered`] says: restores the
/// state SYSCALL would have entered with and dispatches it. The trap path
/// then returns to ring 3 with IRETQ.
pub fn serve_undelivered(frame: &mut TrapFrame) {
    if !FALLBACK_NOTED.swap(true, Ordering::Relaxed) {
        log::info!(
            "SYSCALL arrives here without a switch to ring 0 (a hypervisor quirk); system calls are served through the page-fault path"
        );
    }
    // What SYSCALL would have entered with. R11 is the program's own word
    // here, not flags the CPU saved: only the flags a program may set pass
    // (no IOPL, no NT, interrupts on), and a non-canonical RCX ends the
    // program when it would return (`to_ring3`).
    frame.rip = frame.rcx;
    frame.rflags = (frame.r11 & super::entry::USER_FLAGS) | super::entry::FORCED_FLAGS;
    syscall_dispatch(frame);
}

/// Whether [`serve_undelivered`] has said so once on this core.
static FALLBACK_NOTED: core::sync::atomic::AtomicBool = core::sync::atomic::AtomicBool::new(false);

/// Called by `syscall_entry` with the caller's registers.
#[unsafe(no_mangle)]
extern "C" fn syscall_dispatch(frame: &mut TrapFrame) {
    let args = [
        frame.rdi, frame.rsi, frame.rdx, frame.r10, frame.r8, frame.r9,
    ];
    let number = frame.rax;
    // Every call from the capability invocations up is a fuzzer's call.
    let fuzzed = number >= abi::number::CAP_IDENTIFY && super::fuzz_watch::enabled();
    if fuzzed {
        super::fuzz_watch::before(number, args);
    }
    let done = match Syscall::decode(number, args) {
        Ok(call) => handle(call, frame),
        Err(e) => Done::Return(Err(e)),
    };
    if let Done::Return(result) = done {
        match result {
            Ok(value) => {
                frame.rax = 0;
                frame.rdx = value;
            }
            Err(e) => {
                frame.rax = e.code();
                frame.rdx = 0;
            }
        }
        if fuzzed {
            super::fuzz_watch::after(frame);
        }
    }
    super::to_ring3(frame);
}

fn handle(call: Syscall, frame: &mut TrapFrame) -> Done {
    match call {
        Syscall::Print { ptr, len } => Done::Return(print(ptr, len).map_err(Error::from)),
        Syscall::Info { ptr, len } => Done::Return(info(ptr, len).map_err(Error::from)),
        Syscall::Args { ptr, len } => Done::Return(args(ptr, len).map_err(Error::from)),
        Syscall::Notify { cap } => Done::Return(notify(cap)),
        Syscall::CapIdentify { .. }
        | Syscall::CapRetype { .. }
        | Syscall::CapCopy { .. }
        | Syscall::CapMint { .. }
        | Syscall::CapDelete { .. }
        | Syscall::CapRevoke { .. }
        | Syscall::CapMap { .. }
        | Syscall::CapUnmap { .. }
        | Syscall::CapExport { .. }
        | Syscall::CapImport { .. }
        | Syscall::CapMark { .. }
        | Syscall::CapUnmark { .. }
        | Syscall::CapSweep { .. }
        | Syscall::CapDeleteAgreed { .. }
        | Syscall::CapRevokeAgreed { .. }
        | Syscall::CapRetypeAgreed { .. }
        | Syscall::VnodeMap { .. }
        | Syscall::VnodeProtect { .. }
        | Syscall::VnodeUnmap { .. } => {
            let result = super::invoke::invoke(call);
            super::dispatch::reap(frame, result)
        }
        Syscall::DispatcherRun { disp, ptr, len } => {
            Done::Return(super::dispatch::run(disp, ptr, len))
        }
        Syscall::DispatcherStatus { disp } => Done::Return(super::dispatch::status(disp)),
        Syscall::LmpSend { ep, cap, words } => match super::lmp::send(frame, ep, cap, words) {
            Done::Return(result) => super::dispatch::reap(frame, result),
            switched => switched,
        },
        Syscall::FaultHandler { entry, stack } => {
            Done::Return(super::upcall::register(entry, stack))
        }
        Syscall::FaultResume { give_up } => super::upcall::resume(frame, give_up),
        Syscall::DispatcherUpcall { entry, stack } => {
            Done::Return(super::upcall::register_run(entry, stack))
        }
        Syscall::DispatcherResume => super::upcall::resume_enabled(frame),
        Syscall::LmpRecv {
            dest,
            slot,
            timeout,
        } => super::lmp::recv(frame, dest, slot, timeout),
        Syscall::Yield => {
            frame.rax = 0;
            frame.rdx = 0;
            let after = save_current(&mut SCHED.lock(), frame);
            schedule(frame, after);
            Done::Switched
        }
        Syscall::Wait { timeout } => {
            if PENDING.swap(false, Ordering::AcqRel) {
                return Done::Return(Ok(1));
            }
            let deadline = (timeout > 0).then(|| rdtsc().saturating_add(timeout));
            let after = {
                let mut s = SCHED.lock();
                let after = save_current(&mut s, frame);
                if let Some(i) = after {
                    s.programs[i].state = State::Waiting(deadline);
                }
                after
            };
            schedule(frame, after);
            Done::Switched
        }
        Syscall::Exit { code } => {
            let name = super::current_name();
            let preempted = super::current_preempted();
            record(
                "program-exit",
                format_args!(
                    "program={name} domain={} code={code} preempted={preempted}",
                    u8::from(super::current_is_domain())
                ),
            );
            end_current(frame, abi::disp::Status::Exited(code));
            Done::Switched
        }
        Syscall::Shutdown { cap, code } => {
            let exit = match code {
                0 => ExitCode::Pass,
                1 => ExitCode::Fail,
                _ => return Done::Return(Err(SysError::BadCode.into())),
            };
            if let Err(e) = held(cap, CapType::Shutdown) {
                return Done::Return(Err(e));
            }
            let name = super::current_name();
            record(
                "shutdown",
                format_args!("program={name} result={}", exit.name()),
            );
            crate::exit::exit(exit)
        }
        Syscall::Panic {
            file,
            file_len,
            line,
        } => match program_panic(file, file_len, line) {
            Ok(status) => {
                end_current(frame, status);
                Done::Switched
            }
            Err(e) => Done::Return(Err(e.into())),
        },
    }
}

/// A panic in the running program: a `program-panic` record, then, for a
/// program the CPU driver started at boot, the end of the run with the
/// `panic` exit code, the way a kernel panic ends it. A domain built from
/// user level ends alone: the status it ends with is returned. An error
/// when the file name is refused.
fn program_panic(ptr: u64, len: u64, line: u64) -> Result<abi::disp::Status, SysError> {
    if len > abi::MAX_PANIC_FILE {
        return Err(SysError::BadLength);
    }
    let mut buf = [0u8; abi::MAX_PANIC_FILE as usize];
    let text = &mut buf[..len as usize];
    if len > 0 {
        with_space(|space, _| {
            USlice::new(space, ptr, len, UAccess::Read).map(|u| u.read_into(text))
        })
        .ok_or(SysError::BadPointer)??;
    }
    let file = core::str::from_utf8(text).map_err(|_| SysError::BadUtf8)?;
    let core = percpu::this().id;
    let name = super::current_name();
    if super::current_is_domain() {
        record(
            "program-panic",
            format_args!(
                "core={core} program={name} file={} line={line} domain=1",
                RecordValue(if file.is_empty() { "unknown" } else { file })
            ),
        );
        return Ok(abi::disp::Status::Panicked);
    }
    fatal_record(
        "program-panic",
        format_args!(
            "core={core} program={name} file={} line={line}",
            RecordValue(if file.is_empty() { "unknown" } else { file })
        ),
    );
    crate::exit::exit(ExitCode::Panic)
}

/// A record value: spaces (which would end it) become `_`, and control
/// characters `?`.
struct RecordValue<'a>(&'a str);

impl core::fmt::Display for RecordValue<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        use core::fmt::Write;
        for c in self.0.chars() {
            f.write_char(match c {
                ' ' => '_',
                c if c.is_control() => '?',
                c => c,
            })?;
        }
        Ok(())
    }
}

/// Runs `f` with the running program's address space.
fn with_space<T>(f: impl FnOnce(&mut super::space::AddressSpace, &str) -> T) -> Option<T> {
    let mut s = SCHED.lock();
    let i = s.current?;
    let p = &mut s.programs[i];
    Some(f(&mut p.space, &p.args))
}

fn print(ptr: u64, len: u64) -> Result<u64, SysError> {
    if len == 0 || len > abi::MAX_PRINT {
        return Err(SysError::BadLength);
    }
    let mut buf = [0u8; abi::MAX_PRINT as usize];
    let text = &mut buf[..len as usize];
    with_space(|space, _| USlice::new(space, ptr, len, UAccess::Read).map(|u| u.read_into(text)))
        .ok_or(SysError::BadPointer)??;
    let text = core::str::from_utf8(text).map_err(|_| SysError::BadUtf8)?;
    // The line names its printer, so that no program can pass its text off
    // as the kernel's or as another program's.
    let origin = if super::current_is_domain() {
        boot::stamp::Origin::Domain
    } else {
        boot::stamp::Origin::Boot
    };
    let name = super::current_name();
    crate::console::program_line(
        boot::stamp::Stamp {
            origin,
            name: &name,
        },
        text.trim_end_matches(['\n', '\r']),
    );
    Ok(0)
}

fn info(ptr: u64, len: u64) -> Result<u64, SysError> {
    if len != core::mem::size_of::<ProgramInfo>() as u64 {
        return Err(SysError::BadLength);
    }
    let core = percpu::this();
    let given = &core.params.given;
    let info = ProgramInfo {
        core: core.id,
        cores: core.count,
        tsc_hz: crate::timing::get().tsc_hz,
        initrd_offset: crate::capdb::initrd_extent().0,
        initrd_len: crate::capdb::initrd_extent().1,
        pool_frames: given.shared_pool.len() / abi::FRAME,
        heap_base: abi::HEAP_BASE,
        heap_size: abi::HEAP_SIZE,
        hypervisor: u32::from(super::HYPERVISOR.load(Ordering::Relaxed)),
        domain: u32::from(super::current_is_domain()),
    };
    with_space(|space, _| {
        USlice::new(space, ptr, len, UAccess::Write).map(|u| u.write_value(&info))
    })
    .ok_or(SysError::BadPointer)??;
    Ok(0)
}

fn args(ptr: u64, len: u64) -> Result<u64, SysError> {
    with_space(|space, args| {
        let n = (len as usize).min(args.len());
        if n > 0 {
            USlice::new(space, ptr, n as u64, UAccess::Write)?.write(&args.as_bytes()[..n]);
        }
        Ok(args.len() as u64)
    })
    .ok_or(SysError::BadPointer)?
}

/// The capability at `cap` in the running program's cspace, if it has
/// type `ty` and the WRITE right.
fn held(cap: abi::CPtr, ty: CapType) -> Result<caps::Cap, Error> {
    let cs = {
        let s = SCHED.lock();
        let i = s.current.ok_or(CapError::NoSuchSlot)?;
        s.programs[i].cspace.ok_or(CapError::NoSuchSlot)?
    };
    let guard = crate::capdb::lock();
    let c = guard.as_ref().ok_or(CapError::NoSuchSlot)?;
    let found = c.mdb.identify(cs, super::invoke::addr(cap)?)?;
    if found.ty != ty {
        return Err(CapError::WrongType.into());
    }
    if !found.rights.contains(caps::Rights::WRITE) {
        return Err(CapError::MissingRight.into());
    }
    Ok(found)
}

/// Notifies the core that the Notify capability at `cap` names.
fn notify(cap: abi::CPtr) -> Result<u64, Error> {
    let me = percpu::this();
    let core = held(cap, CapType::Notify)?.base;
    if core >= u64::from(me.count) {
        return Err(SysError::BadCore.into());
    }
    let core = core as u32;
    if core == me.id {
        PENDING.store(true, Ordering::Release);
    } else {
        crate::arch::apic::send_ipi(percpu::params_of(core).given.apic_id, NOTIFY_VECTOR);
    }
    Ok(0)
}
