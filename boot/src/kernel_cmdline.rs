//! The kernel command line, parsed into a typed [`Config`].
//!
//! The command line is a space-separated list of `key=value` options (QEMU
//! `-append`). Every option is known; an unknown option, a value that does not
//! parse, or an option given twice is an error that the CPU driver reports
//! before it refuses to boot. Nothing is silently ignored.
//!
//! | option | values | default |
//! |---|---|---|
//! | `log` | `off`, `error`, `warn`, `info`, `debug`, `trace` | `info` |
//! | `test` | a [`SelfTest`] name | none |
//! | `ap-timeout-ms` | milliseconds the boot core waits for each other core | `10000` |
//! | `user` | the argument string of every ring-3 program (no spaces, at most [`UserArgs::CAPACITY`] bytes) | empty |
//! | `initrd` | `optional`, `required`: whether the run must have an archive of ring-3 programs | `optional` |
//! | `fuzz` | `SEED:CALLS` or `SEED:CALLS:trace`: every core first runs the `fuzz` program, which makes `CALLS` random capability invocations in all (a share on each core) from seed `SEED`, while the kernel checks its capability database (a [`FuzzRun`]) | none |
//!
//! `initrd=required` exists because the kernel cannot tell a zero-byte
//! initrd from none: QEMU hands a PVH kernel no boot module for an empty
//! file. The host adds it whenever it gives QEMU an initrd.
//!
//! A refused value is shown in the error whole when it is short, and
//! shortened with its length when it is long (see [`crate::text`]), so
//! every error fits a fixed buffer and ends with what is accepted.

use strum::IntoEnumIterator;

use crate::text::{Quoted, Short};

/// Log verbosity, from the `log=` option, named by the variant in lower
/// case.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    strum::IntoStaticStr,
    strum::EnumString,
    strum::EnumIter,
)]
#[strum(serialize_all = "kebab-case")]
pub enum LogLevel {
    /// Nothing but structured records and fatal reports.
    Off,
    /// Errors only.
    Error,
    /// Warnings and errors.
    Warn,
    /// Normal progress messages.
    Info,
    /// Detailed boot steps.
    Debug,
    /// Everything.
    Trace,
}

impl LogLevel {
    /// The option value naming this level.
    pub fn name(self) -> &'static str {
        self.into()
    }
}

