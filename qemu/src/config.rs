//! What to run: the machine, its size, the accelerator and the image.
//!
//! [`QemuConfig`] is plain data with chainable setters. [`QemuConfig::validate`]
//! refuses configurations that QEMU would reject or that would mislead the
//! image (such as NUMA nodes on a machine that cannot describe them), with a
//! [`ConfigError`] that says what to change.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use crate::accel::{AccelDecision, ResolvedAccel, detect_accel};

/// Memory every run gets before the per-core share, in MiB.
pub const BASE_MEMORY_MIB: u64 = 256;

/// Memory added for every core, in MiB.
pub const MEMORY_PER_CORE_MIB: u64 = 16;

/// The default memory of each NUMA node (or of the machine without NUMA) is a
/// multiple of this many MiB.
pub const MEMORY_ROUNDING_MIB: u64 = 32;

/// Every NUMA node's memory must be a multiple of this many MiB, so node
/// boundaries fall on 2 MiB large-page boundaries.
pub const NODE_MEMORY_ALIGN_MIB: u64 = 2;

/// The least memory a run, or a NUMA node of it, may have, in MiB.
pub const MIN_MEMORY_MIB: u64 = 32;

/// The most vCPUs QEMU's TCG runs. TCG emulates no x2APIC (QEMU 7.2), so
/// APIC ids stop at 254 and QEMU refuses a 256th vCPU; more cores need KVM
/// with x2APIC.
pub const TCG_MAX_CORES: u32 = 255;

/// How long a run may take unless the configuration says otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// The default memory size for `cores` cores split into `numa_nodes` nodes
/// (0 means no NUMA), in MiB.
///
/// It is [`BASE_MEMORY_MIB`] plus [`MEMORY_PER_CORE_MIB`] per core, rounded up
/// so that every node (or the whole machine, without NUMA) gets the same whole
/// multiple of [`MEMORY_ROUNDING_MIB`]. For example 1 core gets 288 MiB,
/// 4 cores 320 MiB, 8 cores 384 MiB, and 6 cores on 3 nodes 384 MiB.
pub fn default_memory_mib(cores: u32, numa_nodes: u32) -> u64 {
    let wanted = BASE_MEMORY_MIB + MEMORY_PER_CORE_MIB * u64::from(cores);
    let unit = MEMORY_ROUNDING_MIB * u64::from(numa_nodes.max(1));
    wanted.div_ceil(unit) * unit
}

/// A QEMU machine type, named by the variant in lower case.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, strum::IntoStaticStr, strum::EnumIter,
)]
#[strum(serialize_all = "kebab-case")]
pub enum Machine {
    /// QEMU's minimal machine: fast to boot, no PCI, no NUMA description.
    #[default]
    Microvm,
    /// The Q35 chipset with PCIe; describes NUMA nodes to the guest.
    Q35,
    /// The i440FX chipset; describes NUMA nodes to the guest.
    Pc,
}

impl Machine {
    /// Every machine, in declaration order.
    pub const ALL: [Machine; 3] = [Machine::Microvm, Machine::Q35, Machine::Pc];

    /// The name used on the command line (`microvm`, `q35`, `pc`).
    pub fn name(self) -> &'static str {
        self.into()
    }

    /// The most vCPUs QEMU 7.2 accepts for this machine.
    pub const fn max_cores(self) -> u32 {
        match self {
            Machine::Microvm | Machine::Q35 => 288,
            Machine::Pc => 255,
        }
    }

    /// Whether the machine describes NUMA nodes to the guest (ACPI SRAT).
    pub const fn supports_numa(self) -> bool {
        !matches!(self, Machine::Microvm)
    }
}

/// The accelerator a run asks for, named by the variant in lower case.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, strum::IntoStaticStr, strum::EnumIter,
)]
#[strum(serialize_all = "kebab-case")]
pub enum Accel {
    /// KVM where the host offers hardware virtualisation, TCG elsewhere; see
    /// [`crate::accel::decide_accel`].
    #[default]
    Auto,
    /// The kernel's KVM hypervisor.
    Kvm,
    /// QEMU's multi-threaded dynamic translator.
    Tcg,
}

impl Accel {
    /// Every choice, in declaration order.
    pub const ALL: [Accel; 3] = [Accel::Auto, Accel::Kvm, Accel::Tcg];

