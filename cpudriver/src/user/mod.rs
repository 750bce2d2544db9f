//! Ring-3 programs on one core: loading, a run-to-block scheduler, system
//! calls and faults.
//!
//! The programs of a core run one at a time, round robin. Under
//! `sched=rr` (the default) a turn ends when the program blocks (wait,
//! yield), ends (exit, fault) or, while more than one program lives on the
//! core, when its time slice runs out: the local APIC timer is armed for
//! the slice (or for an earlier wait deadline of another program) on every
//! entry to ring 3, and a timer interrupt from ring 3 saves the program and
//! takes the next ready one. A program alone on its core is never
//! interrupted. Under `sched=block` a program runs until it blocks or
//! ends. A fault in ring 3 ends that program with a report; the core goes
//! on with its other programs. When nothing is runnable the core halts
//! until a notification IPI or a wait deadline.
//!
//! A program is either one the CPU driver loaded at boot ([`spawn`]), in
//! an address space the kernel keeps, or a **domain built from user
//! level** ([`dispatch`]): a Dispatcher capability started with a CNode and
//! a PML4 its parent filled through capability invocations. The kernel
//! keeps the state of each such dispatcher (running, exited with a code,
//! killed) until its last capability goes; the end of the last Dispatcher
//! or PML4 capability of a running domain ends the domain.

pub mod dispatch;
pub mod elf;
mod entry;
pub mod fuzz_watch;
mod invoke;
mod lmp;
pub mod space;
mod syscall;
mod upcall;
mod uslice;

use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use abi::disp::Status;
use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;
use spin::Mutex;

use crate::arch::trap::{TrapFrame, exception_name};
use crate::arch::{rdtsc, wait_for_interrupt};
use crate::console::record;
use crate::percpu;
use space::{Access, AddressSpace};

pub use entry::init;

/// What a program is doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Ready to run (or running).
    Ready,
    /// Blocked in `Wait` until a notification or the deadline (a TSC value).
    Waiting(Option<u64>),
    /// Loaded at boot after another program of the core: it starts when
    /// the boot program before it ends.
    Held,
    /// Blocked in `LmpRecv` until a message or the deadline.
    Receiving {
        /// When it gives up (a TSC value).
        deadline: Option<u64>,
        /// Where a capability that comes goes: a CNode and a slot.
        dest: Option<(abi::CPtr, u32)>,
    },
}

impl State {
    /// When a blocked program gives up.
    fn deadline(self) -> Option<u64> {
        match self {
            State::Waiting(d) | State::Receiving { deadline: d, .. } => d,
            State::Ready | State::Held => None,
        }
    }
}

/// One program.
struct Program {
    name: String,
    args: String,
    space: AddressSpace,
    /// The cspace its capability invocations name (none: every invocation
    /// is refused with `NoSuchSlot`).
    cspace: Option<caps::CSpace>,
    /// Saved registers while the program is not running.
    context: TrapFrame,
    state: State,
    /// The base of its Dispatcher object, for a domain built from user
    /// level.
    disp: Option<u64>,
    /// Turns it lost to the end of its time slice.
    preempted: u64,
    /// LMP messages waiting for it (`lmp`).
    inbox: alloc::collections::VecDeque<lmp::Message>,
    /// Its exception handler and the handler's stack, once registered
    /// (`upcall`).
    handler: Option<(u64, u64)>,
    /// The registers and faulting address of the exception its handler is
    /// serving.
    serving: Option<(TrapFrame, u64)>,
    /// Its run upcall and the upcall's stack, once registered: after each
    /// turn it lost to the time slice, the domain is entered there.
    run_upcall: Option<(u64, u64)>,
    /// The registers of the turn the run upcall follows: while it is set,
    /// the domain runs disabled (no second upcall).
    enabled: Option<TrapFrame>,
}

