//! `to_timestamp(text, text)` / `to_date(text, text)`: a port of PostgreSQL
//! 15's `DCH_from_char` (reading the fields) and `do_to_timestamp` (turning
//! them into a date and time), in non-FX ("loose") mode unless the template
//! says `FX`.

use chrono::{Duration, NaiveDate, NaiveDateTime, NaiveTime};

use super::datetime::{
    DAYS_ABBR, DAYS_FULL, DateMode, DateTimeTemplate, Dk, MONTHS_ABBR, MONTHS_FULL, RM_MONTHS,
    date2j, isoweek2j, j2date,
};
use super::{
    LitKind, Node, SUF_FM, SUF_TH_LOWER, SUF_TH_UPPER, char_len, is_c_space, is_separator_char,
    lossy, strtol,
};

/// PostgreSQL's `TmFromChar`: the raw fields read from the input.
#[derive(Default)]
struct FromChar {
    mode: Option<DateMode>,
    hh: i32,
    pm: i32,
    mi: i32,
    ss: i32,
    ssss: i32,
    /// Day of week 1-7, Sunday = 1; 0 when missing.
    d: i32,
    dd: i32,
    ddd: i32,
    mm: i32,
    ms: i32,
    year: i32,
    bc: i32,
    ww: i32,
    w: i32,
    cc: i32,
    j: i32,
    us: i32,
    yysz: i32,
    clock12: bool,
    tzsign: i32,
    tzh: i32,
    tzm: i32,
    ff: i32,
}

/// Sets a field, complaining when it was already set to something else.
fn set_int(dest: &mut i32, value: i32, name: &str) -> Result<(), String> {
    if *dest != 0 && *dest != value {
        return Err(format!(
            "conflicting values for \"{name}\" field in formatting string"
        ));
    }
    *dest = value;
    Ok(())
}

/// The input being read, with C-string semantics (reading past the end gives NUL).
struct Input<'a> {
    b: &'a [u8],
    pos: usize,
}

impl Input<'_> {
    fn at(&self, i: usize) -> u8 {
        self.b.get(i).copied().unwrap_or(0)
    }

    fn cur(&self) -> u8 {
        self.at(self.pos)
    }

    fn skip_char(&mut self) {
        self.pos = (self.pos + char_len(self.b, self.pos).max(1)).min(self.b.len());
    }

    /// Skips white space, returning how much was skipped.
    fn skip_spaces(&mut self) -> i32 {
        let mut n = 0;
        while self.pos < self.b.len() && is_c_space(self.b[self.pos]) {
            self.pos += 1;
            n += 1;
        }
        n
    }

    /// Skips the two characters of a `TH` ordinal suffix, if the field has one.
    fn skip_th(&mut self, suffix: u8) {
        if suffix & (SUF_TH_UPPER | SUF_TH_LOWER) != 0 {
            self.skip_char();
            self.skip_char();
        }
    }

    /// PostgreSQL's `from_char_seq_search`: case-insensitive prefix match of
    /// the input against `words`, first match wins.
    fn seq_search(&mut self, words: &[&str], name: &str) -> Result<usize, String> {
        let rest = &self.b[self.pos..];
        let found = words.iter().position(|w| {
            let w = w.as_bytes();
            !w.is_empty() && rest.len() >= w.len() && rest[..w.len()].eq_ignore_ascii_case(w)
        });
        match found {
            Some(i) => {
                self.pos += words[i].len();
                Ok(i)
            }
            None => {
                let end = rest
                    .iter()
                    .position(|&c| matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0c))
                    .unwrap_or(rest.len());
                Err(format!(
                    "invalid value \"{}\" for \"{name}\"",
                    lossy(&rest[..end])
                ))
            }
        }
    }
}

/// PostgreSQL's `is_next_separator`: may the field at `idx` read a variable
/// number of digits (because a non-digit follows it)?
fn is_next_separator(nodes: &[Node<Dk>], idx: usize) -> bool {
    if let Some(Node::Action { suffix, .. }) = nodes.get(idx)
        && suffix & (SUF_TH_UPPER | SUF_TH_LOWER) != 0
    {
        return true;
    }
    match nodes.get(idx + 1) {
        None => true,
        Some(Node::Action { kw, .. }) => !kw.key.is_digit(),
        Some(Node::Literal { text, .. }) => {
            !(text.len() == 1 && text.as_bytes()[0].is_ascii_digit())
        }
    }
}

