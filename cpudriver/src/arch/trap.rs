//! Trap entry: one assembly stub per vector, a common register save, and the
//! IDT that points at the stubs.
//!
//! Stable Rust has no `x86-interrupt` calling convention, so each vector has
//! a 16-byte stub that pushes a zero error code (where the CPU pushes none)
//! and its vector number, then jumps to `trap_common`, which saves the
//! general-purpose registers into a [`TrapFrame`] and calls
//! [`trap_dispatch`]. The NMI, double-fault and machine-check vectors run on
//! their own IST stacks.

use spin::Once;
use x86_64::VirtAddr;
use x86_64::structures::idt::InterruptDescriptorTable;

use super::gdt::{IST_DOUBLE_FAULT, IST_MACHINE_CHECK, IST_NMI};

/// Vector of the local APIC timer.
pub const TIMER_VECTOR: u8 = 0x40;
/// Vector of the notification IPI one core sends another.
pub const NOTIFY_VECTOR: u8 = 0x41;
/// The local APIC's spurious-interrupt vector.
pub const SPURIOUS_VECTOR: u8 = 0xff;

/// The registers saved on trap entry, lowest address first.
#[derive(Debug)]
#[repr(C)]
#[allow(missing_docs)]
pub struct TrapFrame {
    pub r15: u64,
    pub r14: u64,
    pub r13: u64,
    pub r12: u64,
    pub r11: u64,
    pub r10: u64,
    pub r9: u64,
    pub r8: u64,
    pub rbp: u64,
    pub rdi: u64,
    pub rsi: u64,
    pub rdx: u64,
    pub rcx: u64,
    pub rbx: u64,
    pub rax: u64,
    /// The vector number, pushed by the stub.
    pub vector: u64,
    /// The CPU's error code, or 0 for vectors without one.
    pub error: u64,
    pub rip: u64,
    pub cs: u64,
    pub rflags: u64,
    pub rsp: u64,
    pub ss: u64,
}

const _: () = assert!(core::mem::size_of::<TrapFrame>().is_multiple_of(16));

/// Whether the CPU pushes an error code for `vector`.
const fn has_error_code(vector: u8) -> bool {
    matches!(vector, 8 | 10..=14 | 17 | 21 | 29 | 30)
}

/// Assembly that pushes the general-purpose registers in [`TrapFrame`]
/// order (the last pushed, `r15`, at the lowest address).
macro_rules! push_registers {
    () => {
        "push %rax; push %rbx; push %rcx; push %rdx; push %rsi; push %rdi; push %rbp; push %r8; push %r9; push %r10; push %r11; push %r12; push %r13; push %r14; push %r15\n"
    };
}

/// Assembly that pops what [`push_registers`] pushed.
macro_rules! pop_registers {
    () => {
        "pop %r15; pop %r14; pop %r13; pop %r12; pop %r11; pop %r10; pop %r9; pop %r8; pop %rbp; pop %rdi; pop %rsi; pop %rdx; pop %rcx; pop %rbx; pop %rax\n"
    };
}

pub(crate) use {pop_registers, push_registers};

core::arch::global_asm!(
    concat!(
        r#"
    .section .text.trap_stubs, "ax"
    .balign 16
    .global trap_stubs
trap_stubs:
    .set vec, 0
    .rept 256
    .balign 16
    .if (vec == 8) || ((vec >= 10) && (vec <= 14)) || (vec == 17) || (vec == 21) || (vec == 29) || (vec == 30)
    .else
    pushq $0
    .endif
    pushq $vec
    jmp trap_common
    .set vec, vec + 1
    .endr

trap_common:
"#,
        push_registers!(),
        r#"
    mov %rsp, %rdi
    cld
    call trap_dispatch
"#,
        pop_registers!(),
        r#"
    add $16, %rsp
    iretq
"#
    ),
    options(att_syntax)
);

unsafe extern "C" {
    static trap_stubs: u8;
}

fn stub(vector: u8) -> VirtAddr {
    VirtAddr::new(&raw const trap_stubs as u64 + 16 * u64::from(vector))
}

static IDT: Once<InterruptDescriptorTable> = Once::new();

fn build() -> InterruptDescriptorTable {
    let mut idt = InterruptDescriptorTable::new();
    // SAFETY: for every `set_handler_addr` below, the address is the stub
    // of that very vector, which saves the full register state, handles the
    // error code as the CPU pushes it and returns with IRETQ.
    unsafe {
        idt.double_fault
            .set_handler_addr(stub(8))
            .set_stack_index(IST_DOUBLE_FAULT);
        idt.invalid_tss.set_handler_addr(stub(10));
        idt.segment_not_present.set_handler_addr(stub(11));
        idt.stack_segment_fault.set_handler_addr(stub(12));
        idt.general_protection_fault.set_handler_addr(stub(13));
        idt.page_fault.set_handler_addr(stub(14));
        idt.alignment_check.set_handler_addr(stub(17));
        idt.machine_check
            .set_handler_addr(stub(18))
            .set_stack_index(IST_MACHINE_CHECK);
        idt.cp_protection_exception.set_handler_addr(stub(21));
        idt.vmm_communication_exception.set_handler_addr(stub(29));
        idt.security_exception.set_handler_addr(stub(30));
        for vector in 0..=255u8 {
            let reserved = matches!(vector, 9 | 15 | 22..=27 | 31);
            if has_error_code(vector) || vector == 18 || reserved {
                continue;
            }
            let options = idt[vector].set_handler_addr(stub(vector));
            if vector == 2 {
                options.set_stack_index(IST_NMI);
            }
        }
    }
    idt
}

/// Builds (once per core) and loads this core's IDT.
pub fn init() {
    IDT.call_once(build).load();
}

/// Called by `trap_common` with interrupts disabled.
#[unsafe(no_mangle)]
extern "C" fn trap_dispatch(frame: &mut TrapFrame) {
    match frame.vector {
        0..32 if frame.cs & 3 == 3 => crate::user::fault(frame),
        0..32 => crate::fault::exception(frame),
        v if v == u64::from(TIMER_VECTOR) => {
            crate::irq::timer();
            super::apic::eoi();
            if frame.cs & 3 == 3 {
                crate::user::preempt(frame);
            }
        }
        v if v == u64::from(NOTIFY_VECTOR) => {
            crate::irq::notify();
            super::apic::eoi();
        }
        v if v == u64::from(SPURIOUS_VECTOR) => {}
        v => {
            crate::irq::unexpected(v);
            super::apic::eoi();
        }
    }
    if frame.cs & 3 == 3 {
        crate::user::to_ring3(frame);
    }
}

/// The name of an exception vector.
pub fn exception_name(vector: u64) -> &'static str {
    match vector {
        0 => "divide error",
        1 => "debug",
        2 => "non-maskable interrupt",
        3 => "breakpoint",
        4 => "overflow",
        5 => "bound range exceeded",
        6 => "invalid opcode",
        7 => "device not available",
        8 => "double fault",
        10 => "invalid TSS",
        11 => "segment not present",
        12 => "stack-segment fault",
        13 => "general protection fault",
        14 => "page fault",
        16 => "x87 floating-point error",
        17 => "alignment check",
        18 => "machine check",
        19 => "SIMD floating-point error",
        20 => "virtualisation exception",
        21 => "control-protection exception",
        28 => "hypervisor injection exception",
        29 => "VMM communication exception",
        30 => "security exception",
        _ => "reserved exception",
    }
}
