//! The record that opens every run, as a type: `exp-start`, its common
//! fields around the experiment's own ([`StartFields`]).

use core::fmt;

use super::record::{FieldError, Fields, Record};

/// An experiment's own fields of `exp-start`.
pub trait StartFields<'a>: Sized {
    /// Writes them, each as ` key=value` (with its leading space).
    fn write(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result;

    /// Reads them.
    fn read(r: Fields<'a, '_>) -> Result<Self, FieldError>;
}

/// Defines an experiment's own fields of `exp-start` as a struct that
/// implements [`StartFields`]: each field with its doc, type and reader
/// (a method of [`Fields`]), written in the order given.
macro_rules! start_fields {
    (@impl $name:ident, $lt:lifetime, $($field:ident = $read:ident),*) => {
        fn write(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
            $(write!(f, concat!(" ", stringify!($field), "={}"), self.$field)?;)*
            Ok(())
        }

        fn read(
            r: $crate::exp::record::Fields<$lt, '_>,
        ) -> Result<Self, $crate::exp::record::FieldError> {
            Ok($name {
                $($field: r.$read(stringify!($field))?,)*
            })
        }
    };
    ($(#[$m:meta])* $name:ident<$lt:lifetime> {
        $($(#[$fm:meta])* $field:ident: $ty:ty = $read:ident,)*
    }) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub struct $name<$lt> {
            $($(#[$fm])* pub $field: $ty,)*
        }

        impl<$lt> $crate::exp::start::StartFields<$lt> for $name<$lt> {
            $crate::exp::start::start_fields!(@impl $name, $lt, $($field = $read),*);
        }
    };
    ($(#[$m:meta])* $name:ident {
        $($(#[$fm:meta])* $field:ident: $ty:ty = $read:ident,)*
    }) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub struct $name {
            $($(#[$fm])* pub $field: $ty,)*
        }

        impl<'a> $crate::exp::start::StartFields<'a> for $name {
            $crate::exp::start::start_fields!(@impl $name, 'a, $($field = $read),*);
        }
    };
}

pub(crate) use start_fields;

/// No fields: for a reader that wants only the common ones.
impl StartFields<'_> for () {
    fn write(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
        Ok(())
    }

    fn read(_: Fields<'_, '_>) -> Result<(), FieldError> {
        Ok(())
    }
}

/// An `exp-start` record: core 0's first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExpStart<'a, F> {
    /// The experiment's name.
    pub exp: &'a str,
    /// Cores in the run.
    pub cores: u32,
    /// The short version.
    pub quick: bool,
    /// Repeats of every measurement.
    pub rounds: u32,
    /// The experiment's own fields.
    pub own: F,
    /// The smallest non-zero step of core 0's TSC, cycles (absent from
    /// older runs).
    pub timer_resolution: Option<u64>,
    /// Core 0's `tsc_begin`/`tsc_end` overhead (absent from older runs).
    pub tsc_overhead: Option<u64>,
    /// TSC ticks per second (0: unknown).
    pub tsc_hz: u64,
    /// The request, as `exp=...` items.
    pub args: &'a str,
}

impl<'a, F: StartFields<'a>> Record<'a> for ExpStart<'a, F> {
    const KIND: &'static str = "exp-start";

    fn write_fields(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "exp={} cores={} quick={} rounds={}",
            self.exp,
            self.cores,
            u8::from(self.quick),
            self.rounds
        )?;
        self.own.write(f)?;
        for (key, v) in [
            ("timer_resolution", self.timer_resolution),
            ("tsc_overhead", self.tsc_overhead),
        ] {
            if let Some(v) = v {
                write!(f, " {key}={v}")?;
            }
        }
        write!(f, " tsc_hz={} args={}", self.tsc_hz, self.args)
    }

    fn read(r: Fields<'a, '_>) -> Result<Self, FieldError> {
        Ok(ExpStart {
            exp: r.text("exp")?,
            cores: r.small("cores")?,
            quick: r.flag("quick")?,
            rounds: r.small("rounds")?,
            own: F::read(r)?,
            timer_resolution: r.optional("timer_resolution", Fields::int)?,
            tsc_overhead: r.optional("tsc_overhead", Fields::int)?,
            tsc_hz: r.int("tsc_hz")?,
            args: r.text("args")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exp::UpdateStart;
    use crate::exp::record::{round_trip, shown};
    use alloc::string::String;

    const LINE: &str = "exp=update-cost cores=2 quick=1 rounds=2 updates=5000 ms=40 points=8 server=0 batch=16 timer_resolution=24 tsc_overhead=49 tsc_hz=2800000000 args=exp=update-cost,quick";

    #[test]
    fn the_record_prints_as_before_and_reads_back() {
        let start = ExpStart {
            exp: "update-cost",
            cores: 2,
            quick: true,
            rounds: 2,
            own: UpdateStart {
                updates: 5000,
                ms: 40,
                points: 8,
                server: 0,
                batch: 16,
            },
            timer_resolution: Some(24),
            tsc_overhead: Some(49),
            tsc_hz: 2_800_000_000,
            args: "exp=update-cost,quick",
        };
        round_trip(&start, LINE, &mut String::new());
        // A reader of the common fields only skips the experiment's.
        let common = ExpStart {
            exp: start.exp,
            cores: start.cores,
            quick: start.quick,
            rounds: start.rounds,
            own: (),
            timer_resolution: start.timer_resolution,
            tsc_overhead: start.tsc_overhead,
            tsc_hz: start.tsc_hz,
            args: start.args,
        };
        let line = alloc::format!("{}", shown(&common));
        assert_eq!(
            line,
            "exp=update-cost cores=2 quick=1 rounds=2 timer_resolution=24 tsc_overhead=49 tsc_hz=2800000000 args=exp=update-cost,quick"
        );
        let pairs: alloc::vec::Vec<(&str, &str)> = LINE
            .split(' ')
            .filter_map(|kv| kv.split_once('='))
            .collect();
        let get = |k: &str| pairs.iter().find(|(key, _)| *key == k).map(|(_, v)| *v);
        assert_eq!(ExpStart::<()>::read(Fields::new(&get)), Ok(common));
    }
}
