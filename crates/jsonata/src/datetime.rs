//! Date/time functions (<https://docs.jsonata.org/date-time-functions>): `$now`, `$millis`,
//! `$fromMillis`, `$toMillis`, with ISO 8601 and the XPath picture-string components
//! JSONata documents (Y M D d F H h P m s f Z z; digits, names, ordinals, words, widths).
//! All in the proleptic Gregorian calendar, UTC unless a timezone is given.

use crate::builtins::{arg, bad_arg, num_arg, str_arg, Args};
use crate::eval::{err, Ev, R};
use crate::format::{roman, words};
use crate::value::Val;
use crate::JsonataError;

const MONTHS: [&str; 12] =
    ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];
const DAYS: [&str; 7] = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];

/// Days since 1970-01-01 for a civil date.
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

/// The civil date of a day number (days since 1970-01-01).
pub fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719468;
    let era = if z >= 0 { z } else { z - 146096 } / 146097;
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

struct Parts {
    year: i64,
    month: i64,
    day: i64,
    hour: i64,
    minute: i64,
    second: i64,
    milli: i64,
    /// ISO weekday, 1 = Monday.
    weekday: i64,
    day_of_year: i64,
    offset_minutes: i64,
}

fn parts(millis: i64, offset_minutes: i64) -> Parts {
    let local = millis + offset_minutes * 60_000;
    let days = local.div_euclid(86_400_000);
    let ms = local.rem_euclid(86_400_000);
    let (year, month, day) = civil_from_days(days);
    Parts {
        year,
        month,
        day,
        hour: ms / 3_600_000,
        minute: ms / 60_000 % 60,
        second: ms / 1000 % 60,
        milli: ms % 1000,
        weekday: (days + 3).rem_euclid(7) + 1,
        day_of_year: days - days_from_civil(year, 1, 1) + 1,
        offset_minutes,
    }
}

pub fn iso(millis: i64) -> String {
    let p = parts(millis, 0);
    let year = if (0..=9999).contains(&p.year) { format!("{:04}", p.year) } else { format!("{:+07}", p.year) };
    format!("{year}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", p.month, p.day, p.hour, p.minute, p.second, p.milli)
}

fn now_ms(ev: &Ev) -> i64 {
    if let Some(t) = ev.now_millis.get() {
        return t;
    }
    let t = ev.bindings.now_millis.unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
    });
    ev.now_millis.set(Some(t));
    t
}

pub fn millis(ev: &Ev, _: Args, _: usize) -> R {
    Ok(Some(Val::Num(now_ms(ev) as f64)))
}

pub fn now(ev: &Ev, a: Args, pos: usize) -> R {
    let picture = str_arg(a, 0, "now", pos)?;
    let tz = str_arg(a, 1, "now", pos)?;
    format_millis(now_ms(ev), picture.as_deref(), tz.as_deref(), pos).map(|s| Some(Val::string(s)))
}

/// JavaScript dates reach ±8.64e15 ms from the epoch.
const MAX_MILLIS: f64 = 8.64e15;

pub fn from_millis(_: &Ev, a: Args, pos: usize) -> R {
    let Some(ms) = num_arg(a, 0, "fromMillis", pos)? else { return Ok(None) };
    if ms.abs() > MAX_MILLIS {
        return Err(err("D1001", pos, format!("Number out of range: {}", crate::value::js_number_string(ms))));
    }
    let picture = str_arg(a, 1, "fromMillis", pos)?;
    let tz = str_arg(a, 2, "fromMillis", pos)?;
    format_millis(ms.floor() as i64, picture.as_deref(), tz.as_deref(), pos).map(|s| Some(Val::string(s)))
}

pub fn to_millis(_: &Ev, a: Args, pos: usize) -> R {
    let Some(s) = str_arg(a, 0, "toMillis", pos)? else { return Ok(None) };
    match arg(a, 1) {
        None => match parse_iso(&s).filter(|ms| (*ms as f64).abs() <= MAX_MILLIS) {
            Some(ms) => Ok(Some(Val::Num(ms as f64))),
            None => Err(err("D3110", pos, format!("The argument of the toMillis function must be an ISO 8601 formatted timestamp. Given {s:?}"))),
        },
        Some(Val::Str(picture)) => Ok(parse_with_picture(&s, &picture, pos)?.map(|ms| Val::Num(ms as f64))),
        Some(_) => Err(bad_arg("toMillis", 1, pos)),
    }
}

