//! Timestamps as SCHEMA.md writes them: ISO-8601 UTC, milliseconds, `Z`
//! (`2026-11-25T09:00:00.123Z`).

use jiff::Timestamp;

/// The current time, cut to milliseconds (what the table can hold).
pub fn now() -> Timestamp {
    let now = Timestamp::now();
    // `as_millisecond` on a valid timestamp gives a valid millisecond count.
    Timestamp::from_millisecond(now.as_millisecond()).unwrap_or(now)
}

/// Formats a timestamp as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
pub fn format(ts: Timestamp) -> String {
    format!("{ts:.3}")
}

/// Parses the exact format [`format`] writes; anything else is refused.
pub fn parse(s: &str) -> Result<Timestamp, String> {
    let b = s.as_bytes();
    let shape_ok = b.len() == 24
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && b[16] == b':'
        && b[19] == b'.'
        && b[23] == b'Z';
    if !shape_ok {
        return Err(format!(
            "timestamp {s:?} is not ISO-8601 UTC with milliseconds (YYYY-MM-DDTHH:MM:SS.mmmZ)"
        ));
    }
    s.parse::<Timestamp>()
        .map_err(|e| format!("timestamp {s:?}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_with_milliseconds_and_z() {
        let ts: Timestamp = "2026-11-25T09:00:00Z".parse().unwrap();
        assert_eq!(format(ts), "2026-11-25T09:00:00.000Z");
        let ts: Timestamp = "2026-11-25T09:00:00.12Z".parse().unwrap();
        assert_eq!(format(ts), "2026-11-25T09:00:00.120Z");
    }

    #[test]
    fn round_trips_and_refuses_other_shapes() {
        let now = now();
        assert_eq!(parse(&format(now)).unwrap(), now);
        for bad in [
            "2026-11-25T09:00:00Z",
            "2026-11-25T09:00:00.123+00:00",
            "2026-11-25 09:00:00.123Z",
            "2026-13-25T09:00:00.123Z",
            "",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
