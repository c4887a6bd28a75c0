//! Which text Ratify accepts. Every string that may reach Postgres is checked here, once,
//! where the input is parsed, so that nothing downstream (a worker's write, a give-up, a
//! streamed listing) can meet text Postgres refuses or that no stored value can match.
//!
//! Two kinds of text:
//! - **identifiers** (`orderRef`, dates, time zones, currencies, group codes, action
//!   names, `clickRef`, query values): no control characters at all, and no invisible
//!   format characters (zero-width space, joiners, direction marks, the BOM) — two
//!   references that look the same must be the same;
//! - **prose** (decline and amend reasons, names): tab and line breaks are allowed, other
//!   control characters and the BOM are not. Other format characters stay allowed, since
//!   emoji sequences and several scripts need the zero-width joiners.
//!
//! U+0000 is refused in both: Postgres cannot store it in text at all.

use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};

/// Which rules a string is held to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextKind {
    Identifier,
    Prose,
}

/// The first character of a string that its kind refuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("contains {}, which is not allowed here", describe(*.0))]
pub struct Unstorable(pub char);

fn describe(c: char) -> String {
    let what = match c {
        '\0' => "the NUL character",
        '\u{feff}' => "a byte-order mark",
        c if c.is_control() => "a control character",
        _ => "an invisible formatting character",
    };
    format!("U+{:04X} ({what})", c as u32)
}

fn refused(c: char, kind: TextKind) -> bool {
    match kind {
        TextKind::Identifier => matches!(
            c.general_category(),
            GeneralCategory::Control
                | GeneralCategory::Format
                | GeneralCategory::LineSeparator
                | GeneralCategory::ParagraphSeparator
        ),
        TextKind::Prose => c == '\u{feff}' || (c.is_control() && !matches!(c, '\t' | '\n' | '\r')),
    }
}

/// Checks `s` against the rules of `kind`.
pub fn check(s: &str, kind: TextKind) -> Result<(), Unstorable> {
    match s.chars().find(|c| refused(*c, kind)) {
        Some(c) => Err(Unstorable(c)),
        None => Ok(()),
    }
}

/// Whether `s` passes [`check`].
pub fn storable(s: &str, kind: TextKind) -> bool {
    check(s, kind).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_refuse_controls_and_invisible_characters() {
        for bad in ["a\0b", "a\tb", "a\nb", "\u{7f}", "\u{85}", "a\u{200b}b", "\u{feff}x", "x\u{200d}", "\u{2028}"] {
            assert!(check(bad, TextKind::Identifier).is_err(), "{bad:?}");
        }
        for good in ["SO-1", "Europe/Paris", "2026-11-14T10:15:00", "ordre-é-日本", "a b"] {
            assert_eq!(check(good, TextKind::Identifier), Ok(()), "{good:?}");
        }
    }

    #[test]
    fn prose_allows_line_breaks_and_joiners_but_not_nul_or_bom() {
        for good in ["order returned", "line one\nline two\r\n\ttabbed", "👨\u{200d}👩\u{200d}👧"] {
            assert_eq!(check(good, TextKind::Prose), Ok(()), "{good:?}");
        }
        for bad in ["nul\0", "\u{1}", "bell\u{7}", "\u{feff}reason", "c1\u{9b}"] {
            assert!(check(bad, TextKind::Prose).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_error_names_the_character() {
        assert_eq!(
            check("a\0", TextKind::Prose).unwrap_err().to_string(),
            "contains U+0000 (the NUL character), which is not allowed here"
        );
        assert!(check("\u{200b}", TextKind::Identifier).unwrap_err().to_string().contains("U+200B"));
    }
}