fn parse_tz(tz: &str) -> Option<i64> {
    let t = tz.trim();
    if t == "Z" {
        return Some(0);
    }
    let (sign, rest) = match t.as_bytes().first()? {
        b'+' => (1, &t[1..]),
        b'-' => (-1, &t[1..]),
        _ => (1, t),
    };
    let digits: String = rest.chars().filter(|c| c.is_ascii_digit()).collect();
    let (h, m) = match digits.len() {
        1 | 2 => (digits.parse::<i64>().ok()?, 0),
        3 | 4 => (digits[..digits.len() - 2].parse::<i64>().ok()?, digits[digits.len() - 2..].parse::<i64>().ok()?),
        _ => return None,
    };
    Some(sign * (h * 60 + m))
}

/// ISO 8601: `YYYY`, `YYYY-MM`, `YYYY-MM-DD`, with `THH:mm[:ss[.fff]]` and `Z`/`±HH:MM`.
pub fn parse_iso(s: &str) -> Option<i64> {
    let s = s.trim();
    let (date, time) = match s.find(['T', ' ']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let mut dp = date.split('-');
    let y: i64 = dp.next()?.parse().ok().filter(|y: &i64| y.abs() <= 275_760)?;
    let m: i64 = dp.next().map(|x| x.parse().ok()).unwrap_or(Some(1))?;
    let d: i64 = dp.next().map(|x| x.parse().ok()).unwrap_or(Some(1))?;
    if dp.next().is_some() || !(1..=12).contains(&m) || !(1..=31).contains(&d) || date.len() < 4 {
        return None;
    }
    let mut ms = days_from_civil(y, m, d) * 86_400_000;
    if let Some(t) = time {
        let (clock, offset) = match t.find(['Z', '+', '-']) {
            Some(i) => (&t[..i], Some(parse_tz(&t[i..])?)),
            None => (t, None),
        };
        let mut cp = clock.split(':');
        let h: i64 = cp.next()?.parse().ok().filter(|h: &i64| (0..=24).contains(h))?;
        let mi: i64 = cp.next()?.parse().ok().filter(|m: &i64| (0..=59).contains(m))?;
        let sec: f64 = cp.next().map(|x| x.parse().ok()).unwrap_or(Some(0.0))?;
        if h > 24 || mi > 59 || !(0.0..61.0).contains(&sec) {
            return None;
        }
        ms += h * 3_600_000 + mi * 60_000 + (sec * 1000.0).round() as i64;
        ms -= offset.unwrap_or(0) * 60_000;
    }
    Some(ms)
}

/// A `[…]` component of a picture string.
struct Component {
    marker: char,
    presentation: String,
    ordinal: bool,
    min_width: Option<usize>,
    max_width: Option<usize>,
}

enum PicPart {
    Literal(String),
    Comp(Component),
}

fn parse_picture(picture: &str, pos: usize) -> Result<Vec<PicPart>, JsonataError> {
    let chars: Vec<char> = picture.chars().collect();
    let mut out = Vec::new();
    let mut lit = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if (c == '[' || c == ']') && chars.get(i + 1) == Some(&c) {
            lit.push(c);
            i += 2;
            continue;
        }
        if c != '[' {
            lit.push(c);
            i += 1;
            continue;
        }
        let close = chars[i..].iter().position(|&x| x == ']').map(|p| p + i);
        let Some(close) = close else {
            return Err(err("D3135", pos, "No matching closing bracket ']' in date/time picture string"));
        };
        if !lit.is_empty() {
            out.push(PicPart::Literal(std::mem::take(&mut lit)));
        }
        let body: String = chars[i + 1..close].iter().filter(|c| !c.is_whitespace()).collect();
        let mut bc = body.chars();
        let marker = bc.next().unwrap_or(' ');
        let rest: String = bc.collect();
        let (pres, width) = match rest.rsplit_once(',') {
            Some((p, w)) => (p.to_string(), Some(w.to_string())),
            None => (rest, None),
        };
        let (mut min_width, mut max_width) = (None, None);
        if let Some(w) = width {
            let (lo, hi) = match w.split_once('-') {
                Some((lo, hi)) => (lo.to_string(), Some(hi.to_string())),
                None => (w, None),
            };
            min_width = lo.parse().ok();
            max_width = hi.and_then(|h| h.parse().ok());
        }
        let mut presentation = pres;
        let mut ordinal = false;
        if presentation.len() > 1 && (presentation.ends_with('o') || presentation.ends_with('c')) && !presentation.ends_with("Nn") {
            ordinal = presentation.ends_with('o');
            presentation.pop();
        }
        if !"YMDdFWwXxHhPmsfZzCE".contains(marker) {
            return Err(err("D3132", pos, format!("Unknown component specifier {marker} in date/time picture string")));
        }
        out.push(PicPart::Comp(Component { marker, presentation, ordinal, min_width, max_width }));
        i = close + 1;
    }
    if !lit.is_empty() {
        out.push(PicPart::Literal(lit));
    }
    Ok(out)
}

