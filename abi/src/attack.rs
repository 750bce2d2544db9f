//! The attacks of the `hostile` test program on the CPU driver, named as
//! the kernel's `test=hostile-NAME` option names them and as the program
//! takes them for its argument.

/// An attack of the `hostile` program on the CPU driver (`test=hostile-NAME`).
///
/// Each is one way a ring-3 program could take over, stop or fool the
/// machine; the kernel must stop it as its integration test says. Its
/// `test=` value ([`Attack::test_name`]) is `hostile-` and the variant's
/// name in kebab case ([`Attack::name`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, strum::IntoStaticStr, strum::EnumIter)]
#[strum(serialize_all = "kebab-case", prefix = "hostile-")]
pub enum Attack {
    /// A domain returns from a system call to a non-canonical address (its
    /// `syscall` is the last instruction of the user half).
    Sysret,
    /// A domain jumps to the kernel's `syscall` entry with forged flags
    /// (IOPL 3, interrupts off), as a system call that never reached ring 0.
    ForgedEntry,
    /// A domain sets the nested-task flag and makes a system call that
    /// returns with IRETQ.
    NtFlag,
    /// A domain makes a system call with a non-canonical stack pointer.
    BadRsp,
    /// A domain registers an exception handler whose stack is the end of the
    /// user half.
    HandlerStack,
    /// A domain asks to end the run with a pass.
    Shutdown,
    /// A domain notifies every core without a Notify capability.
    Notify,
    /// A domain panics: only the domain ends.
    DomainPanic,
    /// A program imports a Frame over kernel memory.
    ImportKernel,
    /// Dispatchers fill the kernel cspace with capabilities in flight.
    KernelCspace,
    /// A capability dropped on an LMP path was the last of a running
    /// domain's PML4.
    LmpReap,
    /// A dispatcher is started with a PML4 and CNode without rights.
    RunRights,
    /// A domain prints records that only the monitors may print.
    ForgedRecord,
}

/// What every attack's `test=` value starts with.
const TEST_PREFIX: &str = "hostile-";

impl Attack {
    /// Every attack.
    pub const ALL: [Attack; 13] = [
        Attack::Sysret,
        Attack::ForgedEntry,
        Attack::NtFlag,
        Attack::BadRsp,
        Attack::HandlerStack,
        Attack::Shutdown,
        Attack::Notify,
        Attack::DomainPanic,
        Attack::ImportKernel,
        Attack::KernelCspace,
        Attack::LmpReap,
        Attack::RunRights,
        Attack::ForgedRecord,
    ];

    /// The attack's name (the `hostile` program's argument).
    pub fn name(self) -> &'static str {
        &self.test_name()[TEST_PREFIX.len()..]
    }

    /// Its `test=` value, `hostile-` and the name.
    pub fn test_name(self) -> &'static str {
        self.into()
    }

    /// Looks an attack up by name.
    pub fn from_name(name: &str) -> Option<Attack> {
        Attack::ALL.into_iter().find(|a| a.name() == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_attack_is_listed_once_and_keeps_its_names() {
        use strum::IntoEnumIterator;
        assert!(Attack::iter().eq(Attack::ALL));
        let names = [
            "sysret",
            "forged-entry",
            "nt-flag",
            "bad-rsp",
            "handler-stack",
            "shutdown",
            "notify",
            "domain-panic",
            "import-kernel",
            "kernel-cspace",
            "lmp-reap",
            "run-rights",
            "forged-record",
        ];
        assert_eq!(Attack::ALL.map(Attack::name), names);
        for (attack, name) in Attack::ALL.into_iter().zip(names) {
            assert_eq!(attack.test_name(), ["hostile-", name].concat());
            assert_eq!(Attack::from_name(name), Some(attack));
        }
        assert_eq!(Attack::from_name("hostile-sysret"), None);
    }
}