    /// The name used on the command line (`auto`, `kvm`, `tcg`).
    pub fn name(self) -> &'static str {
        self.into()
    }
}

/// A name that is not one of the choices of [`Machine`] or [`Accel`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} `{given}` (expected one of: {expected})")]
pub struct ParseChoiceError {
    /// What was being parsed (`machine`, `accelerator`).
    pub what: &'static str,
    /// The text given.
    pub given: String,
    /// The accepted names, separated by `|`.
    pub expected: &'static str,
}

impl fmt::Display for Machine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Machine {
    type Err = ParseChoiceError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Machine::ALL
            .into_iter()
            .find(|m| m.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| ParseChoiceError {
                what: "machine",
                given: s.to_owned(),
                expected: "microvm|q35|pc",
            })
    }
}

impl fmt::Display for Accel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Accel {
    type Err = ParseChoiceError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Accel::ALL
            .into_iter()
            .find(|a| a.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| ParseChoiceError {
                what: "accelerator",
                given: s.to_owned(),
                expected: "auto|kvm|tcg",
            })
    }
}

/// Why a [`QemuConfig`] cannot run.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// `cores` is 0.
    #[error("the number of cores must be at least 1")]
    ZeroCores,
    /// More cores than QEMU allows on the machine.
    #[error("{cores} cores is more than the {max} that QEMU allows on machine {machine}")]
    TooManyCores {
        /// Cores asked for.
        cores: u32,
        /// The machine.
        machine: Machine,
        /// Its limit.
        max: u32,
    },
    /// More cores than TCG can run.
    #[error(
        "{cores} cores cannot run under TCG{}: QEMU's TCG has no x2APIC, so it runs at most \
         {max} vCPUs (APIC ids 0 to 254); use --cores {max} or fewer, or --accel kvm on a host \
         whose KVM offers x2APIC for more",
        auto_note(*.requested)
    )]
    TooManyCoresForTcg {
        /// Cores asked for.
        cores: u32,
        /// TCG's limit, [`TCG_MAX_CORES`].
        max: u32,
        /// The accelerator asked for, which resolved to TCG.
        requested: Accel,
    },
    /// NUMA nodes on `microvm`, which cannot describe them to the guest.
    #[error(
        "NUMA nodes are not supported on machine microvm (it has no ACPI SRAT to describe \
         them to the guest): use --machine q35"
    )]
    NumaOnMicrovm,
    /// More NUMA nodes than cores, so some node would have no core.
    #[error("{nodes} NUMA nodes need at least {nodes} cores, but only {cores} were asked for")]
    MoreNodesThanCores {
        /// NUMA nodes asked for.
        nodes: u32,
        /// Cores asked for.
        cores: u32,
    },
    /// Less memory than a run needs.
    #[error("{memory_mib} MiB of memory is too little: a run needs at least {min_mib} MiB")]
    MemoryTooSmall {
        /// Memory asked for.
        memory_mib: u64,
        /// The least accepted.
        min_mib: u64,
    },
    /// The memory does not split into equal, aligned, large-enough node shares.
    #[error(
        "{memory_mib} MiB cannot be split evenly into {nodes} NUMA nodes of at least \
         {min_mib} MiB each, every one a multiple of {align_mib} MiB: choose a size that is a \
         multiple of {multiple_mib} MiB and at least {least_mib} MiB"
    )]
    MemoryNotDivisible {
        /// Memory asked for.
        memory_mib: u64,
        /// NUMA nodes asked for.
        nodes: u32,
        /// Every node's share must be a multiple of this.
        align_mib: u64,
        /// Every node's share must be at least this.
        min_mib: u64,
        /// The total must be a multiple of this.
        multiple_mib: u64,
        /// The total must be at least this.
        least_mib: u64,
    },
    /// A vCPU model that is empty or holds white space.
    #[error(
        "the CPU model `{0}` cannot be passed to QEMU: it must be one word, such as \
         `Skylake-Client` or `max,-la57` (`qemu-system-x86_64 -cpu help` lists the models)"
    )]
    BadCpuModel(String),
    /// The kernel ELF does not exist.
    #[error("kernel image `{}` was not found: build it first", .0.display())]
    KernelNotFound(PathBuf),
    /// The kernel path exists but is not a regular file.
    #[error("kernel image `{}` is not a regular file", .0.display())]
    KernelNotAFile(PathBuf),
    /// The initrd does not exist or is not a regular file.
    #[error("initrd `{}` was not found or is not a regular file", .0.display())]
    InitrdNotFound(PathBuf),
}

