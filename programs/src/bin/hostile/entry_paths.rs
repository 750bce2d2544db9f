//! Attacks on the ring-3 entry and return paths, each made from inside a
//! domain: a return to a non-canonical RIP, a forged "system call that never
//! reached ring 0", the nested-task flag, a non-canonical stack pointer and
//! an exception handler's stack at the end of the user half.

use core::sync::atomic::AtomicU64;

use abi::cap::{CPtr, rights, slot, ty};
use abi::{Error, SysError, number};
use services::platforms::ring3::checks::Checks;
use services::platforms::ring3::{record, sys};

use crate::domain::{GIVEN_RAM, GIVEN_TOP_PDPT};

/// Where the page the return-to-non-canonical attack runs from is mapped
/// executable: the last page of the user half.
const TOP_PAGE: u64 = 0x7fff_ffff_f000;
/// Where the same frame is mapped writable, the page below.
const TOP_PAGE_RW: u64 = TOP_PAGE - abi::FRAME;
/// An address no domain maps (between the capability window and the stack).
const UNMAPPED: u64 = 0x5000_0000_0000;

fn l1(i: u32) -> CPtr {
    CPtr::l1(i)
}

/// Each step must succeed; false (after its failed check) otherwise.
fn step(c: &mut Checks, name: &str, got: Result<(), Error>) -> bool {
    c.check(name, None, got).is_some()
}

/// Maps one page of code at the last page of the user half, whose last
/// instruction is a `syscall`, and runs it: the call returns to
/// `0x8000_0000_0000`, which is not canonical. The kernel must end the
/// domain (`user-killed reason=noncanonical-rip`) rather than SYSRET there.
pub fn sysret(c: &mut Checks) {
    let root = l1(slot::ROOT_CNODE);
    let rw = rights::READ | rights::WRITE;
    let make =
        |k: u32, t: u8, size: u64, at: u32| sys::cap_retype(l1(20 + k), t, 0, size, 1, root, at);
    let ok = step(
        c,
        "retype-pieces",
        sys::cap_retype(l1(GIVEN_RAM), ty::RAM, 0, 64 << 10, 4, root, 20),
    ) && step(c, "make-a-pd", make(1, ty::PD, 0, 31))
        && step(c, "make-a-pt", make(2, ty::PT, 0, 32))
        && step(c, "make-a-frame", make(3, ty::FRAME, abi::FRAME, 33))
        && step(c, "copy-the-frame", sys::cap_copy(l1(33), root, 34))
        && step(
            c,
            "map-the-pd",
            sys::vnode_map(l1(GIVEN_TOP_PDPT), 511, l1(31), rw, 0, 1),
        )
        && step(
            c,
            "map-the-pt",
            sys::vnode_map(l1(31), 511, l1(32), rw, 0, 1),
        )
        && step(
            c,
            "map-the-frame-writable",
            sys::vnode_map(l1(32), 510, l1(34), rw, 0, 1),
        )
        && step(
            c,
            "map-the-frame-executable",
            sys::vnode_map(l1(32), 511, l1(33), rights::READ | rights::EXECUTE, 0, 1),
        );
    if !ok {
        return;
    }
    // NOPs, then `mov $0xffff, %eax` (no such call) and `syscall` as the
    // last two bytes of the user half.
    let tail: [u8; 7] = [0xb8, 0xff, 0xff, 0x00, 0x00, 0x0f, 0x05];
    let page = TOP_PAGE_RW as *mut u8;
    let at = abi::FRAME as usize - tail.len();
    // SAFETY: the frame was just mapped writable at `TOP_PAGE_RW`, in this
    // domain's own address space, and nothing else uses it.
    unsafe {
        core::ptr::write_bytes(page, 0x90, at);
        core::ptr::copy_nonoverlapping(tail.as_ptr(), page.add(at), tail.len());
    }
    record(
        "hostile-step",
        format_args!("attack=sysret jump={TOP_PAGE:#x} returns-to=0x800000000000"),
    );
    // SAFETY: the page holds the code written above, mapped executable; it
    // never returns here (the kernel must end the domain).
    unsafe {
        core::arch::asm!("jmp *{0}", in(reg) TOP_PAGE, options(noreturn, att_syntax));
    }
}

