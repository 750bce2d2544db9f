//! Choosing between KVM and TCG.
//!
//! [`decide_accel`] is the whole policy as a pure function of what the host
//! shows; [`detect_accel`] feeds it the real `/proc/cpuinfo` and `/dev/kvm`.
//! Every decision carries a sentence saying why, for the run's log.

use std::fmt;
use std::fs::OpenOptions;
use std::os::fd::AsRawFd;

use crate::config::Accel;

/// The device node of the kernel's hypervisor.
pub const KVM_DEVICE: &str = "/dev/kvm";

/// The KVM API version every Linux kernel since 2.6.22 reports.
pub const KVM_API_VERSION: i32 = 12;

/// `KVM_GET_API_VERSION`, `_IO(KVMIO, 0x00)` with `KVMIO = 0xAE`.
const KVM_GET_API_VERSION: libc::c_ulong = 0xAE00;

/// The accelerator a run actually uses, named by the variant in lower case.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, strum::IntoStaticStr, strum::EnumIter)]
#[strum(serialize_all = "kebab-case")]
pub enum ResolvedAccel {
    /// `-accel kvm -cpu host,-arch-capabilities`.
    Kvm,
    /// `-accel tcg,thread=multi -cpu max`.
    Tcg,
}

impl ResolvedAccel {
    /// The lower-case name (`kvm`, `tcg`), as recorded in result metadata.
    pub fn name(self) -> &'static str {
        self.into()
    }
}

impl fmt::Display for ResolvedAccel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An accelerator choice and the reason for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccelDecision {
    /// What the run will use.
    pub accel: ResolvedAccel,
    /// Why, as a clause for printing after the accelerator's name.
    pub reason: String,
}

impl fmt::Display for AccelDecision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.accel, self.reason)
    }
}

/// Whether the `flags` lines of `/proc/cpuinfo` text name `vmx` (Intel VT-x)
/// or `svm` (AMD-V).
pub fn cpu_has_virtualization(cpuinfo: &str) -> bool {
    cpuinfo
        .lines()
        .filter_map(|line| line.split_once(':'))
        .filter(|(key, _)| key.trim() == "flags")
        .any(|(_, flags)| flags.split_whitespace().any(|f| f == "vmx" || f == "svm"))
}

/// Decides the accelerator for `requested`, given the host's `/proc/cpuinfo`
/// text and whether KVM can be used.
///
/// An explicit `kvm` or `tcg` is honoured as asked. `auto` picks KVM only
/// when both hold: the CPU flags show hardware virtualisation (`vmx` or
/// `svm`), and KVM is available. Otherwise it picks TCG: on hosts whose KVM is
/// itself emulated, guest ring 0 runs far slower than under TCG, so KVM there
/// is opt-in.
pub fn decide_accel(requested: Accel, cpuinfo: &str, kvm_available: bool) -> AccelDecision {
    let (accel, reason) = match requested {
        Accel::Kvm => (ResolvedAccel::Kvm, "asked for with --accel kvm".to_owned()),
        Accel::Tcg => (ResolvedAccel::Tcg, "asked for with --accel tcg".to_owned()),
        Accel::Auto => {
            let virt = cpu_has_virtualization(cpuinfo);
            match (virt, kvm_available) {
                (true, true) => (
                    ResolvedAccel::Kvm,
                    format!(
                        "the host CPU shows vmx or svm and {KVM_DEVICE} can be opened read-write"
                    ),
                ),
                (true, false) => (
                    ResolvedAccel::Tcg,
                    format!(
                        "the host CPU shows vmx or svm, but {KVM_DEVICE} cannot be opened \
                         read-write"
                    ),
                ),
                (false, true) => (
                    ResolvedAccel::Tcg,
                    format!(
                        "{KVM_DEVICE} works, but the host CPU flags show neither vmx nor svm, \
                         so KVM would be emulated and slow in ring 0 (use --accel kvm to \
                         choose it anyway)"
                    ),
                ),
                (false, false) => (
                    ResolvedAccel::Tcg,
                    format!(
                        "the host CPU flags show neither vmx nor svm and {KVM_DEVICE} cannot \
                         be opened read-write"
                    ),
                ),
            }
        }
    };
    AccelDecision { accel, reason }
}

/// Decides the accelerator for `requested` on this host, from
/// `/proc/cpuinfo` and [`kvm_usable`].
pub fn detect_accel(requested: Accel) -> AccelDecision {
    match requested {
        Accel::Auto => {
            let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
            decide_accel(requested, &cpuinfo, kvm_usable())
        }
        _ => decide_accel(requested, "", false),
    }
}

