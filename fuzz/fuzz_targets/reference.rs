//! Order references: `parse_local`, `parse_zone` and `instants`.
//!
//! Input: `date \n zone` as strings (anything at all), plus, for coverage of the
//! whole calendar, a local time built from the first bytes in a zone chosen from the rest.
//!
//! Invariants:
//! - nothing panics;
//! - an accepted date is exactly `yyyy-MM-ddTHH:mm:ss`: formatting it back gives the input,
//!   and it is a real wall-clock second (no leap second `:60`);
//! - an accepted zone is named as it was written;
//! - `instants` gives at most 2 instants, in ascending order, each of which reads back as
//!   the same local time in the zone.
#![no_main]

use chrono::{DateTime, NaiveDateTime, Timelike};
use chrono_tz::{Tz, TZ_VARIANTS};
use libfuzzer_sys::fuzz_target;
use ratify_domain::localtime::{instants, parse_local, parse_zone, LOCAL_FORMAT};

fn check_instants(local: NaiveDateTime, zone: Tz) {
    let at = instants(local, zone);
    assert!(at.len() <= 2, "{local} in {zone}: {} instants", at.len());
    assert!(at.windows(2).all(|w| w[0] < w[1]), "{local} in {zone}: instants not ascending: {at:?}");
    for instant in &at {
        assert_eq!(instant.with_timezone(&zone).naive_local(), local, "{local} in {zone}: {instant} reads back wrong");
    }
}

fuzz_target!(|data: &[u8]| {
    // Structured part: seconds since the epoch over chrono's whole range, and a zone.
    if data.len() >= 10 {
        let secs = i64::from_le_bytes(data[..8].try_into().unwrap_or_default());
        let zone = TZ_VARIANTS[usize::from(u16::from_le_bytes([data[8], data[9]])) % TZ_VARIANTS.len()];
        if let Some(t) = DateTime::from_timestamp(secs, 0) {
            check_instants(t.naive_utc(), zone);
        }
    }
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (date, zone_text) = text.split_once('\n').unwrap_or((text, "UTC"));
    let local = parse_local(date);
    if let Some(local) = local {
        assert_eq!(local.format(LOCAL_FORMAT).to_string(), date, "{date:?} is not in the canonical shape");
        assert!(local.nanosecond() < 1_000_000_000, "{date:?} was accepted as a leap second");
    }
    let zone = parse_zone(zone_text);
    if let Some(z) = zone {
        assert_eq!(z.name(), zone_text, "the zone is not named as written");
    }
    if let (Some(local), Some(zone)) = (local, zone) {
        check_instants(local, zone);
    }
});