/// A deliberate test scenario, selected with `test=`.
///
/// Each scenario ends the run in a documented way, which the integration
/// tests check. Its `test=` value ([`SelfTest::name`]) is the variant's name
/// in kebab case, or the attack's for [`SelfTest::Hostile`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, strum::IntoStaticStr)]
#[strum(serialize_all = "kebab-case")]
pub enum SelfTest {
    /// Every core increments a kernel static once and reports its value and
    /// the physical frame behind it; the run passes.
    Isolation,
    /// The boot core reads an unmapped kernel address; the run ends with a
    /// fault report for vector 14.
    PageFault,
    /// The boot core divides by zero; the run ends with a fault report for
    /// vector 0.
    DivideError,
    /// The last core to come up panics; the run ends with a panic report.
    ApPanic,
    /// The boot core overflows its kernel stack into the guard page; the
    /// double fault is handled on its own stack and reported.
    StackOverflow,
    /// The last core stops before it reports up; the boot core names it,
    /// with the stage it reached, and the run fails.
    ApStall,
    /// The last core runs the `probe` program before its monitor: the probe
    /// makes system calls with bad arguments, reports the errors it got, and
    /// then faults in ring 3; the core reports the fault, ends the probe and
    /// goes on to run its monitor.
    UserProbe,
    /// The last core's monitor panics in ring 3 before its main function;
    /// the run ends at once with a panic report naming the core and the
    /// program.
    UserPanic,
    /// The boot core's monitor allocates until its heap is exhausted; the
    /// allocation failure panics, and the run ends as for
    /// [`SelfTest::UserPanic`].
    UserOom,
    /// Every core runs the `captest` program before its monitor, with the
    /// core's first cspace: it invokes its capabilities (identify, retype,
    /// map, copy, mint, revoke, bad invocations), reports each check, and
    /// ends with a deliberate touch of the page it unmapped, a fault the
    /// core reports before it goes on to run its monitor.
    Caps,
    /// The boot core runs `captest` in its benchmark mode before its
    /// monitor: cycles of identify, retype and map invocations, measured in
    /// ring 3 in batches, as records.
    CapsBench,
    /// Every core runs `captest` in its isolation mode before its monitor:
    /// it tries to reach memory it holds no capability for (the channel
    /// pool, another core's partition, kernel memory) and must get a typed
    /// error each time, and it touches a page whose Frame went with a
    /// revoke of its RAM, a fault the core reports.
    CapsIsolation,
    /// Every core runs `captest` in its transfer mode before its monitor:
    /// core 0 exports a Frame it wrote a pattern into, core 1 imports it,
    /// maps it and reads the pattern back, and malformed bytes and an
    /// import without the Kernel capability get their typed errors.
    CapsXfer,
    /// Every core runs `disptest` before its monitor: it starts domains
    /// built from user level through the monitor's loader, makes every
    /// refusal of the dispatcher and VNode invocations happen, and ends
    /// two domains by deleting their Dispatcher and their PML4.
    CapsDispatch,
    /// Every core runs `lmptest` before its monitor: two `pingpong`
    /// domains exchange LMP messages (refusals, the buffer, a capability,
    /// timed round trips with handoff).
    Lmp,
    /// With `fuzz=`: a deliberately broken kernel path. Core 0's CPU
    /// driver corrupts one record of its capability database after the
    /// fuzzer's 1000th invocation; fuzz mode must find it and fail the run.
    FuzzCorrupt,
    /// With `fuzz=`: a deliberately broken kernel path. Core 0's CPU
    /// driver answers the fuzzer's 1000th invocation with a code no
    /// `abi::Error` has; the fuzzer must report it and fail the run.
    FuzzUntyped,
    /// The last core runs the `hostile` program before its monitor: it
    /// tries one attack on the kernel from ring 3 (`test=hostile-NAME`,
    /// an [`Attack`]), and reports how it was stopped.
    #[strum(transparent)]
    Hostile(Attack),
}

pub use abi::attack::Attack;

impl SelfTest {
    /// Scenarios other than the attacks.
    const PLAIN: [SelfTest; 17] = [
        SelfTest::Isolation,
        SelfTest::PageFault,
        SelfTest::DivideError,
        SelfTest::ApPanic,
        SelfTest::StackOverflow,
        SelfTest::ApStall,
        SelfTest::UserProbe,
        SelfTest::UserPanic,
        SelfTest::UserOom,
        SelfTest::Caps,
        SelfTest::CapsBench,
        SelfTest::CapsIsolation,
        SelfTest::CapsXfer,
        SelfTest::CapsDispatch,
        SelfTest::Lmp,
        SelfTest::FuzzCorrupt,
        SelfTest::FuzzUntyped,
    ];

    /// Every scenario, in the order they are listed to users.
    pub const ALL: [SelfTest; 17 + Attack::ALL.len()] = {
        let mut all = [SelfTest::Isolation; 17 + Attack::ALL.len()];
        let mut i = 0;
        while i < all.len() {
            all[i] = if i < SelfTest::PLAIN.len() {
                SelfTest::PLAIN[i]
            } else {
                SelfTest::Hostile(Attack::ALL[i - SelfTest::PLAIN.len()])
            };
            i += 1;
        }
        all
    };

    /// The `test=` value naming this scenario.
    pub fn name(self) -> &'static str {
        self.into()
    }

    /// Looks a scenario up by name.
    pub fn from_name(name: &str) -> Option<SelfTest> {
        SelfTest::ALL.into_iter().find(|t| t.name() == name)
    }
}

/// The argument string handed to ring-3 programs (`user=`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UserArgs {
    bytes: [u8; UserArgs::CAPACITY],
    len: u16,
}

// The length is stored in a `u16`.
const _: () = assert!(UserArgs::CAPACITY <= u16::MAX as usize);

impl UserArgs {
    /// Longest argument string: what a program can be given
    /// ([`abi::MAX_ARGS`]).
    pub const CAPACITY: usize = abi::MAX_ARGS;