const ISO_PICTURE: &str = "[Y0001]-[M01]-[D01]T[H01]:[m01]:[s01].[f001][Z01:01t]";

pub fn format_millis(ms: i64, picture: Option<&str>, tz: Option<&str>, pos: usize) -> Result<String, JsonataError> {
    let offset = match tz {
        None => 0,
        Some(t) => parse_tz(t).ok_or_else(|| err("D3134", pos, format!("Invalid timezone: {t:?}")))?,
    };
    if picture.is_none() && offset == 0 {
        return Ok(iso(ms));
    }
    let p = parts(ms, offset);
    let mut out = String::new();
    for part in parse_picture(picture.unwrap_or(ISO_PICTURE), pos)? {
        match part {
            PicPart::Literal(l) => out.push_str(&l),
            PicPart::Comp(c) => out.push_str(&format_component(&c, &p, pos)?),
        }
    }
    Ok(out)
}

fn apply_case(name: &str, pres: &str) -> String {
    match pres {
        "N" => name.to_uppercase(),
        "n" => name.to_lowercase(),
        _ => name.to_string(),
    }
}

fn ordinal_suffix(n: i64) -> &'static str {
    match (n % 10, n % 100) {
        (1, x) if x != 11 => "st",
        (2, x) if x != 12 => "nd",
        (3, x) if x != 13 => "rd",
        _ => "th",
    }
}

fn format_component(c: &Component, p: &Parts, pos: usize) -> Result<String, JsonataError> {
    let value: i64 = match c.marker {
        'Y' => p.year,
        'M' => p.month,
        'D' => p.day,
        'd' => p.day_of_year,
        'F' => p.weekday,
        'H' => p.hour,
        'h' => {
            let h = p.hour % 12;
            if h == 0 {
                12
            } else {
                h
            }
        }
        'm' => p.minute,
        's' => p.second,
        'f' => p.milli,
        'P' => {
            let s = if p.hour < 12 { "am" } else { "pm" };
            return Ok(apply_case(s, if c.presentation.is_empty() { "n" } else { &c.presentation }));
        }
        'Z' | 'z' => return Ok(format_offset(c, p.offset_minutes)),
        'E' | 'C' => return Ok("ISO".into()),
        'W' => iso_week(p).1,
        'X' => iso_week(p).0,
        'w' => month_week(p).1,
        'x' => month_week(p).0,
        _ => 0,
    };
    let default = match c.marker {
        'F' => "n",
        'm' | 's' => "01",
        _ => "1",
    };
    let pres = if c.presentation.is_empty() { default } else { c.presentation.as_str() };
    let mut s = match pres {
        "N" | "n" | "Nn" => {
            let name = match c.marker {
                'M' | 'x' => MONTHS[(value - 1) as usize],
                'F' => DAYS[(value - 1) as usize],
                _ => return Err(err("D3133", pos, format!("The 'name' modifier can only be applied to months and days in the date/time picture string, not {}", c.marker))),
            };
            let mut n = apply_case(name, pres);
            if let Some(max) = c.max_width {
                n = n.chars().take(max).collect();
            }
            n
        }
        "I" => roman(value),
        "i" => roman(value).to_lowercase(),
        "W" | "w" | "Ww" => {
            let w = words(value, c.ordinal);
            match pres {
                "W" => w.to_uppercase(),
                "Ww" => title_case(&w),
                _ => w,
            }
        }
        digits => {
            if c.marker == 'f' {
                // Fractional seconds: the digits are the precision.
                let width = digits.chars().filter(|ch| ch.is_ascii_digit()).count().max(1);
                let frac = format!("{:03}", p.milli);
                let mut f: String = frac.chars().take(width).collect();
                while f.len() < width {
                    f.push('0');
                }
                return Ok(f);
            }
            let mandatory = digits.chars().filter(|ch| ch.is_ascii_digit()).count().max(1);
            let mut v = value;
            if c.marker == 'Y' && mandatory == 2 && digits.chars().all(|ch| ch.is_ascii_digit()) {
                v = value.rem_euclid(100);
            }
            let width = c.min_width.unwrap_or(mandatory).max(mandatory);
            let mut n = format!("{:0width$}", v, width = width);
            if c.marker == 'Y' {
                if let Some(max) = c.max_width {
                    if n.len() > max {
                        n = n[n.len() - max..].to_string();
                    }
                }
            }
            if c.ordinal {
                n.push_str(ordinal_suffix(v));
            }
            n
        }
    };
    if let Some(min) = c.min_width {
        while s.chars().count() < min && matches!(pres, "N" | "n" | "Nn") {
            s.push(' ');
        }
    }
    Ok(s)
}

