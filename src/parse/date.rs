//! Date strings as real feeds write them → UTC instants (issue 14).
//!
//! One small table-tested module rather than a crate: chrono reads strict RFC 3339 and RFC 2822
//! (a wrong weekday or an unknown zone name fails the date), `speedate` reads ISO 8601 only,
//! `dtparse` (a port of dateutil) fills what is missing from a default date and knows English
//! only, and `dateparser` reads a list of US forms with naive times in the local zone and a
//! bare time as today. None reads what feedparser's and Miniflux's parsers read — partial and
//! ordinal ISO 8601 dates, US and military zone names, IANA zone names, Unix timestamps, `16th`,
//! `a.m.`, French, German, Greek, Hungarian and Korean names — and each would be a second
//! opinion on top of this module, not a replacement for it. The cases are feedparser's
//! `dates.tsv` and Miniflux's `dates.txt`; the integration test `dates` checks both.
//!
//! The order, cheapest and most common first: strict RFC 3339 (most Atom dates, chrono), RFC
//! 822 exactly as most RSS writes it ([`rfc2822`], no allocation), a Unix timestamp, ISO 8601 /
//! W3CDTF in all its forms, Korean forms, then one tokenizing reader for the rest (RFC 822 and
//! its variations, asctime, "January 2, 2006 3:04 PM", `03/30/2020 - 19:19` …). Rules:
//! - no zone means UTC, as in both feedparser and Miniflux; a known abbreviation (`EDT`, `CET`,
//!   `IST` …) or an IANA name (`America/Los_Angeles`, daylight time included) counts by its
//!   offset; one unknown abbreviation (2–5 capitals) after the time counts as UTC, as in
//!   feedparser and Go; any other unknown word means the string is not a date;
//! - a weekday is never checked against the date (feeds get it wrong), but it decides between
//!   day-month and month-day when both are valid (`Sat, 11 04 2020` is 11 April);
//! - numeric dates: `Y/M/D` when the year comes first, `D.M.Y` with dots, `M/D/Y` with
//!   slashes or dashes unless the first number cannot be a month;
//! - two-digit years: 1990–2089 in RFC 822 dates (feedparser), 2000–2099 in the others
//!   (feedparser's "current century", fixed so that a date never reads differently with the
//!   clock);
//! - a leap second is read as :59 on every path (chrono's RFC 3339 reader would keep it);
//! - anything left unread (an unknown word, a fourth time field, an impossible day) means the
//!   string is not a date: `None`, never a guess. Future dates stay as given.

use chrono::{
    DateTime, Datelike, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Timelike, Utc,
};

/// The UTC instant a date string names, or `None` when it is not a date.
pub fn parse(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if s.is_empty() || s.len() > 200 {
        return None;
    }
    if let Ok(d) = DateTime::parse_from_rfc3339(s) {
        let d = d.with_timezone(&Utc);
        // chrono keeps a leap second as a nanosecond count past 1e9.
        return match d.nanosecond() {
            n if n >= 1_000_000_000 => d.with_nanosecond(n - 1_000_000_000),
            _ => Some(d),
        };
    }
    if let Some(d) = rfc2822(s) {
        return Some(d);
    }
    if s.bytes().all(|b| b.is_ascii_digit()) && s.len() >= 9 {
        return Utc.timestamp_opt(s.parse().ok()?, 0).single();
    }
    iso8601(s).or_else(|| korean(s)).or_else(|| general(s))
}

/// The century of a two-digit year outside RFC 822 dates.
const CENTURY: i32 = 2000;

// ---------------------------------------------------------------------------------------------
// RFC 822 as most RSS writes it

/// `[Www, ]D[D] Mmm YYYY[ hh:mm[:ss][ zone]]`, the zone `±hhmm` or a name of [`zone_name`],
/// read byte by byte: most RSS dates take this path, which costs about 0.1 µs where the
/// tokenizer costs about 1 µs. Anything else, or anything odd, is left to
/// [`general`], which reads all of these the same way (a property test checks it).
fn rfc2822(s: &str) -> Option<DateTime<Utc>> {
    let mut b = s.as_bytes();
    if b.get(3) == Some(&b',') {
        weekday_of(ascii_word::<3>(&b[..3])?.as_str()?)?;
        b = b[4..].trim_ascii_start();
    }
    let (day, b) = number(b, 1, 2)?;
    let b = b.strip_prefix(b" ")?;
    let month = month_of(ascii_word::<3>(b.get(..3)?)?.as_str()?)?;
    let b = b[3..].strip_prefix(b" ")?;
    let (year, b) = number(b, 4, 4)?;
    let date = NaiveDate::from_ymd_opt(year as i32, month, day)?;
    let Some(b) = b.strip_prefix(b" ") else {
        return b
            .is_empty()
            .then(|| Utc.from_utc_datetime(&date.and_time(NaiveTime::MIN)));
    };
    let (hour, b) = number(b, 2, 2)?;
    let (minute, b) = number(b.strip_prefix(b":")?, 2, 2)?;
    let (second, b) = match b.strip_prefix(b":") {
        Some(b) => number(b, 2, 2)?,
        None => (0, b),
    };
    let time = clock(hour, minute, second)?;
    let offset = match b {
        [] => 0,
        // As [`offset_digits`] reads `hhmm`.
        [b' ', sign @ (b'+' | b'-'), h1, h2, m1, m2] => {
            let (h, _) = number(&[*h1, *h2], 2, 2)?;
            let (m, _) = number(&[*m1, *m2], 2, 2)?;
            if h > 23 || m > 59 {
                return None;
            }
            let minutes = (h * 60 + m) as i32;
            if *sign == b'-' { -minutes } else { minutes }
        }
        [b' ', zone @ ..] => zone_name(ascii_word::<4>(zone)?.as_str()?)?,
        _ => return None,
    };
    to_utc(date.and_time(time), Zone::Fixed(offset))
}

