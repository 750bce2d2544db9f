//! Who printed a serial line: the stamp the kernel writes on every line a
//! ring-3 program prints.
//!
//! Lines the kernel prints itself start with `[core N] ` and its own text.
//! A line a program prints with the `print` system call starts with the
//! same prefix, then the kernel's [`Stamp`] naming the program, then the
//! program's text ([`ProgramText`]):
//!
//! ```text
//! [core 2] @flotilla/1 program-exit program=hello code=0 preempted=0
//! [core 2] [boot monitor] @flotilla/1 monitor-up cores=4 pool_frames=1044
//! [core 3] [domain hello] hello from core 3 of 4
//! ```
//!
//! `boot` marks a program the kernel loaded from the boot modules, `domain`
//! one built from user level, whose name its builder chose. A program
//! cannot print a line that reads as the kernel's or as another program's:
//! its text always follows the stamp on the same line, because the kernel
//! turns line breaks into spaces and other control characters into `?`,
//! and a line that is too long is cut at its end, never before the text.
//! Names in a stamp are shown with [`stamp_char`], so a name cannot close
//! the stamp early.

use core::fmt::{self, Write};

/// Where a program came from; its word in a stamp ([`Origin::word`]) is
/// the variant's name in lower case.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, strum::IntoStaticStr, strum::EnumIter,
)]
#[strum(serialize_all = "kebab-case")]
pub enum Origin {
    /// Loaded by the kernel from the boot modules (`monitor`, the test
    /// programs); its name is the module's.
    Boot,
    /// Built from user level as a domain; its name is what its builder
    /// gave `dispatcher_run`.
    Domain,
}

impl Origin {
    /// The word in the stamp: `boot` or `domain`.
    pub fn word(self) -> &'static str {
        self.into()
    }
}

/// The stamp of a program's line: `[boot NAME]` or `[domain NAME]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stamp<'a> {
    /// Where the program came from.
    pub origin: Origin,
    /// Its name, as the kernel knows it; shown through [`stamp_char`].
    pub name: &'a str,
}

impl fmt::Display for Stamp<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{} ", self.origin.word())?;
        if self.name.is_empty() {
            f.write_char('?')?;
        }
        for c in self.name.chars() {
            f.write_char(stamp_char(c))?;
        }
        f.write_char(']')
    }
}

/// How a character of a program's name shows in a stamp: ASCII letters,
/// digits, `-`, `_` and `.` as they are, anything else as `?`.
pub const fn stamp_char(c: char) -> char {
    if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
        c
    } else {
        '?'
    }
}

fn valid_name(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c == '?' || stamp_char(c) == c)
}

/// Reads the stamp at the start of `rest` (the text after `[core N] `):
/// `Some((stamp, text))` for a program's line, `None` for a line without
/// a stamp, which is the kernel's.
pub fn split_stamp(rest: &str) -> Option<(Stamp<'_>, &str)> {
    let inner = rest.strip_prefix('[')?;
    let (origin, inner) = [Origin::Boot, Origin::Domain]
        .into_iter()
        .find_map(|o| Some((o, inner.strip_prefix(o.word())?.strip_prefix(' ')?)))?;
    let (name, text) = inner.split_once(']')?;
    if !valid_name(name) {
        return None;
    }
    let text = match text.strip_prefix(' ') {
        Some(text) => text,
        None if text.is_empty() => text,
        None => return None,
    };
    Some((Stamp { origin, name }, text))
}

/// A program's text as the kernel prints it after the stamp: line breaks
/// and tabs become spaces, and every other control character, Unicode line
/// separator and bidirectional override becomes `?`, so that the text
/// stays on its line and shows as it will be read.
#[derive(Clone, Copy, Debug)]
pub struct ProgramText<'a>(pub &'a str);

/// How one character of a program's text is printed.
pub fn program_char(c: char) -> char {
    match c {
        '\n' | '\r' | '\t' => ' ',
        '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => '?',
        c if c.is_control() => '?',
        c => c,
    }
}

impl fmt::Display for ProgramText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in self.0.chars() {
            f.write_char(program_char(c))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use std::format;
    use std::string::String;

    use super::*;

    #[test]
    fn origins_keep_their_words() {
        use strum::IntoEnumIterator;
        let words: std::vec::Vec<_> = Origin::iter().map(Origin::word).collect();
        assert_eq!(words, ["boot", "domain"]);
    }

    fn line(origin: Origin, name: &str, text: &str) -> String {
        let stamp = Stamp { origin, name };
        format!("{stamp} {}", ProgramText(text))
    }

    #[test]
    fn stamps_read_back() {
        let l = line(Origin::Boot, "monitor", "@flotilla/1 monitor-up cores=2");
        assert_eq!(l, "[boot monitor] @flotilla/1 monitor-up cores=2");
        let (stamp, text) = split_stamp(&l).unwrap();
        assert_eq!(
            stamp,
            Stamp {
                origin: Origin::Boot,
                name: "monitor"
            }
        );
        assert_eq!(text, "@flotilla/1 monitor-up cores=2");
        let l = line(Origin::Domain, "hello", "hi");
        let (stamp, text) = split_stamp(&l).unwrap();
        assert_eq!(stamp.origin, Origin::Domain);
        assert_eq!((stamp.name, text), ("hello", "hi"));
    }

    #[test]
    fn kernel_text_has_no_stamp() {
        for rest in [
            "@flotilla/1 program-exit program=hello code=0",
            "INFO  booting",
            "[boot] x",
            "[boot monitor]x",
            "[boot ] x",
            "[kernel monitor] x",
            "[boot mon itor] x",
            "boot monitor] x",
        ] {
            assert_eq!(split_stamp(rest), None, "{rest}");
        }
    }

    #[test]
    fn a_name_cannot_close_the_stamp_early() {
        let l = line(Origin::Domain, "x] [boot monitor", "@flotilla/1 sync-check");
        assert_eq!(l, "[domain x???boot?monitor] @flotilla/1 sync-check");
        let (stamp, text) = split_stamp(&l).unwrap();
        assert_eq!(stamp.origin, Origin::Domain);
        assert_eq!(stamp.name, "x???boot?monitor");
        assert_eq!(text, "@flotilla/1 sync-check");
        assert_eq!(line(Origin::Boot, "", "a"), "[boot ?] a");
        assert_eq!(line(Origin::Domain, "hé\n", "a"), "[domain h??] a");
    }

    #[test]
    fn program_text_stays_on_its_line() {
        let forged = "ok\n[core 0] @flotilla/1 boot-done cores=2\r[core 1] x\u{1b}[2K\u{85}\u{2028}\u{202e}\tend\0";
        let shown = format!("{}", ProgramText(forged));
        assert_eq!(
            shown,
            "ok [core 0] @flotilla/1 boot-done cores=2 [core 1] x?[2K??? end?"
        );
        assert!(!shown.chars().any(char::is_control));
    }
}