/// Says, for an accelerator that resolved to TCG, whether `auto` chose it.
fn auto_note(requested: Accel) -> &'static str {
    match requested {
        Accel::Auto => " (--accel auto chose TCG on this host)",
        _ => "",
    }
}

/// Everything needed to start one QEMU run of a Flotilla image.
///
/// Build it with [`QemuConfig::new`] and the chainable setters, or fill the
/// public fields directly; then check it with [`QemuConfig::validate`] (the
/// runner does this too).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QemuConfig {
    /// The machine type; `microvm` by default.
    pub machine: Machine,
    /// The number of vCPUs (`-smp`); at least 1.
    pub cores: u32,
    /// The number of NUMA nodes; 0 means no NUMA description.
    pub numa_nodes: u32,
    /// Guest memory in MiB; `None` means [`default_memory_mib`].
    pub memory_mib: Option<u64>,
    /// The accelerator asked for.
    pub accel: Accel,
    /// The vCPU model (`-cpu`); `None` means the accelerator's default (see
    /// [`crate::qemu_cmdline::default_cpu`]).
    pub cpu: Option<String>,
    /// The kernel command line (`-append`).
    pub append: String,
    /// Start paused with a gdb stub on TCP port 1234 (`-s -S`) and no timeout.
    pub gdb: bool,
    /// The kernel ELF (`-kernel`), booted through its PVH note.
    pub kernel: PathBuf,
    /// The boot modules archive (`-initrd`).
    pub initrd: Option<PathBuf>,
    /// How long the whole run may take before the host kills QEMU. Ignored
    /// when [`QemuConfig::gdb`] is set.
    pub timeout: Duration,
    /// Arguments appended verbatim after all others.
    pub extra_args: Vec<String>,
    /// The QEMU binary to run; `None` means `$FLOTILLA_QEMU`, else
    /// `qemu-system-x86_64` from `PATH`.
    pub qemu_binary: Option<PathBuf>,
}

impl QemuConfig {
    /// A configuration for `kernel` with every default: `microvm`, one core,
    /// no NUMA, default memory, `auto` accelerator and its CPU model, empty
    /// command line, no
    /// gdb, no initrd and [`DEFAULT_TIMEOUT`].
    pub fn new(kernel: impl Into<PathBuf>) -> QemuConfig {
        QemuConfig {
            machine: Machine::default(),
            cores: 1,
            numa_nodes: 0,
            memory_mib: None,
            accel: Accel::default(),
            cpu: None,
            append: String::new(),
            gdb: false,
            kernel: kernel.into(),
            initrd: None,
            timeout: DEFAULT_TIMEOUT,
            extra_args: Vec::new(),
            qemu_binary: None,
        }
    }

    /// Sets the machine type.
    pub fn machine(mut self, machine: Machine) -> Self {
        self.machine = machine;
        self
    }

    /// Sets the number of cores.
    pub fn cores(mut self, cores: u32) -> Self {
        self.cores = cores;
        self
    }

    /// Sets the number of NUMA nodes (0 for none).
    pub fn numa_nodes(mut self, nodes: u32) -> Self {
        self.numa_nodes = nodes;
        self
    }

    /// Sets the memory size in MiB.
    pub fn memory_mib(mut self, mib: u64) -> Self {
        self.memory_mib = Some(mib);
        self
    }

    /// Sets the accelerator.
    pub fn accel(mut self, accel: Accel) -> Self {
        self.accel = accel;
        self
    }

    /// Sets the vCPU model (`-cpu`), such as `Skylake-Client` or
    /// `max,-la57`.
    pub fn cpu(mut self, model: impl Into<String>) -> Self {
        self.cpu = Some(model.into());
        self
    }

    /// Sets the kernel command line.
    pub fn append(mut self, append: impl Into<String>) -> Self {
        self.append = append.into();
        self
    }

    /// Turns the gdb stub on or off.
    pub fn gdb(mut self, gdb: bool) -> Self {
        self.gdb = gdb;
        self
    }