/// PostgreSQL's `from_char_parse_int_len`: reads an integer field of `len`
/// digits (or as many as present under FM or before a separator). Returns
/// the number of characters consumed, leading blanks included.
fn parse_int(
    input: &mut Input<'_>,
    dest: Option<&mut i32>,
    len: usize,
    nodes: &[Node<Dk>],
    idx: usize,
    name: &str,
    fm: bool,
) -> Result<usize, String> {
    let init = input.pos;
    input.skip_spaces();
    let avail = input.b.len() - input.pos;
    let copy_bytes = &input.b[input.pos..input.pos + len.min(avail)];
    let copy = lossy(copy_bytes);
    let (value, overflow);
    if fm || is_next_separator(nodes, idx) {
        let (v, end, o) = strtol(input.b, init);
        input.pos = end;
        (value, overflow) = (v, o);
    } else {
        if avail < len {
            return Err(format!(
                "source string too short for \"{name}\" formatting field"
            ));
        }
        let (v, used, o) = strtol(copy_bytes, 0);
        if used > 0 && used < len {
            return Err(format!("invalid value \"{copy}\" for \"{name}\""));
        }
        input.pos += used;
        (value, overflow) = (v, o);
    }
    if input.pos == init {
        return Err(format!("invalid value \"{copy}\" for \"{name}\""));
    }
    let value = match i32::try_from(value) {
        Ok(v) if !overflow => v,
        _ => {
            return Err(format!(
                "value for \"{name}\" in source string is out of range"
            ));
        }
    };
    if let Some(dest) = dest {
        set_int(dest, value, name)?;
    }
    Ok(input.pos - init)
}

/// C `sscanf("%d")`-style integer with an optional maximum width (counting
/// the sign): skips blanks, returns (value, end) or None without digits.
fn scan_int(b: &[u8], mut i: usize, width: usize) -> Option<(i32, usize)> {
    while i < b.len() && is_c_space(b[i]) {
        i += 1;
    }
    let start = i;
    let neg = matches!(b.get(i), Some(b'-'));
    if matches!(b.get(i), Some(b'-' | b'+')) {
        i += 1;
    }
    let digits = i;
    let mut v: i64 = 0;
    while i < b.len() && b[i].is_ascii_digit() && i - start < width {
        v = (v * 10 + i64::from(b[i] - b'0')).min(i64::from(i32::MAX) + 1);
        i += 1;
    }
    if i == digits {
        return None;
    }
    let v = if neg { -v } else { v };
    Some((v.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32, i))
}

impl DateTimeTemplate {
    /// to_timestamp(text, pattern) / to_date(text, pattern): the wall-clock time the text denotes, plus
    /// the UTC offset if the text gave one (TZH/TZM/OF). Err(message) as PostgreSQL errors (22007/22008 style text).
    ///
    /// The offset is in seconds east of UTC; without one, the caller applies
    /// the session time zone as PostgreSQL does. Missing fields default as in
    /// PostgreSQL: year 0 (1 BC), January 1st, midnight. `OF`, `TZ` and `tz`
    /// are rejected exactly as PostgreSQL 15 does ("only supported in
    /// to_char"). When the template uses `FF1`..`FF6`, the fractional seconds
    /// are rounded to that precision as `to_timestamp` does. Errors use the
    /// `to_timestamp` wording (`to_date` says "date out of range" where this
    /// says "timestamp out of range").
    pub fn parse_value(&self, text: &str) -> Result<(NaiveDateTime, Option<i32>), String> {
        let bytes = text.as_bytes();
        let bytes = &bytes[..bytes.iter().position(|&c| c == 0).unwrap_or(bytes.len())];
        let date_str = lossy(bytes);
        let tmfc = read_fields(&self.nodes, bytes)?;
        to_datetime(tmfc, &date_str)
    }
}