    /// An empty argument string.
    pub const EMPTY: UserArgs = UserArgs {
        bytes: [0; UserArgs::CAPACITY],
        len: 0,
    };

    /// Makes an argument string; `None` if it is too long.
    pub fn new(text: &str) -> Option<UserArgs> {
        let mut args = UserArgs::EMPTY;
        args.bytes
            .get_mut(..text.len())?
            .copy_from_slice(text.as_bytes());
        args.len = text.len() as u16;
        Some(args)
    }

    /// The argument string.
    pub fn as_str(&self) -> &str {
        // Cannot fail: built from a `&str` cut at its own length.
        core::str::from_utf8(&self.bytes[..usize::from(self.len)]).unwrap_or("")
    }
}

/// Whether the run must have an initrd of ring-3 programs (`initrd=`),
/// named by the variant in lower case.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    strum::IntoStaticStr,
    strum::EnumString,
    strum::EnumIter,
)]
#[strum(serialize_all = "kebab-case")]
pub enum Initrd {
    /// Without an initrd the CPU drivers boot alone, and the run passes
    /// once every core is up.
    #[default]
    Optional,
    /// A missing or empty initrd fails the run.
    Required,
}

impl Initrd {
    /// The option value naming this choice.
    pub fn name(self) -> &'static str {
        self.into()
    }
}

/// A fuzzing run (`fuzz=SEED:CALLS[:trace]`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FuzzRun {
    /// The seed every core's generator derives its own from.
    pub seed: u64,
    /// Invocations in all, split over the cores.
    pub calls: u64,
    /// Print every call before it is made, and check the capability
    /// database after every operation (to find the exact call that broke
    /// it).
    pub trace: bool,
}

impl FuzzRun {
    /// Most calls a run may ask for.
    pub const MAX_CALLS: u64 = 1 << 40;

    /// Parses `SEED:CALLS` or `SEED:CALLS:trace` (decimal or `0x` hex).
    pub fn parse(value: &str) -> Option<FuzzRun> {
        let mut parts = value.split(':');
        let seed = crate::protocol::parse_u64(parts.next()?)?;
        let calls = crate::protocol::parse_u64(parts.next()?)?;
        let trace = match parts.next() {
            None => false,
            Some("trace") => true,
            Some(_) => return None,
        };
        if parts.next().is_some() || calls == 0 || calls > FuzzRun::MAX_CALLS {
            return None;
        }
        Some(FuzzRun { seed, calls, trace })
    }

    /// The calls core `core` of `cores` makes: an even share, the
    /// remainder to the lowest cores.
    pub fn share(&self, core: u32, cores: u32) -> u64 {
        let cores = u64::from(cores.max(1));
        self.calls / cores + u64::from(u64::from(core) < self.calls % cores)
    }
}

/// How a CPU driver shares its core between its programs (`sched=`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sched {
    /// `sched=rr[,slice-us=N]`: round robin; while more than one program
    /// lives on the core, the local APIC timer ends each turn after
    /// `slice_us` microseconds.
    RoundRobin {
        /// The time slice, [`Sched::MIN_SLICE_US`] to
        /// [`Sched::MAX_SLICE_US`].
        slice_us: u32,
    },
    /// `sched=block`: a program runs until it blocks or ends.
    RunToBlock,
}

impl Default for Sched {
    fn default() -> Sched {
        Sched::RoundRobin {
            slice_us: Sched::DEFAULT_SLICE_US,
        }
    }
}

impl Sched {
    /// The slice without `slice-us=`.
    pub const DEFAULT_SLICE_US: u32 = 10_000;
    /// The shortest slice.
    pub const MIN_SLICE_US: u32 = 100;
    /// The longest slice.
    pub const MAX_SLICE_US: u32 = 1_000_000;

    /// Parses `rr`, `rr,slice-us=N` or `block`.
    pub fn parse(value: &str) -> Option<Sched> {
        let (policy, rest) = match value.split_once(',') {
            Some((p, r)) => (p, Some(r)),
            None => (value, None),
        };
        match (policy, rest) {
            ("block", None) => Some(Sched::RunToBlock),
            ("rr", None) => Some(Sched::default()),
            ("rr", Some(rest)) => {
                let us: u32 = rest.strip_prefix("slice-us=")?.parse().ok()?;
                (Sched::MIN_SLICE_US..=Sched::MAX_SLICE_US)
                    .contains(&us)
                    .then_some(Sched::RoundRobin { slice_us: us })
            }
            _ => None,
        }
    }
}