    /// Sets the initrd.
    pub fn initrd(mut self, initrd: impl Into<PathBuf>) -> Self {
        self.initrd = Some(initrd.into());
        self
    }

    /// Sets the overall timeout.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Appends extra QEMU arguments.
    pub fn extra_args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.extra_args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Sets the QEMU binary to run.
    pub fn qemu_binary(mut self, binary: impl Into<PathBuf>) -> Self {
        self.qemu_binary = Some(binary.into());
        self
    }

    /// The memory the run gets, in MiB: the configured size or the default.
    pub fn effective_memory_mib(&self) -> u64 {
        self.memory_mib
            .unwrap_or_else(|| default_memory_mib(self.cores, self.numa_nodes))
    }

    /// The overall timeout, or `None` when gdb may hold the guest forever.
    pub fn effective_timeout(&self) -> Option<Duration> {
        (!self.gdb).then_some(self.timeout)
    }

    /// Checks the configuration without touching the file system.
    pub fn validate_shape(&self) -> Result<(), ConfigError> {
        if self.cores == 0 {
            return Err(ConfigError::ZeroCores);
        }
        let max = self.machine.max_cores();
        if self.cores > max {
            return Err(ConfigError::TooManyCores {
                cores: self.cores,
                machine: self.machine,
                max,
            });
        }
        if self.numa_nodes > 0 && !self.machine.supports_numa() {
            return Err(ConfigError::NumaOnMicrovm);
        }
        if self.numa_nodes > self.cores {
            return Err(ConfigError::MoreNodesThanCores {
                nodes: self.numa_nodes,
                cores: self.cores,
            });
        }
        if let Some(model) = &self.cpu
            && (model.is_empty() || model.contains(char::is_whitespace))
        {
            return Err(ConfigError::BadCpuModel(model.clone()));
        }
        let memory_mib = self.effective_memory_mib();
        if memory_mib < MIN_MEMORY_MIB {
            return Err(ConfigError::MemoryTooSmall {
                memory_mib,
                min_mib: MIN_MEMORY_MIB,
            });
        }
        if self.numa_nodes > 0 {
            let nodes = u64::from(self.numa_nodes);
            let multiple_mib = NODE_MEMORY_ALIGN_MIB * nodes;
            let least_mib = MIN_MEMORY_MIB * nodes;
            if !memory_mib.is_multiple_of(multiple_mib) || memory_mib < least_mib {
                return Err(ConfigError::MemoryNotDivisible {
                    memory_mib,
                    nodes: self.numa_nodes,
                    align_mib: NODE_MEMORY_ALIGN_MIB,
                    min_mib: MIN_MEMORY_MIB,
                    multiple_mib,
                    least_mib,
                });
            }
        }
        Ok(())
    }

    /// Checks what depends on the accelerator the run resolved to: TCG runs
    /// at most [`TCG_MAX_CORES`] cores.
    pub fn validate_accel(&self, accel: ResolvedAccel) -> Result<(), ConfigError> {
        if accel == ResolvedAccel::Tcg && self.cores > TCG_MAX_CORES {
            return Err(ConfigError::TooManyCoresForTcg {
                cores: self.cores,
                max: TCG_MAX_CORES,
                requested: self.accel,
            });
        }
        Ok(())
    }

    /// Decides the accelerator on this host (see [`detect_accel`]) and checks
    /// the configuration against it with [`QemuConfig::validate_accel`].
    pub fn resolve_accel(&self) -> Result<AccelDecision, ConfigError> {
        let decision = detect_accel(self.accel);
        self.validate_accel(decision.accel)?;
        Ok(decision)
    }

    /// Checks the configuration, including that the kernel and initrd exist.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.validate_shape()?;
        check_file(&self.kernel).map_err(|missing| {
            if missing {
                ConfigError::KernelNotFound(self.kernel.clone())
            } else {
                ConfigError::KernelNotAFile(self.kernel.clone())
            }
        })?;
        if let Some(initrd) = &self.initrd {
            check_file(initrd).map_err(|_| ConfigError::InitrdNotFound(initrd.clone()))?;
        }
        Ok(())
    }
}

