//! Number formatting: `$formatNumber` (XPath `format-number` pictures: grouping, decimal
//! and exponent separators, percent/per-mille, `;` negative sub-picture, digit families),
//! `$formatBase`, `$formatInteger`/`$parseInteger` (decimal, roman, letters, words).

use crate::builtins::{arg, bad_arg, num_arg, round_half_even, str_arg, Args};
use crate::eval::{err, Ev, R};
use crate::value::Val;
use crate::JsonataError;

struct Symbols {
    decimal: char,
    group: char,
    exponent: char,
    minus: char,
    percent: char,
    permille: char,
    zero: char,
    digit: char,
    pattern: char,
    infinity: String,
    nan: String,
}

fn symbols(options: Option<Val>) -> Symbols {
    let mut s = Symbols {
        decimal: '.',
        group: ',',
        exponent: 'e',
        minus: '-',
        percent: '%',
        permille: '\u{2030}',
        zero: '0',
        digit: '#',
        pattern: ';',
        infinity: "Infinity".into(),
        nan: "NaN".into(),
    };
    if let Some(Val::Obj(o)) = options {
        let ch = |k: &str| o.get(k).and_then(|v| v.as_str().and_then(|x| x.chars().next()));
        if let Some(c) = ch("decimal-separator") {
            s.decimal = c;
        }
        if let Some(c) = ch("grouping-separator") {
            s.group = c;
        }
        if let Some(c) = ch("exponent-separator") {
            s.exponent = c;
        }
        if let Some(c) = ch("minus-sign") {
            s.minus = c;
        }
        if let Some(c) = ch("percent") {
            s.percent = c;
        }
        if let Some(c) = ch("per-mille") {
            s.permille = c;
        }
        if let Some(c) = ch("zero-digit") {
            s.zero = c;
        }
        if let Some(c) = ch("digit") {
            s.digit = c;
        }
        if let Some(c) = ch("pattern-separator") {
            s.pattern = c;
        }
        if let Some(v) = o.get("infinity").and_then(|v| v.as_str()) {
            s.infinity = v.to_string();
        }
        if let Some(v) = o.get("NaN").and_then(|v| v.as_str()) {
            s.nan = v.to_string();
        }
    }
    s
}

struct SubPicture {
    prefix: String,
    suffix: String,
    int_part: Vec<char>,
    frac_part: Vec<char>,
    exp_digits: usize,
    has_exponent: bool,
    percent: bool,
    permille: bool,
}

fn is_digit(c: char, s: &Symbols) -> bool {
    (c as u32) >= s.zero as u32 && (c as u32) <= s.zero as u32 + 9
}

fn analyse(pic: &str, s: &Symbols, pos: usize) -> Result<SubPicture, JsonataError> {
    let chars: Vec<char> = pic.chars().collect();
    let active = |c: char| is_digit(c, s) || c == s.digit || c == s.decimal || c == s.group || c == s.exponent;
    // The exponent separator is only active between mantissa and exponent digits.
    let first = chars.iter().position(|&c| active(c) && c != s.exponent).unwrap_or(chars.len());
    let mut last = chars.iter().rposition(|&c| active(c)).map(|p| p + 1).unwrap_or(first);
    if last < first {
        last = first;
    }
    let prefix: String = chars[..first].iter().collect();
    let mut suffix: String = chars[last..].iter().collect();
    let mut body: Vec<char> = chars[first..last].to_vec();
    // An exponent marker at the end with no digits is a suffix character.
    if body.last() == Some(&s.exponent) {
        body.pop();
        suffix.insert(0, s.exponent);
    }
    if body.iter().filter(|&&c| c == s.decimal).count() > 1 {
        return Err(err("D3081", pos, "The sub-picture must not contain more than one instance of the 'decimal-separator' character"));
    }
    let percent = pic.contains(s.percent);
    let permille = pic.contains(s.permille);
    if pic.matches(s.percent).count() > 1 {
        return Err(err("D3082", pos, "The sub-picture must not contain more than one instance of the 'percent' character"));
    }
    if pic.matches(s.permille).count() > 1 {
        return Err(err("D3083", pos, "The sub-picture must not contain more than one instance of the 'per-mille' character"));
    }
    if percent && permille {
        return Err(err("D3084", pos, "The sub-picture must not contain both a 'percent' and a 'per-mille' character"));
    }
    let (mantissa, exp): (Vec<char>, Vec<char>) = match body.iter().position(|&c| c == s.exponent) {
        Some(e) => (body[..e].to_vec(), body[e + 1..].to_vec()),
        None => (body, Vec::new()),
    };
    if !mantissa.iter().any(|&c| is_digit(c, s) || c == s.digit) {
        return Err(err(
            "D3085",
            pos,
            "The mantissa part of a sub-picture must contain at least one character that is either an 'optional digit character' or a member of the 'decimal digit family'",
        ));
    }
    if exp.iter().any(|&c| !is_digit(c, s)) {
        return Err(err("D3093", pos, "The exponent part of the sub-picture must comprise only of one or more characters that are members of the 'decimal digit family'"));
    }
    let (int_part, frac_part) = match mantissa.iter().position(|&c| c == s.decimal) {
        Some(d) => (mantissa[..d].to_vec(), mantissa[d + 1..].to_vec()),
        None => (mantissa, Vec::new()),
    };
    if int_part.last() == Some(&s.group) {
        return Err(err("D3088", pos, "The integer part of a sub-picture must not contain a 'grouping-separator' at the end"));
    }
    if int_part.windows(2).any(|w| w[0] == s.group && w[1] == s.group) {
        return Err(err("D3089", pos, "The sub-picture must not contain two adjacent instances of the 'grouping-separator' character"));
    }
    Ok(SubPicture {
        prefix,
        suffix,
        int_part,
        frac_part,
        exp_digits: exp.len(),
        has_exponent: !exp.is_empty(),
        percent,
        permille,
    })
}

