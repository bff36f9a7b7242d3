//! Calendar arithmetic and timestamp formats, in integer math only.
//!
//! The core reads no clock: the host passes time in as microseconds since the Unix epoch ([`Micros`]). Dates are
//! converted with Howard Hinnant's proleptic-Gregorian algorithms, with no floats (so results are identical on
//! every platform) and no panics on any input (arithmetic is widened, checked or saturated).
//!
//! Three input formats are deliberately distinct:
//!
//! - [`parse_rfc3339`] accepts RFC 3339 date-times as found in requests (any offset, 1 to 9 fraction digits).
//! - [`parse_stored`] accepts only the forms the runtimes themselves write into trace events: UTC, uppercase `T`,
//!   and a fraction of exactly 0, 3, 6 or 9 digits. Trace verification refuses anything looser, because a timestamp
//!   is one of several fields concatenated into an event's hash input: a lax parser would let bytes move between
//!   neighbouring fields (or let one instant be spelled several ways) without changing the hash.
//! - [`hash_rendering`] gives the one spelling of a stored timestamp that enters the hash, matching the reference
//!   runtime (SPEC §4.1): fraction trimmed to whole milli-, micro- or nanoseconds, and a `+00:00` offset.
//!
//! Leap seconds (`:60`) are rejected everywhere; years are limited to `0000`..=`9999`.

/// Microseconds since the Unix epoch (1970-01-01T00:00:00Z), UTC.
pub type Micros = i64;

const MICROS_PER_SEC: i64 = 1_000_000;
const SECS_PER_DAY: i64 = 86_400;

/// Days since 1970-01-01 of the proleptic-Gregorian date `y-m-d`.
///
/// Meant for valid dates (`m` in 1..=12, `d` within the month); other inputs give an unspecified result but never
/// panic. Results beyond the `i64` range saturate.
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let (m, d) = (i128::from(m), i128::from(d));
    let y = i128::from(y) - i128::from(m <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400; // [0, 399]
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1; // [0, 365] for valid dates
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy; // [0, 146096] for valid dates
    let days = era * 146_097 + doe - 719_468;
    days.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
}

/// The proleptic-Gregorian date `(year, month 1..=12, day 1..=31)` that is `days` days after 1970-01-01.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = i128::from(days) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097; // [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // [0, 11], March-based
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = (if mp < 10 { mp + 3 } else { mp - 9 }) as u32;
    // |days| < 2^63 keeps the year far inside i64.
    let y = (yoe + era * 400 + i128::from(m <= 2)) as i64;
    (y, m, d)
}

/// Day of the week of the day `days` after 1970-01-01: 0 = Monday … 6 = Sunday.
pub fn weekday_from_days(days: i64) -> u32 {
    // 1970-01-01 was a Thursday (3).
    ((days.rem_euclid(7) + 3) % 7) as u32
}

/// Parses an RFC 3339 date-time (`2024-12-28T12:00:00.5+01:00`) into UTC microseconds.
///
/// Accepts `T` or `t` as the separator, `.` and any number (at least one) of fraction digits, as RFC 3339's
/// `"." 1*DIGIT` does (digits beyond the sixth are truncated), and `Z`, `z` or `±HH:MM` as the offset. Seconds
/// and offset are mandatory; years must be `0000`..=`9999`; a leap second (`:60`) is refused.
pub fn parse_rfc3339(s: &str) -> Option<Micros> {
    let b = s.as_bytes();
    let dt = date_time(b, |c| c == b'T' || c == b't')?;
    let (fraction, rest) = split_fraction(b.get(19..)?, b.len())?;
    let offset_minutes = match rest {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), hhmm @ ..] => {
            let minutes = i64::from(offset_hh_colon_mm(hhmm)?);
            if *sign == b'-' {
                -minutes
            } else {
                minutes
            }
        }
        _ => return None,
    };
    let micros = scale_fraction(fraction, 6);
    // Years 0..=9999 and offsets under a day keep this far inside i64.
    Some((dt.unix_seconds() - offset_minutes * 60) * MICROS_PER_SEC + i64::from(micros))
}

