//! Record kinds declared once: [`record!`] turns one list of fields (each
//! with its doc, type and reader) into the struct, its writer and its
//! reader, so that what the cores print and what the host reads cannot
//! drift apart; [`start_fields!`] does the same for an experiment's own
//! fields of `exp-start`.
//!
//! A field's reader is a method of [`Fields`](super::record::Fields)
//! (`text`, `int`, `small`, `centi`, `flag`, `hex`, ...), or `or_na(m)`
//! (`na` for none) or `optional(m)` (absent for none) around one. The
//! reader also says how the field is written: `flag` as `1` or `0`, `hex`
//! as sixteen hexadecimal digits, `or_na` as `na` for none, `optional` not
//! at all for none, and the rest as the value itself.

use core::fmt;

/// The `key=value` items of one record line, separated by spaces.
pub(crate) struct Line<'f, 'g> {
    f: &'f mut fmt::Formatter<'g>,
    first: bool,
}

impl<'f, 'g> Line<'f, 'g> {
    /// Items written to `f`; `first` when nothing precedes them on the
    /// line (else each item starts with a space).
    pub(crate) fn new(f: &'f mut fmt::Formatter<'g>, first: bool) -> Self {
        Line { f, first }
    }

    /// Writes `key=value`.
    pub(crate) fn put(&mut self, key: &str, value: impl fmt::Display) -> fmt::Result {
        if !core::mem::take(&mut self.first) {
            self.f.write_str(" ")?;
        }
        write!(self.f, "{key}={value}")
    }

    /// Writes `key=value`, or nothing for none.
    pub(crate) fn put_some(&mut self, key: &str, value: Option<impl fmt::Display>) -> fmt::Result {
        match value {
            Some(v) => self.put(key, v),
            None => Ok(()),
        }
    }
}

/// The writing and reading of a list of fields, by their readers (see the
/// module's doc).
macro_rules! field_io {
    (@put $line:ident, $key:expr, $v:expr, flag) => {
        $line.put($key, u8::from($v))
    };
    (@put $line:ident, $key:expr, $v:expr, hex) => {
        $line.put($key, format_args!("{:016x}", $v))
    };
    (@put $line:ident, $key:expr, $v:expr, or_na($inner:ident)) => {
        $line.put($key, $crate::exp::record::OrNa($v))
    };
    (@put $line:ident, $key:expr, $v:expr, optional($inner:ident)) => {
        $line.put_some($key, $v)
    };
    (@put $line:ident, $key:expr, $v:expr, $read:ident) => {
        $line.put($key, $v)
    };
    (@get $r:ident, $key:expr, or_na($inner:ident)) => {
        $r.or_na($key, $crate::exp::record::Fields::$inner)
    };
    (@get $r:ident, $key:expr, optional($inner:ident)) => {
        $r.optional($key, $crate::exp::record::Fields::$inner)
    };
    (@get $r:ident, $key:expr, $read:ident) => {
        $r.$read($key)
    };
    (@write $self:ident, $line:ident, $($field:ident = ($($read:tt)*)),*) => {{
        $($crate::exp::declare::field_io!(
            @put $line, stringify!($field), $self.$field, $($read)*
        )?;)*
        Ok(())
    }};
    (@read $name:ident, $r:ident, $($field:ident = ($($read:tt)*)),*) => {
        Ok($name {
            $($field: $crate::exp::declare::field_io!(@get $r, stringify!($field), $($read)*)?,)*
        })
    };
}

pub(crate) use field_io;

/// Declares a record kind: a struct with the given doc, name and kind
/// (`Name<'a> = "kind"`) and fields (`name: Type = reader`, see the
/// module's doc), and its [`Record`](super::record::Record) impl, which
/// writes the fields in the order given.
macro_rules! record {
    ($(#[$m:meta])* $name:ident<$lt:lifetime> = $kind:literal {
        $($(#[$fm:meta])* $field:ident: $ty:ty = $read:ident $(($inner:ident))?,)*
    }) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub struct $name<$lt> {
            $($(#[$fm])* pub $field: $ty,)*
        }

        impl<$lt> $crate::exp::record::Record<$lt> for $name<$lt> {
            const KIND: &'static str = $kind;

            fn write_fields(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                let mut line = $crate::exp::declare::Line::new(f, true);
                $crate::exp::declare::field_io!(
                    @write self, line, $($field = ($read $(($inner))?)),*
                )
            }

            fn read(
                r: $crate::exp::record::Fields<$lt, '_>,
            ) -> Result<Self, $crate::exp::record::FieldError> {
                $crate::exp::declare::field_io!(@read $name, r, $($field = ($read $(($inner))?)),*)
            }
        }
    };
}

pub(crate) use record;

/// Defines an experiment's own fields of `exp-start` as a struct that
/// implements [`StartFields`]: each field with its doc, type and reader
/// (a method of [`Fields`]), written in the order given.
macro_rules! start_fields {
    (@impl $name:ident, $lt:lifetime, $($field:ident = $read:ident),*) => {
        fn write(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
            let mut line = $crate::exp::declare::Line::new(f, false);
            $crate::exp::declare::field_io!(@write self, line, $($field = ($read)),*)
        }

        fn read(
            r: $crate::exp::record::Fields<$lt, '_>,
        ) -> Result<Self, $crate::exp::record::FieldError> {
            $crate::exp::declare::field_io!(@read $name, r, $($field = ($read)),*)
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

        impl<$lt> $crate::exp::StartFields<$lt> for $name<$lt> {
            $crate::exp::declare::start_fields!(@impl $name, $lt, $($field = $read),*);
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

        impl<'a> $crate::exp::StartFields<'a> for $name {
            $crate::exp::declare::start_fields!(@impl $name, 'a, $($field = $read),*);
        }
    };
}

pub(crate) use start_fields;