impl Program {
    /// A program that has not run yet: no messages, handlers or upcalls.
    fn new(
        name: String,
        args: String,
        space: AddressSpace,
        cspace: Option<caps::CSpace>,
        context: TrapFrame,
        state: State,
        disp: Option<u64>,
    ) -> Program {
        Program {
            name,
            args,
            space,
            cspace,
            context,
            state,
            disp,
            preempted: 0,
            inbox: alloc::collections::VecDeque::new(),
            handler: None,
            serving: None,
            run_upcall: None,
            enabled: None,
        }
    }
}

struct Scheduler {
    programs: Vec<Program>,
    /// Index of the running program.
    current: Option<usize>,
    /// The state of every started dispatcher whose object still exists,
    /// by its base.
    statuses: BTreeMap<u64, Status>,
}

static SCHED: Mutex<Scheduler> = Mutex::new(Scheduler {
    programs: Vec::new(),
    current: None,
    statuses: BTreeMap::new(),
});

/// A notification arrived that no waiting program has consumed yet.
static PENDING: AtomicBool = AtomicBool::new(false);

/// Whether this core runs under a hypervisor.
static HYPERVISOR: AtomicBool = AtomicBool::new(false);

/// The time slice in TSC cycles; 0 under `sched=block`.
static SLICE: AtomicU64 = AtomicU64::new(0);

/// Sets how the core's programs share it, and says so in a `sched` record.
pub fn set_sched(sched: boot::kernel_cmdline::Sched) {
    let (name, us) = match sched {
        boot::kernel_cmdline::Sched::RoundRobin { slice_us } => ("rr", slice_us),
        boot::kernel_cmdline::Sched::RunToBlock => ("block", 0),
    };
    let hz = crate::timing::get().tsc_hz;
    SLICE.store(hz / 1_000_000 * u64::from(us), Ordering::Relaxed);
    record(
        "sched",
        format_args!(
            "policy={name} slice_us={us} slice_cycles={}",
            SLICE.load(Ordering::Relaxed)
        ),
    );
}

fn blank_frame() -> TrapFrame {
    TrapFrame {
        r15: 0,
        r14: 0,
        r13: 0,
        r12: 0,
        r11: 0,
        r10: 0,
        r9: 0,
        r8: 0,
        rbp: 0,
        rdi: 0,
        rsi: 0,
        rdx: 0,
        rcx: 0,
        rbx: 0,
        rax: 0,
        vector: 0,
        error: 0,
        rip: 0,
        cs: entry::USER_CS,
        rflags: 0x202,
        rsp: abi::STACK_TOP,
        ss: entry::USER_SS,
    }
}

/// Why a program could not be started.
#[derive(Debug)]
pub enum SpawnError {
    /// The image was refused.
    Load(elf::LoadError),
    /// The core ran out of memory.
    Memory(abi::SysError),
}

impl core::fmt::Display for SpawnError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            SpawnError::Load(e) => write!(f, "{e}"),
            SpawnError::Memory(e) => write!(f, "{}", e.name()),
        }
    }
}

/// Loads `image` as a new program of this core: ready to run, or, when
/// `held`, to start when the boot program loaded before it ends (a test
/// program and the monitor that follows it share a cspace). `test` asks its
/// runtime for a deliberate failure before its main function; `cspace` is
/// the cspace it invokes capabilities in.
pub fn spawn(
    name: &str,
    image: &[u8],
    args: &str,
    test: abi::StartTest,
    cspace: Option<caps::CSpace>,
    held: bool,
) -> Result<(), SpawnError> {
    let mut space = AddressSpace::new().map_err(SpawnError::Memory)?;
    let entry = elf::load(&mut space, image).map_err(SpawnError::Load)?;
    // The top page of the stack now; the rest and the heap on first touch.
    space
        .map_fresh(abi::STACK_TOP - abi::FRAME, abi::FRAME, Access::Write)
        .map_err(SpawnError::Memory)?;
    let core = percpu::this();
    let mut context = blank_frame();
    context.rip = entry;
    context.rdi = u64::from(core.id);
    context.rsi = u64::from(core.count);
    context.rdx = test as u64;
    let state = if held { State::Held } else { State::Ready };
    SCHED.lock().programs.push(Program::new(
        name.into(),
        args.into(),
        space,
        cspace,
        context,
        state,
        None,
    ));
    log::debug!("loaded program '{name}' (entry {entry:#x})");
    Ok(())
}