/// Why [`parse_rfc3339`] refused `s`, in words a caller can act on (assembled only on failure).
pub fn rfc3339_problem(s: &str) -> &'static str {
    const FORM: &str = "expected YYYY-MM-DDTHH:MM:SS, an optional fraction, then Z or ±HH:MM (e.g. 2026-01-02T03:04:05.5Z)";
    let b = s.as_bytes();
    match b.get(10) {
        Some(b' ') => return "write `T` between the date and the time, not a space",
        Some(b'T' | b't') => {}
        _ => return FORM,
    }
    if b.get(17..19) == Some(b"60") {
        return "a leap second (`:60`) is refused: host time is POSIX time, which has none";
    }
    let rest = match b.get(19..).and_then(|r| split_fraction(r, b.len())) {
        Some((_, rest)) => rest,
        None => return FORM,
    };
    match rest {
        [] => "add the time zone: `Z` or ±HH:MM",
        [b'+' | b'-', d @ ..] if d.len() != 5 && d.iter().all(u8::is_ascii_digit) => "write the offset as ±HH:MM",
        [b'Z' | b'z'] | [b'+' | b'-', ..] => "the date or the time of day is out of range",
        _ => FORM,
    }
}

/// Formats `us` as `YYYY-MM-DDTHH:MM:SS.ffffffZ`; `None` when the year falls outside `0000`..=`9999`.
pub fn format_micros(us: Micros) -> Option<String> {
    let secs = us.div_euclid(MICROS_PER_SEC);
    let micros = us.rem_euclid(MICROS_PER_SEC);
    let (days, sod) = (secs.div_euclid(SECS_PER_DAY), secs.rem_euclid(SECS_PER_DAY));
    let (y, m, d) = civil_from_days(days);
    if !(0..=9999).contains(&y) {
        return None;
    }
    // Written digit by digit: this runs for every answer and every event.
    let mut out = String::with_capacity(27);
    push_digits(&mut out, y as u64, 4);
    out.push('-');
    push_digits(&mut out, m as u64, 2);
    out.push('-');
    push_digits(&mut out, d as u64, 2);
    out.push('T');
    push_digits(&mut out, (sod / 3600) as u64, 2);
    out.push(':');
    push_digits(&mut out, (sod / 60 % 60) as u64, 2);
    out.push(':');
    push_digits(&mut out, (sod % 60) as u64, 2);
    out.push('.');
    push_digits(&mut out, micros as u64, 6);
    out.push('Z');
    Some(out)
}

/// Appends the last `width` decimal digits of `n`, zero-padded.
fn push_digits(out: &mut String, n: u64, width: u32) {
    for i in (0..width).rev() {
        out.push((b'0' + (n / 10u64.pow(i) % 10) as u8) as char);
    }
}

/// A timestamp read from a stored trace event, at nanosecond resolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StoredTs {
    /// Seconds since the Unix epoch.
    pub secs: i64,
    /// Nanoseconds within the second, `0..1_000_000_000`.
    pub nanos: u32,
}

/// Parses a stored (trace) timestamp: `YYYY-MM-DDTHH:MM:SS`, an optional `.` with exactly 3, 6 or 9 digits, then
/// `Z` or `+00:00`. Uppercase `T` only. Anything else is `None`.
pub fn parse_stored(s: &str) -> Option<StoredTs> {
    let b = s.as_bytes();
    let dt = date_time(b, |c| c == b'T')?;
    let (fraction, rest) = split_fraction(b.get(19..)?, 9)?;
    if !matches!(fraction.len(), 0 | 3 | 6 | 9) || !(rest == b"Z" || rest == b"+00:00") {
        return None;
    }
    Some(StoredTs { secs: dt.unix_seconds(), nanos: scale_fraction(fraction, 9) })
}

/// The spelling of a stored timestamp that enters event hashes: `YYYY-MM-DDTHH:MM:SS`, the fraction trimmed to
/// whole groups (none when zero, 3 digits for whole milliseconds, 6 for whole microseconds, else 9) and `+00:00`.
/// `None` when `s` is not accepted by [`parse_stored`].
///
/// `2024-12-28T12:00:00.500000Z` → `2024-12-28T12:00:00.500+00:00`.
pub fn hash_rendering(s: &str) -> Option<String> {
    let nanos = parse_stored(s)?.nanos;
    // The first 19 bytes were validated as ASCII `YYYY-MM-DDTHH:MM:SS`, already in UTC.
    let date_time = s.get(..19)?;
    let mut out = String::with_capacity(35);
    out.push_str(date_time);
    if nanos != 0 {
        out.push('.');
        if nanos % 1_000_000 == 0 {
            push_digits(&mut out, (nanos / 1_000_000) as u64, 3);
        } else if nanos % 1000 == 0 {
            push_digits(&mut out, (nanos / 1000) as u64, 6);
        } else {
            push_digits(&mut out, nanos as u64, 9);
        }
    }
    out.push_str("+00:00");
    Some(out)
}