pub fn format_number(_: &Ev, a: Args, pos: usize) -> R {
    let Some(n) = num_arg(a, 0, "formatNumber", pos)? else { return Ok(None) };
    let picture = str_arg(a, 1, "formatNumber", pos)?.ok_or_else(|| bad_arg("formatNumber", 1, pos))?;
    let s = symbols(arg(a, 2));
    let subs: Vec<&str> = picture.split(s.pattern).collect();
    if subs.len() > 2 {
        return Err(err("D3080", pos, "The picture string must only contain a maximum of two sub-pictures"));
    }
    let positive = analyse(subs[0], &s, pos)?;
    let negative = match subs.get(1) {
        Some(p) => Some(analyse(p, &s, pos)?),
        None => None,
    };
    if n.is_nan() {
        return Ok(Some(Val::string(s.nan.clone())));
    }
    let (pic, prefix_minus) = match (&negative, n < 0.0) {
        (Some(neg), true) => (neg, false),
        (_, true) => (&positive, true),
        _ => (&positive, false),
    };
    let mut v = n.abs();
    if pic.percent {
        v *= 100.0;
    } else if pic.permille {
        v *= 1000.0;
    }
    let body = if v.is_infinite() { s.infinity.clone() } else { format_mantissa(v, pic, &s) };
    let mut out = String::new();
    if prefix_minus {
        out.push(s.minus);
    }
    out.push_str(&pic.prefix);
    out.push_str(&body);
    out.push_str(&pic.suffix);
    Ok(Some(Val::string(out)))
}

