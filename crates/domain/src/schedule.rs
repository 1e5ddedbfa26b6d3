//! Turning the date and time a person picks into an instant, and back.
//!
//! People pick wall-clock times in their workspace's time zone; posts are stored and published
//! by UTC instant. Daylight-saving changes make some wall-clock times impossible (the clocks
//! jump over them) and others happen twice (the clocks go back); both are handled here so that
//! a post never goes out at a time nobody chose.

use crate::{Invalid, Timezone};
use chrono::{
    DateTime, MappedLocalTime, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeZone, Utc,
};
use chrono_tz::{GapInfo, OffsetName};

/// A time a person picked, resolved to UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScheduledTime {
    /// The instant the post goes out.
    pub utc: DateTime<Utc>,
    /// The wall-clock time happens twice (clocks went back) and the earlier occurrence was taken.
    pub ambiguous: bool,
}

/// Parses the value of an `<input type="datetime-local">` (`2026-11-29T14:30`, also with `:ss`
/// and with fractions of a second, which are dropped), or a separate date `2026-11-29` and time
/// `14:30` joined by the caller with `T`. Surrounding whitespace is ignored.
pub fn parse_local(raw: &str) -> Result<NaiveDateTime, Invalid> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err(Invalid::new("Enter a date and time."));
    }
    let bad_format = || Invalid::new("Enter the date and time as YYYY-MM-DD and HH:MM.");
    let (date, time) = raw.split_once(['T', ' ']).ok_or_else(bad_format)?;
    let time = match time.split_once('.') {
        Some((whole, fraction))
            if !fraction.is_empty() && fraction.bytes().all(|b| b.is_ascii_digit()) =>
        {
            whole
        }
        Some(_) => return Err(bad_format()),
        None => time,
    };

    let date = digit_fields(date, '-', &[4, 2, 2]).ok_or_else(bad_format)?;
    let time = digit_fields(time, ':', &[2, 2])
        .or_else(|| digit_fields(time, ':', &[2, 2, 2]))
        .ok_or_else(bad_format)?;

    let year = i32::try_from(date[0]).map_err(|_| bad_format())?;
    let date = NaiveDate::from_ymd_opt(year, date[1], date[2])
        .ok_or_else(|| Invalid::new("That date does not exist. Check the day and the month."))?;
    let second = time.get(2).copied().unwrap_or(0);
    let time = NaiveTime::from_hms_opt(time[0], time[1], second)
        .ok_or_else(|| Invalid::new("Enter a time between 00:00 and 23:59."))?;
    Ok(date.and_time(time))
}

/// Splits `raw` at `separator` into exactly `widths.len()` runs of ASCII digits of exactly those
/// widths, and returns their values.
fn digit_fields(raw: &str, separator: char, widths: &[usize]) -> Option<Vec<u32>> {
    let parts: Vec<&str> = raw.split(separator).collect();
    if parts.len() != widths.len() {
        return None;
    }
    parts
        .iter()
        .zip(widths)
        .map(|(part, &width)| {
            let digits = part.len() == width && part.bytes().all(|b| b.is_ascii_digit());
            if digits { part.parse().ok() } else { None }
        })
        .collect()
}

/// Resolves a wall-clock time in `tz` to UTC.
///
/// A time inside a daylight-saving gap is refused with a message naming the zone and the jump,
/// e.g. "2:30 on 29 March 2026 does not exist in Europe/Berlin: the clocks jump from 02:00 to
/// 03:00. Choose another time." A time that happens twice resolves to the earlier occurrence
/// with `ambiguous = true`.
pub fn resolve(local: NaiveDateTime, tz: Timezone) -> Result<ScheduledTime, Invalid> {
    match tz.tz().from_local_datetime(&local) {
        MappedLocalTime::Single(at) => Ok(ScheduledTime {
            utc: at.with_timezone(&Utc),
            ambiguous: false,
        }),
        MappedLocalTime::Ambiguous(first, second) => Ok(ScheduledTime {
            utc: first.with_timezone(&Utc).min(second.with_timezone(&Utc)),
            ambiguous: true,
        }),
        MappedLocalTime::None => Err(gap_error(local, tz)),
    }
}

/// The message for a wall-clock time the clocks jump over.
fn gap_error(local: NaiveDateTime, tz: Timezone) -> Invalid {
    let picked = format!("{} does not exist in {}", wall_clock(local), tz.name());
    let gap = GapInfo::new(&local, &tz.tz());
    let bounds = gap.and_then(|gap| Some((gap.begin?.0, gap.end?.naive_local())));
    match bounds {
        Some((begin, end)) => {
            let end_label = if begin.date() == end.date() {
                end.format("%H:%M").to_string()
            } else {
                end.format("%H:%M on %-d %B %Y").to_string()
            };
            Invalid(format!(
                "{picked}: the clocks jump from {} to {end_label}. Choose another time.",
                begin.format("%H:%M")
            ))
        }
        None => Invalid(format!(
            "{picked} because the clocks go forward. Choose another time."
        )),
    }
}

