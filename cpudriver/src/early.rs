//! The first Rust code of every core, on the boot page tables.
//!
//! The boot core enters at [`bsp_entry`]: it reads the PVH start info and
//! the kernel command line, finds the cores and NUMA nodes in ACPI, plans
//! the per-core partitions, prepares the handshake area and the AP
//! trampoline, and then, like every other core, calls [`core_early`].
//! Other cores enter at [`ap_entry`] from the trampoline.
//!
//! [`core_early`] builds the core's own address space in its own partition
//! and switches to it and to its own kernel stack; only then does the core
//! touch a kernel static.
//!
//! Nothing in this module may touch a kernel static, panic on purpose, or
//! use the heap.

use core::fmt::Write;
use core::sync::atomic::{AtomicU64, Ordering};

use boot::handoff::{ApEntry, BootParams, EarlyError, Given, Header, Layout, PARAMS_MAGIC, Stage};
use boot::kernel_cmdline::{Config, Refusal};
use boot::plan::{PhysRange, PlanRequest, plan, shared_pool_bytes};
use boot::protocol::ExitCode;
use boot::pvh::{MAX_MEMMAP, MemKind, PhysMemory, StartInfo};
use boot::x86::{BOOT_IDENTITY_LIMIT, TRAMPOLINE_PHYS};
use heapless::{String, Vec};

use crate::console::{SharedHeader, Uart, early_line};
use crate::exit::exit;
use crate::layout::{Stack, image};

/// Reads physical memory through the boot identity map.
struct IdentityMemory;

impl PhysMemory for IdentityMemory {
    fn read(&self, phys: u64, buf: &mut [u8]) -> bool {
        let Some(end) = phys.checked_add(buf.len() as u64) else {
            return false;
        };
        if phys == 0 || end > BOOT_IDENTITY_LIMIT {
            return false;
        }
        // SAFETY: `[phys, end)` lies below the identity-map limit of the
        // boot page tables, which are live while this runs.
        unsafe { core::ptr::copy_nonoverlapping(phys as *const u8, buf.as_mut_ptr(), buf.len()) };
        true
    }
}

/// A boot failure message. Every value from the outside in it is shown
/// shortened (`boot::text`), so the longest message fits: a refused
/// command line is the longest, at most `MAX_REFUSAL` bytes.
type Message = String<{ boot::kernel_cmdline::MAX_REFUSAL + 64 }>;

fn message(args: core::fmt::Arguments<'_>) -> Message {
    let mut m = Message::new();
    let _ = m.write_fmt(args);
    m
}

/// The boot core's APIC id, from CPUID.
fn cpuid_apic_id() -> u32 {
    let cpuid = raw_cpuid::CpuId::new();
    if let Some(topology) = cpuid.get_extended_topology_info()
        && let Some(level) = topology.into_iter().next()
    {
        return level.x2apic_id();
    }
    cpuid
        .get_feature_info()
        .map(|f| u32::from(f.initial_local_apic_id()))
        .unwrap_or(0)
}

/// Entered from the PVH entry code on the boot stack.
#[unsafe(no_mangle)]
extern "C" fn bsp_entry(start_info: u64, boot_tsc: u64) -> ! {
    let uart = crate::console::program_uart();
    // SAFETY: this runs once, on the boot core, on the boot page tables,
    // before any other core has been started.
    match unsafe { prepare(start_info, boot_tsc, uart) } {
        Ok(params) => core_early(params),
        Err(reason) => {
            early_line(0, format_args!("ERROR boot failed: {reason}"));
            exit(ExitCode::Fail)
        }
    }
}

/// Entered from the trampoline on the core's early stack.
#[unsafe(no_mangle)]
extern "C" fn ap_entry(params: u64) -> ! {
    core_early(params)
}

