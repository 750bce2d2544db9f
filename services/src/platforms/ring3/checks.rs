//! Check records of the test programs: each check prints one record of
//! the program's kind (`cap-check`, `lmp-check`, ...) with its `name`, what
//! was `expected`, what it `got` and whether it passed, and is counted.
//! The host tests read these records.

use abi::Error;

use super::record;

/// The checks of one program.
#[derive(Debug)]
pub struct Checks {
    kind: &'static str,
    /// Checks made.
    pub done: u32,
    /// Checks that failed.
    pub failed: u32,
}

impl Checks {
    /// No checks yet; each prints a `kind` record.
    pub fn new(kind: &'static str) -> Checks {
        Checks {
            kind,
            done: 0,
            failed: 0,
        }
    }

    /// Records whether `got` is what was expected, success (`None`) or
    /// that error, and returns its value.
    pub fn check<T>(
        &mut self,
        name: &str,
        want: Option<Error>,
        got: Result<T, Error>,
    ) -> Option<T> {
        let pass = match (&got, want) {
            (Ok(_), None) => true,
            (Err(e), Some(w)) => *e == w,
            _ => false,
        };
        record(
            self.kind,
            format_args!(
                "name={name} expected={} got={} pass={}",
                want.map_or("ok", Error::name),
                got.as_ref().err().map_or("ok", |e| e.name()),
                u8::from(pass)
            ),
        );
        self.count(pass);
        got.ok()
    }

    /// Records a property that must hold.
    pub fn holds(&mut self, name: &str, ok: bool) {
        record(
            self.kind,
            format_args!("name={name} expected=true got={ok} pass={}", u8::from(ok)),
        );
        self.count(ok);
    }

    fn count(&mut self, pass: bool) {
        self.done += 1;
        self.failed += u32::from(!pass);
    }
}