/// The typed kernel configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config {
    /// Log verbosity.
    pub log: LogLevel,
    /// The selected deliberate test, if any.
    pub test: Option<SelfTest>,
    /// How long the boot core waits for each other core to come up.
    pub ap_timeout_ms: u32,
    /// The argument string of every ring-3 program.
    pub user: UserArgs,
    /// Whether an initrd is required.
    pub initrd: Initrd,
    /// A fuzzing run, if one is asked for.
    pub fuzz: Option<FuzzRun>,
    /// How programs share a core.
    pub sched: Sched,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            log: LogLevel::Info,
            test: None,
            ap_timeout_ms: 10_000,
            user: UserArgs::EMPTY,
            initrd: Initrd::Optional,
            fuzz: None,
            sched: Sched::default(),
        }
    }
}

/// Why a command line was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CmdlineError<'a> {
    /// An option this kernel does not know.
    UnknownOption(&'a str),
    /// A word without `=value`.
    MissingValue(&'a str),
    /// A known option with a value it cannot take.
    BadValue {
        /// The option.
        option: &'a str,
        /// The refused value.
        value: &'a str,
    },
    /// The same option twice.
    Duplicate(&'a str),
}

impl core::fmt::Display for CmdlineError<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match *self {
            CmdlineError::UnknownOption(o) => {
                write!(
                    f,
                    "unknown option {} (known: log, test, ap-timeout-ms, user, initrd, fuzz, sched)",
                    Quoted(o)
                )
            }
            CmdlineError::MissingValue(o) => {
                write!(f, "option {} needs a value ({}=...)", Quoted(o), Short(o))
            }
            CmdlineError::BadValue { option, value } => {
                write!(f, "option '{option}' cannot take {} (", Quoted(value))?;
                match option {
                    "log" => {
                        for (i, level) in LogLevel::iter().enumerate() {
                            let sep = if i == 0 { "" } else { ", " };
                            write!(f, "{sep}{}", level.name())?;
                        }
                    }
                    "test" => {
                        for t in SelfTest::PLAIN {
                            write!(f, "{}, ", t.name())?;
                        }
                        // The attacks, named together to keep the line short.
                        write!(f, "hostile-NAME")?;
                    }
                    "user" => write!(f, "at most {} bytes", UserArgs::CAPACITY)?,
                    "fuzz" => write!(f, "SEED:CALLS or SEED:CALLS:trace, 1 to 2^40 calls")?,
                    "sched" => write!(
                        f,
                        "rr, rr,slice-us=N with N from {} to {}, or block",
                        Sched::MIN_SLICE_US,
                        Sched::MAX_SLICE_US
                    )?,
                    "initrd" => {
                        for (i, initrd) in Initrd::iter().enumerate() {
                            let sep = if i == 0 { "" } else { ", " };
                            write!(f, "{sep}{}", initrd.name())?;
                        }
                    }
                    _ => write!(f, "a whole number of milliseconds, at least 1")?,
                }
                write!(f, ")")
            }
            CmdlineError::Duplicate(o) => write!(f, "option '{o}' is given twice"),
        }
    }
}

/// Most bytes a [`Refusal`] formats to, for any command line: the fixed
/// text, the shortened command line, the longest error with a shortened
/// value (option names in errors are known ones, or shortened) and the
/// longest list of accepted values.
pub const MAX_REFUSAL: usize = 512;

/// The boot core's message for a refused command line: the line (shortened
/// when long) and why it was refused. At most [`MAX_REFUSAL`] bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Refusal<'a> {
    /// The whole command line.
    pub cmdline: &'a str,
    /// Why it was refused.
    pub error: CmdlineError<'a>,
}

impl core::fmt::Display for Refusal<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "bad kernel command line {}: {}",
            Quoted(self.cmdline),
            self.error
        )
    }
}

