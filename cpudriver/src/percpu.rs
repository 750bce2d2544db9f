//! What a core knows about itself. Kernel statics are per core by
//! construction, so this is an ordinary `static`.

use boot::handoff::{BootParams, Stage};
use core::sync::atomic::Ordering;
use spin::Once;

use crate::layout::phys_to_virt;

/// This core.
pub struct Core {
    /// Logical core id (0 is the boot core).
    pub id: u32,
    /// Number of cores.
    pub count: u32,
    /// This core's APIC id.
    pub apic_id: u32,
    /// NUMA node.
    pub node: u32,
    /// The boot parameters the boot core gave this core.
    pub params: &'static BootParams,
    /// The handshake area's header.
    pub header: &'static crate::console::SharedHeader,
    /// Physical address of the first frame not yet used in the partition.
    pub first_free: u64,
    /// Physical address of the core's own kernel PML4.
    pub kernel_root: u64,
}

static CORE: Once<Core> = Once::new();

/// Records this core's identity. Called once, first thing on the core's own
/// page tables.
pub fn init(params_phys: u64, first_free: u64) -> &'static Core {
    // SAFETY: the boot core placed this core's parameters at `params_phys`
    // inside the handshake area, which every core maps in its direct map;
    // the page lives for the whole run.
    let params: &'static BootParams = unsafe { &*(phys_to_virt(params_phys) as *const BootParams) };
    let header_phys = params.given.handshake.start;
    // SAFETY: the handshake area starts with its `Header`, mapped likewise.
    let header = unsafe { &*(phys_to_virt(header_phys) as *const crate::console::SharedHeader) };
    let (root, _) = x86_64::registers::control::Cr3::read();
    CORE.call_once(|| Core {
        id: params.given.core_id,
        count: params.given.core_count,
        apic_id: params.given.apic_id,
        node: params.given.node,
        params,
        header,
        first_free,
        kernel_root: root.start_address().as_u64(),
    })
}

/// This core. Panics if called before [`init`].
pub fn this() -> &'static Core {
    CORE.get()
        .expect("per-core state used before it was set up")
}

/// Reports this core's boot stage to the boot core.
pub fn report_stage(stage: Stage) {
    this()
        .params
        .report
        .stage
        .store(stage as u32, Ordering::Release);
}

/// The parameter page of core `core` (boot core only, during boot).
pub fn params_of(core: u32) -> &'static BootParams {
    let c = this();
    let layout = boot::handoff::Layout::new(u64::from(c.count));
    let phys = c.params.given.handshake.start + layout.params_of(u64::from(core));
    // SAFETY: every core's parameter page lies in the handshake area, which
    // is mapped for the whole run.
    unsafe { &*(phys_to_virt(phys) as *const BootParams) }
}
