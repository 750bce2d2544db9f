//! The QEMU command line, as pure functions of the configuration.
//!
//! [`qemu_args`] builds the argument vector; [`machine_args`],
//! [`accel_args`], [`numa_args`] and [`gdb_args`] are its parts, each in one
//! place so it can be tuned. [`shell_join`] renders a command as one line that
//! a shell runs unchanged, for "reproduce with" messages.

use std::path::Path;

use crate::accel::ResolvedAccel;
use crate::config::{Machine, QemuConfig};

/// The TCP port of QEMU's gdb stub (`-s`).
pub const GDB_PORT: u16 = 1234;

/// Arguments every run gets: no default devices or config files, no display,
/// no reboot (a triple fault ends the run), the serial line on stdout, no
/// monitor, and the exit device the image writes its result to.
pub const FIXED_ARGS: [&str; 11] = [
    "-nodefaults",
    "-no-user-config",
    "-display",
    "none",
    "-no-reboot",
    "-serial",
    "stdio",
    "-monitor",
    "none",
    "-device",
    "isa-debug-exit,iobase=0xf4,iosize=0x04",
];

/// The machine selection (`-M ...`) for `machine`.
///
/// `microvm` gets no option ROMs and no RTC, keeps ACPI (for the MADT that
/// lists the cores), the PIT (for timer calibration) and the ISA serial port,
/// and drops the legacy PIC. All property names are those QEMU 7.2 lists in
/// `qemu-system-x86_64 -M microvm,help`.
pub fn machine_args(machine: Machine) -> Vec<String> {
    let spec = match machine {
        Machine::Microvm => {
            "microvm,x-option-roms=off,rtc=off,acpi=on,pit=on,pic=off,isa-serial=on"
        }
        Machine::Q35 => "q35",
        Machine::Pc => "pc",
    };
    vec!["-M".into(), spec.into()]
}

/// The CPU model a run under `accel` gets when it names none: `max` under
/// TCG, and under KVM the host CPU without `arch-capabilities`, because plain
/// `-cpu host` aborts on MSR 0x10a on hosts whose KVM is itself virtualised.
pub const fn default_cpu(accel: ResolvedAccel) -> &'static str {
    match accel {
        ResolvedAccel::Tcg => "max",
        ResolvedAccel::Kvm => "host,-arch-capabilities",
    }
}

/// The CPU model a run under `accel` gets: `cpu` when given, else
/// [`default_cpu`].
pub fn cpu_model(accel: ResolvedAccel, cpu: Option<&str>) -> &str {
    cpu.unwrap_or(default_cpu(accel))
}

/// The accelerator and its default CPU model ([`default_cpu`]); see
/// [`accel_cpu_args`].
pub fn accel_args(accel: ResolvedAccel) -> Vec<String> {
    accel_cpu_args(accel, None)
}

/// The accelerator and the CPU model: `cpu` when given, else
/// [`default_cpu`].
///
/// TCG is always multi-threaded: single-threaded TCG runs one vCPU at a time
/// and deadlocks guest spin-waits.
pub fn accel_cpu_args(accel: ResolvedAccel, cpu: Option<&str>) -> Vec<String> {
    let name = match accel {
        ResolvedAccel::Tcg => "tcg,thread=multi",
        ResolvedAccel::Kvm => "kvm",
    };
    vec![
        "-accel".into(),
        name.into(),
        "-cpu".into(),
        cpu_model(accel, cpu).into(),
    ]
}

/// What to tell the user about the CPU model `cpu` they asked for under
/// `accel`, if anything.
///
/// Under KVM the guest runs on the host's CPU: QEMU starts the model asked
/// for, but KVM offers only the features that this host's CPU and hypervisor
/// have, and QEMU drops the others with a warning.
pub fn cpu_note(accel: ResolvedAccel, cpu: Option<&str>) -> Option<String> {
    match (accel, cpu) {
        (ResolvedAccel::Kvm, Some(model)) => Some(format!(
            "note: under KVM the guest runs on this host's CPU: QEMU is started with \
             `-cpu {model}` as asked, but the vCPUs get only the features of that model that \
             the host CPU and KVM offer, and QEMU drops the others with a warning; each core's \
             `features` show what the guest got (without --cpu, KVM uses `-cpu {}`; if QEMU \
             stops on MSR 0x10a, add `,-arch-capabilities` to the model)",
            default_cpu(ResolvedAccel::Kvm)
        )),
        _ => None,
    }
}