/// Everything the boot core does before it builds its own address space.
///
/// # Safety
///
/// Boot core only, once, on the boot page tables, before other cores run.
// The error is a formatted message kept inline: there is no heap yet.
#[allow(clippy::result_large_err)]
unsafe fn prepare(start_info: u64, boot_tsc: u64, uart: Uart) -> Result<u64, Message> {
    let info = StartInfo::parse(&IdentityMemory, start_info)
        .map_err(|e| message(format_args!("cannot read the PVH start info: {e}")))?;
    let config = Config::parse(&info.cmdline).map_err(|error| {
        message(format_args!(
            "{}",
            Refusal {
                cmdline: &info.cmdline,
                error
            }
        ))
    })?;

    let boot_apic = cpuid_apic_id();
    // SAFETY: on the boot page tables; the RSDP comes from the loader.
    let topology = unsafe { crate::acpi::discover(info.rsdp, boot_apic) }
        .map_err(|e| message(format_args!("cannot find the cores: {e}")))?;
    let cores = &topology.cores;
    let n = cores.len() as u64;

    let mut usable: Vec<PhysRange, MAX_MEMMAP> = Vec::new();
    for r in info.memmap.iter().filter(|r| r.kind == MemKind::Usable) {
        let range = PhysRange::new(r.start, r.end().min(BOOT_IDENTITY_LIMIT));
        if !range.is_empty() {
            let _ = usable.push(range);
        }
    }
    let tramp = PhysRange::new(TRAMPOLINE_PHYS, TRAMPOLINE_PHYS + 4096);
    if !usable.iter().any(|u| u.contains_range(&tramp)) {
        return Err(message(format_args!(
            "the AP trampoline page {TRAMPOLINE_PHYS:#x} is not usable RAM"
        )));
    }
    let img = image();
    let mut reserved: Vec<PhysRange, 12> = Vec::new();
    let _ = reserved.push(img.phys);
    let _ = reserved.push(tramp);
    for m in &info.modules {
        let _ = reserved.push(PhysRange::new(m.start, m.start + m.len));
    }
    let layout = Layout::new(n);
    let request = PlanRequest {
        usable: &usable,
        reserved: &reserved,
        cores,
        numa: &topology.numa,
        handshake_bytes: layout.size,
        shared_pool_bytes: shared_pool_bytes(n),
    };
    let plan = plan(&request).map_err(|e| message(format_args!("cannot split memory: {e}")))?;

    let mut nodes: Vec<u32, 64> = Vec::new();
    for c in cores.iter() {
        if !nodes.contains(&c.node) {
            let _ = nodes.push(c.node);
        }
    }
    let initrd = info
        .modules
        .first()
        .map(|m| PhysRange::new(m.start, m.start + m.len))
        .unwrap_or_default();

    // The handshake area: header, lookup table and every core's parameters.
    let hs = plan.handshake;
    // SAFETY: the plan carved `hs` out of free RAM below 4 GiB, identity
    // mapped; nothing else uses it yet. Stacks need no clearing.
    unsafe {
        core::ptr::write_bytes(hs.start as *mut u8, 0, layout.stacks as usize);
        (hs.start as *mut SharedHeader).write(Header {
            serial: spin::mutex::SpinMutex::new(uart),
            ap_entries: AtomicU64::new(n),
        });
    }
    for (i, c) in cores.iter().enumerate() {
        let i = i as u64;
        let params = hs.start + layout.params_of(i);
        let entry = ApEntry {
            apic_id: c.apic_id,
            _reserved: 0,
            params,
            stack_top: hs.start + layout.stack_top_of(i),
            _reserved2: 0,
        };
        let given = Given {
            magic: PARAMS_MAGIC,
            core_id: i as u32,
            core_count: n as u32,
            apic_id: c.apic_id,
            node: c.node,
            boot_apic_id: boot_apic,
            numa_nodes: nodes.len() as u32,
            partition: plan.partitions[i as usize].range,
            handshake: hs,
            shared_pool: plan.shared_pool,
            data_template: img.data_template,
            tsc_hz: 0,
            lapic_timer_hz: 0,
            boot_tsc,
            initrd,
            usable_bytes: info.usable_bytes(),
            config,
        };
        // SAFETY: both addresses lie in the handshake area prepared above.
        unsafe {
            ((hs.start + layout.table) as *mut ApEntry)
                .add(i as usize)
                .write(entry);
            (&raw mut (*(params as *mut BootParams)).given).write(given);
        }
    }

    // The shared pool starts out zeroed: the first channels are set up in it
    // by two cores at once, and both must see empty rings.
    // SAFETY: the plan carved the pool out of free RAM below the identity
    // limit; nothing uses it yet.
    unsafe {
        core::ptr::write_bytes(
            plan.shared_pool.start as *mut u8,
            0,
            plan.shared_pool.len() as usize,
        )
    };

    // The trampoline, patched with the lookup table's address and length.
    let code = boot::x86::trampoline_image();
    let (table_at, count_at) = boot::x86::trampoline_patch_offsets();
    // SAFETY: the trampoline page is usable RAM (checked above), reserved
    // from the plan, identity mapped, and fits the image (a few hundred
    // bytes); the patch offsets point at two 8-byte words inside it.
    unsafe {
        core::ptr::copy_nonoverlapping(code.as_ptr(), TRAMPOLINE_PHYS as *mut u8, code.len());
        ((TRAMPOLINE_PHYS as usize + table_at) as *mut u64)
            .write_unaligned(hs.start + layout.table);
        ((TRAMPOLINE_PHYS as usize + count_at) as *mut u64).write_unaligned(n);
    }
    Ok(hs.start + layout.params_of(0))
}