/// Starts running this core's programs. Never returns.
pub fn run() -> ! {
    let mut s = SCHED.lock();
    if s.programs.is_empty() {
        drop(s);
        idle_forever("no programs to run");
    }
    s.current = Some(0);
    s.programs[0].space.activate();
    arm_timer(&s);
    let frame: *const TrapFrame = &s.programs[0].context;
    drop(s);
    // SAFETY: the frame lives in the heap-allocated program list, which is
    // not touched again before `start` has copied it.
    entry::start(unsafe { &*frame })
}

fn idle_forever(why: &str) -> ! {
    log::debug!("{why}; the core idles");
    let kernel = percpu::this().kernel_root;
    let frame =
        x86_64::structures::paging::PhysFrame::containing_address(x86_64::PhysAddr::new(kernel));
    // SAFETY: the core's own kernel address space maps everything the
    // kernel uses.
    unsafe {
        x86_64::registers::control::Cr3::write(frame, x86_64::registers::control::Cr3Flags::empty())
    };
    loop {
        wait_for_interrupt();
    }
}

/// A notification IPI arrived on this core.
pub fn on_notify() {
    PENDING.store(true, Ordering::Release);
}

/// Wakes waiting programs for a notification or a passed deadline. Their
/// `Wait` returns 1 when notified and 0 on timeout.
fn wake(s: &mut Scheduler, now: u64) {
    let notified = PENDING.swap(false, Ordering::AcqRel);
    let mut consumed = false;
    for p in &mut s.programs {
        if let State::Waiting(deadline) = p.state {
            if notified {
                p.context.rax = 0;
                p.context.rdx = 1;
                p.state = State::Ready;
                consumed = true;
            } else if deadline.is_some_and(|d| now >= d) {
                p.context.rax = 0;
                p.context.rdx = 0;
                p.state = State::Ready;
            }
        }
        // A receive that timed out; notifications do not end one.
        if let State::Receiving {
            deadline: Some(d), ..
        } = p.state
            && now >= d
        {
            p.context.rax = abi::SysError::TimedOut as u64;
            p.context.rdx = 0;
            p.state = State::Ready;
        }
    }
    if notified && !consumed {
        PENDING.store(true, Ordering::Release);
    }
}

/// Picks the next ready program after `after`, round robin.
fn pick(s: &Scheduler, after: Option<usize>) -> Option<usize> {
    let n = s.programs.len();
    let start = after.map_or(0, |i| i + 1);
    (0..n)
        .map(|k| (start + k) % n)
        .find(|&i| s.programs[i].state == State::Ready)
}

/// Leaves the current program (already saved or removed) and loads the next
/// ready one into `frame`, halting until one is ready.
fn schedule(frame: &mut TrapFrame, after: Option<usize>) {
    loop {
        let mut s = SCHED.lock();
        if s.programs.is_empty() {
            s.current = None;
            drop(s);
            idle_forever("every program has ended");
        }
        wake(&mut s, rdtsc());
        if let Some(next) = pick(&s, after) {
            s.current = Some(next);
            let p = &s.programs[next];
            p.space.activate();
            clone_frame(frame, &p.context);
            arm_timer(&s);
            return;
        }
        let deadline = s.programs.iter().filter_map(|p| p.state.deadline()).min();
        drop(s);
        if let Some(d) = deadline {
            let now = rdtsc();
            crate::timing::arm_after(d.saturating_sub(now).max(1));
        }
        wait_for_interrupt();
        crate::arch::apic::timer_stop();
    }
}

