//! E4's arguments (`exp=caps`).
//!
//! | key | value | default |
//! |---|---|---|
//! | `variants` | [`VARIANTS`] separated by `;` | both |
//! | `cap-ops` | [`OPS`] separated by `;` | all three |
//! | `holders` | cores other than the owner that hold a copy, 0..=64 (at most cores − 1) | 2 |
//! | `reps` | operations per point, 1..=100000 | 200, quick 20 |
//! | `ram` | [`RAM_SERIES`] separated by `;` | both |
//! | `blocks` | 4 KiB blocks in each core's partition, 2..=4096 | 256, quick 32 |
//! | `silent` | a holder, 2..=`holders`, whose monitor stops answering in a failure point (see `super::fault`) | no failure point |
//! | `broken` | run a deliberately broken protocol, one of [`BROKEN`] (the run must fail its checks) | none |

use core::fmt;

use crate::exp::request::{ArgsError, bad, number, set, write_set};
use crate::exp::series_set::SeriesSet;

/// The keys, in the order they are printed.
pub(super) const KEYS: [&str; 8] = [
    "variants", "cap-ops", "holders", "reps", "ram", "blocks", "silent", "broken",
];

/// The deliberately broken protocols E4 can run: an owner whose revoke
/// leaves the highest holder out of its marks; a RAM lender that keeps
/// what it gives.
pub const BROKEN: [&str; 2] = ["revoke-skips", "ram-keeps"];

/// How the owner finds the cores an operation concerns
/// (`crate::proto::caps::Variant`): only those that hold copies, or every
/// core (Barrelfish's way, the baseline).
pub const VARIANTS: [&str; 2] = ["targeted", "broadcast"];

/// The capability operations measured.
pub const OPS: [&str; 3] = ["revoke", "retype", "delete"];

/// The RAM series: the RAM protocol between monitors, and one global free
/// list in shared memory under a lock (the baseline).
pub const RAM_SERIES: [&str; 2] = ["msg", "global"];

/// The most holders (`holders=`).
pub const MAX_HOLDERS: u32 = 64;

/// Parameters of E4 (`exp=caps`); `None` means the default.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct CapsArgs {
    /// `variants=`.
    pub variants: Option<SeriesSet>,
    /// `cap-ops=`.
    pub ops: Option<SeriesSet>,
    /// `holders=`.
    pub holders: Option<u32>,
    /// `reps=`.
    pub reps: Option<u32>,
    /// `ram=`.
    pub ram: Option<SeriesSet>,
    /// `blocks=`.
    pub blocks: Option<u32>,
    /// `silent=`.
    pub silent: Option<u32>,
    /// `broken=`: an index into [`BROKEN`].
    pub broken: Option<u32>,
}

impl CapsArgs {
    /// Parses `key=value` if `key` is E4's.
    pub(super) fn parse_key(&mut self, key: &str, value: &str) -> Result<bool, ArgsError> {
        match key {
            "variants" => set(
                &mut self.variants,
                key,
                SeriesSet::parse(key, value, &VARIANTS)?,
            )?,
            "cap-ops" => set(&mut self.ops, key, SeriesSet::parse(key, value, &OPS)?)?,
            "ram" => set(
                &mut self.ram,
                key,
                SeriesSet::parse(key, value, &RAM_SERIES)?,
            )?,
            "holders" => {
                let n = number(key, value, 0, MAX_HOLDERS, "0..=64")?;
                set(&mut self.holders, key, n)?;
            }
            "reps" => set(
                &mut self.reps,
                key,
                number(key, value, 1, 100_000, "1..=100000")?,
            )?,
            "blocks" => set(
                &mut self.blocks,
                key,
                number(key, value, 2, 4096, "2..=4096")?,
            )?,
            "silent" => set(
                &mut self.silent,
                key,
                number(key, value, 2, MAX_HOLDERS, "2..=64")?,
            )?,
            "broken" => {
                let i = BROKEN
                    .iter()
                    .position(|b| *b == value)
                    .ok_or_else(|| bad(key, value, "revoke-skips or ram-keeps"))?;
                set(&mut self.broken, key, i as u32)?;
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// Prints the arguments that were set.
    pub(super) fn write(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        SeriesSet::write(self.variants, f, "variants", &VARIANTS)?;
        SeriesSet::write(self.ops, f, "cap-ops", &OPS)?;
        write_set(f, &[("holders", self.holders), ("reps", self.reps)])?;
        SeriesSet::write(self.ram, f, "ram", &RAM_SERIES)?;
        write_set(f, &[("blocks", self.blocks), ("silent", self.silent)])?;
        match self.broken {
            Some(i) => write!(f, ",broken={}", BROKEN[i as usize]),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::exp::{ArgsError, Request};

    #[test]
    fn reads_back_what_it_prints_and_refuses_bad_values() {
        let text = "exp=caps,quick,variants=broadcast,cap-ops=revoke;delete,holders=3,reps=7,ram=global,blocks=16,silent=2,broken=ram-keeps";
        let req = Request::parse(text).unwrap().unwrap();
        assert_eq!(alloc::format!("{req}"), text);
        for bad in [
            "exp=caps,holders=65",
            "exp=caps,reps=0",
            "exp=caps,blocks=1",
            "exp=caps,cap-ops=move",
            "exp=caps,variants=targeted;targeted",
            "exp=caps,ram=",
            "exp=caps,broken=yes",
            "exp=caps,silent=1",
        ] {
            let err = Request::parse(bad).unwrap_err();
            assert!(matches!(err, ArgsError::BadValue { .. }), "{bad}: {err:?}");
        }
        let err = Request::parse("exp=caps,reps=1,reps=2").unwrap_err();
        assert!(matches!(err, ArgsError::Repeated(_)), "{err:?}");
    }
}