/// The leading run of `min..=max` ASCII digits as a number, and what follows.
fn number(b: &[u8], min: usize, max: usize) -> Option<(u32, &[u8])> {
    let len = b
        .iter()
        .take(max + 1)
        .take_while(|c| c.is_ascii_digit())
        .count();
    if !(min..=max).contains(&len) {
        return None;
    }
    let n = b[..len]
        .iter()
        .fold(0, |n, &c| n * 10 + u32::from(c - b'0'));
    Some((n, &b[len..]))
}

/// Up to `N` ASCII letters, lower-cased on the stack.
struct AsciiWord<const N: usize> {
    buf: [u8; N],
    len: usize,
}

impl<const N: usize> AsciiWord<N> {
    fn as_str(&self) -> Option<&str> {
        std::str::from_utf8(&self.buf[..self.len]).ok()
    }
}

fn ascii_word<const N: usize>(b: &[u8]) -> Option<AsciiWord<N>> {
    if b.is_empty() || b.len() > N || !b.iter().all(u8::is_ascii_alphabetic) {
        return None;
    }
    let mut buf = [0; N];
    buf[..b.len()].copy_from_slice(b);
    buf.make_ascii_lowercase();
    Some(AsciiWord { buf, len: b.len() })
}

// ---------------------------------------------------------------------------------------------
// ISO 8601 / W3CDTF

/// ISO 8601 dates as feedparser reads them: `YYYY-MM-DD`, `YYYYMMDD`, `YYYY-MM`, `YYYY`,
/// `YYYY-DDD` (ordinal), `YY-MM-DD`, `YYMMDD`, `YYDDD`, `-YY-MM`, `-YYMM`, a three-digit month
/// (`2003-012-31`), single-digit fields (`2006-1-2`), then optionally `T` or a space, a time
/// (`hh:mm[:ss[.frac]]` or `hhmm[ss]`) and a zone (`Z`, `±hh[:mm]`, a name). The whole string
/// must be read.
fn iso8601(s: &str) -> Option<DateTime<Utc>> {
    let b = s.as_bytes();
    if !(b[0].is_ascii_digit() || (b[0] == b'-' && b.get(1).is_some_and(u8::is_ascii_digit))) {
        return None;
    }
    let (date_part, rest) = split_date(s);
    let date = iso_date(&hungarian_month(date_part)?)?;
    let rest = rest.trim_start_matches(['T', 't']);
    let rest = rest.trim_start();
    if rest.is_empty() {
        return Some(Utc.from_utc_datetime(&date.and_time(NaiveTime::MIN)));
    }
    let (time, rest) = iso_time(rest)?;
    let rest = rest.trim_start();
    let offset = if rest.is_empty() { 0 } else { zone(rest)? };
    to_utc(date.and_time(time), Zone::Fixed(offset))
}

/// Splits `2003-12-31T10:14:55Z` into the date and what follows (`T…`, ` …`).
fn split_date(s: &str) -> (&str, &str) {
    let end = s
        .char_indices()
        .skip(1)
        .find(|&(_, c)| c == 'T' || c == 't' || c == ' ')
        .map_or(s.len(), |(i, _)| i);
    s.split_at(end)
}

/// `2004-július-13` → `2004-07-13` (feedparser's Hungarian dates); other text unchanged.
/// `None` when a month is spelled out but unknown.
fn hungarian_month(date: &str) -> Option<std::borrow::Cow<'_, str>> {
    if date.bytes().all(|b| b.is_ascii_digit() || b == b'-') {
        return Some(date.into());
    }
    let parts: Vec<&str> = date.split('-').collect();
    let [year, month, day] = parts[..] else {
        return None;
    };
    let m = match month.to_lowercase().as_str() {
        "január" => 1,
        "február" | "februári" => 2,
        "március" => 3,
        "április" => 4,
        "május" | "máujus" => 5,
        "június" => 6,
        "július" => 7,
        "augusztus" => 8,
        "szeptember" => 9,
        "október" => 10,
        "november" => 11,
        "december" => 12,
        _ => return None,
    };
    Some(format!("{year}-{m:02}-{day:0>2}").into())
}

fn iso_date(d: &str) -> Option<NaiveDate> {
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let num = |s: &str| s.parse::<u32>().ok();
    let century = |yy: u32| CENTURY + yy as i32;
    if let Some(rest) = d.strip_prefix('-') {
        // -YY-MM, -YYMM: the first of that month.
        let (yy, mm) = match rest.split_once('-') {
            Some((y, m)) => (y, m),
            None if rest.len() == 4 => rest.split_at(2),
            None => return None,
        };
        if yy.len() != 2 || !all_digits(yy) || mm.len() != 2 || !all_digits(mm) {
            return None;
        }
        return NaiveDate::from_ymd_opt(century(num(yy)?), num(mm)?, 1);
    }
    let parts: Vec<&str> = d.split('-').collect();
    if !parts.iter().all(|p| all_digits(p)) {
        return None;
    }
    match parts[..] {
        [y] => match y.len() {
            4 => NaiveDate::from_ymd_opt(y.parse().ok()?, 1, 1),
            5 => NaiveDate::from_yo_opt(century(num(&y[..2])?), num(&y[2..])?),
            6 => NaiveDate::from_ymd_opt(century(num(&y[..2])?), num(&y[2..4])?, num(&y[4..])?),
            7 => NaiveDate::from_yo_opt(y[..4].parse().ok()?, num(&y[4..])?),
            8 => NaiveDate::from_ymd_opt(y[..4].parse().ok()?, num(&y[4..6])?, num(&y[6..])?),
            _ => None,
        },
        [y, m] if y.len() == 4 && m.len() == 3 => NaiveDate::from_yo_opt(y.parse().ok()?, num(m)?),
        [y, m] if y.len() == 4 && m.len() <= 2 => {
            NaiveDate::from_ymd_opt(y.parse().ok()?, num(m)?, 1)
        }
        [y, m, day] if m.len() <= 3 && day.len() <= 2 && (m.len() < 3 || m.starts_with('0')) => {
            let year = match y.len() {
                4 => y.parse().ok()?,
                2 => century(num(y)?),
                _ => return None,
            };
            NaiveDate::from_ymd_opt(year, num(m)?, num(day)?)
        }
        _ => None,
    }
}

