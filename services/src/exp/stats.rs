//! Small statistics helpers on top of `urpc::bench`.

use alloc::vec::Vec;
use core::fmt;

use urpc::bench::{Summary, discard_warmup};

/// Pools rounds of samples: drops the warm-up of each round (the first
/// `urpc::bench::WARMUP_PERCENT` percent of its samples, in time order)
/// and summarises the rest, less `overhead` cycles each.
pub(crate) fn pooled(rounds: &mut [Vec<u64>], overhead: u64) -> Option<Summary> {
    let mut all = Vec::with_capacity(rounds.iter().map(Vec::len).sum());
    for round in rounds.iter_mut() {
        all.extend_from_slice(discard_warmup(round));
    }
    Summary::of(&mut all, overhead)
}

/// Pools rounds of batched samples, each timing `batch` operations: drops
/// the warm-up of each round as [`pooled`] does and summarises the rest
/// per operation in hundredths of a cycle, less `overhead` cycles per
/// sample (`urpc::bench::Summary::per_op`).
pub(crate) fn pooled_per_op(rounds: &mut [Vec<u64>], overhead: u64, batch: u64) -> Option<Summary> {
    let mut all = Vec::with_capacity(rounds.iter().map(Vec::len).sum());
    for round in rounds.iter_mut() {
        all.extend_from_slice(discard_warmup(round));
    }
    Summary::per_op(&mut all, overhead, batch)
}

/// An empty buffer with room for `cap` samples whose pages are already
/// written, so that pushing samples in a measured loop never faults: the
/// ring-3 heap is demand-paged, and under this host's KVM one fault into the
/// emulated ring 0 costs about as much as a million cycles of the loop.
pub(crate) fn sample_buffer(cap: usize) -> Vec<u64> {
    // Not zeros: a zeroed allocation may come from pages never touched.
    let mut v = alloc::vec![u64::MAX; cap];
    core::hint::black_box(&mut v);
    v.clear();
    v
}

/// Touches `bytes` of the heap once and gives them back, so that the
/// allocations of a measured loop reuse pages that are already mapped: the
/// ring-3 heap is demand-paged, and a first touch costs a fault into ring
/// 0 (about a million cycles under this host's KVM, and milliseconds under
/// TCG). The heap reuses a freed block first-fit.
pub(crate) fn warm_heap(bytes: usize) {
    let mut v = alloc::vec![1u8; bytes];
    for page in v.chunks_mut(4096) {
        page[0] = 2;
    }
    core::hint::black_box(&mut v);
}

/// The TSC's step and read overhead on this core, measured now.
pub(crate) fn timer() -> urpc::bench::TimerResolution {
    urpc::bench::timer_resolution(&mut alloc::vec![0; 2000])
}

/// The lower median of `values` (0 for none); sorts them.
pub(crate) fn median(values: &mut [u64]) -> u64 {
    values.sort_unstable();
    values
        .get(values.len().saturating_sub(1) / 2)
        .copied()
        .unwrap_or(0)
}

/// A fixed-point number with two decimals, printed as `12.34`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Centi(pub u64);

impl Centi {
    /// `num / den` with two decimals, rounded to nearest (0 when `den` is 0).
    pub fn ratio(num: u64, den: u64) -> Centi {
        if den == 0 {
            return Centi(0);
        }
        let v = (u128::from(num) * 100 + u128::from(den) / 2) / u128::from(den);
        Centi(v.min(u128::from(u64::MAX)) as u64)
    }

    /// The value of `text`: digits, then optionally `.` and one or two
    /// more (`12`, `12.5`, `12.50`).
    pub fn parse(text: &str) -> Option<Centi> {
        let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
        let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty() || !digits(whole) || !digits(frac) || frac.len() > 2 {
            return None;
        }
        if text.ends_with('.') {
            return None;
        }
        let cents = match frac.len() {
            0 => 0,
            1 => frac.parse::<u64>().ok()? * 10,
            _ => frac.parse::<u64>().ok()?,
        };
        whole
            .parse::<u64>()
            .ok()?
            .checked_mul(100)?
            .checked_add(cents)
            .map(Centi)
    }

    /// The value as a float (the nearest to the decimal).
    pub fn as_f64(self) -> f64 {
        self.0 as f64 / 100.0
    }
}

impl fmt::Display for Centi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:02}", self.0 / 100, self.0 % 100)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;
    use alloc::vec;

    #[test]
    fn pooled_drops_each_rounds_warmup() {
        // Ten samples per round: the first of each (10%) is dropped.
        let mut rounds = vec![
            vec![1000, 5, 5, 5, 5, 5, 5, 5, 5, 5],
            vec![900, 7, 7, 7, 7, 7, 7, 7, 7, 7],
        ];
        let s = pooled(&mut rounds, 1).unwrap();
        assert_eq!((s.count, s.min, s.max), (18, 4, 6));
        assert_eq!(pooled(&mut [], 0), None);
    }

    #[test]
    fn pooled_per_op_drops_each_rounds_warmup_then_divides_and_rounds() {
        // Ten batches of 4 per round; the first of each round is warm-up.
        // Less 10 cycles of overhead: 1011 - 10 = 1001 cycles / 4 = 250.25;
        // 1013 - 10 = 1003 / 4 = 250.75; 12 - 10 = 2 / 4 = 0.50.
        let mut rounds = vec![
            vec![9999, 1011, 1011, 1011, 1011, 1011, 1011, 1011, 1011, 1011],
            vec![1, 1013, 1013, 1013, 1013, 1013, 1013, 1013, 1013, 12],
        ];
        let s = pooled_per_op(&mut rounds, 10, 4).unwrap();
        assert_eq!(s.count, 18);
        assert_eq!((s.min, s.median, s.max), (50, 25025, 25075));
        // A sample shorter than the overhead counts as 0, and rounding is
        // to nearest: 2 cycles over 3 operations is 0.67.
        let mut rounds = vec![vec![0, 5, 12]];
        let s = pooled_per_op(&mut rounds, 10, 3).unwrap();
        assert_eq!((s.count, s.min, s.max), (3, 0, 67));
        assert_eq!(pooled_per_op(&mut [], 0, 32), None);
    }

    #[test]
    fn centi_rounds_and_prints() {
        assert_eq!(format!("{}", Centi::ratio(1, 3)), "0.33");
        assert_eq!(format!("{}", Centi::ratio(2, 3)), "0.67");
        assert_eq!(format!("{}", Centi::ratio(1234, 100)), "12.34");
        assert_eq!(format!("{}", Centi::ratio(5, 0)), "0.00");
        for (text, v) in [("12", 1200), ("12.5", 1250), ("0.07", 7), ("150.00", 15000)] {
            assert_eq!(Centi::parse(text), Some(Centi(v)));
        }
        for bad in ["", ".5", "1.", "1.234", "-1", "1e3", "x", "1.x"] {
            assert_eq!(Centi::parse(bad), None, "{bad}");
        }
        assert_eq!(Centi(15000).as_f64(), "150.00".parse::<f64>().unwrap());
        assert_eq!(median(&mut [5, 1, 3, 2]), 2);
        assert_eq!(median(&mut []), 0);
    }
}
