//! **Guarantee:** a fault plan is a pure function of the seed and the
//! faults asked for: replaying a seed injects the same faults at the same
//! simulated times.
//!
//! The faults the simulator injects (`--faults` on the command line):
//!
//! - `delay`: message delays from a long-tailed distribution (most a few
//!   hundred cycles, some ten times more, a few a hundred times more),
//!   instead of a narrow one;
//! - `stall`: some cores stop for a while (tens to hundreds of thousands of
//!   cycles) and then go on, with their messages waiting;
//! - `lost-notify`: a notification to a blocked core is lost now and then,
//!   so the core wakes only when its wait times out (poll, then block, must
//!   recover);
//! - `fail`: one core stops for good at a random time, mid-protocol (only
//!   safety is checked then: nothing promises progress without it).

use alloc::vec::Vec;
use core::fmt;

use crate::rng::Rng;

/// The faults of a run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Faults {
    /// Long-tailed message delays.
    pub delay: bool,
    /// Cores that stop for a while.
    pub stall: bool,
    /// Lost notifications.
    pub lost_notify: bool,
    /// A core that stops for good.
    pub fail: bool,
}

/// A `--faults` item that is not a fault.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownFault(pub alloc::string::String);

impl fmt::Display for UnknownFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown fault `{}` (accepted: {})",
            self.0,
            Faults::NAMES.join(", ")
        )
    }
}

impl Faults {
    /// The names `parse` accepts.
    pub const NAMES: [&'static str; 5] = ["delay", "stall", "lost-notify", "fail", "none"];

    /// Parses a comma-separated list (`delay,stall,lost-notify`; `none` or
    /// an empty list for no faults).
    pub fn parse(list: &str) -> Result<Faults, UnknownFault> {
        let mut f = Faults::default();
        for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            match item {
                "delay" => f.delay = true,
                "stall" => f.stall = true,
                "lost-notify" => f.lost_notify = true,
                "fail" => f.fail = true,
                "none" => {}
                other => return Err(UnknownFault(other.into())),
            }
        }
        Ok(f)
    }

    /// The faults as a list, as `parse` takes it.
    pub fn names(&self) -> Vec<&'static str> {
        let mut v = Vec::new();
        for (on, name) in [
            (self.delay, "delay"),
            (self.stall, "stall"),
            (self.lost_notify, "lost-notify"),
            (self.fail, "fail"),
        ] {
            if on {
                v.push(name);
            }
        }
        v
    }
}

/// When one core is stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Outage {
    /// The first cycle it is stopped.
    pub from: u64,
    /// The first cycle it runs again (`u64::MAX`: never).
    pub until: u64,
}

/// The faults of one seeded run, decided up front.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    faults: Faults,
    /// Per core, its outages in time order.
    pub outages: Vec<Vec<Outage>>,
}

/// Cycles within which the planned faults start.
const HORIZON: u64 = 400_000;

impl Plan {
    /// The plan for `cores` cores.
    pub fn new(faults: Faults, cores: u32, rng: &mut Rng) -> Plan {
        let mut outages = alloc::vec![Vec::new(); cores as usize];
        if faults.stall {
            for core in outages.iter_mut() {
                if rng.chance(50) {
                    let from = rng.below(HORIZON);
                    let until = from + rng.between(10_000, 300_000);
                    core.push(Outage { from, until });
                }
            }
        }
        if faults.fail && cores > 1 {
            let who = rng.below(u64::from(cores)) as usize;
            let from = rng.below(HORIZON);
            let core = &mut outages[who];
            core.retain(|o| o.until < from);
            core.push(Outage {
                from,
                until: u64::MAX,
            });
        }
        Plan { faults, outages }
    }

    /// The faults.
    pub fn faults(&self) -> Faults {
        self.faults
    }

    /// The delay of one message.
    pub fn delay(&self, rng: &mut Rng) -> u64 {
        if !self.faults.delay {
            return rng.between(150, 450);
        }
        match rng.below(100) {
            0..=69 => rng.between(100, 600),
            70..=94 => rng.between(600, 6_000),
            _ => rng.between(6_000, 60_000),
        }
    }

    /// Whether one notification is lost.
    pub fn lose_notify(&self, rng: &mut Rng) -> bool {
        self.faults.lost_notify && rng.chance(30)
    }

    /// If `core` is stopped at `now`, the first cycle it runs again.
    pub fn stopped_until(&self, core: u32, now: u64) -> Option<u64> {
        self.outages[core as usize]
            .iter()
            .find(|o| o.from <= now && now < o.until)
            .map(|o| o.until)
    }

    /// Whether `core` stops for good at some time.
    pub fn fails(&self, core: u32) -> bool {
        self.outages[core as usize]
            .iter()
            .any(|o| o.until == u64::MAX)
    }

    /// Whether some core stops for good.
    pub fn any_fails(&self) -> bool {
        (0..self.outages.len() as u32).any(|c| self.fails(c))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_parse_and_refuse_unknown_names() {
        let f = Faults::parse("delay, stall,lost-notify").unwrap();
        assert!(f.delay && f.stall && f.lost_notify && !f.fail);
        assert_eq!(f.names(), ["delay", "stall", "lost-notify"]);
        assert_eq!(Faults::parse("none").unwrap(), Faults::default());
        assert_eq!(Faults::parse("").unwrap(), Faults::default());
        let e = Faults::parse("delay,crash").unwrap_err();
        assert!(alloc::format!("{e}").contains("`crash`"));
    }

    #[test]
    fn a_plan_replays_and_a_failure_is_for_good() {
        let f = Faults::parse("stall,fail").unwrap();
        let a = Plan::new(f, 4, &mut Rng::new(9));
        assert_eq!(a, Plan::new(f, 4, &mut Rng::new(9)));
        assert!(a.any_fails());
        let who = (0..4).find(|&c| a.fails(c)).unwrap();
        assert_eq!(a.stopped_until(who, u64::MAX - 1), Some(u64::MAX));
    }
}