/// PostgreSQL's `DCH_from_char` (non-standard mode).
fn read_fields(nodes: &[Node<Dk>], bytes: &[u8]) -> Result<FromChar, String> {
    let mut out = FromChar::default();
    let mut s = Input { b: bytes, pos: 0 };
    let mut fx_mode = false;
    let mut extra_skip: i32 = 0;
    for (idx, node) in nodes.iter().enumerate() {
        if s.pos >= bytes.len() {
            break;
        }
        let is_fx = matches!(node, Node::Action { kw, .. } if kw.key == Dk::Fx);
        if !fx_mode && !is_fx && (matches!(node, Node::Action { .. }) || idx == 0) {
            extra_skip += s.skip_spaces();
        }
        let (kw, suffix) = match node {
            Node::Literal {
                kind: LitKind::Space | LitKind::Separator,
                ..
            } => {
                if fx_mode {
                    s.skip_char();
                } else {
                    extra_skip -= 1;
                    if is_c_space(s.cur()) || is_separator_char(s.cur()) {
                        s.pos += 1;
                        extra_skip += 1;
                    }
                }
                continue;
            }
            Node::Literal {
                kind: LitKind::Char,
                ..
            } => {
                if !fx_mode && extra_skip > 0 {
                    extra_skip -= 1;
                } else {
                    s.skip_char();
                }
                continue;
            }
            Node::Action { kw, suffix } => (kw, *suffix),
        };
        let name = kw.name;
        let fm = suffix & SUF_FM != 0;
        let key_len = name.len();
        let mode = kw.key.date_mode();
        if mode != DateMode::None {
            match out.mode {
                None => out.mode = Some(mode),
                Some(m) if m != mode => {
                    return Err("invalid combination of date conventions".into());
                }
                Some(_) => {}
            }
        }
        match kw.key {
            Dk::Fx => fx_mode = true,
            Dk::Meridiem { dots, .. } => {
                let words: &[&str] = if dots {
                    &["a.m.", "p.m.", "A.M.", "P.M."]
                } else {
                    &["am", "pm", "AM", "PM"]
                };
                let v = s.seq_search(words, name)?;
                set_int(&mut out.pm, (v % 2) as i32, name)?;
                out.clock12 = true;
            }
            Dk::Hh | Dk::Hh12 | Dk::Hh24 => {
                parse_int(&mut s, Some(&mut out.hh), 2, nodes, idx, name, fm)?;
                if kw.key != Dk::Hh24 {
                    out.clock12 = true;
                }
                s.skip_th(suffix);
            }
            Dk::Mi => {
                parse_int(&mut s, Some(&mut out.mi), key_len, nodes, idx, name, fm)?;
                s.skip_th(suffix);
            }
            Dk::Ss => {
                parse_int(&mut s, Some(&mut out.ss), key_len, nodes, idx, name, fm)?;
                s.skip_th(suffix);
            }
            Dk::Ms => {
                let len = parse_int(&mut s, Some(&mut out.ms), 3, nodes, idx, name, fm)?;
                // 25 is 0.25 and 250 is 0.25 too; 025 is 0.025 and not 0.25.
                out.ms = out.ms.wrapping_mul(match len {
                    1 => 100,
                    2 => 10,
                    _ => 1,
                });
                s.skip_th(suffix);
            }
            Dk::Ff(_) | Dk::Us => {
                let width = match kw.key {
                    Dk::Ff(n) => {
                        out.ff = i32::from(n);
                        usize::from(n)
                    }
                    _ => 6,
                };
                let len = parse_int(&mut s, Some(&mut out.us), width, nodes, idx, name, fm)?;
                let scale = if (1..=5).contains(&len) {
                    10_i32.pow(6 - len as u32)
                } else {
                    1
                };
                out.us = out.us.wrapping_mul(scale);
                s.skip_th(suffix);
            }
            Dk::Ssss => {
                parse_int(&mut s, Some(&mut out.ssss), key_len, nodes, idx, name, fm)?;
                s.skip_th(suffix);
            }
            Dk::Tz { .. } | Dk::Of => {
                return Err(format!(
                    "formatting field \"{name}\" is only supported in to_char"
                ));
            }
            Dk::Tzh => {
                let c = s.cur();
                if matches!(c, b'+' | b'-' | b' ') {
                    out.tzsign = if c == b'-' { -1 } else { 1 };
                    s.pos += 1;
                } else if extra_skip > 0 && s.pos > 0 && s.at(s.pos - 1) == b'-' {
                    out.tzsign = -1;
                } else {
                    out.tzsign = 1;
                }
                parse_int(&mut s, Some(&mut out.tzh), 2, nodes, idx, name, fm)?;
            }
            Dk::Tzm => {
                if out.tzsign == 0 {
                    out.tzsign = 1;
                }
                parse_int(&mut s, Some(&mut out.tzm), 2, nodes, idx, name, fm)?;
            }
            Dk::Era { dots, .. } => {
                let words: &[&str] = if dots {
                    &["a.d.", "b.c.", "A.D.", "B.C."]
                } else {
                    &["ad", "bc", "AD", "BC"]
                };
                let v = s.seq_search(words, name)?;
                set_int(&mut out.bc, (v % 2) as i32, name)?;
            }
            Dk::MonthName(_) | Dk::MonthAbbr(_) => {
                let words: &[&str] = if matches!(kw.key, Dk::MonthName(_)) {
                    &MONTHS_FULL
                } else {
                    &MONTHS_ABBR
                };
                let v = s.seq_search(words, name)?;
                set_int(&mut out.mm, v as i32 + 1, name)?;
            }
            Dk::DayName(_) | Dk::DayAbbr(_) => {
                let words: &[&str] = if matches!(kw.key, Dk::DayName(_)) {
                    &DAYS_FULL
                } else {
                    &DAYS_ABBR
                };
                let v = s.seq_search(words, name)?;
                set_int(&mut out.d, v as i32, name)?;
                out.d = out.d.wrapping_add(1);
            }
            Dk::Mm => {
                parse_int(&mut s, Some(&mut out.mm), key_len, nodes, idx, name, fm)?;
                s.skip_th(suffix);
            }
            Dk::Ddd | Dk::Iddd => {
                parse_int(&mut s, Some(&mut out.ddd), 3, nodes, idx, name, fm)?;
                s.skip_th(suffix);
            }
            Dk::Dd => {
                parse_int(&mut s, Some(&mut out.dd), key_len, nodes, idx, name, fm)?;
                s.skip_th(suffix);
            }
            Dk::D => {
                parse_int(&mut s, Some(&mut out.d), key_len, nodes, idx, name, fm)?;
                s.skip_th(suffix);
            }
            Dk::Id => {
                parse_int(&mut s, Some(&mut out.d), 1, nodes, idx, name, fm)?;
                // Shift numbering to match Gregorian, where Sunday = 1.
                out.d = out.d.wrapping_add(1);
                if out.d > 7 {
                    out.d = 1;
                }
                s.skip_th(suffix);
            }
            Dk::Ww | Dk::Iw => {
                parse_int(&mut s, Some(&mut out.ww), key_len, nodes, idx, name, fm)?;
                s.skip_th(suffix);
            }
            Dk::Q => {
                // Parsed but ignored, as in PostgreSQL.
                parse_int(&mut s, None, key_len, nodes, idx, name, fm)?;
                s.skip_th(suffix);
            }
            Dk::Cc => {
                parse_int(&mut s, Some(&mut out.cc), key_len, nodes, idx, name, fm)?;
                s.skip_th(suffix);
            }
            Dk::YComma => {
                let parsed = scan_int(s.b, s.pos, usize::MAX).and_then(|(millennia, i)| {
                    if s.at(i) != b',' {
                        return None;
                    }
                    scan_int(s.b, i + 1, 3).map(|(years, end)| (millennia, years, end))
                });
                let Some((millennia, years, end)) = parsed else {
                    return Err("invalid input string for \"Y,YYY\"".into());
                };
                set_int(
                    &mut out.year,
                    years.wrapping_add(millennia.wrapping_mul(1000)),
                    name,
                )?;
                out.yysz = 4;
                s.pos = end;
                s.skip_th(suffix);
            }
            Dk::Yyyy | Dk::Iyyy | Dk::Yyy | Dk::Iyy | Dk::Yy | Dk::Iy | Dk::Y | Dk::I => {
                let len = parse_int(&mut s, Some(&mut out.year), key_len, nodes, idx, name, fm)?;
                let size = match kw.key {
                    Dk::Yyyy | Dk::Iyyy => 4,
                    Dk::Yyy | Dk::Iyy => 3,
                    Dk::Yy | Dk::Iy => 2,
                    _ => 1,
                };
                if size < 4 && len < 4 {
                    out.year = adjust_partial_year_to_2020(out.year);
                }
                out.yysz = size;
                s.skip_th(suffix);
            }
            Dk::Rm { .. } => {
                let v = s.seq_search(&RM_MONTHS, name)?;
                set_int(&mut out.mm, 12 - v as i32, name)?;
            }
            Dk::W => {
                parse_int(&mut s, Some(&mut out.w), key_len, nodes, idx, name, fm)?;
                s.skip_th(suffix);
            }
            Dk::J => {
                parse_int(&mut s, Some(&mut out.j), key_len, nodes, idx, name, fm)?;
                s.skip_th(suffix);
            }
        }
        // Ignore all spaces after fields.
        if !fx_mode {
            extra_skip = s.skip_spaces();
        }
    }
    Ok(out)
}

