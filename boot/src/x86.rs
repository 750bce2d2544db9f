//! The first instructions of every core: the PVH entry of the boot core and
//! the real-mode trampoline of the others.
//!
//! # Boot core
//!
//! QEMU finds the PVH entry through an ELF note of type
//! `XEN_ELFNOTE_PHYS32_ENTRY` and jumps to `pvh_start32` in 32-bit protected
//! mode, paging off, with the physical address of `hvm_start_info` in `%ebx`.
//!
//! First it checks that the CPU can run the kernel at all: CPUID must exist
//! and have the extended leaf `0x8000_0001`, whose EDX must show long mode
//! (bit 29) and no-execute pages (bit 20). Turning either on in EFER
//! without it would raise #GP with no IDT, a silent triple fault. A CPU
//! that lacks one (`-cpu qemu64,-nx`, say) gets an `ERROR boot failed: ...`
//! line that names what is missing, written to COM1 (`0x3f8`, polled) from
//! 32-bit code, and the `fail` code on `isa-debug-exit` (`0xf4`); on a
//! machine without that device the core halts.
//!
//! Then the entry code builds the **boot page tables**: an identity map of the
//! first 64 GiB and a map of the first 1 GiB at [`KERNEL_VMA`], both with
//! 2 MiB pages. It turns on PAE, long mode, no-execute and paging, loads a
//! 64-bit GDT and calls the CPU driver's
//! `bsp_entry(start_info: u64, boot_tsc: u64)` on the boot stack.
//!
//! # Other cores
//!
//! The boot core copies the trampoline to [`TRAMPOLINE_PHYS`] and patches the
//! address and length of the AP lookup table into it (see
//! [`crate::handoff`]). A start-up IPI with vector `TRAMPOLINE_PHYS >> 12`
//! starts a core in real mode there. The trampoline enters protected mode,
//! then long mode on the boot page tables, and jumps to `ap_start64`, which
//! reads the core's APIC id, finds its lookup record, records
//! [`crate::handoff::Stage::LongMode`] in the core's report, switches to the
//! core's early stack and calls `ap_entry(params: u64)`.
//!
//! # No shared writes
//!
//! The boot page tables and the trampoline's GDT are written only by the boot
//! core, before any other core starts. Their entries are created with the
//! accessed and dirty bits already set, so that the processor's page walker
//! and segment loads never write them either.
//!
//! None of the early code may touch a kernel `static`: the writable-data
//! window is not mapped until a core has built its own page tables.

/// Virtual base of the kernel image: physical address `p` of the image is
/// mapped at `KERNEL_VMA + p`.
pub const KERNEL_VMA: u64 = 0xffff_ffff_8000_0000;

/// Physical address the AP trampoline is copied to (vector 0x08).
pub const TRAMPOLINE_PHYS: u64 = 0x8000;

/// How much physical memory the boot page tables identity-map.
pub const BOOT_IDENTITY_LIMIT: u64 = 64 << 30;

#[cfg(target_os = "none")]
mod asm {
    use crate::handoff::{BootParams, Report};
    use crate::protocol::{ExitCode, ISA_DEBUG_EXIT_PORT};
    use core::mem::offset_of;