/// A time-window bound: a time of day ([`parse_time_of_day`]) with an optional RFC 3339 offset (`Z`, `+02:00`), as
/// JSON Schema's `time` format writes it. Answers seconds since midnight and the offset in minutes, if given.
pub fn parse_time_bound(s: &str) -> Option<(u32, Option<i32>)> {
    if let Some(t) = s.strip_suffix('Z').or_else(|| s.strip_suffix('z')) {
        return parse_time_of_day(t).map(|secs| (secs, Some(0)));
    }
    if s.len() > 6 && s.is_char_boundary(s.len() - 6) {
        let (t, zone) = s.split_at(s.len() - 6);
        if zone.starts_with('+') || zone.starts_with('-') {
            return Some((parse_time_of_day(t)?, Some(parse_fixed_zone(zone)?)));
        }
    }
    parse_time_of_day(s).map(|secs| (secs, None))
}

/// Parses a time of day, `HH:MM`, `HH:MM:SS` or `HH:MM:SS.f…` (1 to 9 fraction digits, ignored), into seconds
/// since midnight. Hours run to 23, as in RFC 3339's `partial-time` (the `time` format of the schema): midnight
/// is `00:00`. Offsets are rejected.
pub fn parse_time_of_day(s: &str) -> Option<u32> {
    let b = s.as_bytes();
    let hour = digits(b, 0, 2)?;
    expect(b, 2, b':')?;
    let minute = digits(b, 3, 2)?;
    let second = match b.len() {
        5 => 0,
        _ => {
            expect(b, 5, b':')?;
            let second = digits(b, 6, 2)?;
            // The fraction is checked, and ignored.
            let (_, rest) = split_fraction(b.get(8..)?, 9)?;
            if !rest.is_empty() {
                return None;
            }
            second
        }
    };
    if hour < 24 && minute < 60 && second < 60 {
        Some(hour * 3600 + minute * 60 + second)
    } else {
        None
    }
}

/// Minutes east of UTC of a fixed zone: `UTC`, `Etc/UTC`, `GMT`, `Z`, `±HH:MM`, `±HHMM`, `UTC±HH:MM` or
/// `UTC±HHMM`. `None` for anything else, including named IANA zones, which the host resolves.
pub fn parse_fixed_zone(zone: &str) -> Option<i32> {
    if matches!(zone, "UTC" | "Etc/UTC" | "GMT" | "Z") {
        return Some(0);
    }
    let offset = zone.strip_prefix("UTC").unwrap_or(zone).as_bytes();
    let (sign, hhmm) = match offset {
        [b'+', rest @ ..] => (1, rest),
        [b'-', rest @ ..] => (-1, rest),
        _ => return None,
    };
    let minutes = match hhmm.len() {
        5 => offset_hh_colon_mm(hhmm)?,
        4 => hh_mm(digits(hhmm, 0, 2)?, digits(hhmm, 2, 2)?)?,
        _ => return None,
    };
    Some(sign * minutes as i32)
}

/// The local weekday (0 = Monday … 6 = Sunday) and seconds since local midnight of the instant `us` in a zone
/// `offset_minutes` east of UTC.
pub fn local_parts(us: Micros, offset_minutes: i32) -> (u32, u32) {
    let local = us.div_euclid(MICROS_PER_SEC).saturating_add(i64::from(offset_minutes) * 60);
    let days = local.div_euclid(SECS_PER_DAY);
    (weekday_from_days(days), local.rem_euclid(SECS_PER_DAY) as u32)
}

/// A validated calendar date and wall-clock time.
struct DateTime {
    year: i64,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
}

impl DateTime {
    fn unix_seconds(&self) -> i64 {
        days_from_civil(self.year, self.month, self.day) * SECS_PER_DAY
            + i64::from(self.hour * 3600 + self.minute * 60 + self.second)
    }
}