/// Two- and three-digit years: 70-99 are 19xx, 0-69 are 20xx, 100-519 are 2xxx,
/// 520-999 are 1xxx.
fn adjust_partial_year_to_2020(year: i32) -> i32 {
    match year {
        ..70 => year.wrapping_add(2000),
        70..100 => year + 1900,
        100..520 => year + 2000,
        520..1000 => year + 1000,
        _ => year,
    }
}

fn is_leap(y: i32) -> bool {
    y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
}

/// PostgreSQL's `do_to_timestamp` after the fields are read, plus the range
/// checks of `tm2timestamp` and the `FFn` rounding of `to_timestamp`.
fn to_datetime(mut f: FromChar, date_str: &str) -> Result<(NaiveDateTime, Option<i32>), String> {
    const YEAR: u8 = 1;
    const MONTH: u8 = 2;
    const DAY: u8 = 4;
    const DATE: u8 = YEAR | MONTH | DAY;
    let field_overflow = || format!("date/time field value out of range: \"{date_str}\"");
    let (mut year, mut mon, mut mday) = (0i32, 1i32, 1i32);
    let (mut hour, mut min, mut sec) = (0i32, 0i32, 0i32);
    let mut fmask = 0u8;

    if f.ssss != 0 {
        let x = f.ssss;
        hour = x / 3600;
        min = x % 3600 / 60;
        sec = x % 60;
    }
    if f.ss != 0 {
        sec = f.ss;
    }
    if f.mi != 0 {
        min = f.mi;
    }
    if f.hh != 0 {
        hour = f.hh;
    }
    if f.clock12 {
        if !(1..=12).contains(&hour) {
            return Err(format!("hour \"{hour}\" is invalid for the 12-hour clock"));
        }
        if f.pm != 0 && hour < 12 {
            hour += 12;
        } else if f.pm == 0 && hour == 12 {
            hour = 0;
        }
    }

    if f.year != 0 {
        // With CC and YY (or Y), YY gives the low digits of a year in century CC.
        if f.cc != 0 && f.yysz <= 2 {
            if f.bc != 0 {
                f.cc = f.cc.wrapping_neg();
            }
            year = f.year % 100;
            if year != 0 {
                if f.cc >= 0 {
                    year = year.wrapping_add(f.cc.wrapping_sub(1).wrapping_mul(100));
                } else {
                    year =
                        f.cc.wrapping_add(1)
                            .wrapping_mul(100)
                            .wrapping_sub(year)
                            .wrapping_add(1);
                }
            } else {
                year =
                    f.cc.wrapping_mul(100)
                        .wrapping_add(if f.cc >= 0 { 0 } else { 1 });
            }
        } else {
            year = f.year;
            if f.bc != 0 {
                year = year.wrapping_neg();
            }
            if year < 0 {
                year += 1;
            }
        }
        fmask |= YEAR;
    } else if f.cc != 0 {
        if f.bc != 0 {
            f.cc = f.cc.wrapping_neg();
        }
        year = if f.cc >= 0 {
            f.cc.wrapping_sub(1).wrapping_mul(100).wrapping_add(1)
        } else {
            f.cc.wrapping_mul(100).wrapping_add(1)
        };
        fmask |= YEAR;
    }

    if f.j != 0 {
        (year, mon, mday) = j2date(f.j);
        fmask |= DATE;
    }
    if f.ww != 0 {
        if f.mode == Some(DateMode::IsoWeek) {
            let mut jd = isoweek2j(year, f.ww);
            if f.d != 0 {
                jd += if f.d > 1 { i64::from(f.d) - 2 } else { 6 };
            }
            (year, mon, mday) = j2date(jd as i32);
            fmask |= DATE;
        } else {
            f.ddd = f.ww.wrapping_sub(1).wrapping_mul(7).wrapping_add(1);
        }
    }
    if f.w != 0 {
        f.dd = f.w.wrapping_sub(1).wrapping_mul(7).wrapping_add(1);
    }
    if f.dd != 0 {
        mday = f.dd;
        fmask |= DAY;
    }
    if f.mm != 0 {
        mon = f.mm;
        fmask |= MONTH;
    }
    if f.ddd != 0 && (mon <= 1 || mday <= 1) {
        if year == 0 && f.bc == 0 {
            return Err("cannot calculate day of year without year information".into());
        }
        if f.mode == Some(DateMode::IsoWeek) {
            let j0 = isoweek2j(year, 1) - 1;
            (year, mon, mday) = j2date((j0 + i64::from(f.ddd)) as i32);
            fmask |= DATE;
        } else {
            let ysum: [i32; 13] = if is_leap(year) {
                [0, 31, 60, 91, 121, 152, 182, 213, 244, 274, 305, 335, 366]
            } else {
                [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334, 365]
            };
            let i = (1..=12).find(|&i| f.ddd <= ysum[i]).unwrap_or(13);
            if mon <= 1 {
                mon = i as i32;
            }
            if mday <= 1 {
                mday = f.ddd.wrapping_sub(ysum[i - 1]);
            }
            fmask |= MONTH | DAY;
        }
    }
    let fsec = i64::from(f.ms) * 1000 + i64::from(f.us);

    // ValidateDate (years are already in astronomical numbering).
    if fmask & MONTH != 0 && !(1..=12).contains(&mon) {
        return Err(field_overflow());
    }
    if fmask & DAY != 0 && !(1..=31).contains(&mday) {
        return Err(field_overflow());
    }
    if fmask & DATE == DATE {
        let days = [
            31,
            if is_leap(year) { 29 } else { 28 },
            31,
            30,
            31,
            30,
            31,
            31,
            30,
            31,
            30,
            31,
        ];
        if mday > days[(mon - 1) as usize] {
            return Err(field_overflow());
        }
    }
    if !(0..24).contains(&hour)
        || !(0..60).contains(&min)
        || !(0..60).contains(&sec)
        || !(0..1_000_000).contains(&fsec)
    {
        return Err(field_overflow());
    }
    let mut offset = None;
    if f.tzsign != 0 {
        if !(0..=15).contains(&f.tzh) || !(0..60).contains(&f.tzm) {
            return Err(format!(
                "time zone displacement out of range: \"{date_str}\""
            ));
        }
        offset = Some(f.tzsign * (f.tzh * 3600 + f.tzm * 60));
    }

    // tm2timestamp: the Julian-day range check, then day roll-over as date2j does.
    let out_of_range = || "timestamp out of range".to_string();
    let valid_julian = (year > -4713 || (year == -4713 && mon >= 11))
        && (year < 5_874_898 || (year == 5_874_898 && mon < 6));
    if !valid_julian {
        return Err(out_of_range());
    }
    let days_from_ce =
        i32::try_from(date2j(year, mon, mday) - 1_721_425).map_err(|_| out_of_range())?;
    let date = NaiveDate::from_num_days_from_ce_opt(days_from_ce).ok_or_else(out_of_range)?;
    let time = NaiveTime::from_hms_micro_opt(hour as u32, min as u32, sec as u32, fsec as u32)
        .ok_or_else(out_of_range)?;
    let mut local = NaiveDateTime::new(date, time);
    let utc =
        |t: NaiveDateTime| t.checked_sub_signed(Duration::seconds(i64::from(offset.unwrap_or(0))));
    // MIN_TIMESTAMP is 4714-11-24 00:00:00 BC UTC.
    let min_ts = NaiveDate::from_ymd_opt(-4713, 11, 24).map(|d| d.and_time(NaiveTime::MIN));
    if min_ts.is_some_and(|m| utc(local).is_none_or(|u| u < m)) {
        return Err(out_of_range());
    }
    if (1..=5).contains(&f.ff) {
        // AdjustTimestampForTypmod: round half away from 2000-01-01 UTC.
        let scale = 10_i64.pow(6 - f.ff as u32);
        let frac = fsec % scale;
        let y2k = NaiveDate::from_ymd_opt(2000, 1, 1).map(|d| d.and_time(NaiveTime::MIN));
        let before_2000 = utc(local).zip(y2k).is_some_and(|(u, y2k)| u < y2k);
        let up = if before_2000 {
            frac > scale / 2
        } else {
            frac >= scale / 2
        };
        let delta = if up { scale - frac } else { -frac };
        local = local
            .checked_add_signed(Duration::microseconds(delta))
            .ok_or_else(out_of_range)?;
    }
    Ok((local, offset))
}