    core::arch::global_asm!(
        r#"
    /* PAE, the boot page tables, long mode and no-execute, then paging. */
    .macro enter_long_mode
    mov %cr4, %eax
    or $0x20, %eax
    mov %eax, %cr4
    mov $boot_pml4, %eax
    mov %eax, %cr3
    mov $0xc0000080, %ecx
    rdmsr
    or $0x900, %eax
    wrmsr
    mov %cr0, %eax
    or $0x80010000, %eax
    mov %eax, %cr0
    .endm

    /* Flat data segments (GDT selector 0x10), null FS and GS. */
    .macro load_data_segments
    mov $0x10, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    xor %eax, %eax
    mov %ax, %fs
    mov %ax, %gs
    .endm

    .section .note.Xen, "a", @note
    .balign 4
    .long 4
    .long 8
    .long 18
    .asciz "Xen"
    .balign 4
    .quad pvh_start32
    .balign 4

    .section .boot.text, "ax"
    .code32
    .global pvh_start32
pvh_start32:
    cli
    cld
    mov %ebx, %esi
    rdtsc
    mov %eax, %edi
    mov %edx, %ebp
    mov $boot_stack_top, %esp

    /* CPUID exists when EFLAGS.ID can be flipped. */
    pushfl
    pop %eax
    mov %eax, %ecx
    xor $0x200000, %eax
    push %eax
    popfl
    pushfl
    pop %eax
    push %ecx
    popfl
    xor %ecx, %eax
    mov $boot_no_cpuid, %ebx
    test $0x200000, %eax
    jz cpu_refused
    /* The extended leaf, then long mode and no-execute in its EDX. */
    mov $0x80000000, %eax
    cpuid
    mov $boot_no_leaf, %ebx
    cmp $0x80000001, %eax
    jb cpu_refused
    mov $0x80000001, %eax
    cpuid
    mov $boot_no_long_mode, %ebx
    test $(1 << 29), %edx
    jz cpu_refused
    mov $boot_no_nx, %ebx
    test $(1 << 20), %edx
    jz cpu_refused

    /* Clear the PML4 and both PDPTs (three consecutive pages). */
    push %edi
    mov $boot_pml4, %edi
    xor %eax, %eax
    mov $(3 * 1024), %ecx
    rep stosl
    pop %edi

    /* Page directories: 2 MiB pages, present, writable, accessed, dirty. */
    xor %ecx, %ecx
1:
    mov %ecx, %eax
    shl $21, %eax
    or $0xe3, %eax
    mov %ecx, %edx
    shr $11, %edx
    mov %eax, boot_pd(, %ecx, 8)
    mov %edx, boot_pd + 4(, %ecx, 8)
    inc %ecx
    cmp $({pd_entries}), %ecx
    jb 1b

    /* Low PDPT: one directory per GiB, present, writable, accessed. */
    xor %ecx, %ecx
2:
    mov %ecx, %eax
    shl $12, %eax
    add $boot_pd, %eax
    or $0x23, %eax
    mov %eax, boot_pdpt_low(, %ecx, 8)
    movl $0, boot_pdpt_low + 4(, %ecx, 8)
    inc %ecx
    cmp $({gib}), %ecx
    jb 2b

    /* KERNEL_VMA maps the first GiB: PML4[511] -> PDPT_HIGH[510] -> PD 0. */
    mov $boot_pd, %eax
    or $0x23, %eax
    mov %eax, boot_pdpt_high + 510 * 8
    mov $boot_pdpt_low, %eax
    or $0x23, %eax
    mov %eax, boot_pml4
    mov $boot_pdpt_high, %eax
    or $0x23, %eax
    mov %eax, boot_pml4 + 511 * 8

    enter_long_mode
    lgdt boot_gdtr
    ljmp $0x08, $pvh_start64

    .code64
pvh_start64:
    load_data_segments
    mov %edi, %eax
    shl $32, %rbp
    or %rax, %rbp
    mov %esi, %edi
    mov %rbp, %rsi
    xor %ebp, %ebp
    movabs $bsp_entry, %rax
    call *%rax
3:
    cli
    hlt
    jmp 3b

    .code32
    /* Prints the line for the reason at %ebx on COM1, then ends the run
       with the fail code, or halts where there is no exit device. */
cpu_refused:
    mov $boot_refused, %esi
    call serial_puts32
    mov %ebx, %esi
    call serial_puts32
    mov $boot_needs, %esi
    call serial_puts32
    mov ${fail}, %al
    mov ${exit_port}, %dx
    outb %al, %dx
4:
    cli
    hlt
    jmp 4b

    /* Writes the NUL-terminated string at %esi to COM1, polling the line
       status register (a bounded wait per byte). Clobbers eax, ecx, edx. */
serial_puts32:
1:
    lodsb
    test %al, %al
    jz 3f
    mov %al, %ah
    mov $0x3fd, %dx
    mov $1000000, %ecx
2:
    inb %dx, %al
    test $0x20, %al
    jnz 5f
    loop 2b
5:
    mov %ah, %al
    mov $0x3f8, %dx
    outb %al, %dx
    jmp 1b
3:
    ret

    .section .boot.data, "a"
boot_refused:
    .asciz "[core 0] ERROR boot failed: "
boot_no_cpuid:
    .asciz "the CPU has no CPUID instruction"
boot_no_leaf:
    .asciz "the CPU has no CPUID leaf 0x80000001, so no long mode"
boot_no_long_mode:
    .asciz "the CPU has no long mode (CPUID 0x80000001 EDX bit 29)"
boot_no_nx:
    .asciz "the CPU has no no-execute pages (NX, CPUID 0x80000001 EDX bit 20)"
boot_needs:
    .asciz "; Flotilla needs an x86_64 CPU with long mode and no-execute pages\n"
    .balign 16
boot_gdt:
    .quad 0
    .quad 0x00af9b000000ffff
    .quad 0x00cf93000000ffff
boot_gdt_end:
    .balign 16
boot_gdtr:
    .word boot_gdt_end - boot_gdt - 1
    .long boot_gdt

    .section .boot.bss, "aw", @nobits
    .balign 4096
    .global boot_pml4
boot_pml4:
    .skip 4096
boot_pdpt_low:
    .skip 4096
boot_pdpt_high:
    .skip 4096
boot_pd:
    .skip {pd_entries} * 8
boot_stack:
    .skip 65536
boot_stack_top:

    .section .rodata.ap_trampoline, "a"
    .code16
    .balign 16
    .global ap_trampoline_start
    .global ap_trampoline_end
    .global ap_trampoline_table
    .global ap_trampoline_entries
ap_trampoline_start:
    cli
    cld
    mov %cs, %ax
    mov %ax, %ds
    lgdtl ap_trampoline_gdtr - ap_trampoline_start
    mov %cr0, %eax
    or $1, %eax
    mov %eax, %cr0
    ljmpl $0x08, $(ap_trampoline_32 - ap_trampoline_start + {tramp})

    .code32
ap_trampoline_32:
    mov $0x10, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    enter_long_mode
    ljmp $0x18, $(ap_trampoline_64 - ap_trampoline_start + {tramp})

    .code64
ap_trampoline_64:
    movabs $ap_start64, %rax
    jmp *%rax

    .balign 16
ap_trampoline_gdt:
    .quad 0
    .quad 0x00cf9b000000ffff
    .quad 0x00cf93000000ffff
    .quad 0x00af9b000000ffff
ap_trampoline_gdt_end:
ap_trampoline_gdtr:
    .word ap_trampoline_gdt_end - ap_trampoline_gdt - 1
    .long ap_trampoline_gdt - ap_trampoline_start + {tramp}
    .balign 8
ap_trampoline_table:
    .quad 0
ap_trampoline_entries:
    .quad 0
ap_trampoline_end:

    .section .text.ap_start64, "ax"
    .code64
ap_start64:
    load_data_segments
    /* The APIC id: CPUID leaf 0xb (x2APIC id) where it exists, else leaf 1. */
    xor %eax, %eax
    cpuid
    cmp $0xb, %eax
    jb 1f
    mov $0xb, %eax
    xor %ecx, %ecx
    cpuid
    mov %edx, %r8d
    jmp 2f
1:
    mov $1, %eax
    cpuid
    shr $24, %ebx
    mov %ebx, %r8d
2:
    mov ap_trampoline_table - ap_trampoline_start + {tramp}, %rsi
    mov ap_trampoline_entries - ap_trampoline_start + {tramp}, %rcx
3:
    test %rcx, %rcx
    jz 5f
    cmp %r8d, (%rsi)
    je 4f
    add $32, %rsi
    dec %rcx
    jmp 3b
4:
    mov 16(%rsi), %rsp
    mov 8(%rsi), %rdi
    movl $1, {stage}(%rdi)
    xor %ebp, %ebp
    movabs $ap_entry, %rax
    call *%rax
5:
    cli
    hlt
    jmp 5b
"#,
        pd_entries = const (super::BOOT_IDENTITY_LIMIT >> 21),
        gib = const (super::BOOT_IDENTITY_LIMIT >> 30),
        tramp = const super::TRAMPOLINE_PHYS,
        stage = const (offset_of!(BootParams, report) + offset_of!(Report, stage)),
        fail = const ExitCode::Fail.guest_value(),
        exit_port = const ISA_DEBUG_EXIT_PORT,
        options(att_syntax)
    );

    unsafe extern "C" {
        static ap_trampoline_start: u8;
        static ap_trampoline_end: u8;
        static ap_trampoline_table: u8;
        static ap_trampoline_entries: u8;
    }

    /// The trampoline's code and data, to be copied to
    /// [`super::TRAMPOLINE_PHYS`].
    pub fn trampoline_image() -> &'static [u8] {
        let start = &raw const ap_trampoline_start;
        let end = &raw const ap_trampoline_end;
        // SAFETY: both symbols delimit the read-only trampoline section
        // emitted above, which is part of the kernel image and never written.
        unsafe { core::slice::from_raw_parts(start, end as usize - start as usize) }
    }

    /// Offsets, inside the trampoline image, of the two words the boot core
    /// patches: the physical address of the AP lookup table and its length.
    pub fn trampoline_patch_offsets() -> (usize, usize) {
        let start = &raw const ap_trampoline_start as usize;
        (
            &raw const ap_trampoline_table as usize - start,
            &raw const ap_trampoline_entries as usize - start,
        )
    }
}

#[cfg(target_os = "none")]
pub use asm::{trampoline_image, trampoline_patch_offsets};
