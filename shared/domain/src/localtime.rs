//! Local date-times in IANA zones, as clients speak of transaction dates.

use chrono::{DateTime, LocalResult, NaiveDateTime, TimeZone, Timelike, Utc};
use chrono_tz::Tz;

/// The wire format of a local date-time: `yyyy-MM-ddTHH:mm:ss`, to the second.
pub const LOCAL_FORMAT: &str = "%Y-%m-%dT%H:%M:%S";

pub fn parse_local(s: &str) -> Option<NaiveDateTime> {
    // chrono accepts some variations (e.g. single-digit fields); insist on the exact shape.
    if s.len() != 19 {
        return None;
    }
    // It also takes a leap second (`:60`) and space-padded fields: keep only exact text.
    NaiveDateTime::parse_from_str(s, LOCAL_FORMAT)
        .ok()
        .filter(|t| t.nanosecond() == 0 && t.format(LOCAL_FORMAT).to_string() == s)
}

pub fn parse_zone(s: &str) -> Option<Tz> {
    s.parse::<Tz>().ok()
}

/// Every instant a local time denotes in `zone`: one normally, two when a DST change
/// repeats the hour (either matches), none when a DST change skips it.
pub fn instants(local: NaiveDateTime, zone: Tz) -> Vec<DateTime<Utc>> {
    match zone.from_local_datetime(&local) {
        LocalResult::Single(t) => vec![t.with_timezone(&Utc)],
        LocalResult::Ambiguous(a, b) => vec![a.with_timezone(&Utc), b.with_timezone(&Utc)],
        LocalResult::None => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_only_the_documented_shape() {
        assert!(parse_local("2026-11-14T10:15:00").is_some());
        for bad in ["2026-11-14 10:15:00", "2026-11-14T10:15", "2026-13-14T10:15:00", "2026-11-14T10:15:00Z", "x"] {
            assert!(parse_local(bad).is_none(), "{bad}");
        }
        assert!(parse_zone("Europe/Paris").is_some());
        assert!(parse_zone("Mars/Olympus").is_none());
    }

    /// Found by the `reference` fuzz target (docs/fuzzing.md, F3): chrono's `%S` takes
    /// `60` (a leap second) in any minute, and its numeric fields skip leading spaces, so
    /// these 19-character texts used to parse.
    #[test]
    fn fuzz_rejects_leap_seconds_and_padded_fields() {
        for bad in [
            "2026-05-14T10:40:60",
            "2016-12-31T23:59:60",
            "2003- 2-20T11:59:49",
            " 640-02-29T23:59:49",
            "2026-11-14T 9:15:00",
            "2026-11-14T10: 5:00",
            "2026-11-14T10:15: 0",
        ] {
            assert_eq!(parse_local(bad), None, "{bad}");
        }
        // The canonical shape still parses, early years included.
        for good in ["0004-02-29T23:59:59", "0640-02-29T23:59:49", "2026-05-14T10:40:59"] {
            let local = parse_local(good).unwrap();
            assert_eq!(local.format(LOCAL_FORMAT).to_string(), good);
        }
    }

    #[test]
    fn dst_folds_give_two_instants_and_gaps_none() {
        let paris = parse_zone("Europe/Paris").unwrap();
        // 2026-10-25 03:00 CEST -> 02:00 CET: 02:30 happens twice.
        let fold = instants(parse_local("2026-10-25T02:30:00").unwrap(), paris);
        assert_eq!(fold.len(), 2);
        assert_eq!(fold[0].to_rfc3339(), "2026-10-25T00:30:00+00:00");
        assert_eq!(fold[1].to_rfc3339(), "2026-10-25T01:30:00+00:00");
        // 2026-03-29 02:00 CET -> 03:00 CEST: 02:30 never happens.
        assert!(instants(parse_local("2026-03-29T02:30:00").unwrap(), paris).is_empty());
        let plain = instants(parse_local("2017-02-20T22:04:00").unwrap(), paris);
        assert_eq!(plain[0].to_rfc3339(), "2017-02-20T21:04:00+00:00");
    }
}