/// Before a program's turn: under `sched=rr`, arms the local APIC timer
/// for the end of its slice, or for an earlier wait deadline of another
/// program, when another program lives on the core; stops it otherwise.
fn arm_timer(s: &Scheduler) {
    let slice = SLICE.load(Ordering::Relaxed);
    if slice == 0 {
        return;
    }
    if s.programs.iter().filter(|p| p.state != State::Held).count() < 2 {
        crate::arch::apic::timer_stop();
        return;
    }
    let now = rdtsc();
    let deadline = s
        .programs
        .iter()
        .filter_map(|p| p.state.deadline())
        .map(|d| d.saturating_sub(now))
        .min();
    crate::timing::arm_after(deadline.map_or(slice, |d| d.min(slice)).max(1));
}

/// The local APIC timer interrupted a program in ring 3: under
/// `sched=rr` its turn ends, and the next ready program (itself, if no
/// other is) runs.
pub fn preempt(frame: &mut TrapFrame) {
    if SLICE.load(Ordering::Relaxed) == 0 {
        return;
    }
    let after = {
        let mut s = SCHED.lock();
        let after = save_current(&mut s, frame);
        if let Some(i) = after {
            s.programs[i].preempted += 1;
            upcall::on_preempt(&mut s.programs[i]);
        }
        after
    };
    if after.is_some() {
        schedule(frame, after);
    }
}

fn clone_frame(to: &mut TrapFrame, from: &TrapFrame) {
    // SAFETY: both are valid, distinct `TrapFrame`s (plain integers).
    unsafe { core::ptr::copy_nonoverlapping(from, to, 1) };
}

/// Saves the running program's registers from `frame`.
fn save_current(s: &mut Scheduler, frame: &TrapFrame) -> Option<usize> {
    let i = s.current?;
    clone_frame(&mut s.programs[i].context, frame);
    Some(i)
}

/// Ends the running program, which ended as `how` says, and schedules the
/// next one into `frame`.
fn end_current(frame: &mut TrapFrame, how: Status) {
    let mut s = SCHED.lock();
    let Some(i) = s.current.take() else {
        return;
    };
    leave_space();
    remove(&mut s, i, how);
    // Its waiting messages may have held the last capability of another
    // domain's Dispatcher or PML4: that domain ends before anything runs.
    dispatch::end_gone(&mut s);
    let after = i.checked_sub(1).or(s.programs.len().checked_sub(1));
    drop(s);
    fuzz_watch::program_ended();
    schedule(frame, after);
}

/// Makes the core's kernel address space live, before a program's space
/// is freed.
fn leave_space() {
    let kernel = percpu::this().kernel_root;
    let root =
        x86_64::structures::paging::PhysFrame::containing_address(x86_64::PhysAddr::new(kernel));
    // SAFETY: the core's kernel address space maps everything the kernel
    // uses.
    unsafe {
        x86_64::registers::control::Cr3::write(root, x86_64::registers::control::Cr3Flags::empty())
    };
}

/// Takes program `i` off the core (not the running one, or the running one
/// after [`leave_space`]): its dispatcher's state becomes `how`, and a
/// domain built from user level notifies the core, so that a parent
/// blocked in `Wait` looks.
fn remove(s: &mut Scheduler, i: usize, how: Status) {
    invoke::release(&mut s.programs[i].space);
    let p = s.programs.remove(i);
    lmp::drop_inbox(p.inbox);
    match p.disp {
        Some(base) => {
            s.statuses.insert(base, how);
            PENDING.store(true, Ordering::Release);
        }
        // A boot program ended: the next one loaded at boot starts.
        None => {
            if let Some(next) = s.programs.iter_mut().find(|p| p.state == State::Held) {
                next.state = State::Ready;
            }
        }
    }
    if s.current.is_some_and(|c| c > i) {
        s.current = s.current.map(|c| c - 1);
    }
}

