//! The record that ends every run, as a type: `exp-done`.

use core::fmt;

use super::record::{FieldError, Fields, Record};

/// An `exp-done` record: core 0's last, once the experiment succeeded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExpDone<'a> {
    /// The experiment's name.
    pub exp: &'a str,
    /// Cores in the run.
    pub cores: u32,
    /// Whether it finished (printed as 1 or 0).
    pub ok: bool,
}

impl<'a> Record<'a> for ExpDone<'a> {
    const KIND: &'static str = "exp-done";

    fn write_fields(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "exp={} cores={} ok={}",
            self.exp,
            self.cores,
            u8::from(self.ok)
        )
    }

    fn read(r: Fields<'a, '_>) -> Result<Self, FieldError> {
        Ok(ExpDone {
            exp: r.text("exp")?,
            cores: r.small("cores")?,
            ok: r.flag("ok")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exp::record::round_trip;
    use alloc::string::String;

    #[test]
    fn the_record_prints_as_before_and_reads_back() {
        let done = ExpDone {
            exp: "update-cost",
            cores: 4,
            ok: true,
        };
        round_trip(&done, "exp=update-cost cores=4 ok=1", &mut String::new());
    }
}