/// Whether [`KVM_DEVICE`] opens read-write.
pub fn kvm_openable() -> bool {
    OpenOptions::new()
        .read(true)
        .write(true)
        .open(KVM_DEVICE)
        .is_ok()
}

/// Whether KVM is usable here: [`KVM_DEVICE`] opens read-write and answers
/// `KVM_GET_API_VERSION` with [`KVM_API_VERSION`].
///
/// This says nothing about speed: KVM may itself be emulated. Use it to decide
/// whether a run with `--accel kvm` can work at all.
pub fn kvm_usable() -> bool {
    let Ok(device) = OpenOptions::new().read(true).write(true).open(KVM_DEVICE) else {
        return false;
    };
    // SAFETY: `device` is an open file that outlives the call, and
    // KVM_GET_API_VERSION takes no argument and writes no memory.
    let version = unsafe { libc::ioctl(device.as_raw_fd(), KVM_GET_API_VERSION, 0) };
    version == KVM_API_VERSION
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolved_accelerators_keep_their_names() {
        use strum::IntoEnumIterator;
        let names: Vec<_> = ResolvedAccel::iter().map(ResolvedAccel::name).collect();
        assert_eq!(names, ["kvm", "tcg"]);
    }

    const INTEL_VMX: &str = "processor\t: 0\nvendor_id\t: GenuineIntel\n\
        flags\t\t: fpu vme de pse tsc msr pae mce vmx sse4_2 x2apic\n\nprocessor\t: 1\n";
    const AMD_SVM: &str = "processor\t: 0\nflags\t\t: fpu svm lm\n";
    const NO_VIRT: &str = "processor\t: 0\nvendor_id\t: GenuineIntel\n\
        flags\t\t: fpu vme de pse tsc msr hypervisor x2apic\n\
        vmx flags\t: vnmi preemption_timer\n\
        bugs\t\t: svm_like_bug vmx_thing\n";

    #[test]
    fn finds_virtualisation_flags_only_in_the_flags_line() {
        assert!(cpu_has_virtualization(INTEL_VMX));
        assert!(cpu_has_virtualization(AMD_SVM));
        assert!(!cpu_has_virtualization(NO_VIRT));
        assert!(!cpu_has_virtualization(""));
        assert!(!cpu_has_virtualization("flags : vmxx svm2"));
    }

    #[test]
    fn auto_needs_both_flags_and_a_usable_device() {
        assert_eq!(
            decide_accel(Accel::Auto, INTEL_VMX, true).accel,
            ResolvedAccel::Kvm
        );
        assert_eq!(
            decide_accel(Accel::Auto, AMD_SVM, true).accel,
            ResolvedAccel::Kvm
        );
        assert_eq!(
            decide_accel(Accel::Auto, INTEL_VMX, false).accel,
            ResolvedAccel::Tcg
        );
        assert_eq!(
            decide_accel(Accel::Auto, NO_VIRT, true).accel,
            ResolvedAccel::Tcg
        );
        assert_eq!(
            decide_accel(Accel::Auto, NO_VIRT, false).accel,
            ResolvedAccel::Tcg
        );
    }

    #[test]
    fn explicit_choices_are_honoured() {
        for (cpuinfo, kvm) in [(INTEL_VMX, true), (NO_VIRT, false)] {
            assert_eq!(
                decide_accel(Accel::Kvm, cpuinfo, kvm).accel,
                ResolvedAccel::Kvm
            );
            assert_eq!(
                decide_accel(Accel::Tcg, cpuinfo, kvm).accel,
                ResolvedAccel::Tcg
            );
        }
        assert_eq!(detect_accel(Accel::Tcg).accel, ResolvedAccel::Tcg);
        assert_eq!(detect_accel(Accel::Kvm).accel, ResolvedAccel::Kvm);
    }

    #[test]
    fn reasons_say_why() {
        let reason = decide_accel(Accel::Auto, NO_VIRT, true).reason;
        assert!(reason.contains("neither vmx nor svm"), "{reason}");
        let reason = decide_accel(Accel::Auto, INTEL_VMX, false).reason;
        assert!(reason.contains("cannot be opened"), "{reason}");
        let reason = decide_accel(Accel::Kvm, "", false).reason;
        assert!(reason.contains("--accel kvm"), "{reason}");
        let shown = decide_accel(Accel::Auto, INTEL_VMX, true).to_string();
        assert!(shown.starts_with("kvm: "), "{shown}");
    }

    #[test]
    fn kvm_usable_implies_openable() {
        if kvm_usable() {
            assert!(kvm_openable());
        }
    }
}
