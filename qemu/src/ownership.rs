//! Which program may print which record kind: one table, [`OWNERS`].
//!
//! Every line carries who printed it: the kernel, or a ring-3 program named
//! by the kernel's stamp (`boot::stamp`). A record counts only when its
//! printer owns its kind. Any other record, such as a `sync-check` printed
//! by a domain, is [`Forged`]: it is not counted, it is shown with `!!`,
//! and it fails the run.
//!
//! A boot program's name is the kernel's (the boot module it loaded); a
//! domain's name is what its builder chose, so kinds that decide a run
//! belong to the kernel or to boot programs.

use std::fmt;

use boot::stamp::Origin;

use crate::records::{OwnedRecord, Printer};

/// Who may print a record kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Owner {
    /// The kernel itself, with `console::record`.
    Kernel,
    /// The boot program of this name.
    Boot(&'static str),
    /// A domain of this name.
    Domain(&'static str),
}

impl Owner {
    /// Whether `printer` is this owner.
    pub fn is(self, printer: &Printer) -> bool {
        match (self, printer) {
            (Owner::Kernel, Printer::Kernel) => true,
            (Owner::Boot(name), Printer::Program(Origin::Boot, n))
            | (Owner::Domain(name), Printer::Program(Origin::Domain, n)) => name == n,
            _ => false,
        }
    }
}

impl fmt::Display for Owner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Owner::Kernel => write!(f, "the kernel"),
            Owner::Boot(name) => write!(f, "boot program '{name}'"),
            Owner::Domain(name) => write!(f, "domain '{name}'"),
        }
    }
}

const KERNEL: &[Owner] = &[Owner::Kernel];
const MONITOR: &[Owner] = &[Owner::Boot("monitor")];
const PROBE: &[Owner] = &[Owner::Boot("probe")];
const CAPTEST: &[Owner] = &[Owner::Boot("captest")];
const FUZZ: &[Owner] = &[Owner::Boot("fuzz")];
const PINGPONG: &[Owner] = &[Owner::Domain("pingpong")];
const HOSTILE: &[Owner] = &[Owner::Boot("hostile")];
const HOSTILE_AND_ITS_DOMAINS: &[Owner] = &[Owner::Boot("hostile"), Owner::Domain("hostile")];

/// Every record kind and the programs that may print it.
pub const OWNERS: &[(&str, &[Owner])] = &[
    // The kernel's records.
    ("clocks", KERNEL),
    ("core-up", KERNEL),
    ("boot-done", KERNEL),
    ("isolation", KERNEL),
    ("core-timeout", KERNEL),
    ("fault", KERNEL),
    ("panic", KERNEL),
    ("programs", KERNEL),
    ("caps-boot", KERNEL),
    ("sched", KERNEL),
    ("user-fault", KERNEL),
    ("user-killed", KERNEL),
    ("program-exit", KERNEL),
    ("program-panic", KERNEL),
    ("shutdown", KERNEL),
    ("domain-revoked", KERNEL),
    ("caps-violation", KERNEL),
    ("caps-fuzz-check", KERNEL),
    ("fuzz-recent", &[Owner::Kernel, Owner::Boot("fuzz")]),
    // The monitors': the mesh, spawning, and the experiments they run.
    ("monitor-up", MONITOR),
    ("mesh-member", MONITOR),
    ("mesh-complete", MONITOR),
    ("dropped", MONITOR),
    ("monitor-done", MONITOR),
    ("monitor-error", MONITOR),
    ("spawned", MONITOR),
    ("spawn-ended", MONITOR),
    ("spawn-failed", MONITOR),
    ("spawn-error", MONITOR),
    ("exp-start", MONITOR),
    ("exp-done", MONITOR),
    ("exp-error", MONITOR),
    ("exp-skew", MONITOR),
    ("urpc-pair", MONITOR),
    ("urpc-summary", MONITOR),
    ("update-cost", MONITOR),
    ("update-check", MONITOR),
    ("update-skip", MONITOR),
    ("caps-point", MONITOR),
    ("caps-check", MONITOR),
    ("caps-fault", MONITOR),
    ("ram-point", MONITOR),
    ("mem-check", MONITOR),
    ("lock-point", MONITOR),
    ("barrier-point", MONITOR),
    ("sync-check", MONITOR),
    ("sync-skip", MONITOR),
    ("replica-op", MONITOR),
    ("replica-point", MONITOR),
    // Printed by the hosted runtime for its monitors (hosted runs only).
    ("hosted", MONITOR),
    // The test programs'.
    ("syscall-check", PROBE),
    ("probe", PROBE),
    ("caps-initial", CAPTEST),
    ("captest", CAPTEST),
    ("captest-touch", CAPTEST),
    ("caps-xfer", CAPTEST),
    ("caps-bench", CAPTEST),
    ("caps-bench-error", CAPTEST),
    (
        "cap-check",
        &[Owner::Boot("captest"), Owner::Boot("disptest")],
    ),
    ("disptest", &[Owner::Boot("disptest")]),
    ("lmptest", &[Owner::Boot("lmptest")]),
    ("fuzz-start", FUZZ),
    ("fuzz-progress", FUZZ),
    ("fuzz-done", FUZZ),
    ("fuzz-call", FUZZ),
    ("fuzz-result", FUZZ),
    ("fuzz-fail", FUZZ),
    ("fuzz-flags", FUZZ),
    ("hostile-done", HOSTILE),
    ("hostile-domain", HOSTILE),
    ("hostile-error", HOSTILE),
    ("hostile-check", HOSTILE_AND_ITS_DOMAINS),
    ("hostile-step", HOSTILE_AND_ITS_DOMAINS),
    // The domains' (their names are their builders' word).
    ("lmp-check", PINGPONG),
    ("lmp-bench", PINGPONG),
    ("pingpong", PINGPONG),
    ("hello", &[Owner::Domain("hello")]),
    ("spin", &[Owner::Domain("spin")]),
    ("grow", &[Owner::Domain("grow")]),
    ("readonly", &[Owner::Domain("readonly")]),
    ("upcalls", &[Owner::Domain("upcalls")]),
    ("badpager", &[Owner::Domain("badpager")]),
    ("uthreads", &[Owner::Domain("uthreads")]),
];