/// "14:30 on 29 November 2026": a wall-clock time as messages name it.
fn wall_clock(local: NaiveDateTime) -> String {
    local.format("%-H:%M on %-d %B %Y").to_string()
}

/// [`resolve`], and refuses times not after `now`: "That time has passed (it was 14:30 on 29
/// November 2026 in Europe/Berlin). Choose a time in the future."
pub fn schedule_at(
    local: NaiveDateTime,
    tz: Timezone,
    now: DateTime<Utc>,
) -> Result<ScheduledTime, Invalid> {
    let scheduled = resolve(local, tz)?;
    if scheduled.utc <= now {
        return Err(Invalid(format!(
            "That time has passed (it was {} in {}). Choose a time in the future.",
            wall_clock(local),
            tz.name()
        )));
    }
    Ok(scheduled)
}

/// The wall-clock time in `tz` at the instant `utc`.
pub fn to_local(utc: DateTime<Utc>, tz: Timezone) -> NaiveDateTime {
    utc.with_timezone(&tz.tz()).naive_local()
}

/// The first instant of the local day `date` in `tz` (for calendar ranges). Where midnight
/// falls in a daylight-saving gap, the day starts when the clocks resume.
pub fn start_of_day(date: chrono::NaiveDate, tz: Timezone) -> DateTime<Utc> {
    use chrono::TimeZone;
    let mut local = date.and_time(chrono::NaiveTime::MIN);
    for _ in 0..24 * 4 {
        if let Some(t) = tz.tz().from_local_datetime(&local).earliest() {
            return t.with_timezone(&Utc);
        }
        local += chrono::Duration::minutes(15);
    }
    // No zone skips a whole day's first six hours; fall back to UTC midnight.
    date.and_time(chrono::NaiveTime::MIN).and_utc()
}

