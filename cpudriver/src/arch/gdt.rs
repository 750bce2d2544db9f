//! The core's GDT and TSS.
//!
//! Both live in the core's own writable-data window, so each core loads its
//! own. The TSS gives the NMI, double-fault and machine-check handlers their
//! own stacks, so that they run even when the kernel stack is unusable, and
//! gives interrupts from ring 3 the kernel stack.
//!
//! The order of the segments is the one SYSCALL and SYSRET require: kernel
//! code, kernel data, then user data and user code.

use spin::Once;
use x86_64::VirtAddr;
use x86_64::instructions::segmentation::{CS, DS, ES, SS, Segment};
use x86_64::instructions::tables::load_tss;
use x86_64::registers::segmentation::SegmentSelector;
use x86_64::structures::gdt::{Descriptor, GlobalDescriptorTable};
use x86_64::structures::tss::TaskStateSegment;

use crate::layout::Stack;

/// IST slot of the NMI handler's stack (1-based in hardware terms, 0-based
/// here as the `x86_64` crate counts).
pub const IST_NMI: u16 = 0;
/// IST slot of the double-fault handler's stack.
pub const IST_DOUBLE_FAULT: u16 = 1;
/// IST slot of the machine-check handler's stack.
pub const IST_MACHINE_CHECK: u16 = 2;

/// Segment selectors of the core's GDT.
#[derive(Clone, Copy, Debug)]
pub struct Selectors {
    /// Kernel code.
    pub kernel_code: SegmentSelector,
    /// Kernel data.
    pub kernel_data: SegmentSelector,
    /// User data (ring 3).
    pub user_data: SegmentSelector,
    /// User code (ring 3).
    pub user_code: SegmentSelector,
    /// The TSS.
    pub tss: SegmentSelector,
}

static TSS: Once<TaskStateSegment> = Once::new();
static GDT: Once<(GlobalDescriptorTable, Selectors)> = Once::new();

/// This core's selectors.
pub fn selectors() -> Selectors {
    GDT.get().expect("GDT used before it was loaded").1
}

/// Builds and loads this core's GDT and TSS.
pub fn init() {
    let tss = TSS.call_once(|| {
        let mut tss = TaskStateSegment::new();
        tss.interrupt_stack_table[IST_NMI as usize] = VirtAddr::new(Stack::Nmi.top());
        tss.interrupt_stack_table[IST_DOUBLE_FAULT as usize] =
            VirtAddr::new(Stack::DoubleFault.top());
        tss.interrupt_stack_table[IST_MACHINE_CHECK as usize] =
            VirtAddr::new(Stack::MachineCheck.top());
        tss.privilege_stack_table[0] = VirtAddr::new(Stack::Kernel.top());
        tss
    });
    let (gdt, sel) = GDT.call_once(|| {
        let mut gdt = GlobalDescriptorTable::new();
        let kernel_code = gdt.append(Descriptor::kernel_code_segment());
        let kernel_data = gdt.append(Descriptor::kernel_data_segment());
        let user_data = gdt.append(Descriptor::user_data_segment());
        let user_code = gdt.append(Descriptor::user_code_segment());
        let tss = gdt.append(Descriptor::tss_segment(tss));
        (
            gdt,
            Selectors {
                kernel_code,
                kernel_data,
                user_data,
                user_code,
                tss,
            },
        )
    });
    gdt.load();
    // SAFETY: the selectors index the GDT that was just loaded and describe
    // flat 64-bit kernel segments and this core's TSS.
    unsafe {
        CS::set_reg(sel.kernel_code);
        SS::set_reg(sel.kernel_data);
        DS::set_reg(sel.kernel_data);
        ES::set_reg(sel.kernel_data);
        load_tss(sel.tss);
    }
}