/// The owners of `kind`; empty for a kind nobody may print.
pub fn owners(kind: &str) -> &'static [Owner] {
    OWNERS
        .iter()
        .find(|(k, _)| *k == kind)
        .map_or(&[], |(_, owners)| owners)
}

/// Whether `printer` may print records of `kind`.
pub fn may_print(printer: &Printer, kind: &str) -> bool {
    owners(kind).iter().any(|o| o.is(printer))
}

/// A record printed by a program that does not own its kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Forged {
    /// The record as printed; it does not count.
    pub record: OwnedRecord,
}

impl Forged {
    /// `Err(Forged)` when `record`'s printer does not own its kind.
    pub fn check(record: OwnedRecord) -> Result<OwnedRecord, Forged> {
        if may_print(&record.by, &record.kind) {
            Ok(record)
        } else {
            Err(Forged { record })
        }
    }
}

impl fmt::Display for Forged {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = &self.record;
        write!(
            f,
            "core {}: {} printed a `{}` record, ",
            r.core, r.by, r.kind
        )?;
        let owners = owners(&r.kind);
        if owners.is_empty() {
            return write!(f, "a kind that no program prints");
        }
        let names: Vec<String> = owners.iter().map(Owner::to_string).collect();
        write!(f, "which only {} may print", names.join(" or "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &str) -> OwnedRecord {
        OwnedRecord::parse_any(line).expect("a record")
    }

    #[test]
    fn every_kind_is_listed_once() {
        for (i, (kind, owners)) in OWNERS.iter().enumerate() {
            assert!(!owners.is_empty(), "{kind}");
            assert!(
                OWNERS[i + 1..].iter().all(|(k, _)| k != kind),
                "{kind} is listed twice"
            );
        }
    }

    #[test]
    fn owners_print_their_kinds() {
        for line in [
            "[core 0] @flotilla/1 core-up apic=0",
            "[core 0] @flotilla/1 program-exit program=hello code=0",
            "[core 1] [boot monitor] @flotilla/1 sync-check exp=locks cores=2 violations=0",
            "[core 1] [boot monitor] @flotilla/1 spawn-ended program=hello core=1 status=exited code=0",
            "[core 1] [boot captest] @flotilla/1 cap-check name=a expected=ok got=ok pass=1",
            "[core 1] [boot disptest] @flotilla/1 cap-check name=a expected=ok got=ok pass=1",
            "[core 1] [domain pingpong] @flotilla/1 lmp-check name=a expected=ok got=ok pass=1",
            "[core 1] @flotilla/1 fuzz-recent by=kernel call=1",
            "[core 1] [boot fuzz] @flotilla/1 fuzz-recent by=fuzz call=1",
        ] {
            assert_eq!(Forged::check(parse(line)).map(|_| ()), Ok(()), "{line}");
        }
    }

    #[test]
    fn a_domain_cannot_print_a_monitors_record() {
        let line = "[core 1] [domain hostile] @flotilla/1 sync-check exp=locks cores=2 kind=tas violations=0";
        let forged = Forged::check(parse(line)).unwrap_err();
        assert_eq!(forged.record.kind, "sync-check");
        assert_eq!(
            forged.to_string(),
            "core 1: domain 'hostile' printed a `sync-check` record, which only boot program 'monitor' may print"
        );
        // Not even a domain that its builder named `monitor`.
        let line = "[core 1] [domain monitor] @flotilla/1 spawn-ended program=hello core=1 status=exited code=0";
        assert!(Forged::check(parse(line)).is_err());
    }

    #[test]
    fn a_boot_program_cannot_print_a_kind_it_does_not_own() {
        for (line, says) in [
            (
                "[core 0] [boot captest] @flotilla/1 monitor-done ok=1 sent=1 received=1 dropped=0 blocks=0",
                "core 0: boot program 'captest' printed a `monitor-done` record, which only boot program 'monitor' may print",
            ),
            (
                "[core 0] [boot monitor] @flotilla/1 program-exit program=hello code=0",
                "core 0: boot program 'monitor' printed a `program-exit` record, which only the kernel may print",
            ),
            (
                "[core 0] [boot monitor] @flotilla/1 cap-check name=a expected=ok got=ok pass=1",
                "core 0: boot program 'monitor' printed a `cap-check` record, which only boot program 'captest' or boot program 'disptest' may print",
            ),
            (
                "[core 2] [boot monitor] @flotilla/1 no-such-kind a=1",
                "core 2: boot program 'monitor' printed a `no-such-kind` record, a kind that no program prints",
            ),
        ] {
            let forged = Forged::check(parse(line)).unwrap_err();
            assert_eq!(forged.to_string(), says);
        }
    }

    #[test]
    fn the_kernel_owns_only_its_kinds() {
        let forged = Forged::check(parse("[core 0] @flotilla/1 monitor-up cores=2")).unwrap_err();
        assert_eq!(
            forged.to_string(),
            "core 0: the kernel printed a `monitor-up` record, which only boot program 'monitor' may print"
        );
    }
}