/// Before every return to ring 3: makes `frame` hold only what a program
/// may have. The selectors become ring 3's and the flags the program's own
/// (`entry::USER_FLAGS`) with interrupts on, so that no forged or stale
/// flags (IOPL, NT, VM, RF, TF) reach ring 3 or the kernel's IRETQ. A RIP
/// or RSP that is not canonical (SYSRET to a non-canonical RIP raises #GP
/// in ring 0 on Intel CPUs, on the user's stack) ends the program with a
/// `user-killed` record naming the reason, and the next program's frame is
/// checked in its turn.
pub fn to_ring3(frame: &mut TrapFrame) {
    loop {
        frame.cs = entry::USER_CS;
        frame.ss = entry::USER_SS;
        frame.rflags = (frame.rflags & entry::USER_FLAGS) | entry::FORCED_FLAGS;
        let reason = if !entry::canonical(frame.rip) {
            "noncanonical-rip"
        } else if !entry::canonical(frame.rsp) {
            "noncanonical-rsp"
        } else {
            return;
        };
        if SCHED.lock().current.is_none() {
            idle_forever("a ring-3 frame without a program");
        }
        let name = current_name();
        record(
            "user-killed",
            format_args!(
                "program={name} domain={} reason={reason} rip={:#x} rsp={:#x}",
                u8::from(current_is_domain()),
                frame.rip,
                frame.rsp
            ),
        );
        // The #GP the CPU would have raised.
        end_current(frame, Status::Killed(13));
    }
}

/// Whether the running program is a domain built from user level (its
/// records say `domain=1`: its name is its builder's word, not the
/// kernel's).
fn current_is_domain() -> bool {
    let s = SCHED.lock();
    s.current.is_some_and(|i| s.programs[i].disp.is_some())
}

/// The running program's name, for reports.
fn current_name() -> String {
    let s = SCHED.lock();
    s.current
        .map(|i| s.programs[i].name.clone())
        .unwrap_or_else(|| "?".into())
}

/// How many turns the running program lost to its time slice.
fn current_preempted() -> u64 {
    let s = SCHED.lock();
    s.current.map_or(0, |i| s.programs[i].preempted)
}

/// A CPU exception in ring 3: a system call the platform delivered without
/// entering ring 0, demand paging for the stack and heap, or the end of the
/// program with a report.
pub fn fault(frame: &mut TrapFrame) {
    let cr2 = x86_64::registers::control::Cr2::read_raw();
    let vector = frame.vector;
    if vector == 14 && syscall::undelivered(frame, cr2) {
        syscall::serve_undelivered(frame);
        return;
    }
    if vector == 14 && frame.error & 1 == 0 && demand_page(cr2) {
        return;
    }
    if upcall::enter(frame, cr2) {
        return;
    }
    kill(frame, vector, cr2);
}

/// Ends the running program for exception `vector` (`cr2`: the faulting
/// address of a page fault) in `frame`, with a report.
fn kill(frame: &mut TrapFrame, vector: u64, cr2: u64) {
    let name = current_name();
    fuzz_watch::report_recent();
    log::warn!(
        "program '{name}' killed: {} (vector {vector}) at rip {:#x}, error code {:#x}, cr2 {cr2:#x}",
        exception_name(vector),
        frame.rip,
        frame.error
    );
    record(
        "user-fault",
        format_args!(
            "program={name} domain={} vector={vector} rip={:#x} error={:#x} cr2={cr2:#x}",
            u8::from(current_is_domain()),
            frame.rip,
            frame.error
        ),
    );
    end_current(frame, Status::Killed(vector));
}

/// Maps a fresh page for a first touch of the stack or heap.
fn demand_page(addr: u64) -> bool {
    let stack = abi::STACK_TOP - abi::STACK_SIZE..abi::STACK_TOP;
    let heap = abi::HEAP_BASE..abi::HEAP_BASE + abi::HEAP_SIZE;
    if !stack.contains(&addr) && !heap.contains(&addr) {
        return false;
    }
    let mut s = SCHED.lock();
    let Some(i) = s.current else {
        return false;
    };
    if s.programs[i].space.is_vnode() {
        // A domain built from user level has only the pages its parent
        // mapped.
        return false;
    }
    let page = addr & !(abi::FRAME - 1);
    s.programs[i]
        .space
        .map_fresh(page, abi::FRAME, Access::Write)
        .is_ok()
}
