//! Finding the cores and the NUMA layout in the ACPI tables (boot core,
//! before other cores start).
//!
//! The MADT lists the local APICs (and x2APICs) of the enabled processors;
//! the SRAT, where present, gives each APIC id and memory range its NUMA
//! node. This runs on the boot page tables, where the tables are reachable
//! through the identity map, and touches no kernel static.

use core::ptr::NonNull;

use acpi::madt::{Madt, MadtEntry};
use acpi::sdt::{SdtHeader, Signature};
use acpi::{AcpiHandler, AcpiTable, AcpiTables, PhysicalMapping};
use boot::plan::{CoreDesc, MAX_CORES, NodeMemory, PhysRange};
use boot::srat::{Srat, SratEntry, SratError};
use heapless::Vec;

/// Most NUMA memory ranges kept.
pub const MAX_NUMA_RANGES: usize = 64;

/// Maps ACPI tables through the boot identity map.
#[derive(Clone, Copy, Debug)]
struct Identity;

impl AcpiHandler for Identity {
    unsafe fn map_physical_region<T>(&self, phys: usize, size: usize) -> PhysicalMapping<Self, T> {
        let ptr = NonNull::new(phys as *mut T).expect("ACPI table at physical address 0");
        // SAFETY: physical memory below `boot::x86::BOOT_IDENTITY_LIMIT` is
        // identity mapped while the boot core runs on the boot page tables,
        // and `acpi` only asks for firmware tables, which lie there.
        unsafe { PhysicalMapping::new(phys, ptr, size, size, *self) }
    }

    fn unmap_physical_region<T>(_region: &PhysicalMapping<Self, T>) {}
}

/// The fixed part of the SRAT, so that `acpi` can find the table; its
/// entries are parsed by `boot::srat`.
#[repr(C, packed)]
struct SratTable {
    header: SdtHeader,
    _reserved: [u8; 12],
}

// SAFETY: the layout matches the SRAT's fixed header, and the signature is
// the SRAT's.
unsafe impl AcpiTable for SratTable {
    const SIGNATURE: Signature = Signature::SRAT;

    fn header(&self) -> &SdtHeader {
        &self.header
    }
}

/// The cores and memory layout of the machine.
#[derive(Debug)]
pub struct Topology {
    /// The enabled cores; the boot core first.
    pub cores: Vec<CoreDesc, MAX_CORES>,
    /// NUMA memory ranges (empty without a SRAT).
    pub numa: Vec<NodeMemory, MAX_NUMA_RANGES>,
}

/// Why the topology could not be read.
#[derive(Debug)]
pub enum TopologyError {
    /// No RSDP was given or found in the BIOS area.
    NoRsdp,
    /// The ACPI tables could not be read.
    Acpi(acpi::AcpiError),
    /// There is no MADT.
    NoMadt(acpi::AcpiError),
    /// More enabled processors than Flotilla supports.
    TooManyCores,
    /// The boot core's own APIC id is not in the MADT.
    BootCoreMissing(u32),
    /// The SRAT is malformed.
    Srat(SratError),
    /// The SRAT has more memory ranges than kept.
    TooManyNumaRanges,
}

impl core::fmt::Display for TopologyError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            TopologyError::NoRsdp => write!(
                f,
                "no ACPI RSDP (none given at boot, none in the BIOS area)"
            ),
            TopologyError::Acpi(e) => write!(f, "cannot read the ACPI tables: {e:?}"),
            TopologyError::NoMadt(e) => write!(f, "no usable MADT: {e:?}"),
            TopologyError::TooManyCores => write!(f, "more than {MAX_CORES} enabled processors"),
            TopologyError::BootCoreMissing(id) => {
                write!(f, "the boot core's APIC id {id} is not in the MADT")
            }
            TopologyError::Srat(e) => write!(f, "{e}"),
            TopologyError::TooManyNumaRanges => {
                write!(f, "the SRAT has more than {MAX_NUMA_RANGES} memory ranges")
            }
        }
    }
}

/// Reads the MADT and SRAT.
///
/// # Safety
///
/// Must run on the boot page tables; `rsdp`, when given, must be the
/// physical address the loader reported.
pub unsafe fn discover(rsdp: Option<u64>, boot_apic: u32) -> Result<Topology, TopologyError> {
    // SAFETY: the caller guarantees the identity map and the RSDP address;
    // without one, the BIOS area search reads only identity-mapped memory.
    let tables = unsafe {
        match rsdp {
            Some(addr) => AcpiTables::from_rsdp(Identity, addr as usize),
            None => AcpiTables::search_for_rsdp_bios(Identity),
        }
    }
    .map_err(|e| match (rsdp, e) {
        (None, acpi::AcpiError::NoValidRsdp) => TopologyError::NoRsdp,
        (_, e) => TopologyError::Acpi(e),
    })?;

    let mut cores: Vec<CoreDesc, MAX_CORES> = Vec::new();
    let madt = tables.find_table::<Madt>().map_err(TopologyError::NoMadt)?;
    for entry in madt.get().entries() {
        let (apic_id, flags) = match entry {
            MadtEntry::LocalApic(e) => (u32::from(e.apic_id), e.flags),
            MadtEntry::LocalX2Apic(e) => (e.x2apic_id, e.flags),
            _ => continue,
        };
        if flags & 1 == 0 || cores.iter().any(|c| c.apic_id == apic_id) {
            continue;
        }
        cores
            .push(CoreDesc { apic_id, node: 0 })
            .map_err(|_| TopologyError::TooManyCores)?;
    }
    let boot = cores
        .iter()
        .position(|c| c.apic_id == boot_apic)
        .ok_or(TopologyError::BootCoreMissing(boot_apic))?;
    cores[..=boot].rotate_right(1);

    let mut numa = Vec::new();
    if let Ok(srat) = tables.find_table::<SratTable>() {
        {
            let len = srat.get().header.length as usize;
            // SAFETY: the table is `len` bytes long at its identity-mapped
            // address (its checksum was validated by `acpi` over that span).
            let bytes = unsafe {
                core::slice::from_raw_parts(srat.virtual_start().as_ptr() as *const u8, len)
            };
            for entry in Srat::new(bytes).map_err(TopologyError::Srat)? {
                match entry.map_err(TopologyError::Srat)? {
                    SratEntry::Processor { apic_id, node } => {
                        if let Some(c) = cores.iter_mut().find(|c| c.apic_id == apic_id) {
                            c.node = node;
                        }
                    }
                    SratEntry::Memory {
                        base,
                        len,
                        node,
                        hotplug: false,
                    } => numa
                        .push(NodeMemory {
                            node,
                            range: PhysRange::new(base, base.saturating_add(len)),
                        })
                        .map_err(|_| TopologyError::TooManyNumaRanges)?,
                    SratEntry::Memory { .. } => {}
                }
            }
        }
    }
    Ok(Topology { cores, numa })
}