/// Jumps to the kernel's `syscall` entry from ring 3 with R11 = `0x3002`
/// (IOPL 3, interrupts off) and RCX just after a `syscall` instruction of
/// its own, as if SYSCALL had not reached ring 0. Then it writes the pass
/// code to the exit port: with IOPL 3 that would end the run with a pass.
/// The kernel must serve the call with the domain's own flags only, so the
/// port write raises #GP and ends the domain.
pub fn forged_entry(c: &mut Checks) {
    record(
        "hostile-step",
        format_args!("attack=forged-entry entry={:#x}", abi::SYSCALL_ENTRY),
    );
    // SAFETY: the jump to the kernel's entry faults as a ring-3 fetch of a
    // kernel page; the kernel then returns to label 2 with the result of a
    // `Yield` in rax and rdx (rcx and r11 clobbered). The port write either
    // faults (the kernel ends the domain) or, were IOPL 3 in force, ends
    // the run.
    unsafe {
        core::arch::asm!(
            "lea 2f(%rip), %rcx",
            "mov $0x3002, %r11d",
            "mov ${yield_}, %eax",
            "jmp *%rsi",
            "syscall",
            "2:",
            "mov $0xf4, %dx",
            "mov $0x10, %al",
            "out %al, %dx",
            yield_ = const number::YIELD,
            in("rsi") abi::SYSCALL_ENTRY,
            out("rax") _,
            out("rcx") _,
            out("rdx") _,
            out("r11") _,
            options(att_syntax),
        );
    }
    // Only with IOPL 3 (and no exit device at the port) does it get here.
    c.holds("port-io-refused", false);
}

/// Times the nested-task handler was entered.
#[unsafe(no_mangle)]
static HOSTILE_NT_ENTRIES: AtomicU64 = AtomicU64::new(0);

/// The handler's stack.
#[repr(C, align(16))]
struct Stack([u8; 8192]);
static mut NT_STACK: Stack = Stack([0; 8192]);

core::arch::global_asm!(
    r#"
    .section .text.hostile_nt_handler, "ax"
    .global hostile_nt_handler
hostile_nt_handler:
    lock incq HOSTILE_NT_ENTRIES(%rip)
    cmpq $1, HOSTILE_NT_ENTRIES(%rip)
    jne 1f
    pushfq
    orq $0x4000, (%rsp)
    popfq
    xor %edi, %edi
    jmp 2f
1:
    mov $1, %edi
2:
    mov ${resume}, %eax
    xor %esi, %esi
    xor %edx, %edx
    xor %r10d, %r10d
    xor %r8d, %r8d
    xor %r9d, %r9d
    syscall
    ud2
"#,
    resume = const number::FAULT_RESUME,
    options(att_syntax)
);

unsafe extern "C" {
    fn hostile_nt_handler();
}

/// Registers an exception handler that sets the nested-task flag and then
/// resumes the faulting instruction with `FaultResume`, whose return is an
/// IRETQ: with NT set in the kernel, that IRETQ would raise #GP in ring 0.
/// The second time it gives up, so the domain ends with the page fault.
pub fn nt_flag(c: &mut Checks) {
    let stack = (&raw const NT_STACK as u64) + core::mem::size_of::<Stack>() as u64;
    if !step(
        c,
        "register-the-handler",
        sys::fault_handler(hostile_nt_handler as *const () as u64, stack),
    ) {
        return;
    }
    record(
        "hostile-step",
        format_args!("attack=nt-flag touch={UNMAPPED:#x}"),
    );
    // SAFETY: a read of an unmapped user address: the fault goes to the
    // handler above, which ends the domain the second time.
    let _ = unsafe { core::ptr::read_volatile(UNMAPPED as *const u64) };
    c.holds("resumed-after-an-unmapped-read", false);
}

/// Makes a system call with a non-canonical stack pointer: the kernel must
/// end the domain (`user-killed reason=noncanonical-rsp`) rather than
/// return to ring 3 with it.
pub fn bad_rsp(c: &mut Checks) {
    record(
        "hostile-step",
        format_args!("attack=bad-rsp rsp=0x800000001000"),
    );
    // SAFETY: the stack pointer is saved in r12 and restored after the
    // call; nothing touches the stack in between.
    unsafe {
        core::arch::asm!(
            "mov %rsp, %r12",
            "movabs $0x800000001000, %rsp",
            "mov ${yield_}, %eax",
            "syscall",
            "mov %r12, %rsp",
            yield_ = const number::YIELD,
            out("r12") _,
            out("rax") _,
            out("rcx") _,
            out("rdx") _,
            out("r11") _,
            options(att_syntax),
        );
    }
    c.holds("returned-with-a-non-canonical-stack", false);
}

/// Asks for an exception handler and a run upcall whose stack top is the
/// end of the user half (a non-canonical stack pointer): both must be
/// refused; the last 16-byte aligned stack below it is accepted.
pub fn handler_stack(c: &mut Checks) {
    let end = 0x8000_0000_0000u64;
    let entry = hostile_nt_handler as *const () as u64;
    let bad = Some(Error::Sys(SysError::BadPointer));
    c.check(
        "fault-handler-stack-at-the-user-end",
        bad,
        sys::fault_handler(entry, end),
    );
    c.check(
        "run-upcall-stack-at-the-user-end",
        bad,
        sys::dispatcher_upcall(entry, end),
    );
    c.check(
        "fault-handler-stack-below-the-user-end",
        None,
        sys::fault_handler(entry, end - 16),
    );
    c.check("remove-the-handler", None, sys::fault_handler(0, 0));
}