/// Parses and validates the leading `YYYY-MM-DD?HH:MM:SS` (19 bytes) of `b`, `?` being a byte accepted by
/// `separator`.
fn date_time(b: &[u8], separator: impl Fn(u8) -> bool) -> Option<DateTime> {
    let year = digits(b, 0, 4)?;
    expect(b, 4, b'-')?;
    let month = digits(b, 5, 2)?;
    expect(b, 7, b'-')?;
    let day = digits(b, 8, 2)?;
    if !separator(*b.get(10)?) {
        return None;
    }
    let hour = digits(b, 11, 2)?;
    expect(b, 13, b':')?;
    let minute = digits(b, 14, 2)?;
    expect(b, 16, b':')?;
    let second = digits(b, 17, 2)?;
    let year = i64::from(year);
    let valid = (1..=12).contains(&month)
        && day >= 1
        && day <= days_in_month(year, month)
        && hour < 24
        && minute < 60
        && second < 60;
    if valid {
        Some(DateTime { year, month, day, hour, minute, second })
    } else {
        None
    }
}

fn is_leap_year(y: i64) -> bool {
    y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap_year(y) => 29,
        2 => 28,
        _ => 0,
    }
}

/// The value of the `len` (at most 9) ASCII digits at `b[start..]`, or `None` if any is missing or not a digit.
fn digits(b: &[u8], start: usize, len: usize) -> Option<u32> {
    b.get(start..start.checked_add(len)?)?.iter().try_fold(0u32, |acc, &c| {
        if c.is_ascii_digit() {
            Some(acc * 10 + u32::from(c - b'0'))
        } else {
            None
        }
    })
}

fn expect(b: &[u8], at: usize, byte: u8) -> Option<()> {
    if b.get(at) == Some(&byte) {
        Some(())
    } else {
        None
    }
}

/// Splits an optional `.` + 1..=`max` digits off the front of `b`: `(digits, rest)`. A `.` without digits, or
/// with more than `max`, is `None`. (The scan stops at the end of `b`, so any `max` is safe.)
fn split_fraction(b: &[u8], max: usize) -> Option<(&[u8], &[u8])> {
    match b {
        [b'.', rest @ ..] => {
            let n = rest.iter().take_while(|c| c.is_ascii_digit()).count();
            if (1..=max).contains(&n) {
                Some(rest.split_at(n))
            } else {
                None
            }
        }
        _ => Some((&[], b)),
    }
}

/// The fraction `0.DIGITS` in units of 10^-`places` (at most 9; extra digits truncated).
fn scale_fraction(fraction: &[u8], places: usize) -> u32 {
    (0..places).fold(0, |acc, i| acc * 10 + fraction.get(i).map_or(0, |&c| u32::from(c - b'0')))
}

/// Minutes of an `HH:MM` offset (exactly 5 bytes; hours < 24, minutes < 60).
fn offset_hh_colon_mm(b: &[u8]) -> Option<u32> {
    if b.len() != 5 {
        return None;
    }
    expect(b, 2, b':')?;
    hh_mm(digits(b, 0, 2)?, digits(b, 3, 2)?)
}