/// The cores `first..=last` of NUMA node `node` when `cores` cores are split
/// into `nodes` contiguous blocks whose sizes differ by at most one.
pub fn node_cores(node: u32, nodes: u32, cores: u32) -> (u32, u32) {
    let start = |n: u32| (u64::from(n) * u64::from(cores) / u64::from(nodes)) as u32;
    (start(node), start(node + 1) - 1)
}

/// The NUMA description: `nodes` memory backends of equal size and `nodes`
/// nodes with contiguous blocks of cores. Empty when `nodes` is 0.
///
/// `memory_mib` must split evenly into `nodes` (see
/// [`QemuConfig::validate_shape`]).
pub fn numa_args(nodes: u32, cores: u32, memory_mib: u64) -> Vec<String> {
    let mut args = Vec::new();
    if nodes == 0 {
        return args;
    }
    let per_node = memory_mib / u64::from(nodes);
    for node in 0..nodes {
        let (first, last) = node_cores(node, nodes, cores);
        args.push("-object".into());
        args.push(format!("memory-backend-ram,id=mem{node},size={per_node}M"));
        args.push("-numa".into());
        args.push(format!(
            "node,nodeid={node},cpus={first}-{last},memdev=mem{node}"
        ));
    }
    args
}

/// The gdb stub on [`GDB_PORT`], with the guest paused until the debugger
/// continues it. Empty when `gdb` is false.
pub fn gdb_args(gdb: bool) -> Vec<String> {
    if gdb {
        vec!["-s".into(), "-S".into()]
    } else {
        Vec::new()
    }
}

/// The kernel command line of a run: the configured one, with
/// `initrd=required` added when the run has an initrd and the line does not
/// set `initrd=` itself. QEMU passes a PVH kernel no boot module for an
/// empty initrd file, so only this tells the kernel that one was meant.
pub fn kernel_cmdline(config: &QemuConfig) -> String {
    let sets_initrd = config
        .append
        .split_whitespace()
        .any(|w| w.starts_with("initrd="));
    if config.initrd.is_none() || sets_initrd {
        return config.append.clone();
    }
    if config.append.trim().is_empty() {
        "initrd=required".to_owned()
    } else {
        format!("{} initrd=required", config.append)
    }
}

/// The full argument vector (without the program) for `config` under
/// `accel`.
///
/// The order is: [`FIXED_ARGS`], [`machine_args`], [`accel_cpu_args`], `-smp`,
/// `-m`, [`numa_args`], `-kernel`, `-initrd`, `-append` ([`kernel_cmdline`]),
/// [`gdb_args`], and the configuration's extra arguments last so they can
/// override.
pub fn qemu_args(config: &QemuConfig, accel: ResolvedAccel) -> Vec<String> {
    let memory_mib = config.effective_memory_mib();
    let mut args: Vec<String> = FIXED_ARGS.iter().map(|a| (*a).to_owned()).collect();
    args.extend(machine_args(config.machine));
    args.extend(accel_cpu_args(accel, config.cpu.as_deref()));
    args.extend([
        "-smp".into(),
        config.cores.to_string(),
        "-m".into(),
        memory_mib.to_string(),
    ]);
    args.extend(numa_args(config.numa_nodes, config.cores, memory_mib));
    args.push("-kernel".into());
    args.push(config.kernel.display().to_string());
    if let Some(initrd) = &config.initrd {
        args.push("-initrd".into());
        args.push(initrd.display().to_string());
    }
    args.push("-append".into());
    args.push(kernel_cmdline(config));
    args.extend(gdb_args(config.gdb));
    args.extend(config.extra_args.iter().cloned());
    args
}

/// Human instructions for attaching gdb to a run started with `gdb` on.
pub fn gdb_instructions(kernel: &Path) -> String {
    let kernel = shell_quote(&kernel.display().to_string());
    format!(
        "QEMU is paused, waiting for a debugger on TCP port {GDB_PORT}; the run has no timeout.\n\
         Attach from another terminal with:\n\
         \x20 gdb {kernel} -ex 'target remote :{GDB_PORT}'\n\
         then set breakpoints and type `continue` to start the guest."
    )
}