/// `Err(true)` when `path` does not exist, `Err(false)` when it is not a file.
fn check_file(path: &Path) -> Result<(), bool> {
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_file() => Ok(()),
        Ok(_) => Err(false),
        Err(_) => Err(true),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn machines_and_accelerators_are_listed_once_and_keep_their_names() {
        use strum::IntoEnumIterator;
        assert!(Machine::iter().eq(Machine::ALL));
        assert_eq!(Machine::ALL.map(Machine::name), ["microvm", "q35", "pc"]);
        assert!(Accel::iter().eq(Accel::ALL));
        assert_eq!(Accel::ALL.map(Accel::name), ["auto", "kvm", "tcg"]);
        for m in Machine::ALL {
            assert_eq!(m.name().to_uppercase().parse::<Machine>(), Ok(m));
        }
        for a in Accel::ALL {
            assert_eq!(a.name().parse::<Accel>(), Ok(a));
        }
    }

    fn shape(config: QemuConfig) -> Result<(), ConfigError> {
        config.validate_shape()
    }

    fn cfg() -> QemuConfig {
        QemuConfig::new("/nonexistent/kernel")
    }

    #[test]
    fn enums_parse_and_print_their_names() {
        for m in Machine::ALL {
            assert_eq!(m.to_string().parse::<Machine>(), Ok(m));
        }
        for a in Accel::ALL {
            assert_eq!(a.to_string().parse::<Accel>(), Ok(a));
        }
        assert_eq!("Q35".parse::<Machine>(), Ok(Machine::Q35));
        assert_eq!("TCG".parse::<Accel>(), Ok(Accel::Tcg));
        let err = "virt".parse::<Machine>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown machine `virt` (expected one of: microvm|q35|pc)"
        );
        let err = "hvf".parse::<Accel>().unwrap_err();
        assert!(err.to_string().contains("auto|kvm|tcg"), "{err}");
    }

    #[test]
    fn defaults() {
        let c = cfg();
        assert_eq!(c.machine, Machine::Microvm);
        assert_eq!(c.accel, Accel::Auto);
        assert_eq!(c.cores, 1);
        assert_eq!(c.numa_nodes, 0);
        assert_eq!(c.cpu, None);
        assert_eq!(c.clone().cpu("max").cpu.as_deref(), Some("max"));
        assert_eq!(c.effective_timeout(), Some(DEFAULT_TIMEOUT));
        assert_eq!(c.clone().gdb(true).effective_timeout(), None);
        assert_eq!(c.effective_memory_mib(), 288);
        assert_eq!(c.memory_mib(512).effective_memory_mib(), 512);
    }

    #[test]
    fn default_memory_grows_with_cores_and_splits_evenly() {
        assert_eq!(default_memory_mib(1, 0), 288);
        assert_eq!(default_memory_mib(2, 0), 288);
        assert_eq!(default_memory_mib(4, 0), 320);
        assert_eq!(default_memory_mib(8, 0), 384);
        assert_eq!(default_memory_mib(64, 0), 1280);
        assert_eq!(default_memory_mib(6, 3), 384);
        for cores in 1..=64 {
            for nodes in 0..=cores {
                let mib = default_memory_mib(cores, nodes);
                assert!(mib >= BASE_MEMORY_MIB + MEMORY_PER_CORE_MIB * u64::from(cores));
                let config = cfg().machine(Machine::Q35).cores(cores).numa_nodes(nodes);
                assert_eq!(shape(config), Ok(()), "cores={cores} nodes={nodes}");
            }
        }
    }

    #[test]
    fn validation_errors() {
        assert_eq!(shape(cfg().cores(0)), Err(ConfigError::ZeroCores));
        assert_eq!(
            shape(cfg().machine(Machine::Pc).cores(256)),
            Err(ConfigError::TooManyCores {
                cores: 256,
                machine: Machine::Pc,
                max: 255
            })
        );
        assert_eq!(
            shape(cfg().cores(2).numa_nodes(2)),
            Err(ConfigError::NumaOnMicrovm)
        );
        assert!(
            ConfigError::NumaOnMicrovm
                .to_string()
                .contains("use --machine q35")
        );
        assert_eq!(
            shape(cfg().machine(Machine::Q35).cores(2).numa_nodes(3)),
            Err(ConfigError::MoreNodesThanCores { nodes: 3, cores: 2 })
        );
        assert_eq!(
            shape(cfg().memory_mib(16)),
            Err(ConfigError::MemoryTooSmall {
                memory_mib: 16,
                min_mib: 32
            })
        );
        let uneven = cfg()
            .machine(Machine::Q35)
            .cores(4)
            .numa_nodes(3)
            .memory_mib(512);
        let err = shape(uneven).unwrap_err();
        assert!(
            matches!(
                err,
                ConfigError::MemoryNotDivisible {
                    memory_mib: 512,
                    nodes: 3,
                    multiple_mib: 6,
                    ..
                }
            ),
            "{err:?}"
        );
        for model in ["", " ", "Skylake Client"] {
            assert_eq!(
                shape(cfg().cpu(model)),
                Err(ConfigError::BadCpuModel(model.to_owned()))
            );
        }
        assert_eq!(shape(cfg().cpu("max,-la57")), Ok(()));
        let tiny_nodes = cfg()
            .machine(Machine::Q35)
            .cores(4)
            .numa_nodes(4)
            .memory_mib(64);
        assert!(matches!(
            shape(tiny_nodes),
            Err(ConfigError::MemoryNotDivisible { least_mib: 128, .. })
        ));
        let odd_share = cfg()
            .machine(Machine::Pc)
            .cores(2)
            .numa_nodes(2)
            .memory_mib(258);
        assert!(shape(odd_share).is_err(), "129 MiB per node is not aligned");
        let ok = cfg()
            .machine(Machine::Pc)
            .cores(2)
            .numa_nodes(2)
            .memory_mib(260);
        assert_eq!(shape(ok), Ok(()));
    }

    #[test]
    fn tcg_runs_at_most_255_cores() {
        let kvm = ResolvedAccel::Kvm;
        let tcg = ResolvedAccel::Tcg;
        assert_eq!(cfg().cores(255).validate_accel(tcg), Ok(()));
        assert_eq!(cfg().cores(256).validate_accel(kvm), Ok(()));
        assert_eq!(cfg().cores(288).validate_accel(kvm), Ok(()));
        let err = cfg().cores(256).accel(Accel::Tcg).validate_accel(tcg);
        assert_eq!(
            err,
            Err(ConfigError::TooManyCoresForTcg {
                cores: 256,
                max: 255,
                requested: Accel::Tcg
            })
        );
        let text = err.unwrap_err().to_string();
        assert!(
            text.starts_with("256 cores cannot run under TCG:"),
            "{text}"
        );
        assert!(text.contains("--cores 255 or fewer"), "{text}");
        assert!(text.contains("--accel kvm"), "{text}");
        assert!(text.contains("x2APIC"), "{text}");
        let auto = cfg().cores(300).validate_accel(tcg).unwrap_err();
        assert!(
            auto.to_string()
                .contains("(--accel auto chose TCG on this host)"),
            "{auto}"
        );
        let explicit = cfg().cores(256).accel(Accel::Tcg).resolve_accel();
        assert!(matches!(
            explicit,
            Err(ConfigError::TooManyCoresForTcg { cores: 256, .. })
        ));
        let decision = cfg().cores(255).accel(Accel::Tcg).resolve_accel().unwrap();
        assert_eq!(decision.accel, tcg);
    }

    #[test]
    fn validation_checks_files() {
        let dir = tempfile::tempdir().unwrap();
        let kernel = dir.path().join("kernel.elf");
        assert_eq!(
            QemuConfig::new(&kernel).validate(),
            Err(ConfigError::KernelNotFound(kernel.clone()))
        );
        assert_eq!(
            QemuConfig::new(dir.path()).validate(),
            Err(ConfigError::KernelNotAFile(dir.path().to_path_buf()))
        );
        std::fs::write(&kernel, b"\x7fELF").unwrap();
        assert_eq!(QemuConfig::new(&kernel).validate(), Ok(()));
        let initrd = dir.path().join("modules.cpio");
        assert_eq!(
            QemuConfig::new(&kernel).initrd(&initrd).validate(),
            Err(ConfigError::InitrdNotFound(initrd.clone()))
        );
        std::fs::write(&initrd, b"").unwrap();
        assert_eq!(QemuConfig::new(&kernel).initrd(&initrd).validate(), Ok(()));
        assert_eq!(
            QemuConfig::new(&kernel).cores(0).validate(),
            Err(ConfigError::ZeroCores),
            "shape errors come first"
        );
    }
}