fn hh_mm(hours: u32, minutes: u32) -> Option<u32> {
    if hours < 24 && minutes < 60 {
        Some(hours * 60 + minutes)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY_US: i64 = SECS_PER_DAY * MICROS_PER_SEC;

    #[test]
    fn civil_round_trips() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(days_from_civil(1969, 12, 31), -1);
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(days_from_civil(2024, 12, 28), 20_085);
        assert_eq!(civil_from_days(20_085), (2024, 12, 28));
        assert_eq!(days_from_civil(0, 1, 1), -719_528);
        assert_eq!(civil_from_days(-719_528), (0, 1, 1));
        assert_eq!(days_from_civil(9999, 12, 31), 2_932_896);
        assert_eq!(civil_from_days(2_932_896), (9999, 12, 31));
        assert_eq!(civil_from_days(-719_529), (-1, 12, 31));
        for days in (-800_000..3_000_000).step_by(97) {
            let (y, m, d) = civil_from_days(days);
            assert!((1..=12).contains(&m) && d >= 1 && d <= days_in_month(y, m), "{}", days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }

    #[test]
    fn leap_years() {
        assert!(is_leap_year(2000) && is_leap_year(2024) && is_leap_year(0) && is_leap_year(1600));
        assert!(!is_leap_year(1900) && !is_leap_year(2023) && !is_leap_year(2100));
        assert_eq!(days_from_civil(2024, 3, 1) - days_from_civil(2024, 2, 28), 2);
        assert_eq!(days_from_civil(2023, 3, 1) - days_from_civil(2023, 2, 28), 1);
        assert_eq!(days_from_civil(1900, 3, 1) - days_from_civil(1900, 2, 28), 1);
        assert_eq!(days_from_civil(2000, 3, 1) - days_from_civil(2000, 2, 28), 2);
        assert_eq!(civil_from_days(days_from_civil(2024, 2, 28) + 1), (2024, 2, 29));
    }

    #[test]
    fn calendar_functions_never_panic() {
        for &days in &[i64::MIN, i64::MIN + 1, -1, 0, i64::MAX - 1, i64::MAX] {
            let (_, m, d) = civil_from_days(days);
            assert!((1..=12).contains(&m) && (1..=31).contains(&d));
            assert!(weekday_from_days(days) < 7);
        }
        for &y in &[i64::MIN, -1, 0, i64::MAX] {
            for &(m, d) in &[(0, 0), (1, 1), (13, 40), (u32::MAX, u32::MAX)] {
                days_from_civil(y, m, d);
            }
        }
        assert_eq!(days_from_civil(i64::MAX, 12, 31), i64::MAX);
        assert_eq!(days_from_civil(i64::MIN, 1, 1), i64::MIN);
        for &us in &[i64::MIN, i64::MAX, -1, 0] {
            for &off in &[i32::MIN, -1440, 0, 1440, i32::MAX] {
                let (wd, sod) = local_parts(us, off);
                assert!(wd < 7 && sod < 86_400);
            }
            let _ = format_micros(us);
        }
    }

    #[test]
    fn weekdays() {
        assert_eq!(weekday_from_days(0), 3); // 1970-01-01, Thursday
        assert_eq!(weekday_from_days(-1), 2); // 1969-12-31, Wednesday
        assert_eq!(weekday_from_days(-3), 0); // 1969-12-29, Monday
        assert_eq!(weekday_from_days(4), 0); // 1970-01-05, Monday
        assert_eq!(weekday_from_days(days_from_civil(2024, 12, 28)), 5); // Saturday
        assert_eq!(weekday_from_days(days_from_civil(2000, 1, 1)), 5); // Saturday
        assert_eq!(weekday_from_days(days_from_civil(2024, 2, 29)), 3); // Thursday
        assert_eq!(weekday_from_days(days_from_civil(0, 1, 1)), 5); // Saturday (proleptic)
        assert_eq!(weekday_from_days(days_from_civil(2025, 1, 5)), 6); // Sunday
    }

    #[test]
    fn rfc3339_valid() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_rfc3339("1970-01-01t00:00:00z"), Some(0));
        assert_eq!(parse_rfc3339("1969-12-31T23:59:59Z"), Some(-1_000_000));
        assert_eq!(parse_rfc3339("1969-12-31T23:59:59.5Z"), Some(-500_000));
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00.000001Z"), Some(1));
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00.1Z"), Some(100_000));
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00.123456789Z"), Some(123_456));
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00.999999999Z"), Some(999_999));
        // RFC 3339 allows any number of fraction digits: those past the microsecond are truncated.
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00.1234567890Z"), Some(123_456));
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00.9999999999999999999999+00:00"), Some(999_999));
        let long = format!("2024-12-28T12:00:00.{}Z", "7".repeat(10_000));
        assert_eq!(parse_rfc3339(&long), Some(1_735_387_200_777_777));
        assert_eq!(parse_rfc3339("2024-12-28T12:00:00Z"), Some(1_735_387_200_000_000));
        assert_eq!(parse_rfc3339("2024-12-28T13:30:00+01:30"), Some(1_735_387_200_000_000));
        assert_eq!(parse_rfc3339("2024-12-28T07:00:00-05:00"), Some(1_735_387_200_000_000));
        assert_eq!(parse_rfc3339("2024-12-28T12:00:00-00:00"), Some(1_735_387_200_000_000));
        assert_eq!(parse_rfc3339("2024-12-29T11:59:00+23:59"), Some(1_735_387_200_000_000));
        assert_eq!(parse_rfc3339("2024-02-29T00:00:00Z"), Some(days_from_civil(2024, 2, 29) * DAY_US));
        assert_eq!(parse_rfc3339("2000-02-29T00:00:00Z"), Some(days_from_civil(2000, 2, 29) * DAY_US));
        assert_eq!(parse_rfc3339("0000-01-01T00:00:00Z"), Some(-719_528 * DAY_US));
        assert_eq!(parse_rfc3339("9999-12-31T23:59:59.999999Z"), Some(2_932_897 * DAY_US - 1));
        // An offset may move the instant outside the year range; it is still an instant.
        assert_eq!(parse_rfc3339("0000-01-01T00:00:00+01:00"), Some(-719_528 * DAY_US - 3_600_000_000));
    }

    #[test]
    fn rfc3339_problems_name_their_cause() {
        for (input, cause) in [
            ("2026-01-02 03:04:05Z", "not a space"),
            ("2016-12-31T23:59:60Z", "leap second"),
            ("2026-01-02T03:04:05", "add the time zone"),
            ("2026-01-02T03:04:05+0100", "±HH:MM"),
            ("2026-01-02T03:04:05+01", "±HH:MM"),
            ("2026-02-30T03:04:05Z", "out of range"),
            ("2026-01-02T25:04:05+01:00", "out of range"),
            ("yesterday", "expected YYYY-MM-DD"),
            ("2026-01-02T03:04:05.Z", "expected YYYY-MM-DD"),
        ] {
            assert_eq!(parse_rfc3339(input), None, "{}", input);
            assert!(rfc3339_problem(input).contains(cause), "{}: {}", input, rfc3339_problem(input));
        }
    }

    #[test]
    fn rfc3339_invalid() {
        for s in [
            "",
            "2024-02-30T00:00:00Z",
            "2023-02-29T00:00:00Z",
            "1900-02-29T00:00:00Z",
            "2024-04-31T00:00:00Z",
            "2024-00-10T00:00:00Z",
            "2024-13-10T00:00:00Z",
            "2024-01-00T00:00:00Z",
            "2024-01-32T00:00:00Z",
            "2024-01-01T24:00:00Z",
            "2024-01-01T23:60:00Z",
            "2024-12-31T23:59:60Z",
            "2024-01-01T00:00Z",
            "2024-01-01T00:00:00",
            "2024-01-01 00:00:00Z",
            "2024-01-01_00:00:00Z",
            "2024-01-01T00:00:00.Z",
            "2024-01-01T00:00:00.1234567890",
            "2024-01-01T00:00:00.12345678901234567890 Z",
            "2024-01-01T00:00:00,5Z",
            "2024-01-01T00:00:00+0100",
            "2024-01-01T00:00:00+01",
            "2024-01-01T00:00:00+24:00",
            "2024-01-01T00:00:00+01:60",
            "2024-01-01T00:00:00ZZ",
            "2024-01-01T00:00:00Z ",
            " 2024-01-01T00:00:00Z",
            "24-01-01T00:00:00Z",
            "+2024-01-01T00:00:00Z",
            "-002-01-01T00:00:00Z",
            "2024-1-01T00:00:00Z",
            "2024-01-01T0:00:00Z",
            "2024/01/01T00:00:00Z",
            "２０２４-01-01T00:00:00Z",
            "2024-01-01T00:00:00.１Z",
            "2024-01-01T00:00:00\u{e9}",
        ] {
            assert_eq!(parse_rfc3339(s), None, "{:?}", s);
        }
    }

    #[test]
    fn formats_micros() {
        assert_eq!(format_micros(0).as_deref(), Some("1970-01-01T00:00:00.000000Z"));
        assert_eq!(format_micros(1).as_deref(), Some("1970-01-01T00:00:00.000001Z"));
        assert_eq!(format_micros(-1).as_deref(), Some("1969-12-31T23:59:59.999999Z"));
        assert_eq!(format_micros(-1_000_000).as_deref(), Some("1969-12-31T23:59:59.000000Z"));
        assert_eq!(format_micros(1_735_387_200_500_000).as_deref(), Some("2024-12-28T12:00:00.500000Z"));
        assert_eq!(format_micros(-719_528 * DAY_US).as_deref(), Some("0000-01-01T00:00:00.000000Z"));
        assert_eq!(format_micros(2_932_897 * DAY_US - 1).as_deref(), Some("9999-12-31T23:59:59.999999Z"));
        assert_eq!(format_micros(-719_528 * DAY_US - 1), None);
        assert_eq!(format_micros(2_932_897 * DAY_US), None);
        assert_eq!(format_micros(i64::MIN), None);
        assert_eq!(format_micros(i64::MAX), None);
    }

    #[test]
    fn format_and_parse_round_trip() {
        for us in
            [0, 1, -1, 951_782_400_123_456, -62_167_219_200_000_000, 253_402_300_799_999_999, 1_709_164_799_999_999]
        {
            let s = format_micros(us).unwrap();
            assert_eq!(parse_rfc3339(&s), Some(us), "{}", s);
            let stored = parse_stored(&s).unwrap();
            assert_eq!(stored.secs * MICROS_PER_SEC + i64::from(stored.nanos / 1000), us);
        }
    }

    #[test]
    fn stored_valid() {
        assert_eq!(parse_stored("1970-01-01T00:00:00Z"), Some(StoredTs { secs: 0, nanos: 0 }));
        assert_eq!(parse_stored("1970-01-01T00:00:00+00:00"), Some(StoredTs { secs: 0, nanos: 0 }));
        assert_eq!(parse_stored("1969-12-31T23:59:59.999Z"), Some(StoredTs { secs: -1, nanos: 999_000_000 }));
        assert_eq!(
            parse_stored("2024-12-28T12:00:00.123456Z"),
            Some(StoredTs { secs: 1_735_387_200, nanos: 123_456_000 })
        );
        assert_eq!(
            parse_stored("2024-12-28T12:00:00.123456789+00:00"),
            Some(StoredTs { secs: 1_735_387_200, nanos: 123_456_789 })
        );
        assert_eq!(
            parse_stored("2024-02-29T00:00:00.000Z").map(|t| t.secs),
            Some(days_from_civil(2024, 2, 29) * SECS_PER_DAY)
        );
        assert!(parse_stored("2024-12-28T12:00:00.100Z") < parse_stored("2024-12-28T12:00:00.100000001Z"));
    }

    #[test]
    fn stored_invalid() {
        for s in [
            "2024-12-28T12:00:00.1234Z",
            "2024-12-28T12:00:00.1Z",
            "2024-12-28T12:00:00.12Z",
            "2024-12-28T12:00:00.12345Z",
            "2024-12-28T12:00:00.1234567Z",
            "2024-12-28T12:00:00.1234567890Z",
            "2024-12-28T12:00:00.Z",
            "2024-12-28T12:00:00+01:00",
            "2024-12-28T12:00:00-00:00",
            "2024-12-28T12:00:00z",
            "2024-12-28t12:00:00Z",
            "2024-12-28 12:00:00Z",
            "2024-12-28T12:00:00",
            "2024-12-28T12:00Z",
            "2024-12-28T12:00:00Z+00:00",
            "2024-12-28T12:00:00+00:00Z",
            "2024-12-28T12:00:00+0000",
            "2024-02-30T00:00:00Z",
            "2023-02-29T00:00:00Z",
            "2024-12-31T23:59:60Z",
            "2024-12-28T12:00:00.000000Z ",
            "",
        ] {
            assert_eq!(parse_stored(s), None, "{:?}", s);
            assert_eq!(hash_rendering(s), None, "{:?}", s);
        }
    }

    #[test]
    fn hash_renderings() {
        let cases = [
            ("2024-12-28T12:00:00Z", "2024-12-28T12:00:00+00:00"),
            ("2024-12-28T12:00:00+00:00", "2024-12-28T12:00:00+00:00"),
            ("2024-12-28T12:00:00.000Z", "2024-12-28T12:00:00+00:00"),
            ("2024-12-28T12:00:00.000000Z", "2024-12-28T12:00:00+00:00"),
            ("2024-12-28T12:00:00.000000000Z", "2024-12-28T12:00:00+00:00"),
            ("2024-12-28T12:00:00.500000Z", "2024-12-28T12:00:00.500+00:00"),
            ("2024-12-28T12:00:00.500000000+00:00", "2024-12-28T12:00:00.500+00:00"),
            ("2024-12-28T12:00:00.120Z", "2024-12-28T12:00:00.120+00:00"),
            ("2024-12-28T12:00:00.001Z", "2024-12-28T12:00:00.001+00:00"),
            ("2024-12-28T12:00:00.123456Z", "2024-12-28T12:00:00.123456+00:00"),
            ("2024-12-28T12:00:00.000001Z", "2024-12-28T12:00:00.000001+00:00"),
            ("2024-12-28T12:00:00.123456000Z", "2024-12-28T12:00:00.123456+00:00"),
            ("2024-12-28T12:00:00.123456789Z", "2024-12-28T12:00:00.123456789+00:00"),
            ("2024-12-28T12:00:00.000000001Z", "2024-12-28T12:00:00.000000001+00:00"),
            ("1969-12-31T23:59:59.999999Z", "1969-12-31T23:59:59.999999+00:00"),
        ];
        for (input, expected) in cases {
            assert_eq!(hash_rendering(input).as_deref(), Some(expected), "{}", input);
            // The rendering is itself a stored timestamp for the same instant, and renders to itself.
            assert_eq!(parse_stored(expected), parse_stored(input));
            assert_eq!(hash_rendering(expected).as_deref(), Some(expected));
        }
    }

    #[test]
    fn times_of_day() {
        assert_eq!(parse_time_of_day("00:00"), Some(0));
        assert_eq!(parse_time_of_day("09:30"), Some(34_200));
        assert_eq!(parse_time_of_day("23:59"), Some(86_340));
        assert_eq!(parse_time_of_day("23:59:59"), Some(86_399));
        assert_eq!(parse_time_of_day("12:00:01.5"), Some(43_201));
        assert_eq!(parse_time_of_day("12:00:01.123456789"), Some(43_201));
        for s in [
            "",
            "24:00",
            "24:00:00",
            "24:00:00.000",
            "24:30",
            "99:00",
            "9:30",
            "09:3",
            "0930",
            "09:30:",
            "09:30:0",
            "24:01",
            "24:00:01",
            "24:00:00.1",
            "25:00",
            "12:60",
            "12:00:60",
            "12:00:00Z",
            "12:00:00+01:00",
            "12:00Z",
            "12:00:00.",
            "12:00:00.1234567890",
            " 12:00",
            "12:00 ",
            "12-00",
            "１2:00",
        ] {
            assert_eq!(parse_time_of_day(s), None, "{:?}", s);
        }
    }

    #[test]
    fn fixed_zones() {
        for zone in ["UTC", "Etc/UTC", "GMT", "Z", "+00:00", "-00:00", "+0000", "UTC+00:00", "UTC-00:00"] {
            assert_eq!(parse_fixed_zone(zone), Some(0), "{}", zone);
        }
        assert_eq!(parse_fixed_zone("+02:00"), Some(120));
        assert_eq!(parse_fixed_zone("-05:30"), Some(-330));
        assert_eq!(parse_fixed_zone("+0545"), Some(345));
        assert_eq!(parse_fixed_zone("-0800"), Some(-480));
        assert_eq!(parse_fixed_zone("UTC+05:30"), Some(330));
        assert_eq!(parse_fixed_zone("UTC-03:00"), Some(-180));
        assert_eq!(parse_fixed_zone("+23:59"), Some(1439));
        for zone in [
            "",
            "utc",
            "Europe/Paris",
            "America/New_York",
            "Etc/GMT+5",
            "GMT+01:00",
            "UTC+",
            "UTC+5",
            "+02",
            "+2:00",
            "+02:0",
            "02:00",
            "+24:00",
            "+02:60",
            "+02:00 ",
            "UTC +02:00",
            "+0",
            "UTCZ",
            "++02:00",
        ] {
            assert_eq!(parse_fixed_zone(zone), None, "{:?}", zone);
        }
    }

    #[test]
    fn local_parts_of_instants() {
        assert_eq!(local_parts(0, 0), (3, 0)); // Thursday midnight
        assert_eq!(local_parts(-1, 0), (2, 86_399)); // Wednesday 23:59:59.999999
        assert_eq!(local_parts(-1_000_000, 0), (2, 86_399));
        assert_eq!(local_parts(0, -60), (2, 82_800)); // 23:00 the day before
        assert_eq!(local_parts(0, 90), (3, 5_400));
        // Saturday 2024-12-28 12:00 UTC.
        let us = parse_rfc3339("2024-12-28T12:00:00Z").unwrap();
        assert_eq!(local_parts(us, 0), (5, 43_200));
        assert_eq!(local_parts(us, 13 * 60), (6, 3_600)); // Sunday 01:00 in UTC+13
        assert_eq!(local_parts(us, -(12 * 60 + 30)), (4, 84_600)); // Friday 23:30 in UTC-12:30
        assert_eq!(local_parts(us + 999_999, 0), (5, 43_200)); // sub-second truncation
    }
}