impl Config {
    /// Parses a command line.
    pub fn parse(cmdline: &str) -> Result<Config, CmdlineError<'_>> {
        let mut config = Config::default();
        let mut seen = [false; 7];
        for word in cmdline.split_ascii_whitespace() {
            let (option, value) = word
                .split_once('=')
                .ok_or(CmdlineError::MissingValue(word))?;
            let bad = CmdlineError::BadValue { option, value };
            let slot = match option {
                "log" => {
                    config.log = value.parse().map_err(|_| bad)?;
                    0
                }
                "test" => {
                    config.test = Some(SelfTest::from_name(value).ok_or(bad)?);
                    1
                }
                "ap-timeout-ms" => {
                    config.ap_timeout_ms = value.parse().ok().filter(|&v| v > 0).ok_or(bad)?;
                    2
                }
                "user" => {
                    config.user = UserArgs::new(value).ok_or(bad)?;
                    3
                }
                "initrd" => {
                    config.initrd = value.parse().map_err(|_| bad)?;
                    4
                }
                "fuzz" => {
                    config.fuzz = Some(FuzzRun::parse(value).ok_or(bad)?);
                    5
                }
                "sched" => {
                    config.sched = Sched::parse(value).ok_or(bad)?;
                    6
                }
                _ => return Err(CmdlineError::UnknownOption(option)),
            };
            if core::mem::replace(&mut seen[slot], true) {
                return Err(CmdlineError::Duplicate(option));
            }
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::string::ToString;

    #[test]
    fn parses_the_scheduling_policy_and_refuses_bad_slices() {
        assert_eq!(
            Config::parse("").unwrap().sched,
            Sched::RoundRobin { slice_us: 10_000 }
        );
        assert_eq!(
            Config::parse("sched=block").unwrap().sched,
            Sched::RunToBlock
        );
        assert_eq!(
            Config::parse("sched=rr,slice-us=500").unwrap().sched,
            Sched::RoundRobin { slice_us: 500 }
        );
        for bad in [
            "sched=rr,slice-us=99",
            "sched=rr,slice-us=1000001",
            "sched=rr,slice-us=",
            "sched=rr,slice=5",
            "sched=block,slice-us=500",
            "sched=fifo",
            "sched=rr,slice-us=500,x",
        ] {
            let e = Config::parse(bad).unwrap_err();
            assert!(
                matches!(
                    e,
                    CmdlineError::BadValue {
                        option: "sched",
                        ..
                    }
                ),
                "{bad}"
            );
            assert!(
                e.to_string()
                    .contains("rr,slice-us=N with N from 100 to 1000000"),
                "{e}"
            );
        }
        assert_eq!(
            Config::parse("sched=rr sched=block"),
            Err(CmdlineError::Duplicate("sched"))
        );
    }

    #[test]
    fn empty_command_line_gives_defaults() {
        assert_eq!(Config::parse(""), Ok(Config::default()));
        assert_eq!(Config::parse("   "), Ok(Config::default()));
    }

    #[test]
    fn parses_every_option() {
        let c = Config::parse("log=debug  test=isolation ap-timeout-ms=250 user=exp=urpc,quick")
            .unwrap();
        assert_eq!(c.user.as_str(), "exp=urpc,quick");
        assert_eq!(c.log, LogLevel::Debug);
        assert_eq!(c.test, Some(SelfTest::Isolation));
        assert_eq!(c.ap_timeout_ms, 250);
        for t in SelfTest::ALL {
            let line = std::format!("test={}", t.name());
            assert_eq!(Config::parse(&line).unwrap().test, Some(t));
        }
        for level in LogLevel::iter() {
            let line = std::format!("log={}", level.name());
            assert_eq!(Config::parse(&line).unwrap().log, level);
        }
        for initrd in Initrd::iter() {
            let line = std::format!("initrd={}", initrd.name());
            assert_eq!(Config::parse(&line).unwrap().initrd, initrd);
        }
    }

    #[test]
    fn option_values_keep_their_names() {
        let levels: std::vec::Vec<_> = LogLevel::iter().map(LogLevel::name).collect();
        assert_eq!(levels, ["off", "error", "warn", "info", "debug", "trace"]);
        let initrds: std::vec::Vec<_> = Initrd::iter().map(Initrd::name).collect();
        assert_eq!(initrds, ["optional", "required"]);
        assert_eq!(
            SelfTest::PLAIN.map(SelfTest::name),
            [
                "isolation",
                "page-fault",
                "divide-error",
                "ap-panic",
                "stack-overflow",
                "ap-stall",
                "user-probe",
                "user-panic",
                "user-oom",
                "caps",
                "caps-bench",
                "caps-isolation",
                "caps-xfer",
                "caps-dispatch",
                "lmp",
                "fuzz-corrupt",
                "fuzz-untyped",
            ]
        );
        for attack in Attack::ALL {
            assert_eq!(SelfTest::Hostile(attack).name(), attack.test_name());
        }
        assert_eq!(
            SelfTest::Hostile(Attack::LmpReap).name(),
            "hostile-lmp-reap"
        );
    }

    #[test]
    fn refuses_unknown_missing_bad_and_duplicate() {
        assert_eq!(
            Config::parse("log=info colour=red"),
            Err(CmdlineError::UnknownOption("colour"))
        );
        assert_eq!(
            Config::parse("quiet"),
            Err(CmdlineError::MissingValue("quiet"))
        );
        assert_eq!(
            Config::parse("test=nope"),
            Err(CmdlineError::BadValue {
                option: "test",
                value: "nope"
            })
        );
        assert_eq!(
            Config::parse("ap-timeout-ms=0"),
            Err(CmdlineError::BadValue {
                option: "ap-timeout-ms",
                value: "0"
            })
        );
        assert_eq!(
            Config::parse("log=info log=debug"),
            Err(CmdlineError::Duplicate("log"))
        );
        let long = std::format!("user={}", "x".repeat(UserArgs::CAPACITY + 1));
        assert!(matches!(
            Config::parse(&long),
            Err(CmdlineError::BadValue { option: "user", .. })
        ));
        assert_eq!(Config::parse("user=").unwrap().user.as_str(), "");
    }

    #[test]
    fn errors_name_the_accepted_values() {
        let e = Config::parse("test=nope").unwrap_err().to_string();
        assert_eq!(
            e,
            "option 'test' cannot take 'nope' (isolation, page-fault, divide-error, ap-panic, stack-overflow, ap-stall, user-probe, user-panic, user-oom, caps, caps-bench, caps-isolation, caps-xfer, caps-dispatch, lmp, fuzz-corrupt, fuzz-untyped, hostile-NAME)"
        );
        let e = Config::parse("initrd=maybe").unwrap_err().to_string();
        assert_eq!(
            e,
            "option 'initrd' cannot take 'maybe' (optional, required)"
        );
        let e = Config::parse("log=loud").unwrap_err().to_string();
        assert!(e.contains("off, error, warn, info, debug, trace"), "{e}");
    }

    #[test]
    fn fuzz_option() {
        assert_eq!(Config::parse("").unwrap().fuzz, None);
        let f = Config::parse("fuzz=7:1000000").unwrap().fuzz.unwrap();
        assert_eq!(
            f,
            FuzzRun {
                seed: 7,
                calls: 1_000_000,
                trace: false
            }
        );
        assert_eq!(f.share(0, 2) + f.share(1, 2), 1_000_000);
        let f = Config::parse("fuzz=0x10:5:trace").unwrap().fuzz.unwrap();
        assert_eq!((f.seed, f.calls, f.trace), (16, 5, true));
        assert_eq!((f.share(0, 3), f.share(1, 3), f.share(2, 3)), (2, 2, 1));
        for bad in [
            "7",
            "7:0",
            "x:5",
            "7:5:loud",
            "7:5:trace:1",
            ":5",
            "7:1099511627777",
        ] {
            let line = std::format!("fuzz={bad}");
            assert!(
                matches!(
                    Config::parse(&line),
                    Err(CmdlineError::BadValue { option: "fuzz", .. })
                ),
                "{bad}"
            );
        }
        let e = Config::parse("fuzz=7").unwrap_err().to_string();
        assert!(
            e.ends_with("(SEED:CALLS or SEED:CALLS:trace, 1 to 2^40 calls)"),
            "{e}"
        );
        assert_eq!(
            Config::parse("fuzz=1:1 fuzz=1:1"),
            Err(CmdlineError::Duplicate("fuzz"))
        );
    }

    #[test]
    fn initrd_option() {
        assert_eq!(Config::parse("").unwrap().initrd, Initrd::Optional);
        assert_eq!(
            Config::parse("initrd=required").unwrap().initrd,
            Initrd::Required
        );
        assert_eq!(
            Config::parse("initrd=optional initrd=required"),
            Err(CmdlineError::Duplicate("initrd"))
        );
    }

    #[test]
    fn long_values_are_shortened_and_the_accepted_values_still_end_the_error() {
        let value = "v".repeat(1100);
        let line = std::format!("log=info user={value}");
        let error = Config::parse(&line).unwrap_err();
        let e = error.to_string();
        assert_eq!(
            e,
            std::format!(
                "option 'user' cannot take '{}…' (1100 bytes) (at most 1024 bytes)",
                "v".repeat(crate::text::SHOWN)
            )
        );
        let r = Refusal {
            cmdline: &line,
            error,
        }
        .to_string();
        assert!(
            r.starts_with("bad kernel command line 'log=info user=vvv"),
            "{r}"
        );
        assert!(r.contains("…' (1114 bytes): option 'user'"), "{r}");
        assert!(r.ends_with("(at most 1024 bytes)"), "{r}");
        let word = "w".repeat(300);
        let e = Config::parse(&word).unwrap_err().to_string();
        assert!(e.ends_with("…=...)"), "{e}");
        let e = Config::parse(&std::format!("{word}=1"))
            .unwrap_err()
            .to_string();
        assert!(
            e.ends_with("(300 bytes) (known: log, test, ap-timeout-ms, user, initrd, fuzz, sched)"),
            "{e}"
        );
    }

    #[test]
    fn the_longest_line_fits() {
        use crate::pvh::{MAX_CMDLINE, OTHER_OPTIONS};
        let longest_test = SelfTest::ALL
            .iter()
            .map(|t| t.name())
            .max_by_key(|n| n.len())
            .unwrap();
        // Every option but `user=` once, in its longest accepted form.
        let others: [std::string::String; 6] = [
            "log=trace".into(),
            std::format!("test={longest_test}"),
            std::format!("ap-timeout-ms={}", u32::MAX),
            "initrd=required".into(),
            std::format!("fuzz={}:{}:trace", u64::MAX, FuzzRun::MAX_CALLS),
            std::format!("sched=rr,slice-us={}", Sched::MAX_SLICE_US),
        ];
        let others = others.join(" ");
        assert!(others.len() < OTHER_OPTIONS, "{} bytes", others.len());
        let user = "u".repeat(UserArgs::CAPACITY);
        let line = std::format!("{others} user={user}");
        assert!(line.len() <= MAX_CMDLINE, "{} bytes", line.len());
        let config = Config::parse(&line).unwrap();
        assert_eq!(config.user.as_str(), user);
        let over = std::format!("{others} user={user}u");
        assert!(matches!(
            Config::parse(&over),
            Err(CmdlineError::BadValue { option: "user", .. })
        ));
    }

    #[test]
    fn every_refusal_fits_its_bound() {
        use crate::pvh::MAX_CMDLINE;
        let fill = |prefix: &str| {
            let mut line = std::string::String::from(prefix);
            while line.len() < MAX_CMDLINE {
                line.push('x');
            }
            line
        };
        let mut lines = std::vec::Vec::new();
        for option in [
            "log=",
            "test=",
            "ap-timeout-ms=",
            "user=",
            "initrd=",
            "fuzz=",
            "",
            "z=",
        ] {
            lines.push(fill(option));
        }
        // A valid prefix, then the longest refused word.
        lines.push(fill("log=info test=isolation user=a test="));
        for line in &lines {
            let error = Config::parse(line).unwrap_err();
            let text = Refusal {
                cmdline: line,
                error,
            }
            .to_string();
            assert!(text.len() <= MAX_REFUSAL, "{} bytes: {text}", text.len());
            assert!(text.ends_with(')'), "{text}");
        }
    }
}
