//! Typed records: one struct per record kind, defined once, written by the
//! cores (`emit`) and read back by the host ([`Record::read`]) from the
//! fields of a parsed `@flotilla/1` line.

use core::fmt;

use crate::platform::Platform;

pub use super::stats::Centi;

/// A field that is missing or malformed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FieldError {
    /// The field.
    pub key: &'static str,
}

/// One record kind: its name and how its fields are written and read.
pub trait Record<'a>: Sized {
    /// The record kind (`update-cost`, ...).
    const KIND: &'static str;

    /// Writes the fields, `key=value` separated by spaces.
    fn write_fields(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result;

    /// Reads the record from its fields, in the order they are written:
    /// the first missing or malformed field is the error.
    fn read(fields: Fields<'a, '_>) -> Result<Self, FieldError>;
}

/// The fields of one record, looked up by key.
#[derive(Clone, Copy)]
pub struct Fields<'a, 'g> {
    get: &'g dyn Fn(&str) -> Option<&'a str>,
}

impl<'a, 'g> Fields<'a, 'g> {
    /// The fields `get` looks up.
    pub fn new(get: &'g dyn Fn(&str) -> Option<&'a str>) -> Fields<'a, 'g> {
        Fields { get }
    }

    /// A field as text.
    pub fn text(&self, key: &'static str) -> Result<&'a str, FieldError> {
        (self.get)(key).ok_or(FieldError { key })
    }

    /// A field as a whole number (decimal, or hexadecimal after `0x`).
    pub fn int(&self, key: &'static str) -> Result<u64, FieldError> {
        let text = self.text(key)?;
        let n = match text.strip_prefix("0x") {
            Some(hex) => u64::from_str_radix(hex, 16).ok(),
            None => text.parse().ok(),
        };
        n.ok_or(FieldError { key })
    }

    /// A field as a signed whole number.
    pub fn signed(&self, key: &'static str) -> Result<i64, FieldError> {
        self.text(key)?.parse().map_err(|_| FieldError { key })
    }

    /// A field as a hexadecimal number without `0x`.
    pub fn hex(&self, key: &'static str) -> Result<u64, FieldError> {
        u64::from_str_radix(self.text(key)?, 16).map_err(|_| FieldError { key })
    }

    /// A field as a whole number that fits 32 bits.
    pub fn small(&self, key: &'static str) -> Result<u32, FieldError> {
        u32::try_from(self.int(key)?).map_err(|_| FieldError { key })
    }

    /// A field as a decimal with at most two places (`X.YY`).
    pub fn centi(&self, key: &'static str) -> Result<Centi, FieldError> {
        Centi::parse(self.text(key)?).ok_or(FieldError { key })
    }

    /// A field that is `na` (none) or what `read` reads.
    pub fn or_na<T>(
        &self,
        key: &'static str,
        read: fn(&Self, &'static str) -> Result<T, FieldError>,
    ) -> Result<Option<T>, FieldError> {
        match self.text(key)? {
            "na" => Ok(None),
            _ => read(self, key).map(Some),
        }
    }

    /// A field that may be absent (none), else what `read` reads.
    pub fn optional<T>(
        &self,
        key: &'static str,
        read: fn(&Self, &'static str) -> Result<T, FieldError>,
    ) -> Result<Option<T>, FieldError> {
        match (self.get)(key) {
            None => Ok(None),
            Some(_) => read(self, key).map(Some),
        }
    }

    /// A field that is `1` (true) or anything else (false).
    pub fn flag(&self, key: &'static str) -> Result<bool, FieldError> {
        Ok(self.int(key)? == 1)
    }
}

/// Prints `rec` with [`Platform::record`].
pub(crate) fn emit<'a, P: Platform, R: Record<'a>>(p: &mut P, rec: &R) {
    p.record(R::KIND, format_args!("{}", Shown(rec)));
}

/// The fields of `rec` as its record line holds them.
pub fn shown<'a, 'r, R: Record<'a>>(rec: &'r R) -> impl fmt::Display + 'r {
    Shown(rec)
}

/// A value, or `na` for none.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OrNa<T>(pub Option<T>);

impl<T: fmt::Display> fmt::Display for OrNa<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Some(v) => v.fmt(f),
            None => f.write_str("na"),
        }
    }
}

/// Prints `rec`, checks that the line is `line`, and reads it back as
/// `rec`.
#[cfg(test)]
pub(crate) fn round_trip<'a, R: Record<'a> + fmt::Debug + PartialEq>(
    rec: &R,
    line: &str,
    scratch: &'a mut alloc::string::String,
) {
    *scratch = alloc::format!("{}", shown(rec));
    assert_eq!(scratch, line);
    let pairs: alloc::vec::Vec<(&str, &str)> = scratch
        .split(' ')
        .map(|kv| kv.split_once('=').unwrap())
        .collect();
    let get = |k: &str| pairs.iter().find(|(key, _)| *key == k).map(|(_, v)| *v);
    assert_eq!(&R::read(Fields::new(&get)).unwrap(), rec);
}

/// A record's fields as [`fmt::Display`].
struct Shown<'r, R>(&'r R);

impl<'a, R: Record<'a>> fmt::Display for Shown<'_, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.write_fields(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_typed() {
        let get = |k: &str| match k {
            "n" => Some("12"),
            "h" => Some("0x1f"),
            "c" => Some("3.5"),
            "big" => Some("4294967296"),
            "x" => Some("x"),
            _ => None,
        };
        let f = Fields::new(&get);
        assert_eq!(f.int("n"), Ok(12));
        assert_eq!(f.int("h"), Ok(31));
        assert_eq!(f.centi("c"), Ok(Centi(350)));
        assert_eq!(f.small("big"), Err(FieldError { key: "big" }));
        assert_eq!(f.int("x"), Err(FieldError { key: "x" }));
        assert_eq!(f.text("none"), Err(FieldError { key: "none" }));
        assert_eq!(f.flag("n"), Ok(false));
        assert_eq!(f.hex("n"), Ok(0x12));
        assert_eq!(f.signed("n"), Ok(12));
        assert_eq!(f.or_na("n", Fields::int), Ok(Some(12)));
        let na = |_: &str| Some("na");
        assert_eq!(Fields::new(&na).or_na("k", Fields::int), Ok(None));
        assert_eq!(f.optional("none", Fields::int), Ok(None));
        assert_eq!(f.optional("c", Fields::centi), Ok(Some(Centi(350))));
        assert_eq!(f.optional("x", Fields::int), Err(FieldError { key: "x" }));
        assert_eq!(
            alloc::format!("{} {}", OrNa(Some(3)), OrNa::<u64>(None)),
            "3 na"
        );
    }
}
