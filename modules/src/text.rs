//! Showing untrusted text in messages without ever cutting a message.
//!
//! The kernel formats its messages into fixed-size buffers (there is no heap
//! when the boot core refuses its command line). A value taken from the
//! outside, such as an option value or a file name, can be longer than any
//! buffer; shown whole it would cut the message before its end, which
//! usually holds the list of accepted values. [`Quoted`] and [`Short`] show
//! at most [`SHOWN`] bytes of such a value, mark the cut with `…` and give
//! the full length, so every message built from them has a known bound.

use core::fmt;

/// Most bytes of a value that a message shows.
pub const SHOWN: usize = 64;

/// The most bytes [`Quoted`] writes for any value: the quotes, [`SHOWN`]
/// bytes, the three-byte `…` and ` (N bytes)` for a length of up to 20
/// digits.
pub const QUOTED_MAX: usize = 2 + SHOWN + 3 + 2 + 20 + 7;

/// The first [`SHOWN`] bytes of `text`, cut back to a character boundary.
fn head(text: &str) -> &str {
    if text.len() <= SHOWN {
        return text;
    }
    let mut end = SHOWN;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// `text` if it is at most [`SHOWN`] bytes long, otherwise its first bytes
/// followed by `…`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Short<'a>(pub &'a str);

impl fmt::Display for Short<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(head(self.0))?;
        if self.0.len() > SHOWN {
            f.write_str("…")?;
        }
        Ok(())
    }
}

/// `'text'`, or for text longer than [`SHOWN`] bytes `'first bytes…' (N
/// bytes)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Quoted<'a>(pub &'a str);

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "'{}'", Short(self.0))?;
        if self.0.len() > SHOWN {
            write!(f, " ({} bytes)", self.0.len())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::format;
    use std::string::String;

    #[test]
    fn short_values_are_shown_whole() {
        assert_eq!(format!("{}", Quoted("nope")), "'nope'");
        assert_eq!(format!("{}", Short("nope")), "nope");
        let exact = "x".repeat(SHOWN);
        assert_eq!(format!("{}", Quoted(&exact)), format!("'{exact}'"));
    }

    #[test]
    fn long_values_are_shortened_with_their_length() {
        let long = "y".repeat(400);
        let shown = format!("{}", Quoted(&long));
        assert_eq!(shown, format!("'{}…' (400 bytes)", "y".repeat(SHOWN)));
        assert!(shown.len() <= QUOTED_MAX);
        assert_eq!(
            format!("{}", Short(&long)),
            format!("{}…", "y".repeat(SHOWN))
        );
    }

    #[test]
    fn the_cut_falls_on_a_character_boundary() {
        // 63 ASCII bytes, then two-byte characters across byte 64.
        let text: String = "a".repeat(SHOWN - 1) + &"é".repeat(10);
        let shown = format!("{}", Short(&text));
        assert_eq!(shown, format!("{}…", "a".repeat(SHOWN - 1)));
        let huge = "z".repeat(1 << 20);
        assert!(format!("{}", Quoted(&huge)).len() <= QUOTED_MAX);
    }
}