/// Quotes `word` for a POSIX shell: unchanged when it has only safe
/// characters, otherwise in single quotes with each `'` written as `'\''`.
pub fn shell_quote(word: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "@%+=:,./-_".contains(c);
    if !word.is_empty() && word.chars().all(safe) {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// Joins `words` into one shell command line, quoting each as needed.
pub fn shell_join<I, S>(words: I) -> String
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    words
        .into_iter()
        .map(|w| shell_quote(w.as_ref()))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::QemuConfig;

    fn args(config: &QemuConfig, accel: ResolvedAccel) -> String {
        qemu_args(config, accel).join(" ")
    }

    fn cfg() -> QemuConfig {
        QemuConfig::new("/images/kernel.elf")
    }

    const FIXED: &str = "-nodefaults -no-user-config -display none -no-reboot -serial stdio \
        -monitor none -device isa-debug-exit,iobase=0xf4,iosize=0x04";

    #[test]
    fn microvm_tcg_default() {
        let config = cfg().cores(2).append("log=info");
        assert_eq!(
            args(&config, ResolvedAccel::Tcg),
            format!(
                "{FIXED} -M microvm,x-option-roms=off,rtc=off,acpi=on,pit=on,pic=off,isa-serial=on \
                 -accel tcg,thread=multi -cpu max -smp 2 -m 288 \
                 -kernel /images/kernel.elf -append log=info"
            )
        );
    }

    #[test]
    fn q35_kvm_with_initrd_gdb_and_extra_args() {
        let config = cfg()
            .machine(Machine::Q35)
            .cores(4)
            .memory_mib(1024)
            .initrd("/images/modules.cpio")
            .gdb(true)
            .extra_args(["-d", "int"]);
        assert_eq!(
            args(&config, ResolvedAccel::Kvm),
            format!(
                "{FIXED} -M q35 -accel kvm -cpu host,-arch-capabilities -smp 4 -m 1024 \
                 -kernel /images/kernel.elf -initrd /images/modules.cpio \
                 -append initrd=required -s -S -d int"
            )
        );
    }

    #[test]
    fn an_initrd_is_required_unless_the_command_line_says_otherwise() {
        let with = cfg().initrd("/m.cpio");
        assert_eq!(kernel_cmdline(&with), "initrd=required");
        assert_eq!(
            kernel_cmdline(&with.clone().append("log=debug")),
            "log=debug initrd=required"
        );
        assert_eq!(
            kernel_cmdline(&with.append("initrd=optional")),
            "initrd=optional"
        );
        assert_eq!(kernel_cmdline(&cfg().append("log=debug")), "log=debug");
    }

    #[test]
    fn the_cpu_model_asked_for_replaces_the_default_under_both_accelerators() {
        for accel in [ResolvedAccel::Tcg, ResolvedAccel::Kvm] {
            let a = qemu_args(&cfg().cpu("Skylake-Client,-hle"), accel);
            assert_eq!(a.iter().filter(|x| *x == "-cpu").count(), 1, "{a:?}");
            let i = a.iter().position(|x| x == "-cpu").unwrap();
            assert_eq!(a[i + 1], "Skylake-Client,-hle");
            let a = qemu_args(&cfg(), accel);
            let i = a.iter().position(|x| x == "-cpu").unwrap();
            assert_eq!(a[i + 1], default_cpu(accel));
        }
        assert_eq!(
            cpu_model(ResolvedAccel::Kvm, None),
            "host,-arch-capabilities"
        );
        assert_eq!(cpu_model(ResolvedAccel::Tcg, Some("qemu64")), "qemu64");
    }

    #[test]
    fn a_model_under_kvm_gets_a_note_that_keeps_it() {
        assert_eq!(cpu_note(ResolvedAccel::Tcg, Some("qemu64")), None);
        assert_eq!(cpu_note(ResolvedAccel::Kvm, None), None);
        let note = cpu_note(ResolvedAccel::Kvm, Some("Skylake-Client")).unwrap();
        assert!(note.contains("`-cpu Skylake-Client` as asked"), "{note}");
        assert!(note.contains("the host CPU and KVM offer"), "{note}");
        assert!(note.contains("host,-arch-capabilities"), "{note}");
    }

    #[test]
    fn append_is_one_argument_even_when_empty_or_spaced() {
        let a = qemu_args(&cfg(), ResolvedAccel::Tcg);
        let i = a.iter().position(|x| x == "-append").unwrap();
        assert_eq!(a[i + 1], "");
        assert_eq!(i + 2, a.len());
        let a = qemu_args(&cfg().append("a=1 b=two words"), ResolvedAccel::Tcg);
        assert_eq!(a.last().unwrap(), "a=1 b=two words");
    }

    #[test]
    fn pc_machine_and_no_gdb_by_default() {
        let a = qemu_args(&cfg().machine(Machine::Pc), ResolvedAccel::Tcg);
        let i = a.iter().position(|x| x == "-M").unwrap();
        assert_eq!(a[i + 1], "pc");
        assert!(!a.iter().any(|x| x == "-s" || x == "-S"));
        assert!(!a.iter().any(|x| x == "-numa" || x == "-initrd"));
    }

    #[test]
    fn numa_blocks_are_contiguous_with_equal_memory() {
        let config = cfg()
            .machine(Machine::Q35)
            .cores(4)
            .numa_nodes(2)
            .memory_mib(512);
        let line = args(&config, ResolvedAccel::Tcg);
        assert!(
            line.contains(
                "-smp 4 -m 512 \
                 -object memory-backend-ram,id=mem0,size=256M \
                 -numa node,nodeid=0,cpus=0-1,memdev=mem0 \
                 -object memory-backend-ram,id=mem1,size=256M \
                 -numa node,nodeid=1,cpus=2-3,memdev=mem1 -kernel"
            ),
            "{line}"
        );
    }

    #[test]
    fn numa_with_uneven_cores() {
        assert_eq!(
            numa_args(3, 5, 384),
            [
                "-object",
                "memory-backend-ram,id=mem0,size=128M",
                "-numa",
                "node,nodeid=0,cpus=0-0,memdev=mem0",
                "-object",
                "memory-backend-ram,id=mem1,size=128M",
                "-numa",
                "node,nodeid=1,cpus=1-2,memdev=mem1",
                "-object",
                "memory-backend-ram,id=mem2,size=128M",
                "-numa",
                "node,nodeid=2,cpus=3-4,memdev=mem2",
            ]
        );
        assert!(numa_args(0, 4, 512).is_empty());
        for cores in 1..=40 {
            for nodes in 1..=cores {
                let mut next = 0;
                for node in 0..nodes {
                    let (first, last) = node_cores(node, nodes, cores);
                    assert_eq!(first, next, "cores={cores} nodes={nodes}");
                    assert!(last >= first);
                    assert!(last - first + 1 >= cores / nodes);
                    assert!(last - first < cores.div_ceil(nodes));
                    next = last + 1;
                }
                assert_eq!(next, cores);
            }
        }
    }

    #[test]
    fn default_numa_memory_is_split_evenly() {
        let config = cfg().machine(Machine::Pc).cores(6).numa_nodes(3);
        let line = args(&config, ResolvedAccel::Tcg);
        assert!(line.contains("-m 384 "), "{line}");
        assert_eq!(line.matches("size=128M").count(), 3, "{line}");
    }

    #[test]
    fn every_machine_and_accel_combination_has_one_machine_and_accel() {
        for machine in Machine::ALL {
            for accel in [ResolvedAccel::Kvm, ResolvedAccel::Tcg] {
                for gdb in [false, true] {
                    let a = qemu_args(&cfg().machine(machine).gdb(gdb), accel);
                    assert_eq!(a.iter().filter(|x| *x == "-M").count(), 1);
                    assert_eq!(a.iter().filter(|x| *x == "-accel").count(), 1);
                    assert_eq!(a.iter().filter(|x| *x == "-cpu").count(), 1);
                    assert_eq!(a.iter().any(|x| x == "-S"), gdb);
                    let empty: Vec<_> = (0..a.len()).filter(|&i| a[i].is_empty()).collect();
                    assert_eq!(empty.len(), 1, "only the empty -append value: {a:?}");
                    assert_eq!(a[empty[0] - 1], "-append");
                }
            }
        }
    }

    #[test]
    fn shell_quoting() {
        assert_eq!(
            shell_quote("plain-word_1.2/x,y=z:@%+"),
            "plain-word_1.2/x,y=z:@%+"
        );
        assert_eq!(shell_quote(""), "''");
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote("$HOME"), "'$HOME'");
        assert_eq!(shell_quote("a\"b"), "'a\"b'");
        assert_eq!(shell_quote("*"), "'*'");
        assert_eq!(
            shell_join(["qemu", "-append", "log=info cores=2", ""]),
            "qemu -append 'log=info cores=2' ''"
        );
    }

    #[test]
    fn shell_join_round_trips_through_sh() {
        let words = [
            "printf",
            "%s|",
            "a b",
            "it's",
            "",
            "$X",
            "back\\slash",
            "ünï",
        ];
        let out = std::process::Command::new("/bin/sh")
            .arg("-c")
            .arg(shell_join(words))
            .output()
            .unwrap();
        assert_eq!(
            String::from_utf8(out.stdout).unwrap(),
            "a b|it's||$X|back\\slash|ünï|"
        );
    }

    #[test]
    fn gdb_instructions_name_the_kernel_and_port() {
        let text = gdb_instructions(Path::new("/tmp/my kernel"));
        assert!(
            text.contains("gdb '/tmp/my kernel' -ex 'target remote :1234'"),
            "{text}"
        );
    }
}