/// A resolved time for people to read, with the zone's abbreviation where it has a real one,
/// the zone's name and the offset: "Sun 29 Nov 2026, 14:30 CET (Europe/Berlin, UTC+01:00)".
/// Zones whose only abbreviation is numeric (such as "+04") or their own name ("UTC") show
/// no abbreviation: "Sun 29 Nov 2026, 18:30 (Asia/Dubai, UTC+04:00)".
pub fn describe(utc: DateTime<Utc>, tz: Timezone) -> String {
    let local = utc.with_timezone(&tz.tz());
    let offset = local.offset();
    let abbreviation = offset
        .abbreviation()
        .filter(|name| name.chars().all(|c| c.is_ascii_alphabetic()) && *name != tz.name())
        .map(|name| format!(" {name}"))
        .unwrap_or_default();
    format!(
        "{}{abbreviation} ({}, UTC{})",
        local.format("%a %-d %b %Y, %H:%M"),
        tz.name(),
        offset.fix()
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_day_starts_at_local_midnight_or_when_the_clocks_resume() {
        let berlin = Timezone::parse("Europe/Berlin").unwrap();
        let date = chrono::NaiveDate::from_ymd_opt(2026, 11, 29).unwrap();
        assert_eq!(
            start_of_day(date, berlin).to_rfc3339(),
            "2026-11-28T23:00:00+00:00"
        );
        // Santiago moved its clocks from 00:00 to 01:00 on 6 September 2026.
        let santiago = Timezone::parse("America/Santiago").unwrap();
        let gap_day = chrono::NaiveDate::from_ymd_opt(2026, 9, 6).unwrap();
        let start = start_of_day(gap_day, santiago);
        assert_eq!(
            to_local(start, santiago).format("%H:%M").to_string(),
            "01:00"
        );
    }
    use chrono::Duration;

    fn zone(name: &str) -> Timezone {
        Timezone::parse(name).unwrap()
    }

    fn at(raw: &str) -> NaiveDateTime {
        parse_local(raw).unwrap()
    }

    fn utc(raw: &str) -> DateTime<Utc> {
        at(raw).and_utc()
    }

    #[test]
    fn parses_datetime_local_values() {
        let expected = NaiveDate::from_ymd_opt(2026, 11, 29)
            .unwrap()
            .and_hms_opt(14, 30, 0)
            .unwrap();
        assert_eq!(parse_local("2026-11-29T14:30").unwrap(), expected);
        assert_eq!(parse_local(" 2026-11-29T14:30:00 ").unwrap(), expected);
        assert_eq!(parse_local("2026-11-29T14:30:00.000").unwrap(), expected);
        assert_eq!(parse_local("2026-11-29 14:30").unwrap(), expected);
        assert_eq!(
            parse_local("2026-11-29T14:30:45").unwrap(),
            expected + Duration::seconds(45)
        );
    }

    #[test]
    fn refuses_missing_and_malformed_values() {
        assert_eq!(parse_local("  ").unwrap_err().0, "Enter a date and time.");
        let format = "Enter the date and time as YYYY-MM-DD and HH:MM.";
        for raw in [
            "2026-11-29",
            "14:30",
            "29.11.2026 14:30",
            "2026-11-29T1430",
            "2026-11-29T14:3",
            "2026-1-29T14:30",
            "2026-11-29T14:30:00.",
            "2026-11-29T14:30:00.5Z",
            "2026-11-29T14:30+01:00",
            "+2026-11-29T14:30",
            "2026-11-29T14:30:00:00",
        ] {
            assert_eq!(parse_local(raw).unwrap_err().0, format, "{raw}");
        }
    }

    #[test]
    fn refuses_dates_and_times_that_do_not_exist() {
        assert!(
            parse_local("2026-02-29T10:00")
                .unwrap_err()
                .0
                .contains("date does not exist")
        );
        assert!(parse_local("2028-02-29T10:00").is_ok());
        assert!(parse_local("2026-13-01T10:00").is_err());
        assert_eq!(
            parse_local("2026-11-29T24:00").unwrap_err().0,
            "Enter a time between 00:00 and 23:59."
        );
        assert!(parse_local("2026-11-29T12:60").is_err());
    }

    #[test]
    fn berlin_spring_gap_is_refused_with_the_jump() {
        let error = resolve(at("2026-03-29T02:30"), zone("Europe/Berlin")).unwrap_err();
        assert_eq!(
            error.0,
            "2:30 on 29 March 2026 does not exist in Europe/Berlin: the clocks jump from 02:00 \
             to 03:00. Choose another time."
        );
        // The edges of the gap.
        assert!(resolve(at("2026-03-29T02:00"), zone("Europe/Berlin")).is_err());
        assert_eq!(
            resolve(at("2026-03-29T01:59"), zone("Europe/Berlin"))
                .unwrap()
                .utc,
            utc("2026-03-29T00:59")
        );
        assert_eq!(
            resolve(at("2026-03-29T03:00"), zone("Europe/Berlin"))
                .unwrap()
                .utc,
            utc("2026-03-29T01:00")
        );
    }

    #[test]
    fn berlin_autumn_overlap_takes_the_earlier_time() {
        let resolved = resolve(at("2026-10-25T02:30"), zone("Europe/Berlin")).unwrap();
        assert_eq!(resolved.utc, utc("2026-10-25T00:30"));
        assert!(resolved.ambiguous);
        let after = resolve(at("2026-10-25T03:00"), zone("Europe/Berlin")).unwrap();
        assert_eq!(after.utc, utc("2026-10-25T02:00"));
        assert!(!after.ambiguous);
    }

    #[test]
    fn new_york_spring_gap_is_refused() {
        let error = resolve(at("2026-03-08T02:30"), zone("America/New_York")).unwrap_err();
        assert!(
            error.0.contains("does not exist in America/New_York"),
            "{}",
            error.0
        );
        assert!(error.0.contains("from 02:00 to 03:00"), "{}", error.0);
        let resolved = resolve(at("2026-11-01T01:30"), zone("America/New_York")).unwrap();
        assert_eq!(resolved.utc, utc("2026-11-01T05:30"));
        assert!(resolved.ambiguous);
    }

    #[test]
    fn lord_howe_half_hour_gap_and_overlap() {
        let lord_howe = zone("Australia/Lord_Howe");
        let error = resolve(at("2026-10-04T02:15"), lord_howe).unwrap_err();
        assert_eq!(
            error.0,
            "2:15 on 4 October 2026 does not exist in Australia/Lord_Howe: the clocks jump from \
             02:00 to 02:30. Choose another time."
        );
        assert!(resolve(at("2026-10-04T02:30"), lord_howe).is_ok());
        // Clocks go back from 02:00 (UTC+11) to 01:30 (UTC+10:30) on 5 April 2026.
        let resolved = resolve(at("2026-04-05T01:45"), lord_howe).unwrap();
        assert_eq!(resolved.utc, utc("2026-04-04T14:45"));
        assert!(resolved.ambiguous);
    }

    #[test]
    fn normal_times_map_in_winter_and_summer() {
        let berlin = zone("Europe/Berlin");
        let winter = resolve(at("2026-01-15T12:00"), berlin).unwrap();
        assert_eq!(winter.utc, utc("2026-01-15T11:00"));
        assert!(!winter.ambiguous);
        let summer = resolve(at("2026-07-15T12:00"), berlin).unwrap();
        assert_eq!(summer.utc, utc("2026-07-15T10:00"));
        let new_york = zone("America/New_York");
        assert_eq!(
            resolve(at("2026-01-15T12:00"), new_york).unwrap().utc,
            utc("2026-01-15T17:00")
        );
        assert_eq!(
            resolve(at("2026-07-15T12:00"), new_york).unwrap().utc,
            utc("2026-07-15T16:00")
        );
        assert_eq!(
            resolve(at("2026-07-15T12:00"), zone("Asia/Kolkata"))
                .unwrap()
                .utc,
            utc("2026-07-15T06:30")
        );
    }

    #[test]
    fn past_times_are_refused() {
        let berlin = zone("Europe/Berlin");
        let now = utc("2026-11-30T09:00");
        let error = schedule_at(at("2026-11-29T14:30"), berlin, now).unwrap_err();
        assert_eq!(
            error.0,
            "That time has passed (it was 14:30 on 29 November 2026 in Europe/Berlin). Choose a \
             time in the future."
        );
        // Exactly now is not in the future; a minute later is.
        assert!(schedule_at(at("2026-11-30T10:00"), berlin, now).is_err());
        let scheduled = schedule_at(at("2026-11-30T10:01"), berlin, now).unwrap();
        assert_eq!(scheduled.utc, utc("2026-11-30T09:01"));
        // A gap is reported as a gap even when it is also in the past.
        let error = schedule_at(at("2026-03-29T02:30"), berlin, now).unwrap_err();
        assert!(error.0.contains("does not exist"));
    }

    #[test]
    fn local_round_trips_for_every_existing_time() {
        for name in [
            "Europe/Berlin",
            "America/New_York",
            "Australia/Lord_Howe",
            "Asia/Kolkata",
            "Pacific/Chatham",
            "UTC",
        ] {
            let tz = zone(name);
            let mut local = at("2026-01-01T00:00");
            let end = at("2027-01-01T00:00");
            let mut gaps = 0;
            while local < end {
                match resolve(local, tz) {
                    Ok(resolved) => assert_eq!(to_local(resolved.utc, tz), local, "{name}"),
                    Err(error) => {
                        assert!(error.0.contains("does not exist"), "{name}: {}", error.0);
                        gaps += 1;
                    }
                }
                local += Duration::minutes(15);
            }
            let expected_gaps = match name {
                "Asia/Kolkata" | "UTC" => 0,
                "Australia/Lord_Howe" => 2,
                _ => 4,
            };
            assert_eq!(gaps, expected_gaps, "{name}");
        }
    }

    #[test]
    fn utc_is_never_ambiguous() {
        let tz = Timezone::utc();
        let mut local = at("2026-01-01T00:00");
        while local < at("2027-01-01T00:00") {
            let resolved = resolve(local, tz).unwrap();
            assert!(!resolved.ambiguous);
            assert_eq!(resolved.utc, local.and_utc());
            local += Duration::minutes(30);
        }
    }

    #[test]
    fn describes_a_time_with_zone_and_offset() {
        assert_eq!(
            describe(utc("2026-11-29T13:30"), zone("Europe/Berlin")),
            "Sun 29 Nov 2026, 14:30 CET (Europe/Berlin, UTC+01:00)"
        );
        assert_eq!(
            describe(utc("2026-07-05T12:00"), zone("Europe/Berlin")),
            "Sun 5 Jul 2026, 14:00 CEST (Europe/Berlin, UTC+02:00)"
        );
        assert_eq!(
            describe(utc("2026-01-15T17:00"), zone("America/New_York")),
            "Thu 15 Jan 2026, 12:00 EST (America/New_York, UTC-05:00)"
        );
        assert_eq!(
            describe(utc("2026-01-15T17:00"), zone("Asia/Kolkata")),
            "Thu 15 Jan 2026, 22:30 IST (Asia/Kolkata, UTC+05:30)"
        );
        assert_eq!(
            describe(utc("2026-11-29T14:30"), zone("Asia/Dubai")),
            "Sun 29 Nov 2026, 18:30 (Asia/Dubai, UTC+04:00)"
        );
        assert_eq!(
            describe(utc("2026-11-29T14:30"), Timezone::utc()),
            "Sun 29 Nov 2026, 14:30 (UTC, UTC+00:00)"
        );
    }
}