fn report(params: &BootParams, stage: Stage) {
    params.report.stage.store(stage as u32, Ordering::Release);
}

fn fail(params: &BootParams, error: EarlyError) -> ! {
    params.report.error.store(error as u32, Ordering::Relaxed);
    report(params, Stage::Failed);
    if params.given.core_id == 0 {
        early_line(
            0,
            format_args!("ERROR cannot build the address space: {error:?}"),
        );
        exit(ExitCode::Fail);
    }
    crate::arch::halt_forever()
}

/// Builds this core's address space and enters `core_main` on it.
fn core_early(params_phys: u64) -> ! {
    // SAFETY: the boot core (or, for the boot core, `prepare`) placed this
    // core's parameters at `params_phys`, identity mapped below 4 GiB.
    let params = unsafe { &*(params_phys as *const BootParams) };
    report(params, Stage::Early);
    if params.given.magic != PARAMS_MAGIC {
        fail(params, EarlyError::BadParams);
    }
    // SAFETY: on the boot page tables, on the core that owns the partition,
    // before anything else has used it.
    match unsafe { crate::paging::build(&params.given, &image()) } {
        // SAFETY: the new tables map the kernel text, this core's data
        // window and its kernel stack; `core_main` never returns.
        Ok(space) => unsafe { enter(space.pml4, params_phys, space.first_free) },
        Err(e) => fail(params, e),
    }
}

/// Switches to the core's own page tables and kernel stack and calls
/// `core_main(params_phys, first_free)`.
///
/// # Safety
///
/// `pml4` must be a complete address space for this core as built by
/// `paging::build`.
unsafe fn enter(pml4: u64, params_phys: u64, first_free: u64) -> ! {
    use x86_64::registers::control::{Cr4, Cr4Flags};
    // SAFETY: global pages only change how TLB entries survive CR3 writes.
    unsafe { Cr4::update(|f| f.insert(Cr4Flags::PAGE_GLOBAL)) };
    // SAFETY: after the CR3 write the code keeps running (the kernel text
    // is mapped at the same address), and the stack is replaced before
    // anything touches memory; the arguments travel in registers.
    unsafe {
        core::arch::asm!(
            "mov cr3, {pml4}",
            "mov rsp, {stack}",
            "xor ebp, ebp",
            "call {main}",
            "ud2",
            pml4 = in(reg) pml4,
            stack = in(reg) Stack::Kernel.top(),
            main = sym crate::core_main,
            in("rdi") params_phys,
            in("rsi") first_free,
            options(noreturn)
        )
    }
}
