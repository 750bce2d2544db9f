//! CPU identification and the feature flags each core reports.

use core::fmt::{self, Write};

use raw_cpuid::CpuId;

/// What a core learns about itself from CPUID.
#[derive(Clone, Debug)]
pub struct Identity {
    /// Vendor string, such as `GenuineIntel`.
    pub vendor: heapless::String<16>,
    /// Brand string, where the CPU has one.
    pub brand: heapless::String<48>,
    /// Display family.
    pub family: u8,
    /// Display model.
    pub model: u8,
    /// Stepping.
    pub stepping: u8,
    /// Feature flags Flotilla cares about.
    pub features: Features,
    /// The APIC id CPUID reports (x2APIC id where leaf 0xb exists).
    pub apic_id: u32,
}

macro_rules! features {
    ($( $field:ident => $name:literal ),* $(,)?) => {
        /// Feature flags, each named as in `/proc/cpuinfo` where Linux has a name.
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
        #[allow(missing_docs)]
        pub struct Features {
            $( pub $field: bool, )*
        }

        impl Features {
            /// Writes the names of the present features, comma separated.
            pub fn write_names(&self, out: &mut impl Write) -> fmt::Result {
                let mut first = true;
                $(
                    if self.$field {
                        if !first {
                            out.write_char(',')?;
                        }
                        out.write_str($name)?;
                        first = false;
                    }
                )*
                if first {
                    out.write_str("none")?;
                }
                Ok(())
            }
        }
    };
}

features! {
    x2apic => "x2apic",
    tsc_deadline => "tsc_deadline_timer",
    invariant_tsc => "invtsc",
    rdtscp => "rdtscp",
    nx => "nx",
    pdpe1gb => "pdpe1gb",
    pcid => "pcid",
    fsgsbase => "fsgsbase",
    smep => "smep",
    smap => "smap",
    sse4_2 => "sse4_2",
    avx => "avx",
    avx2 => "avx2",
    avx512f => "avx512f",
    monitor => "monitor",
    hypervisor => "hypervisor",
    la57 => "la57",
}

/// Reads this core's identity.
pub fn identify() -> Identity {
    let cpuid = CpuId::new();
    let mut id = Identity {
        vendor: heapless::String::new(),
        brand: heapless::String::new(),
        family: 0,
        model: 0,
        stepping: 0,
        features: Features::default(),
        apic_id: 0,
    };
    if let Some(v) = cpuid.get_vendor_info() {
        let _ = id.vendor.push_str(v.as_str());
    }
    if let Some(b) = cpuid.get_processor_brand_string() {
        let _ = id.brand.push_str(b.as_str().trim());
    }
    let f = &mut id.features;
    if let Some(info) = cpuid.get_feature_info() {
        id.family = info.family_id();
        id.model = info.model_id();
        id.stepping = info.stepping_id();
        id.apic_id = u32::from(info.initial_local_apic_id());
        f.x2apic = info.has_x2apic();
        f.tsc_deadline = info.has_tsc_deadline();
        f.pcid = info.has_pcid();
        f.sse4_2 = info.has_sse42();
        f.avx = info.has_avx();
        f.monitor = info.has_monitor_mwait();
        f.hypervisor = info.has_hypervisor();
    }
    if let Some(topology) = cpuid.get_extended_topology_info()
        && let Some(level) = topology.into_iter().next()
    {
        id.apic_id = level.x2apic_id();
    }
    if let Some(ext) = cpuid.get_extended_feature_info() {
        f.fsgsbase = ext.has_fsgsbase();
        f.smep = ext.has_smep();
        f.smap = ext.has_smap();
        f.avx2 = ext.has_avx2();
        f.avx512f = ext.has_avx512f();
        f.la57 = ext.has_la57();
    }
    if let Some(ext) = cpuid.get_extended_processor_and_feature_identifiers() {
        f.rdtscp = ext.has_rdtscp();
        f.nx = ext.has_execute_disable();
        f.pdpe1gb = ext.has_1gib_pages();
    }
    if let Some(power) = cpuid.get_advanced_power_mgmt_info() {
        f.invariant_tsc = power.has_invariant_tsc();
    }
    id
}