/// Week in month, by the ISO rule applied to months: weeks run Monday to Sunday and belong
/// to the month holding their Thursday. Returns (month, week).
fn month_week(p: &Parts) -> (i64, i64) {
    let days = days_from_civil(p.year, p.month, p.day);
    let (_, month, day) = civil_from_days(days + (4 - p.weekday));
    (month, (day - 1) / 7 + 1)
}

/// ISO 8601 week-numbering year and week: the week (Monday to Sunday) holding the Thursday.
fn iso_week(p: &Parts) -> (i64, i64) {
    let days = days_from_civil(p.year, p.month, p.day);
    let thursday = days + (4 - p.weekday);
    let (year, _, _) = civil_from_days(thursday);
    (year, (thursday - days_from_civil(year, 1, 1)) / 7 + 1)
}

fn title_case(s: &str) -> String {
    s.split(' ')
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn format_offset(c: &Component, offset: i64) -> String {
    let pres = c.presentation.clone();
    let (pres, zulu) = match pres.strip_suffix('t') {
        Some(p) => (p.to_string(), true),
        None => (pres, false),
    };
    if zulu && offset == 0 {
        return "Z".into();
    }
    let sign = if offset < 0 { '-' } else { '+' };
    let (h, m) = (offset.abs() / 60, offset.abs() % 60);
    let body = match pres.as_str() {
        "" | "01:01" => format!("{sign}{h:02}:{m:02}"),
        "0101" => format!("{sign}{h:02}{m:02}"),
        "01" => format!("{sign}{h:02}"),
        "1" => {
            if m == 0 {
                format!("{sign}{h}")
            } else {
                format!("{sign}{h}:{m:02}")
            }
        }
        _ => format!("{sign}{h:02}:{m:02}"),
    };
    if c.marker == 'z' {
        format!("GMT{body}")
    } else {
        body
    }
}

/// Parses a timestamp by a picture string (numeric components, month/day names, am/pm,
/// literal text and offsets). Returns undefined when the text does not match.
fn parse_with_picture(s: &str, picture: &str, pos: usize) -> Result<Option<i64>, JsonataError> {
    let parts = parse_picture(picture, pos)?;
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    let (mut y, mut mo, mut d, mut h, mut mi, mut sec, mut ms) = (None, None, None, None, None, None, None);
    let (mut pm, mut offset, mut doy) = (None, 0i64, None);
    for (pi, part) in parts.iter().enumerate() {
        match part {
            PicPart::Literal(l) => {
                for lc in l.chars() {
                    if chars.get(i) != Some(&lc) {
                        return Ok(None);
                    }
                    i += 1;
                }
            }
            PicPart::Comp(c) => {
                let pres = c.presentation.as_str();
                if matches!(pres, "N" | "n" | "Nn") || c.marker == 'P' || (c.marker == 'F' && pres.is_empty()) {
                    let start = i;
                    while i < chars.len() && chars[i].is_alphabetic() {
                        i += 1;
                    }
                    let word: String = chars[start..i].iter().collect::<String>().to_lowercase();
                    match c.marker {
                        'M' => mo = MONTHS.iter().position(|m| m.to_lowercase().starts_with(&word) && !word.is_empty()).map(|x| x as i64 + 1),
                        'P' => pm = Some(word == "pm"),
                        _ => {}
                    }
                    continue;
                }
                if matches!(c.marker, 'Z' | 'z') {
                    if c.marker == 'z' && chars[i..].starts_with(&['G', 'M', 'T']) {
                        i += 3;
                    }
                    if chars.get(i) == Some(&'Z') {
                        i += 1;
                        continue;
                    }
                    let start = i;
                    while i < chars.len() && (chars[i].is_ascii_digit() || matches!(chars[i], '+' | '-' | ':')) {
                        i += 1;
                    }
                    let text: String = chars[start..i].iter().collect();
                    offset = parse_tz(&text).ok_or_else(|| err("D3110", pos, format!("Invalid timezone offset {text:?}")))?;
                    continue;
                }
                if matches!(pres, "I" | "i") {
                    let start = i;
                    while i < chars.len() && "IVXLCDMivxlcdm".contains(chars[i]) {
                        i += 1;
                    }
                    let text: String = chars[start..i].iter().collect();
                    let Some(n) = crate::format::from_roman(&text).filter(|n| *n > 0) else { return Ok(None) };
                    match c.marker {
                        'Y' => y = Some(n),
                        'M' => mo = Some(n),
                        'D' => d = Some(n),
                        _ => {}
                    }
                    continue;
                }
                // Digits: fixed width when another component follows directly.
                let mandatory = pres.chars().filter(|ch| ch.is_ascii_digit()).count();
                let next_is_comp = matches!(parts.get(pi + 1), Some(PicPart::Comp(_)));
                let start = i;
                let neg = c.marker == 'Y' && chars.get(i) == Some(&'-');
                if neg {
                    i += 1;
                }
                while i < chars.len() && chars[i].is_ascii_digit() && !(next_is_comp && mandatory > 0 && i - start >= mandatory) {
                    i += 1;
                }
                let text: String = chars[start..i].iter().collect();
                let Ok(n) = text.parse::<i64>() else { return Ok(None) };
                if n.abs() > 1_000_000 {
                    return Ok(None);
                }
                // An ordinal's suffix (1st, 2nd, 23rd).
                if c.ordinal {
                    while i < chars.len() && chars[i].is_alphabetic() {
                        i += 1;
                    }
                }
                match c.marker {
                    'Y' => y = Some(if mandatory == 2 && text.len() == 2 { 2000 + n } else { n }),
                    'M' => mo = Some(n),
                    'D' => d = Some(n),
                    'd' => doy = Some(n),
                    'H' | 'h' => h = Some(n),
                    'm' => mi = Some(n),
                    's' => sec = Some(n),
                    'f' => ms = Some((format!("0.{text}").parse::<f64>().unwrap_or(0.0) * 1000.0).round() as i64),
                    _ => {}
                }
            }
        }
    }
    if y.is_none() && mo.is_none() && d.is_none() && h.is_none() && doy.is_none() {
        return Err(err("D3136", pos, "The date/time picture string is missing specifiers required to parse the timestamp"));
    }
    let year = y.unwrap_or(1970);
    let mut hour = h.unwrap_or(0);
    if let Some(is_pm) = pm {
        hour %= 12;
        if is_pm {
            hour += 12;
        }
    }
    let days = match doy {
        Some(n) => days_from_civil(year, 1, 1) + n - 1,
        None => days_from_civil(year, mo.unwrap_or(1), d.unwrap_or(1)),
    };
    let total = days * 86_400_000 + hour * 3_600_000 + mi.unwrap_or(0) * 60_000 + sec.unwrap_or(0) * 1000 + ms.unwrap_or(0) - offset * 60_000;
    Ok(Some(total))
}