fn format_mantissa(v: f64, pic: &SubPicture, s: &Symbols) -> String {
    let min_int = pic.int_part.iter().filter(|&&c| is_digit(c, s)).count();
    let max_frac = pic.frac_part.iter().filter(|&&c| is_digit(c, s) || c == s.digit).count();
    let min_frac = pic.frac_part.iter().filter(|&&c| is_digit(c, s)).count();
    // Grouping positions, counted from the decimal point.
    let mut groups = Vec::new();
    let mut count = 0;
    for &c in pic.int_part.iter().rev() {
        if c == s.group {
            groups.push(count);
        } else {
            count += 1;
        }
    }
    let regular = !groups.is_empty() && groups.iter().enumerate().all(|(i, g)| *g == groups[0] * (i + 1));
    let mut v = v;
    let mut exponent = 0i32;
    if pic.has_exponent && v != 0.0 {
        // The mantissa gets `min_int` integer digits (none: it is scaled below one).
        let int_digits = min_int as i32;
        let mag = v.log10().floor() as i32 + 1;
        exponent = mag - int_digits;
        v /= 10f64.powi(exponent);
        if round_half_even(v, max_frac as i32) >= 10f64.powi(int_digits) {
            v /= 10.0;
            exponent += 1;
        }
    }
    let rounded = round_half_even(v, max_frac as i32);
    let text = format!("{:.*}", max_frac, rounded);
    let (int_str, frac_str) = match text.split_once('.') {
        Some((i, f)) => (i.to_string(), f.to_string()),
        None => (text.clone(), String::new()),
    };
    let mut int_str = int_str.trim_start_matches('0').to_string();
    while int_str.len() < min_int {
        int_str.insert(0, '0');
    }
    let mut frac_str = frac_str;
    while frac_str.len() > min_frac && frac_str.ends_with('0') {
        frac_str.pop();
    }
    if int_str.is_empty() && (frac_str.is_empty() || (pic.has_exponent && pic.int_part.contains(&s.digit))) {
        int_str.push('0');
    }
    // Apply grouping separators.
    let digits: Vec<char> = int_str.chars().collect();
    let mut grouped = String::new();
    for (i, d) in digits.iter().enumerate() {
        let from_right = digits.len() - i;
        grouped.push(*d);
        let pos_after = from_right - 1;
        if pos_after > 0 {
            let hit = if regular { pos_after.is_multiple_of(groups[0]) } else { groups.contains(&pos_after) };
            if hit {
                grouped.push(s.group);
            }
        }
    }
    let map_digits = |t: &str| -> String {
        t.chars()
            .map(|c| if c.is_ascii_digit() { char::from_u32(s.zero as u32 + (c as u32 - '0' as u32)).unwrap_or(c) } else { c })
            .collect()
    };
    let mut out = map_digits(&grouped);
    if !frac_str.is_empty() {
        out.push(s.decimal);
        out.push_str(&map_digits(&frac_str));
    }
    if pic.has_exponent {
        out.push(s.exponent);
        let mut e = exponent.abs().to_string();
        while e.len() < pic.exp_digits {
            e.insert(0, '0');
        }
        if exponent < 0 {
            out.push(s.minus);
        }
        out.push_str(&map_digits(&e));
    }
    out
}

pub fn format_base(_: &Ev, a: Args, pos: usize) -> R {
    let Some(n) = num_arg(a, 0, "formatBase", pos)? else { return Ok(None) };
    let radix = num_arg(a, 1, "formatBase", pos)?.unwrap_or(10.0);
    if !(2.0..=36.0).contains(&radix) {
        return Err(err(
            "D3100",
            pos,
            format!("The radix of the formatBase function must be between 2 and 36.  It was given {}", crate::value::js_number_string(radix)),
        ));
    }
    let v = round_half_even(n, 0);
    let radix = radix as u32;
    let mut x = v.abs() as u128;
    let mut digits = Vec::new();
    loop {
        digits.push(std::char::from_digit((x % radix as u128) as u32, radix).unwrap_or('0'));
        x /= radix as u128;
        if x == 0 {
            break;
        }
    }
    if v < 0.0 {
        digits.push('-');
    }
    digits.reverse();
    Ok(Some(Val::string(digits.into_iter().collect())))
}

/// Roman numerals (numbers beyond 100,000 are written in decimal rather than as a run of Ms).
pub fn roman(n: i64) -> String {
    if !(1..=100_000).contains(&n) {
        return n.to_string();
    }
    const TABLE: [(i64, &str); 13] = [
        (1000, "M"),
        (900, "CM"),
        (500, "D"),
        (400, "CD"),
        (100, "C"),
        (90, "XC"),
        (50, "L"),
        (40, "XL"),
        (10, "X"),
        (9, "IX"),
        (5, "V"),
        (4, "IV"),
        (1, "I"),
    ];
    let mut n = n;
    let mut out = String::new();
    for (v, s) in TABLE {
        while n >= v {
            out.push_str(s);
            n -= v;
        }
    }
    out
}

pub(crate) fn from_roman(s: &str) -> Option<i64> {
    let val = |c: char| match c.to_ascii_uppercase() {
        'I' => Some(1),
        'V' => Some(5),
        'X' => Some(10),
        'L' => Some(50),
        'C' => Some(100),
        'D' => Some(500),
        'M' => Some(1000),
        _ => None,
    };
    let vals: Vec<i64> = s.chars().map(val).collect::<Option<_>>()?;
    let mut total = 0;
    for (i, v) in vals.iter().enumerate() {
        if vals.get(i + 1).is_some_and(|n| n > v) {
            total -= v;
        } else {
            total += v;
        }
    }
    Some(total)
}

