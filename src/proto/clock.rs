// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! UTC calendar arithmetic for `wsu:Created`, the device clock and certificate dates.
//!
//! The days/civil conversions are Howard Hinnant's proleptic Gregorian algorithms; they
//! need no time-zone data because everything here is UTC.

/// Days since 1970-01-01 of a civil date.
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Civil date of a day count since 1970-01-01.
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Unix seconds of a UTC date and time; `None` when a field is out of range.
pub fn unix_from_utc(y: i64, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> Option<i64> {
    // Years a device clock can hold (xs:dateTime allows any; 0..=9999 keeps every
    // millisecond count far inside i64).
    if !(0..=9999).contains(&y)
        || !(1..=12).contains(&mo)
        || !(1..=31).contains(&d)
        || h > 23
        || mi > 59
        || s > 60
    {
        return None;
    }
    Some(days_from_civil(y, mo, d) * 86_400 + i64::from(h * 3600 + mi * 60 + s))
}

/// `(year, month, day, hour, minute, second)` of Unix seconds, UTC.
fn civil_time(unix_secs: i64) -> (i64, u32, u32, i64, i64, i64) {
    let (y, mo, d) = civil_from_days(unix_secs.div_euclid(86_400));
    let sod = unix_secs.rem_euclid(86_400);
    (y, mo, d, sod / 3600, (sod / 60) % 60, sod % 60)
}

/// `YYYY-MM-DDThh:mm:ss.mmmZ`, as `wsu:Created` wants it.
pub fn format_iso8601_millis(unix_millis: i64) -> String {
    let (y, mo, d, h, mi, s) = civil_time(unix_millis.div_euclid(1000));
    let ms = unix_millis.rem_euclid(1000);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{ms:03}Z")
}

/// A field of exactly `len` ASCII digits.
fn num(v: &str, len: usize) -> Option<u32> {
    (v.len() == len && v.bytes().all(|b| b.is_ascii_digit()))
        .then(|| v.parse().ok())
        .flatten()
}

/// Milliseconds since the Unix epoch of an ISO 8601 UTC time as users write it:
/// `2025-03-14T09:41:00Z`, with optional fraction, `Z` or `+00:00`; `None` otherwise
/// (a time in another zone is refused rather than misread).
pub fn parse_utc_millis(s: &str) -> Option<i64> {
    let s = s.trim();
    let body = s
        .strip_suffix('Z')
        .or_else(|| s.strip_suffix('z'))
        .or_else(|| s.strip_suffix("+00:00"))?;
    let (date, time) = body.split_once(['T', 't', ' '])?;
    let mut d = date.split('-');
    let (y, mo, da) = (num(d.next()?, 4)?, num(d.next()?, 2)?, num(d.next()?, 2)?);
    let (hms, frac) = match time.split_once('.') {
        Some((a, f)) if !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()) => (a, f),
        Some(_) => return None,
        None => (time, ""),
    };
    let mut t = hms.split(':');
    let (h, mi, sec) = (num(t.next()?, 2)?, num(t.next()?, 2)?, num(t.next()?, 2)?);
    if d.next().is_some() || t.next().is_some() || mo == 0 || mo > 12 || da == 0 || da > 31 {
        return None;
    }
    if h > 23 || mi > 59 || sec > 59 {
        return None;
    }
    let ms: i64 = format!("{frac:0<3}")[..3].parse().ok()?;
    Some(unix_from_utc(i64::from(y), mo, da, h, mi, sec)? * 1000 + ms)
}

/// Unix seconds of an HTTP `Date` header in IMF-fixdate form (RFC 9110 §5.6.7:
/// `Sun, 06 Nov 1994 08:49:37 GMT`); `None` for any other form.
pub fn parse_http_date(s: &str) -> Option<i64> {
    let mut it = s.split_whitespace();
    let (_day, d, mo, y, hms, zone) = (
        it.next()?,
        it.next()?,
        it.next()?,
        it.next()?,
        it.next()?,
        it.next()?,
    );
    if it.next().is_some() || zone != "GMT" {
        return None;
    }
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let mo = MONTHS.iter().position(|m| *m == mo)?;
    let mut t = hms.split(':');
    let (h, mi, sec) = (num(t.next()?, 2)?, num(t.next()?, 2)?, num(t.next()?, 2)?);
    if t.next().is_some() {
        return None;
    }
    let mo = u32::try_from(mo).ok()? + 1;
    unix_from_utc(i64::from(num(y, 4)?), mo, num(d, 2)?, h, mi, sec)
}

/// `YYYY-MM-DDThh:mm:ssZ` (RFC 3339), for files and message fields.
pub fn format_rfc3339(unix_secs: i64) -> String {
    let (y, mo, d, h, mi, s) = civil_time(unix_secs);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
}

/// `YYYY-MM-DD hh:mm:ss UTC`, for messages.
pub fn format_utc(unix_secs: i64) -> String {
    let (y, mo, d, h, mi, s) = civil_time(unix_secs);
    format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02} UTC")
}

/// Milliseconds since the Unix epoch by the system clock.
pub fn now_unix_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_http_date() {
        assert_eq!(
            parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(784_111_777)
        );
        assert_eq!(parse_http_date("Sun, 06 Nov 1994 08:49:37 CET"), None);
        assert_eq!(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), None);
        assert_eq!(parse_http_date("Sun, 06 Foo 1994 08:49:37 GMT"), None);
        assert_eq!(parse_http_date("Sun, 99 Nov 1994 08:49:37 GMT"), None);
        assert_eq!(parse_http_date("Sun, 06 Nov 99999999 08:49:37 GMT"), None);
        assert_eq!(parse_http_date(""), None);
    }

    #[test]
    fn test_round_trip_and_known_dates() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(unix_from_utc(2025, 3, 14, 9, 41, 7), Some(1_741_945_267));
        for z in [-800_000i64, -1, 0, 59, 60, 11_016, 20_000, 2_932_896] {
            let (y, m, d) = civil_from_days(z);
            assert_eq!(days_from_civil(y, m, d), z, "{y}-{m}-{d}");
        }
        assert_eq!(
            format_iso8601_millis(1_741_945_267_005),
            "2025-03-14T09:41:07.005Z"
        );
        assert_eq!(format_utc(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(unix_from_utc(2025, 13, 1, 0, 0, 0), None);
        // Security review: `<tt:Year>999999999</tt:Year>` overflowed the millisecond count.
        assert_eq!(unix_from_utc(999_999_999, 1, 1, 0, 0, 0), None);
        assert_eq!(unix_from_utc(-1, 1, 1, 0, 0, 0), None);
        assert!(unix_from_utc(9999, 12, 31, 23, 59, 59).is_some());
    }

    #[test]
    fn test_parse_utc_millis() {
        assert_eq!(
            parse_utc_millis("2025-03-14T09:41:07Z"),
            Some(1_741_945_267_000)
        );
        assert_eq!(
            parse_utc_millis("2025-03-14T09:41:07.5+00:00"),
            Some(1_741_945_267_500)
        );
        assert_eq!(
            parse_utc_millis(" 2025-03-14 09:41:07.0059z "),
            Some(1_741_945_267_005)
        );
        for bad in [
            "",
            "2025-03-14T09:41:07",
            "2025-03-14T09:41:07+02:00",
            "2025-3-14T09:41:07Z",
            "2025-03-14T24:00:00Z",
            "2025-13-14T09:41:07Z",
            "2025-03-14T09:41:07.Z",
            "yesterday",
            "2025-03-14T09:41Z",
        ] {
            assert_eq!(parse_utc_millis(bad), None, "{bad}");
        }
    }
}
