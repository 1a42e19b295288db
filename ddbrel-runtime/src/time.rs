//! Timestamps as SCHEMA.md writes them: ISO-8601 UTC, milliseconds, `Z`
//! (`2026-11-25T09:00:00.123Z`).

use std::fmt;
use std::ops::Deref;

/// A point in time as the table holds it: UTC, whole milliseconds.
///
/// It displays (and serializes) in the contract's 24-character form,
/// `YYYY-MM-DDTHH:MM:SS.mmmZ`, so what a program prints is what the table holds
/// (`jiff::Timestamp`'s own `Display` drops trailing zeros). It dereferences to
/// [`jiff::Timestamp`] for arithmetic, zones and comparisons.
///
/// ```
/// let t = ddbrel_runtime::time::parse("2026-11-25T09:00:02.230Z").unwrap();
/// assert_eq!(t.to_string(), "2026-11-25T09:00:02.230Z");
/// assert_eq!(t.as_jiff().to_string(), "2026-11-25T09:00:02.23Z");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(jiff::Timestamp);

impl Timestamp {
    /// The same instant as a [`jiff::Timestamp`].
    pub fn as_jiff(self) -> jiff::Timestamp {
        self.0
    }

    /// Milliseconds since the Unix epoch; `None` if out of jiff's range.
    pub fn from_millisecond(ms: i64) -> Option<Timestamp> {
        jiff::Timestamp::from_millisecond(ms).ok().map(Timestamp)
    }
}

impl From<jiff::Timestamp> for Timestamp {
    /// Cuts to whole milliseconds, what the table can hold.
    fn from(ts: jiff::Timestamp) -> Timestamp {
        // `as_millisecond` on a valid timestamp gives a valid millisecond count.
        Timestamp(jiff::Timestamp::from_millisecond(ts.as_millisecond()).unwrap_or(ts))
    }
}

impl From<Timestamp> for jiff::Timestamp {
    fn from(ts: Timestamp) -> jiff::Timestamp {
        ts.0
    }
}

impl Deref for Timestamp {
    type Target = jiff::Timestamp;
    fn deref(&self) -> &jiff::Timestamp {
        &self.0
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.3}", self.0)
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")
    }
}

impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Timestamp {
    /// Accepts only the contract's form.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Timestamp, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        parse(&s).map_err(serde::de::Error::custom)
    }
}

/// The current time, cut to milliseconds (what the table can hold).
pub fn now() -> Timestamp {
    Timestamp::from(jiff::Timestamp::now())
}

/// Formats a timestamp as `YYYY-MM-DDTHH:MM:SS.mmmZ` (the same as its `Display`).
pub fn format(ts: impl Into<Timestamp>) -> String {
    ts.into().to_string()
}

/// Parses the exact format [`format()`] writes; anything else is refused.
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
    s.parse::<jiff::Timestamp>()
        .map(Timestamp)
        .map_err(|e| format!("timestamp {s:?}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_with_milliseconds_and_z() {
        let ts: jiff::Timestamp = "2026-11-25T09:00:00Z".parse().unwrap();
        assert_eq!(format(ts), "2026-11-25T09:00:00.000Z");
        let ts: jiff::Timestamp = "2026-11-25T09:00:00.12Z".parse().unwrap();
        assert_eq!(format(ts), "2026-11-25T09:00:00.120Z");
        // Display, Debug and serde all give the contract's 24 characters.
        let ts = Timestamp::from(ts);
        assert_eq!(ts.to_string(), "2026-11-25T09:00:00.120Z");
        assert_eq!(format!("{ts:?}"), "2026-11-25T09:00:00.120Z");
        assert_eq!(
            serde_json::to_string(&ts).unwrap(),
            "\"2026-11-25T09:00:00.120Z\""
        );
        let back: Timestamp = serde_json::from_str("\"2026-11-25T09:00:00.120Z\"").unwrap();
        assert_eq!(back, ts);
        assert!(serde_json::from_str::<Timestamp>("\"2026-11-25T09:00:00.12Z\"").is_err());
    }

    #[test]
    fn converting_from_jiff_cuts_to_milliseconds() {
        let fine: jiff::Timestamp = "2026-11-25T09:00:00.123456789Z".parse().unwrap();
        assert_eq!(
            Timestamp::from(fine).to_string(),
            "2026-11-25T09:00:00.123Z"
        );
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
