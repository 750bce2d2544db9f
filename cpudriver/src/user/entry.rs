//! The ring-3 boundary in assembly: `syscall` entry, the return to ring 3,
//! and the first entry of a program.
//!
//! Every core maps its own kernel stack at the same address and its own
//! writable data at the same address, so the entry needs no per-core base
//! register: it parks the user stack pointer in a (per-core) static, moves
//! to the top of the (per-core) kernel stack and builds a [`TrapFrame`]
//! there, exactly as an interrupt from ring 3 would. The CPU driver is not
//! preemptible and user entries never nest, so the kernel stack is empty
//! whenever ring 3 runs.
//!
//! Returning: a frame that came from `syscall` leaves with `sysretq`
//! (rcx and r11 are clobbered, as the instruction's contract says); any
//! other frame (an interrupted program being resumed) leaves with `iretq`,
//! which restores every register.

use core::sync::atomic::AtomicU64;

use crate::arch::trap::{TrapFrame, pop_registers, push_registers};
use crate::layout::Stack;

/// The pseudo-vector that marks a frame built by `syscall` entry.
pub const SYSCALL_VECTOR: u64 = 0x100;
/// Ring-3 code selector (GDT index 4, RPL 3).
pub const USER_CS: u64 = 0x23;
/// Ring-3 stack selector (GDT index 3, RPL 3).
pub const USER_SS: u64 = 0x1b;

/// The RFLAGS bits a program may set for itself: the arithmetic flags,
/// direction, alignment check and ID. Every other bit (trap, IOPL, nested
/// task, resume, virtual-8086, virtual interrupts) is cleared on every
/// return to ring 3, and the interrupt flag and the reserved bit 1 are
/// always set.
pub const USER_FLAGS: u64 = (1 << 0) // CF
    | (1 << 2) // PF
    | (1 << 4) // AF
    | (1 << 6) // ZF
    | (1 << 7) // SF
    | (1 << 10) // DF
    | (1 << 11) // OF
    | (1 << 18) // AC
    | (1 << 21); // ID
/// The RFLAGS bits every return to ring 3 sets: IF and the reserved bit 1.
pub const FORCED_FLAGS: u64 = (1 << 9) | (1 << 1);

/// Whether `va` is a canonical address (bits 63..47 all equal): SYSRET and
/// IRETQ to a non-canonical RIP raise #GP in ring 0 on some CPUs.
pub const fn canonical(va: u64) -> bool {
    ((va as i64) << 16 >> 16) as u64 == va
}

/// The user stack pointer between `syscall` and the frame push.
#[unsafe(no_mangle)]
static SYSCALL_USER_RSP: AtomicU64 = AtomicU64::new(0);

core::arch::global_asm!(
    concat!(
        r#"
    .section .text.user_entry, "ax"
    .global syscall_entry
syscall_entry:
    mov %rsp, SYSCALL_USER_RSP(%rip)
    movabs ${kstack}, %rsp
    pushq ${ss}
    pushq SYSCALL_USER_RSP(%rip)
    push %r11
    pushq ${cs}
    push %rcx
    pushq $0
    pushq ${vector}
"#,
        push_registers!(),
        r#"
    mov %rsp, %rdi
    cld
    call syscall_dispatch
    jmp user_return

    .global user_return
user_return:
    cmpq ${vector}, 120(%rsp)
    jne 1f
"#,
        pop_registers!(),
        r#"
    mov 16(%rsp), %rcx
    mov 32(%rsp), %r11
    mov 40(%rsp), %rsp
    sysretq
1:
"#,
        pop_registers!(),
        r#"
    add $16, %rsp
    iretq

    .global enter_user
enter_user:
    movabs ${kstack}, %rsp
    sub ${frame}, %rsp
    mov %rdi, %rsi
    mov %rsp, %rdi
    mov ${words}, %ecx
    rep movsq
    jmp user_return
"#
    ),
    kstack = const Stack::Kernel.top(),
    ss = const USER_SS,
    cs = const USER_CS,
    vector = const SYSCALL_VECTOR,
    frame = const core::mem::size_of::<TrapFrame>(),
    words = const core::mem::size_of::<TrapFrame>() / 8,
    options(att_syntax)
);

unsafe extern "C" {
    fn syscall_entry();
    fn enter_user(frame: *const TrapFrame) -> !;
}

/// The address SYSCALL jumps to: `abi::SYSCALL_ENTRY`, where the link
/// map puts it (the kernel hides no address; no security rests on it).
pub fn syscall_entry_address() -> u64 {
    syscall_entry as *const () as u64
}

/// Programs the SYSCALL MSRs of this core and notes whether it runs under
/// a hypervisor (reported to programs).
pub fn init(hypervisor: bool) {
    super::HYPERVISOR.store(hypervisor, core::sync::atomic::Ordering::Relaxed);
    use x86_64::VirtAddr;
    use x86_64::registers::model_specific::{Efer, EferFlags, LStar, SFMask, Star};
    use x86_64::registers::rflags::RFlags;

    let sel = crate::arch::gdt::selectors();
    Star::write(
        sel.user_code,
        sel.user_data,
        sel.kernel_code,
        sel.kernel_data,
    )
    .expect("the GDT orders its segments as SYSCALL and SYSRET require");
    if syscall_entry_address() != abi::SYSCALL_ENTRY {
        log::warn!(
            "the system-call entry is at {:#x}, not at abi::SYSCALL_ENTRY ({:#x}): the link map changed",
            syscall_entry_address(),
            abi::SYSCALL_ENTRY
        );
    }
    LStar::write(VirtAddr::new(syscall_entry as *const () as u64));
    // Interrupts stay off in the kernel; direction, trap, alignment-check
    // and nested-task flags are cleared on entry (with NT set, the kernel's
    // own IRETQ would raise #GP in ring 0).
    SFMask::write(
        RFlags::INTERRUPT_FLAG
            | RFlags::DIRECTION_FLAG
            | RFlags::TRAP_FLAG
            | RFlags::ALIGNMENT_CHECK
            | RFlags::NESTED_TASK,
    );
    // SAFETY: enabling SYSCALL/SYSRET after LSTAR, STAR and SFMASK hold the
    // kernel's entry point and selectors.
    unsafe { Efer::update(|f| f.insert(EferFlags::SYSTEM_CALL_EXTENSIONS)) };
}

/// Starts ring-3 execution with `frame`, abandoning the kernel stack.
///
/// `frame` must not live on the kernel stack (it is copied to the stack top).
pub fn start(frame: &TrapFrame) -> ! {
    // SAFETY: `frame` describes a ring-3 context of the live address space
    // (checked by the scheduler); `enter_user` copies it before it resets
    // the kernel stack, and the kernel keeps no state on that stack.
    unsafe { enter_user(frame) }
}