/// `hh:mm[:ss[.frac]]`, `hhmm[ss]`, with a one-digit hour allowed; what follows is returned.
fn iso_time(s: &str) -> Option<(NaiveTime, &str)> {
    let end = s
        .find(|c: char| !(c.is_ascii_digit() || c == ':' || c == '.' || c == ','))
        .unwrap_or(s.len());
    let (t, rest) = s.split_at(end);
    // Miniflux reads `15:04:05:-0700` (a stray colon before the zone).
    let t = t.strip_suffix(':').unwrap_or(t);
    let (hms, frac) = match t.find(['.', ',']) {
        Some(i) => (&t[..i], &t[i + 1..]),
        None => (t, ""),
    };
    if !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let fields: Vec<&str> = if hms.contains(':') {
        hms.split(':').collect()
    } else {
        match hms.len() {
            4 => vec![&hms[..2], &hms[2..]],
            6 => vec![&hms[..2], &hms[2..4], &hms[4..]],
            _ => return None,
        }
    };
    Some((hms_time(&fields)?, rest))
}

/// Hours, minutes and optional seconds, each checked (`25:14`, `10:61`, `10:14:61` are not
/// times; a leap second is read as :59).
fn hms_time(fields: &[&str]) -> Option<NaiveTime> {
    let n = |s: &str| -> Option<u32> {
        (!s.is_empty() && s.len() <= 2 && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    match fields {
        [h, m] => clock(n(h)?, n(m)?, 0),
        [h, m, s] => clock(n(h)?, n(m)?, n(s)?),
        _ => None,
    }
}

/// A time of day; a leap second (:60) is read as :59.
fn clock(hour: u32, minute: u32, second: u32) -> Option<NaiveTime> {
    let second = if second == 60 { 59 } else { second };
    NaiveTime::from_hms_opt(hour, minute, second)
}

/// A zone written after a time: `Z`, `±hh`, `±hhmm`, `±hh:mm`, `GMT±…`, a name; a trailing
/// `Z` after an offset (`-05:00Z`) is ignored. `None` when it is not a zone.
fn zone(s: &str) -> Option<i32> {
    let s = s.trim_start_matches(':').trim();
    if s.eq_ignore_ascii_case("z") {
        return Some(0);
    }
    if let Some(rest) = s.strip_prefix(['+', '-']) {
        let sign = if s.starts_with('-') { -1 } else { 1 };
        let rest = rest.strip_suffix(['Z', 'z']).unwrap_or(rest);
        return offset_digits(rest).map(|m| sign * m);
    }
    zone_name(&s.to_lowercase())
}

/// `hh`, `hhmm`, `hh:mm` (also `hh:mm:ss`, seconds ignored) → minutes; hours up to 23 and
/// minutes up to 59 (`-99:99` is not an offset).
fn offset_digits(s: &str) -> Option<i32> {
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    let (h, m) = match s.split(':').collect::<Vec<_>>()[..] {
        [h] if h.len() == 4 => (&h[..2], &h[2..]),
        [h] if h.len() <= 2 => (h, "0"),
        [h, m] | [h, m, _] if h.len() <= 2 && m.len() == 2 => (h, m),
        _ => return None,
    };
    if !digits(h) || !digits(m) {
        return None;
    }
    let (h, m): (i32, i32) = (h.parse().ok()?, m.parse().ok()?);
    (h <= 23 && m <= 59).then_some(h * 60 + m)
}

// ---------------------------------------------------------------------------------------------
// Korean

/// Korean blogs (feedparser's `onblog`: `2004년 05월 28일 01:31:15`, and `nate`:
/// `2004-05-25 오후 11:23:17`), in Korean time (UTC+9).
fn korean(s: &str) -> Option<DateTime<Utc>> {
    if !s.contains(['년', '오']) {
        return None;
    }
    let mut nums = Vec::new();
    let mut pm = None;
    for word in s.split(|c: char| c.is_whitespace() || c == '-') {
        match word {
            "" => {}
            "오전" => pm = Some(false),
            "오후" => pm = Some(true),
            w if w.contains(':') => nums.extend(w.split(':').map(str::to_string)),
            w => nums.push(w.trim_end_matches(['년', '월', '일']).to_string()),
        }
    }
    let n: Vec<u32> = nums.iter().map(|x| x.parse().ok()).collect::<Option<_>>()?;
    let [y, mo, d, mut h, mi, sec] = n[..] else {
        return None;
    };
    match pm {
        Some(true) if h < 12 => h += 12,
        Some(false) if h == 12 => h = 0,
        _ => {}
    }
    let local = NaiveDate::from_ymd_opt(y as i32, mo, d)?.and_time(hms_time(&[
        &h.to_string(),
        &mi.to_string(),
        &sec.to_string(),
    ])?);
    to_utc(local, Zone::Fixed(9 * 60))
}

// ---------------------------------------------------------------------------------------------
// Everything else: words, numbers, a time, a zone.

#[derive(Debug, Clone, PartialEq)]
enum Token {
    /// A number as written (`04`, `2004`, `16` of `16th`).
    Num(String),
    /// Numbers joined by one separator: `2006/09/15`, `03/30/2020`, `30.10.23`.
    Group(Vec<String>, char),
    Time(NaiveTime),
    /// A numeric offset in minutes.
    Offset(i32),
    /// A word, lower-cased unless it is an IANA zone name; `true` when it was written as an
    /// abbreviation (2–5 ASCII capitals: `EDT`, `PM`, an unknown zone).
    Word(String, bool),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Zone {
    Fixed(i32),
    Named(chrono_tz::Tz),
}

fn general(s: &str) -> Option<DateTime<Utc>> {
    let tokens = tokenize(s)?;
    let mut month = None;
    let mut weekday = None;
    let mut nums: Vec<String> = Vec::new();
    let mut group = None;
    let mut time = None;
    let mut pm = None;
    let mut zone_found: Option<Zone> = None;
    let mut offset: Option<i32> = None;
    let mut words = Vec::new();
    for t in tokens {
        match t {
            Token::Num(n) => nums.push(n),
            Token::Group(g, sep) => {
                if group.replace((g, sep)).is_some() {
                    return None;
                }
            }
            Token::Time(t) => {
                if time.replace(t).is_some() {
                    return None;
                }
            }
            Token::Offset(m) => {
                offset.get_or_insert(m);
            }
            // An abbreviation after the time may be an unknown zone.
            Token::Word(w, abbr) => words.push((w, abbr && time.is_some())),
        }
    }
    // Words: a month, a weekday, am/pm, a zone; `mar`/`mai` are French weekdays only when
    // there is another month.
    let months_named = words.iter().filter(|(w, _)| month_of(w).is_some()).count();
    let mut unknown_zone = false;
    for (w, maybe_zone) in &words {
        let as_weekday = weekday_of(w);
        let as_month = month_of(w);
        match (as_weekday, as_month) {
            (Some(d), Some(_)) if months_named > 1 && weekday.is_none() => weekday = Some(d),
            (_, Some(m)) if month.is_none() => month = Some(m),
            (Some(d), None) if weekday.is_none() => weekday = Some(d),
            _ => {
                if let Some(p) = am_pm(w) {
                    pm = Some(p);
                } else if let Some(z) = named_zone(w) {
                    zone_found.get_or_insert(z);
                } else if *maybe_zone && !unknown_zone {
                    // An unknown zone abbreviation counts as UTC, as in feedparser (its
                    // `timezone_names.get(…, 0)`) and Go's `time.Parse` (a zero offset).
                    unknown_zone = true;
                } else if !matches!(w.as_str(), "at" | "à" | "um" | "de" | "le") {
                    return None;
                }
            }
        }
    }
    let (year, month, day) = match (month, group) {
        (Some(m), None) => {
            let (day, year) = day_and_year(&nums)?;
            (year, m, day)
        }
        (None, Some((g, sep))) if nums.is_empty() => numeric_date(&g, sep, weekday)?,
        (None, None) if nums.len() == 3 => numeric_date(&nums, ' ', weekday)?,
        _ => return None,
    };
    let date = NaiveDate::from_ymd_opt(year, month, day)?;
    let mut time = time.unwrap_or(NaiveTime::MIN);
    if let Some(pm) = pm {
        let h = time.hour();
        if h > 12 || h == 0 {
            return None;
        }
        let h = match (pm, h) {
            (true, 12) => 12,
            (true, h) => h + 12,
            (false, 12) => 0,
            (false, h) => h,
        };
        time = time.with_hour(h)?;
    }
    let zone = match offset {
        Some(m) => Zone::Fixed(m),
        None => zone_found.unwrap_or(Zone::Fixed(0)),
    };
    to_utc(date.and_time(time), zone)
}

/// The day and year among the plain numbers of a date with a month name: a number of three
/// or more digits is the year; of two short ones the first is the day (RFC 822's `01 Jan 04`);
/// a lone one is the year when it has four digits (`Nov. 2020` is the 1st), else the day of
/// an undated year is refused.
fn day_and_year(nums: &[String]) -> Option<(u32, i32)> {
    let year_of = |s: &str| -> Option<i32> {
        let y: i32 = s.parse().ok()?;
        Some(if s.len() <= 2 {
            // feedparser: the 90s are 1990s, 89 and below 2089 and below.
            y + if y < 90 { 2000 } else { 1900 }
        } else {
            y
        })
    };
    match nums {
        [y] if y.len() >= 3 => Some((1, year_of(y)?)),
        [a, b] => {
            let (d, y) = if a.len() >= 3 && b.len() <= 2 {
                (b, a)
            } else {
                (a, b)
            };
            if d.len() > 2 {
                return None;
            }
            Some((d.parse().ok()?, year_of(y)?))
        }
        _ => None,
    }
}

/// A date in three numbers: year first → Y-M-D; with dots → D.M.Y; else M/D/Y, or D/M/Y when
/// the first cannot be a month. A weekday decides when both readings are valid.
fn numeric_date(parts: &[String], sep: char, weekday: Option<u32>) -> Option<(i32, u32, u32)> {
    let [a, b, c] = parts else {
        return None;
    };
    let n = |s: &String| s.parse::<u32>().ok();
    let year = |s: &String| -> Option<i32> {
        let y: i32 = s.parse().ok()?;
        match s.len() {
            2 => Some(CENTURY + y),
            4 => Some(y),
            _ => None,
        }
    };
    if a.len() == 4 {
        return Some((year(a)?, n(b)?, n(c)?));
    }
    let y = year(c)?;
    let (first, second) = (n(a)?, n(b)?);
    let dmy = (y, second, first);
    let mdy = (y, first, second);
    let valid = |(y, m, d): (i32, u32, u32)| NaiveDate::from_ymd_opt(y, m, d);
    let preferred = if sep == '.' { [dmy, mdy] } else { [mdy, dmy] };
    let candidates: Vec<_> = preferred
        .into_iter()
        .filter(|&d| valid(d).is_some())
        .collect();
    let on_weekday = |&&d: &&(i32, u32, u32)| {
        valid(d).is_some_and(|v| Some(v.weekday().num_days_from_monday()) == weekday)
    };
    candidates
        .iter()
        .find(on_weekday)
        .or(candidates.first())
        .copied()
}

/// Splits into tokens; `None` as soon as something cannot be part of a date.
fn tokenize(s: &str) -> Option<Vec<Token>> {
    let chars: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let at = |i: usize| chars.get(i).copied();
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() || c == ',' {
            i += 1;
        } else if c == '(' {
            // A comment: `(Coordinated Universal Time)`.
            i = chars[i..]
                .iter()
                .position(|&c| c == ')')
                .map_or(chars.len(), |p| i + p + 1);
        } else if (c == '+' || c == '-') && at(i + 1).is_some_and(|c| c.is_ascii_digit()) {
            let start = i + 1;
            let mut j = start;
            while at(j).is_some_and(|c| c.is_ascii_digit() || c == ':') {
                j += 1;
            }
            let digits: String = chars[start..j].iter().collect();
            let minutes = offset_digits(&digits)?;
            out.push(Token::Offset(if c == '-' { -minutes } else { minutes }));
            i = j;
        } else if c == '-' || c == '.' || c == '/' {
            i += 1; // `Friday, December 22, 2017 - 3:09pm`, `16. Novembre`
        } else if c.is_ascii_digit() {
            let mut j = i;
            while at(j).is_some_and(|c| c.is_ascii_digit()) {
                j += 1;
            }
            let first: String = chars[i..j].iter().collect();
            match at(j) {
                Some(':') => {
                    let mut k = j;
                    while at(k).is_some_and(|c| c.is_ascii_digit() || c == ':') {
                        k += 1;
                    }
                    let t: String = chars[i..k].iter().collect();
                    let fields: Vec<&str> = t.split(':').collect();
                    out.push(Token::Time(hms_time(&fields)?));
                    // Fractions of a second are dropped.
                    if at(k) == Some('.') && at(k + 1).is_some_and(|c| c.is_ascii_digit()) {
                        k += 1;
                        while at(k).is_some_and(|c| c.is_ascii_digit()) {
                            k += 1;
                        }
                    }
                    i = k;
                }
                Some(sep @ ('/' | '.' | '-')) if at(j + 1).is_some_and(|c| c.is_ascii_digit()) => {
                    let mut parts = vec![first];
                    let mut k = j;
                    while at(k) == Some(sep) && at(k + 1).is_some_and(|c| c.is_ascii_digit()) {
                        let mut e = k + 1;
                        while at(e).is_some_and(|c| c.is_ascii_digit()) {
                            e += 1;
                        }
                        parts.push(chars[k + 1..e].iter().collect());
                        k = e;
                    }
                    if parts.len() != 3 {
                        return None;
                    }
                    out.push(Token::Group(parts, sep));
                    i = k;
                }
                Some(c) if c.is_alphabetic() => {
                    // `16th`, `23rd`, `2nd`, `1st`; `3pm`.
                    let mut k = j;
                    while at(k).is_some_and(char::is_alphabetic) {
                        k += 1;
                    }
                    let suffix: String = chars[j..k].iter().collect::<String>().to_lowercase();
                    match suffix.as_str() {
                        "st" | "nd" | "rd" | "th" => out.push(Token::Num(first)),
                        _ => {
                            out.push(Token::Num(first));
                            out.push(Token::Word(suffix, false));
                        }
                    }
                    i = k;
                }
                _ => {
                    out.push(Token::Num(first));
                    i = j;
                }
            }
        } else if c.is_alphabetic() {
            let mut j = i;
            while at(j).is_some_and(|c| c.is_alphabetic() || c == '/' || c == '_')
                || (at(j) == Some('.') && at(j + 1).is_some_and(char::is_alphabetic))
            {
                j += 1;
            }
            // In `GMT+0100` the offset that follows is its own token, and wins over the name.
            // IANA names keep their case, and their digits and signs: `Etc/GMT+5` is UTC-5,
            // `America/Port-au-Prince`. Other words are compared lower-cased.
            let iana = chars[i..j].contains(&'/');
            if iana {
                while at(j).is_some_and(|c| c.is_ascii_alphanumeric() || "/_-+".contains(c)) {
                    j += 1;
                }
            }
            let word: String = chars[i..j].iter().collect();
            let abbr =
                (2..=5).contains(&word.len()) && word.bytes().all(|b| b.is_ascii_uppercase());
            let word = if iana { word } else { word.to_lowercase() };
            out.push(Token::Word(word, abbr));
            i = j;
        } else {
            return None;
        }
    }
    Some(out)
}

/// Weekday names and abbreviations (English, French, German, Greek) → days from Monday.
fn weekday_of(w: &str) -> Option<u32> {
    let w = w.trim_end_matches('.');
    Some(match w {
        "mon" | "monday" | "lun" | "lundi" | "mo" | "montag" | "δευ" => 0,
        "tue" | "tues" | "tuesday" | "mar" | "mardi" | "di" | "dienstag" | "τρι" => 1,
        "wed" | "wednesday" | "mer" | "mercredi" | "mi" | "mittwoch" | "τετ" => 2,
        "thu" | "thur" | "thurs" | "thursday" | "jeu" | "jeudi" | "do" | "donnerstag" | "πεμ" => {
            3
        }
        "fri" | "friday" | "ven" | "vendredi" | "fr" | "freitag" | "παρ" => 4,
        "sat" | "saturday" | "sam" | "samedi" | "sa" | "samstag" | "σαβ" | "σάβ" => 5,
        "sun" | "sunday" | "dim" | "dimanche" | "so" | "sonntag" | "κυρ" => 6,
        _ => return None,
    })
}

/// Month names and abbreviations (English, French, German, Greek as feedparser lists them).
fn month_of(w: &str) -> Option<u32> {
    let w = w.trim_end_matches('.');
    Some(match w {
        "jan" | "january" | "janvier" | "janv" | "januar" | "jänner" | "ιαν" => 1,
        "feb" | "february" | "février" | "fevrier" | "févr" | "fév" | "februar" | "φεβ" => 2,
        "mar" | "march" | "mars" | "märz" | "mär" | "maerz" | "μάώ" | "μαώ" | "μάρ" | "μαρ" => {
            3
        }
        "apr" | "april" | "avril" | "avr" | "απρ" => 4,
        "may" | "mai" | "μάι" | "μαϊ" | "μαι" => 5,
        "jun" | "june" | "juin" | "juni" | "ιούν" | "ιον" => 6,
        "jul" | "july" | "juillet" | "juil" | "juli" | "ιούλ" | "ιολ" => 7,
        "aug" | "august" | "août" | "aout" | "αύγ" | "αυγ" => 8,
        "sep" | "sept" | "september" | "septembre" | "σεπ" => 9,
        "oct" | "october" | "octobre" | "okt" | "oktober" | "οκτ" => 10,
        "nov" | "november" | "novembre" | "νοέ" | "νοε" => 11,
        "dec" | "december" | "décembre" | "decembre" | "déc" | "dez" | "dezember" | "δεκ" => {
            12
        }
        _ => return None,
    })
}

fn am_pm(w: &str) -> Option<bool> {
    match w {
        "am" | "a.m" | "a.m." => Some(false),
        "pm" | "p.m" | "p.m." => Some(true),
        _ => None,
    }
}

/// A zone name: an abbreviation ([`zone_name`]), an IANA name, or `Etc/GMT`.
fn named_zone(w: &str) -> Option<Zone> {
    if let Some(m) = zone_name(w) {
        return Some(Zone::Fixed(m));
    }
    if w.contains('/') {
        let lower = w.to_lowercase();
        if let Some(m) = lower.strip_prefix("etc/").and_then(zone_name) {
            return Some(Zone::Fixed(m));
        }
        return w.parse::<chrono_tz::Tz>().ok().map(Zone::Named);
    }
    None
}

/// Zone abbreviations → minutes east of UTC: feedparser's table (RFC 822's names, the US
/// generic `ET`/`CT`/`MT`/`PT`/`AT`, the military letters it knows, `MET`/`MEST`), plus the
/// ones real feeds use beside them. Any other word is not a zone (and so not a date).
fn zone_name(w: &str) -> Option<i32> {
    let h = |x: i32| Some(x * 60);
    match w {
        "ut" | "utc" | "gmt" | "z" | "wet" | "zulu" => h(0),
        "adt" => h(-3),
        "ast" | "at" | "edt" => h(-4),
        "est" | "et" | "cdt" => h(-5),
        "cst" | "ct" | "mdt" => h(-6),
        "mst" | "mt" | "pdt" => h(-7),
        "pst" | "pt" | "akdt" => h(-8),
        "akst" => h(-9),
        "hst" => h(-10),
        "a" => h(-1),
        "n" => h(1),
        "m" => h(-12),
        "y" => h(12),
        "met" | "cet" | "bst" | "west" | "wat" => h(1),
        "mest" | "cest" | "eet" | "cat" | "sast" => h(2),
        "eest" | "msk" | "eat" => h(3),
        "ist" => Some(5 * 60 + 30),
        "sgt" | "hkt" | "awst" | "cst8" => h(8),
        "jst" | "kst" => h(9),
        "acst" => Some(9 * 60 + 30),
        "aest" => h(10),
        "aedt" => h(11),
        "nzst" => h(12),
        "nzdt" => h(13),
        _ => None,
    }
}

fn to_utc(local: NaiveDateTime, zone: Zone) -> Option<DateTime<Utc>> {
    match zone {
        Zone::Fixed(minutes) => FixedOffset::east_opt(minutes * 60)?
            .from_local_datetime(&local)
            .single()
            .map(|d| d.with_timezone(&Utc)),
        // A time skipped by a daylight-saving change is read an hour on; a repeated one, the
        // first time.
        Zone::Named(tz) => tz
            .from_local_datetime(&local)
            .earliest()
            .or_else(|| {
                tz.from_local_datetime(&(local + chrono::Duration::hours(1)))
                    .earliest()
            })
            .map(|d| d.with_timezone(&Utc)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use proptest::sample::select;

    fn utc(s: &str) -> Option<String> {
        parse(s).map(|d| d.format("%Y-%m-%dT%H:%M:%SZ").to_string())
    }

    /// One line per format family, with strings of our own.
    #[test]
    fn every_family_reads_to_the_right_instant() {
        for (input, want) in [
            // RFC 3339 / W3CDTF / ISO 8601
            ("2026-12-04T10:15:30Z", "2026-12-04T10:15:30Z"),
            ("2026-12-04T10:15:30.250-05:00", "2026-12-04T15:15:30Z"),
            ("2026-12-04 10:15:30 +01:00", "2026-12-04T09:15:30Z"),
            ("2026-12-04 10:15:30", "2026-12-04T10:15:30Z"),
            ("2026-12-04T10:15", "2026-12-04T10:15:00Z"),
            ("2026-12-04", "2026-12-04T00:00:00Z"),
            ("2026-12", "2026-12-01T00:00:00Z"),
            ("2026", "2026-01-01T00:00:00Z"),
            ("20261204", "2026-12-04T00:00:00Z"),
            ("2026-338", "2026-12-04T00:00:00Z"),
            ("26-12-04", "2026-12-04T00:00:00Z"),
            ("261204", "2026-12-04T00:00:00Z"),
            ("-2612", "2026-12-01T00:00:00Z"),
            ("2026-012-04T08:00:00+00:00", "2026-12-04T08:00:00Z"),
            ("2026-1-4T08:00:00Z", "2026-01-04T08:00:00Z"),
            ("2026-12-04T08:00:00-05:00Z", "2026-12-04T13:00:00Z"),
            ("2026-12-04T08:00:00 -0500", "2026-12-04T13:00:00Z"),
            ("2026-12-04 08:00:00-13:00", "2026-12-04T21:00:00Z"),
            ("2026-december-04T8:00+01:00", "2026-12-04T07:00:00Z"),
            // RFC 822 and its variations
            ("Fri, 04 Dec 2026 10:15:30 GMT", "2026-12-04T10:15:30Z"),
            ("Fri, 04 Dec 2026 10:15:30 +0130", "2026-12-04T08:45:30Z"),
            ("Fri,4 Dec 2026 10:15 EST", "2026-12-04T15:15:00Z"),
            ("Mon, 04 Dec 2026 10:15:30 GMT", "2026-12-04T10:15:30Z"),
            ("Fri, 04 December 26 10:15:30 PT", "2026-12-04T18:15:30Z"),
            ("Fri, 04 Dec 2026", "2026-12-04T00:00:00Z"),
            (
                "Fri, 04 Dec 2026 10:15:30 GMT-02:00",
                "2026-12-04T12:15:30Z",
            ),
            ("Fri, 04 Dec 2026 10:15:30 Etc/GMT", "2026-12-04T10:15:30Z"),
            ("Fri, 04 Dec 2026 10:15:30 CET", "2026-12-04T09:15:30Z"),
            ("Fri, 04 Dec 2026 10:15:30 Z", "2026-12-04T10:15:30Z"),
            ("Fri, 04 Dec 2026 10:15:30 Y", "2026-12-03T22:15:30Z"),
            // IANA zone names, daylight time included
            (
                "Fri, 04 Dec 2026 10:15:30 Europe/Paris",
                "2026-12-04T09:15:30Z",
            ),
            (
                "Sat, 04 Jul 2026 10:15:30 Europe/Paris",
                "2026-07-04T08:15:30Z",
            ),
            // IANA's Etc/GMT+5 is five hours *behind* UTC (POSIX signs).
            (
                "Fri, 04 Dec 2026 10:15:30 Etc/GMT+5",
                "2026-12-04T15:15:30Z",
            ),
            (
                "Fri, 04 Dec 2026 10:15:30 America/Port-au-Prince",
                "2026-12-04T15:15:30Z",
            ),
            // An unknown abbreviation after the time is UTC (feedparser, Go).
            ("Fri, 04 Dec 2026 10:15:30 XYZT", "2026-12-04T10:15:30Z"),
            ("Fri Dec  4 10:15:30 CET 2026", "2026-12-04T09:15:30Z"),
            ("Fri Dec  4 10:15:30 XYZ 2026", "2026-12-04T10:15:30Z"),
            // A leap second is :59, whichever path reads it.
            ("2026-12-31T23:59:60Z", "2026-12-31T23:59:59Z"),
            ("Thu, 31 Dec 2026 23:59:60 GMT", "2026-12-31T23:59:59Z"),
            // asctime, US styles, am/pm, ordinals
            ("Fri Dec  4 10:15:30 2026", "2026-12-04T10:15:30Z"),
            ("Fri Dec 04 10:15:30 +0000 2026", "2026-12-04T10:15:30Z"),
            ("December 4, 2026 3:15 PM", "2026-12-04T15:15:00Z"),
            ("Dec. 4, 2026, 12:05 a.m.", "2026-12-04T00:05:00Z"),
            ("Friday, December 4, 2026 - 3:09pm", "2026-12-04T15:09:00Z"),
            ("Fri, 4th Dec 2026 10:15:30 GMT", "2026-12-04T10:15:30Z"),
            ("4 December, 2026", "2026-12-04T00:00:00Z"),
            ("Dec. 2026", "2026-12-01T00:00:00Z"),
            (
                "Thu Dec 03 2026 17:00:00 GMT+0000 (Coordinated Universal Time)",
                "2026-12-03T17:00:00Z",
            ),
            // Numeric dates
            ("Fri, 2026/12/04 10:15:30 EDT", "2026-12-04T14:15:30Z"),
            ("12/04/2026 4:20 pm PST", "2026-12-05T00:20:00Z"),
            ("Fri, 04/12/2026", "2026-12-04T00:00:00Z"), // a weekday decides: Fri 4 Dec
            ("31/12/2026", "2026-12-31T00:00:00Z"),
            ("04.12.26", "2026-12-04T00:00:00Z"),
            ("Fri, 04 12 2026 10:00:00 +0100", "2026-12-04T09:00:00Z"),
            // Other languages
            ("Fr, 04 Dez 2026 10:15:30 +0100", "2026-12-04T09:15:30Z"),
            ("ven., 04 déc. 2026 10:15:30 +0000", "2026-12-04T10:15:30Z"),
            ("mar., 01 déc. 2026 10:15:30 +0000", "2026-12-01T10:15:30Z"),
            ("Vendredi, 4. Décembre 2026 - 10:15", "2026-12-04T10:15:00Z"),
            ("Παρ, 04 Δεκ 2026 10:15:30 GMT", "2026-12-04T10:15:30Z"),
            ("2026년 12월 04일 19:15:30", "2026-12-04T10:15:30Z"),
            ("2026-12-04 오후 7:15:30", "2026-12-04T10:15:30Z"),
            // Unix timestamps; the future stays as given
            ("1796385330", "2026-12-04T11:55:30Z"),
            ("Sun, 01 Jan 2040 00:00:00 GMT", "2040-01-01T00:00:00Z"),
        ] {
            assert_eq!(utc(input).as_deref(), Some(want), "{input:?}");
        }
    }

    #[test]
    fn what_is_not_a_date_gives_none() {
        for input in [
            "",
            "   ",
            "soon",
            "invalid",
            "coming in December 2026",
            "TBA 2026",
            "Fri, 04 Dec 2026 1:2:3:4 GMT",
            "Fri, 04 Dec 2026 25:00:00 GMT",
            "Fri, 04 zzz 2026 10:15:30 GMT",
            "Fri, 44 Dec 2026 10:15:30 GMT",
            "Fri, 04 Dec 2026 10:15:30 +zz:00",
            "Fri, 04 Dec 2026 10:15:30 +00:zz",
            "2026-12-04T10:61:00Z",
            "2026-12-04T10:15:30-99:99",
            "2026-12-04-01",
            "2026-12-04T10:15:30Zextra",
            "2026-xx-04",
            "013",
            "42",
            "12/04",
            "v1.2.3",
            // An unknown word that is not a capitalised abbreviation after the time.
            "Fri, 04 Dec 2026 10:15:30 soon",
            "Fri, 04 Dec 2026 10:15 BY JANE",
            "XYZ 04 Dec 2026 10:15:30",
            "Fri, 04 Dec 2026 10:15:30 Europe/Nowhere",
        ] {
            assert_eq!(utc(input), None, "{input:?}");
        }
    }

    /// RFC 822 dates built from parts, typical and odd: the byte-level path must either
    /// leave one to the tokenizer or read it exactly as the tokenizer does.
    fn rfc822ish() -> impl Strategy<Value = String> {
        (
            select(vec![
                "", "Fri, ", "fri,", "Mar, ", "Foo, ", "Fri ", "Fri,  ",
            ]),
            select(vec!["0", "4", "04", "29", "31", "32", "004"]),
            select(vec![
                "Dec", "dec", "Feb", "FEB", "Mai", "Dez", "Decem", "D3c", "Déc",
            ]),
            select(vec!["2026", "1900", "0100", "26", "99", "20266"]),
            select(vec![
                "",
                " 10:15:30",
                " 10:15",
                " 23:59:60",
                " 24:00:00",
                " 9:15:30",
                " 10:61",
                " 10:15:30.5",
                " 10:15:30:01",
            ]),
            select(vec![
                "",
                " GMT",
                " gmt",
                " UT",
                " Z",
                " EST",
                " PDT",
                " AKDT",
                " Y",
                " +0100",
                " -0530",
                " -2400",
                " +01:00",
                " +01",
                " XYZ",
                " Europe/Paris",
                " GMT+0100",
                "GMT",
                " +0100 (CET)",
            ]),
        )
            .prop_map(|(wd, d, m, y, t, z)| format!("{wd}{d} {m} {y}{t}{z}"))
    }

    proptest! {
        #[test]
        fn the_rfc822_fast_path_reads_as_the_tokenizer_does(s in rfc822ish()) {
            if let Some(fast) = rfc2822(&s) {
                prop_assert_eq!(Some(fast), general(&s), "{:?}", s);
            }
        }

        #[test]
        fn arbitrary_text_never_panics(s in any::<String>()) {
            parse(&s);
        }

        #[test]
        fn date_like_text_never_panics(s in "[0-9A-Za-z :,./+()-]{0,40}") {
            parse(&s);
        }
    }

    #[test]
    fn the_fast_path_takes_the_common_forms() {
        for s in [
            "Fri, 04 Dec 2026 10:15:30 GMT",
            "Fri, 4 Dec 2026 10:15:30 +0100",
            "04 Dec 2026 10:15 EST",
            "Fri, 04 Dec 2026",
        ] {
            assert!(rfc2822(s).is_some(), "{s:?}");
            assert_eq!(rfc2822(s), general(s), "{s:?}");
        }
    }

    #[test]
    fn a_wrong_weekday_does_not_cost_the_date() {
        assert_eq!(
            utc("Sat, 01 Jan 2010 19:48:21 GMT").as_deref(),
            Some("2010-01-01T19:48:21Z")
        );
    }
}
