//! Reading a body that must be a JSON array of at most `max` elements, without ever
//! holding more than `max` of them: a 64 MiB body of `[0,0,0,…]` is 33 million elements,
//! and materialising them before counting would cost gigabytes.
//!
//! Two steps, both bounded: [`ElementCounter`] counts the top-level elements of the bytes
//! as they arrive, so the body is refused as soon as it has too many (before most of it
//! is read); [`parse`] then reads the whole array into borrowed raw elements, stopping
//! with [`ArrayError::TooMany`] at the first element past the limit.

use std::fmt;

use serde::de::{self, DeserializeSeed, SeqAccess, Visitor};
use serde_json::value::RawValue;

/// Why a body is not an array Ratify takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArrayError {
    /// Not a JSON array (or not JSON).
    NotAnArray,
    /// More than the limit of elements.
    TooMany,
}

/// Parses `bytes` as a JSON array of at most `max` elements.
pub fn parse(bytes: &[u8], max: usize) -> Result<Vec<&RawValue>, ArrayError> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let mut too_many = false;
    let elements = Bounded { max, too_many: &mut too_many }.deserialize(&mut deserializer).and_then(|elements| {
        deserializer.end()?;
        Ok(elements)
    });
    match elements {
        Ok(elements) => Ok(elements),
        Err(_) if too_many => Err(ArrayError::TooMany),
        Err(_) => Err(ArrayError::NotAnArray),
    }
}

struct Bounded<'f> {
    max: usize,
    too_many: &'f mut bool,
}

impl<'de> DeserializeSeed<'de> for Bounded<'_> {
    type Value = Vec<&'de RawValue>;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Bounded<'_> {
    type Value = Vec<&'de RawValue>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "a JSON array of at most {} elements", self.max)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut elements = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(self.max).min(1 << 16));
        while let Some(element) = seq.next_element::<&'de RawValue>()? {
            if elements.len() == self.max {
                *self.too_many = true;
                return Err(de::Error::custom("too many elements"));
            }
            elements.push(element);
        }
        Ok(elements)
    }
}

/// Counts the top-level elements of a JSON array fed in pieces, without parsing it: a
/// comma at depth 1 outside strings separates two elements. Malformed input is counted
/// somehow and left for [`parse`] to refuse; the count is only used to stop early.
#[derive(Debug, Default, Clone)]
pub struct ElementCounter {
    depth: u32,
    in_string: bool,
    escaped: bool,
    /// Whether anything but whitespace came after the opening bracket.
    started: bool,
    commas: usize,
}

impl ElementCounter {
    pub fn new() -> ElementCounter {
        ElementCounter::default()
    }

    /// Feeds the next bytes of the body.
    pub fn feed(&mut self, bytes: &[u8]) {
        for &b in bytes {
            if self.in_string {
                match (self.escaped, b) {
                    (true, _) => self.escaped = false,
                    (false, b'\\') => self.escaped = true,
                    (false, b'"') => self.in_string = false,
                    _ => {}
                }
                continue;
            }
            match b {
                b' ' | b'\t' | b'\n' | b'\r' => {}
                b']' | b'}' => self.depth = self.depth.saturating_sub(1),
                b',' if self.depth == 1 => self.commas += 1,
                _ => {
                    // Any other byte inside the outer array starts (or continues) an element.
                    self.started |= self.depth >= 1;
                    match b {
                        b'"' => self.in_string = true,
                        b'[' | b'{' => self.depth = self.depth.saturating_add(1),
                        _ => {}
                    }
                }
            }
        }
    }

    /// Elements seen so far (at least).
    pub fn elements(&self) -> usize {
        if self.started {
            self.commas + 1
        } else {
            0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(json: &str) -> usize {
        let mut counter = ElementCounter::new();
        for piece in json.as_bytes().chunks(3) {
            counter.feed(piece);
        }
        counter.elements()
    }

    #[test]
    fn counts_top_level_elements_across_pieces() {
        assert_eq!(count("[]"), 0);
        assert_eq!(count(" [ ] "), 0);
        assert_eq!(count("[1]"), 1);
        assert_eq!(count("[0,0,0]"), 3);
        assert_eq!(count(r#"[{"a": [1, 2, {"b": ","}]}, "x,y", "q\"],", [3,4]]"#), 4);
    }

    #[test]
    fn parses_up_to_the_limit_and_no_further() {
        assert_eq!(parse(b"[1, {\"a\": 2}, \"x\"]", 3).map(|e| e.len()), Ok(3));
        assert_eq!(parse(b"[1, 2, 3, 4]", 3).map(|e| e.len()), Err(ArrayError::TooMany));
        assert_eq!(parse(b"[]", 3).map(|e| e.len()), Ok(0));
        for bad in [&b"{}"[..], b"1", b"[1,", b"[1] x", b"", b"[1,]"] {
            assert_eq!(parse(bad, 3).map(|e| e.len()), Err(ArrayError::NotAnArray), "{:?}", bad);
        }
    }

    #[test]
    fn a_huge_array_of_tiny_elements_is_refused_without_being_held() {
        let body = format!("[{}0]", "0,".repeat(5_000_000));
        assert_eq!(parse(body.as_bytes(), 100_000).map(|e| e.len()), Err(ArrayError::TooMany));
        assert!(count(&body) > 100_000);
    }
}