fn letters(n: i64, upper: bool) -> String {
    let base = if upper { b'A' } else { b'a' };
    let mut n = n;
    let mut out = Vec::new();
    while n > 0 {
        n -= 1;
        out.push((base + (n % 26) as u8) as char);
        n /= 26;
    }
    out.iter().rev().collect()
}

fn from_letters(s: &str) -> Option<i64> {
    let mut n = 0i64;
    for c in s.chars() {
        if !c.is_ascii_alphabetic() {
            return None;
        }
        n = n.checked_mul(26)?.checked_add(c.to_ascii_lowercase() as i64 - 'a' as i64 + 1)?;
    }
    Some(n)
}

const SMALL: [&str; 20] = [
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve", "thirteen", "fourteen",
    "fifteen", "sixteen", "seventeen", "eighteen", "nineteen",
];
const TENS: [&str; 10] = ["", "ten", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"];
const MAGNITUDES: [(i64, &str); 4] = [(1_000_000_000_000, "trillion"), (1_000_000_000, "billion"), (1_000_000, "million"), (1000, "thousand")];

fn cardinal(n: i64) -> String {
    if n < 0 {
        return format!("minus {}", cardinal(n.saturating_neg()));
    }
    if n < 20 {
        return SMALL[n as usize].to_string();
    }
    if n < 100 {
        let t = TENS[(n / 10) as usize];
        return if n % 10 == 0 { t.to_string() } else { format!("{t}-{}", SMALL[(n % 10) as usize]) };
    }
    if n < 1000 {
        let h = format!("{} hundred", SMALL[(n / 100) as usize]);
        return if n % 100 == 0 { h } else { format!("{h} and {}", cardinal(n % 100)) };
    }
    for (mag, name) in MAGNITUDES {
        if n >= mag {
            let head = format!("{} {name}", cardinal(n / mag));
            let rest = n % mag;
            return match rest {
                0 => head,
                r if r < 100 => format!("{head} and {}", cardinal(r)),
                r => format!("{head}, {}", cardinal(r)),
            };
        }
    }
    n.to_string()
}

fn ordinal_word(w: &str) -> String {
    match w {
        "one" => "first".into(),
        "two" => "second".into(),
        "three" => "third".into(),
        "five" => "fifth".into(),
        "eight" => "eighth".into(),
        "nine" => "ninth".into(),
        "twelve" => "twelfth".into(),
        w if w.ends_with('y') => format!("{}ieth", &w[..w.len() - 1]),
        w => format!("{w}th"),
    }
}

/// English words for a number (`[Dw]`, `$formatInteger(n, 'w')`), optionally ordinal.
pub fn words(n: i64, ordinal: bool) -> String {
    let c = cardinal(n);
    if !ordinal {
        return c;
    }
    let cut = c.rfind([' ', '-']).map(|i| i + 1).unwrap_or(0);
    format!("{}{}", &c[..cut], ordinal_word(&c[cut..]))
}

fn from_words(s: &str) -> Option<i64> {
    let mut total = 0i64;
    let mut current = 0i64;
    for raw in s.to_lowercase().split([' ', '-', ',']) {
        let w = raw.trim();
        if w.is_empty() || w == "and" {
            continue;
        }
        let base = ["first", "second", "third", "fifth", "eighth", "ninth", "twelfth"]
            .iter()
            .position(|o| *o == w)
            .map(|i| ["one", "two", "three", "five", "eight", "nine", "twelve"][i].to_string())
            .unwrap_or_else(|| {
                if let Some(x) = w.strip_suffix("ieth") {
                    format!("{x}y")
                } else if let Some(x) = w.strip_suffix("th") {
                    x.to_string()
                } else {
                    w.to_string()
                }
            });
        if let Some(i) = SMALL.iter().position(|x| *x == base) {
            current = current.checked_add(i as i64)?;
        } else if let Some(i) = TENS.iter().position(|x| *x == base && !x.is_empty()) {
            current = current.checked_add(i as i64 * 10)?;
        } else if base == "hundred" {
            current = current.checked_mul(100)?;
        } else if let Some((m, _)) = MAGNITUDES.iter().find(|(_, name)| *name == base) {
            total = total.checked_add(current.checked_mul(*m)?)?;
            current = 0;
        } else {
            return None;
        }
    }
    total.checked_add(current)
}

fn split_modifier(picture: &str) -> (&str, bool) {
    match picture.rsplit_once(';') {
        Some((p, m)) => (p, m.contains('o')),
        None => (picture, false),
    }
}

pub fn format_integer(_: &Ev, a: Args, pos: usize) -> R {
    let Some(n) = num_arg(a, 0, "formatInteger", pos)? else { return Ok(None) };
    let picture = str_arg(a, 1, "formatInteger", pos)?.ok_or_else(|| bad_arg("formatInteger", 1, pos))?;
    let (pic, ordinal) = split_modifier(&picture);
    let v = n.floor() as i64;
    let out = match pic {
        "a" | "A" => letters(v, pic == "A"),
        "i" => roman(v).to_lowercase(),
        "I" => roman(v),
        "w" => words(v, ordinal),
        "W" => words(v, ordinal).to_uppercase(),
        "Ww" => words(v, ordinal).split(' ').map(title).collect::<Vec<_>>().join(" "),
        p => decimal_picture(v, p, ordinal, pos)?,
    };
    Ok(Some(Val::string(out)))
}

fn title(w: &str) -> String {
    w.split('-')
        .map(|p| {
            let mut c = p.chars();
            match c.next() {
                Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join("-")
}

fn decimal_picture(v: i64, pic: &str, ordinal: bool, pos: usize) -> Result<String, JsonataError> {
    let chars: Vec<char> = pic.chars().collect();
    let is_dig = |c: char| c.is_ascii_digit() || c == '#';
    if !chars.iter().any(|&c| c.is_ascii_digit()) {
        return Err(err("D3130", pos, format!("Formatting or parsing an integer as a sequence starting with {pic} is not supported by this implementation")));
    }
    let mandatory = chars.iter().filter(|c| c.is_ascii_digit()).count();
    // Separators, by position counted from the right (in digits).
    let mut seps: Vec<(usize, char)> = Vec::new();
    let mut count = 0;
    for &c in chars.iter().rev() {
        if is_dig(c) {
            count += 1;
        } else {
            seps.push((count, c));
        }
    }
    let regular = !seps.is_empty()
        && seps.iter().all(|(_, c)| *c == seps[0].1)
        && seps.iter().enumerate().all(|(i, (p, _))| *p == seps[0].0 * (i + 1));
    let mut digits = v.unsigned_abs().to_string();
    while digits.len() < mandatory {
        digits.insert(0, '0');
    }
    let ds: Vec<char> = digits.chars().collect();
    let mut out = String::new();
    for (i, d) in ds.iter().enumerate() {
        out.push(*d);
        let after = ds.len() - i - 1;
        if after > 0 {
            if regular {
                if after.is_multiple_of(seps[0].0) {
                    out.push(seps[0].1);
                }
            } else if let Some((_, c)) = seps.iter().find(|(p, _)| *p == after) {
                out.push(*c);
            }
        }
    }
    if v < 0 {
        out.insert(0, '-');
    }
    if ordinal {
        let suffix = match (v.unsigned_abs() % 10, v.unsigned_abs() % 100) {
            (1, x) if x != 11 => "st",
            (2, x) if x != 12 => "nd",
            (3, x) if x != 13 => "rd",
            _ => "th",
        };
        out.push_str(suffix);
    }
    Ok(out)
}

pub fn parse_integer(_: &Ev, a: Args, pos: usize) -> R {
    let Some(s) = str_arg(a, 0, "parseInteger", pos)? else { return Ok(None) };
    let picture = str_arg(a, 1, "parseInteger", pos)?.ok_or_else(|| bad_arg("parseInteger", 1, pos))?;
    let (pic, ordinal) = split_modifier(&picture);
    let n = match pic {
        "a" | "A" => from_letters(&s),
        "i" | "I" => from_roman(&s),
        "w" | "W" | "Ww" => from_words(&s),
        _ => {
            let mut t: String = s.chars().filter(|c| c.is_ascii_digit() || *c == '-').collect();
            if ordinal {
                t = t.trim_end_matches(|c: char| c.is_alphabetic()).to_string();
            }
            t.parse::<i64>().ok()
        }
    };
    Ok(n.map(|n| Val::Num(n as f64)))
}
