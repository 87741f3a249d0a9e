//! Datetime templates: the keyword table, template parsing and
//! `to_char(timestamp[tz], text)` (PostgreSQL's `DCH_to_char`).

use chrono::{Datelike, NaiveDateTime, Timelike};

use super::{Keyword, Node, SUF_FM, SUF_TH_LOWER, SUF_TH_UPPER, SUF_TM, ordinal_suffix, tokenize};

/// Letter case of a month or day name pattern (`MONTH`, `Month`, `month`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Case {
    Upper,
    Init,
    Lower,
}

/// What a datetime keyword means. Upper- and lower-case spellings of numeric
/// fields share a variant; the spelling itself is kept in `Keyword::name`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Dk {
    Meridiem { dots: bool, upper: bool },
    Era { dots: bool, upper: bool },
    Cc,
    DayName(Case),
    DayAbbr(Case),
    Ddd,
    Dd,
    D,
    Ff(u8),
    Fx,
    Hh24,
    Hh12,
    Hh,
    Iddd,
    Id,
    Iw,
    Iyyy,
    Iyy,
    Iy,
    I,
    J,
    Mi,
    Mm,
    MonthName(Case),
    MonthAbbr(Case),
    Ms,
    Of,
    Q,
    Rm { upper: bool },
    Ssss,
    Ss,
    Tzh,
    Tzm,
    Tz { upper: bool },
    Us,
    Ww,
    W,
    YComma,
    Yyyy,
    Yyy,
    Yy,
    Y,
}

/// Which calendar a keyword belongs to; mixing them in `to_timestamp` is an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum DateMode {
    None,
    Gregorian,
    IsoWeek,
}

impl Dk {
    /// Whether the field reads digits (PostgreSQL's `is_digit`).
    pub(super) fn is_digit(self) -> bool {
        !matches!(
            self,
            Dk::Meridiem { .. }
                | Dk::Era { .. }
                | Dk::DayName(_)
                | Dk::DayAbbr(_)
                | Dk::Fx
                | Dk::MonthName(_)
                | Dk::MonthAbbr(_)
                | Dk::Of
                | Dk::Rm { .. }
                | Dk::Tzh
                | Dk::Tz { .. }
        )
    }

    pub(super) fn date_mode(self) -> DateMode {
        match self {
            Dk::Ddd
            | Dk::Dd
            | Dk::D
            | Dk::Mm
            | Dk::MonthName(_)
            | Dk::MonthAbbr(_)
            | Dk::Rm { .. } => DateMode::Gregorian,
            Dk::Ww | Dk::W | Dk::YComma | Dk::Yyyy | Dk::Yyy | Dk::Yy | Dk::Y => {
                DateMode::Gregorian
            }
            Dk::Iddd | Dk::Id | Dk::Iw | Dk::Iyyy | Dk::Iyy | Dk::Iy | Dk::I => DateMode::IsoWeek,
            _ => DateMode::None,
        }
    }
}

const fn kw(name: &'static str, key: Dk) -> Keyword<Dk> {
    Keyword { name, key }
}

/// PostgreSQL 15's `DCH_keywords`, in its order (longest match first within
/// each first letter).
static DCH_KEYWORDS: &[Keyword<Dk>] = &[
    kw(
        "A.D.",
        Dk::Era {
            dots: true,
            upper: true,
        },
    ),
    kw(
        "A.M.",
        Dk::Meridiem {
            dots: true,
            upper: true,
        },
    ),
    kw(
        "AD",
        Dk::Era {
            dots: false,
            upper: true,
        },
    ),
    kw(
        "AM",
        Dk::Meridiem {
            dots: false,
            upper: true,
        },
    ),
    kw(
        "B.C.",
        Dk::Era {
            dots: true,
            upper: true,
        },
    ),
    kw(
        "BC",
        Dk::Era {
            dots: false,
            upper: true,
        },
    ),
    kw("CC", Dk::Cc),
    kw("DAY", Dk::DayName(Case::Upper)),
    kw("DDD", Dk::Ddd),
    kw("DD", Dk::Dd),
    kw("DY", Dk::DayAbbr(Case::Upper)),
    kw("Day", Dk::DayName(Case::Init)),
    kw("Dy", Dk::DayAbbr(Case::Init)),
    kw("D", Dk::D),
    kw("FF1", Dk::Ff(1)),
    kw("FF2", Dk::Ff(2)),
    kw("FF3", Dk::Ff(3)),
    kw("FF4", Dk::Ff(4)),
    kw("FF5", Dk::Ff(5)),
    kw("FF6", Dk::Ff(6)),
    kw("FX", Dk::Fx),
    kw("HH24", Dk::Hh24),
    kw("HH12", Dk::Hh12),
    kw("HH", Dk::Hh),
    kw("IDDD", Dk::Iddd),
    kw("ID", Dk::Id),
    kw("IW", Dk::Iw),
    kw("IYYY", Dk::Iyyy),
    kw("IYY", Dk::Iyy),
    kw("IY", Dk::Iy),
    kw("I", Dk::I),
    kw("J", Dk::J),
    kw("MI", Dk::Mi),
    kw("MM", Dk::Mm),
    kw("MONTH", Dk::MonthName(Case::Upper)),
    kw("MON", Dk::MonthAbbr(Case::Upper)),
    kw("MS", Dk::Ms),
    kw("Month", Dk::MonthName(Case::Init)),
    kw("Mon", Dk::MonthAbbr(Case::Init)),
    kw("OF", Dk::Of),
    kw(
        "P.M.",
        Dk::Meridiem {
            dots: true,
            upper: true,
        },
    ),
    kw(
        "PM",
        Dk::Meridiem {
            dots: false,
            upper: true,
        },
    ),
    kw("Q", Dk::Q),
    kw("RM", Dk::Rm { upper: true }),
    kw("SSSSS", Dk::Ssss),
    kw("SSSS", Dk::Ssss),
    kw("SS", Dk::Ss),
    kw("TZH", Dk::Tzh),
    kw("TZM", Dk::Tzm),
    kw("TZ", Dk::Tz { upper: true }),
    kw("US", Dk::Us),
    kw("WW", Dk::Ww),
    kw("W", Dk::W),
    kw("Y,YYY", Dk::YComma),
    kw("YYYY", Dk::Yyyy),
    kw("YYY", Dk::Yyy),
    kw("YY", Dk::Yy),
    kw("Y", Dk::Y),
    kw(
        "a.d.",
        Dk::Era {
            dots: true,
            upper: false,
        },
    ),
    kw(
        "a.m.",
        Dk::Meridiem {
            dots: true,
            upper: false,
        },
    ),
    kw(
        "ad",
        Dk::Era {
            dots: false,
            upper: false,
        },
    ),
    kw(
        "am",
        Dk::Meridiem {
            dots: false,
            upper: false,
        },
    ),
    kw(
        "b.c.",
        Dk::Era {
            dots: true,
            upper: false,
        },
    ),
    kw(
        "bc",
        Dk::Era {
            dots: false,
            upper: false,
        },
    ),
    kw("cc", Dk::Cc),
    kw("day", Dk::DayName(Case::Lower)),
    kw("ddd", Dk::Ddd),
    kw("dd", Dk::Dd),
    kw("dy", Dk::DayAbbr(Case::Lower)),
    kw("d", Dk::D),
    kw("ff1", Dk::Ff(1)),
    kw("ff2", Dk::Ff(2)),
    kw("ff3", Dk::Ff(3)),
    kw("ff4", Dk::Ff(4)),
    kw("ff5", Dk::Ff(5)),
    kw("ff6", Dk::Ff(6)),
    kw("fx", Dk::Fx),
    kw("hh24", Dk::Hh24),
    kw("hh12", Dk::Hh12),
    kw("hh", Dk::Hh),
    kw("iddd", Dk::Iddd),
    kw("id", Dk::Id),
    kw("iw", Dk::Iw),
    kw("iyyy", Dk::Iyyy),
    kw("iyy", Dk::Iyy),
    kw("iy", Dk::Iy),
    kw("i", Dk::I),
    kw("j", Dk::J),
    kw("mi", Dk::Mi),
    kw("mm", Dk::Mm),
    kw("month", Dk::MonthName(Case::Lower)),
    kw("mon", Dk::MonthAbbr(Case::Lower)),
    kw("ms", Dk::Ms),
    kw("of", Dk::Of),
    kw(
        "p.m.",
        Dk::Meridiem {
            dots: true,
            upper: false,
        },
    ),
    kw(
        "pm",
        Dk::Meridiem {
            dots: false,
            upper: false,
        },
    ),
    kw("q", Dk::Q),
    kw("rm", Dk::Rm { upper: false }),
    kw("sssss", Dk::Ssss),
    kw("ssss", Dk::Ssss),
    kw("ss", Dk::Ss),
    kw("tzh", Dk::Tzh),
    kw("tzm", Dk::Tzm),
    kw("tz", Dk::Tz { upper: false }),
    kw("us", Dk::Us),
    kw("ww", Dk::Ww),
    kw("w", Dk::W),
    kw("y,yyy", Dk::YComma),
    kw("yyyy", Dk::Yyyy),
    kw("yyy", Dk::Yyy),
    kw("yy", Dk::Yy),
    kw("y", Dk::Y),
];

pub(super) const MONTHS_FULL: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
pub(super) const MONTHS_ABBR: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
pub(super) const DAYS_FULL: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];
pub(super) const DAYS_ABBR: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
/// Roman month numerals, December first (PostgreSQL's `rm_months_lower`).
pub(super) const RM_MONTHS: [&str; 12] = [
    "xii", "xi", "x", "ix", "viii", "vii", "vi", "v", "iv", "iii", "ii", "i",
];

/// A parsed datetime template (parse once per pattern, apply to many values).
///
/// Holds the same node list PostgreSQL's `parse_format` builds, so the same
/// template drives both `to_char` ([`DateTimeTemplate::format`]) and
/// `to_timestamp`/`to_date` ([`DateTimeTemplate::parse_value`]).
#[derive(Clone, Debug)]
pub struct DateTimeTemplate {
    pub(super) nodes: Vec<Node<Dk>>,
    empty_pattern: bool,
}

/// The broken-down time `DCH_to_char` works on (PostgreSQL's `struct pg_tm`,
/// with the astronomical year: 0 is 1 BC).
struct Tm {
    year: i32,
    mon: i32,
    mday: i32,
    hour: i32,
    min: i32,
    sec: i32,
    fsec: i32,
    wday: i32,
    yday: i32,
    gmtoff: i32,
}

impl DateTimeTemplate {
    /// Parses a PostgreSQL datetime template. Err(message) for patterns not
    /// implemented (never silently echo them).
    ///
    /// Every datetime pattern of PostgreSQL 15 is implemented (the `SP`
    /// suffix is accepted and ignored, as PostgreSQL does), so this currently
    /// always succeeds. Note that PostgreSQL's `to_char` returns NULL for an
    /// empty pattern: callers should check [`DateTimeTemplate::is_empty`].
    pub fn parse(pattern: &str) -> Result<Self, String> {
        Ok(Self {
            nodes: tokenize(pattern, DCH_KEYWORDS, true),
            empty_pattern: pattern.is_empty(),
        })
    }

    /// True when the pattern text was empty: PostgreSQL's `to_char` answers
    /// NULL then (while `to_timestamp` still returns its default value).
    pub fn is_empty(&self) -> bool {
        self.empty_pattern
    }

    /// to_char(timestamp, pattern): `local` is the wall-clock time; `offset_seconds` is the UTC offset of
    /// the value (Some for timestamptz, None for timestamp without time zone); `zone_abbrev` is the zone
    /// abbreviation PostgreSQL would print for TZ/tz (e.g. "UTC", "CET"), None when unknown.
    ///
    /// The offset is in seconds east of UTC (CET is `Some(3600)`). As in
    /// PostgreSQL, `TZ`/`tz` print nothing for a timestamp without time zone,
    /// while `TZH`, `TZM` and `OF` print a zero offset for it.
    pub fn format(
        &self,
        local: NaiveDateTime,
        offset_seconds: Option<i32>,
        zone_abbrev: Option<&str>,
    ) -> Result<String, String> {
        let date = local.date();
        let jd = date2j(date.year(), date.month() as i32, date.day() as i32);
        let tm = Tm {
            year: date.year(),
            mon: date.month() as i32,
            mday: date.day() as i32,
            hour: local.hour() as i32,
            min: local.minute() as i32,
            sec: local.second() as i32,
            fsec: (local.nanosecond() / 1000).min(999_999) as i32,
            wday: (jd + 1).rem_euclid(7) as i32,
            yday: date.ordinal() as i32,
            gmtoff: offset_seconds.unwrap_or(0),
        };
        let tzn: Option<String> = offset_seconds.map(|off| match zone_abbrev {
            Some(abbrev) => abbrev.to_string(),
            None => numeric_zone_abbrev(off),
        });
        let mut out = String::new();
        for node in &self.nodes {
            let (kw, suffix) = match node {
                Node::Literal { text, .. } => {
                    out.push_str(text);
                    continue;
                }
                Node::Action { kw, suffix } => (kw, *suffix),
            };
            let fm = suffix & SUF_FM != 0;
            let tm_mode = suffix & SUF_TM != 0;
            let pm = tm.hour % 24 >= 12;
            // Numbers formatted as "%0*d", with width 0 under FM.
            let num = |v: i64, width: usize| {
                if fm {
                    v.to_string()
                } else {
                    format!("{v:0width$}")
                }
            };
            let s: String = match kw.key {
                Dk::Meridiem { dots, upper } => meridiem(dots, upper, pm),
                Dk::Era { dots, upper } => {
                    let bc = tm.year <= 0;
                    let s = match (dots, bc) {
                        (true, true) => "B.C.",
                        (true, false) => "A.D.",
                        (false, true) => "BC",
                        (false, false) => "AD",
                    };
                    if upper {
                        s.to_string()
                    } else {
                        s.to_ascii_lowercase()
                    }
                }
                Dk::Hh | Dk::Hh12 => {
                    let h = if tm.hour % 12 == 0 { 12 } else { tm.hour % 12 };
                    num(h.into(), 2)
                }
                Dk::Hh24 => num(tm.hour.into(), 2),
                Dk::Mi => num(tm.min.into(), 2),
                Dk::Ss => num(tm.sec.into(), 2),
                Dk::Ff(digits) => {
                    let d = usize::from(digits);
                    format!("{:0d$}", tm.fsec / 10_i32.pow(6 - u32::from(digits)))
                }
                Dk::Ms => format!("{:03}", tm.fsec / 1000),
                Dk::Us => format!("{:06}", tm.fsec),
                Dk::Ssss => (tm.hour * 3600 + tm.min * 60 + tm.sec).to_string(),
                Dk::Tz { upper } => match &tzn {
                    Some(t) if upper => t.clone(),
                    Some(t) => t.to_ascii_lowercase(),
                    None => String::new(),
                },
                Dk::Tzh => {
                    let sign = if tm.gmtoff >= 0 { '+' } else { '-' };
                    format!("{sign}{:02}", tm.gmtoff.unsigned_abs() / 3600)
                }
                Dk::Tzm => format!("{:02}", tm.gmtoff.unsigned_abs() % 3600 / 60),
                Dk::Of => {
                    let sign = if tm.gmtoff >= 0 { '+' } else { '-' };
                    let abs = tm.gmtoff.unsigned_abs();
                    let mut s = format!("{sign}{}", num((abs / 3600).into(), 2));
                    if !abs.is_multiple_of(3600) {
                        s.push_str(&format!(":{:02}", abs % 3600 / 60));
                    }
                    s
                }
                Dk::MonthName(case) => {
                    let name = MONTHS_FULL[(tm.mon - 1) as usize];
                    name_text(name, case, fm || tm_mode, 9)
                }
                Dk::MonthAbbr(case) => name_text(MONTHS_ABBR[(tm.mon - 1) as usize], case, true, 0),
                Dk::DayName(case) => name_text(DAYS_FULL[tm.wday as usize], case, fm || tm_mode, 9),
                Dk::DayAbbr(case) => name_text(DAYS_ABBR[tm.wday as usize], case, true, 0),
                Dk::Mm => num(tm.mon.into(), 2),
                Dk::Ddd => num(tm.yday.into(), 3),
                Dk::Iddd => num(date2isoyearday(tm.year, tm.mon, tm.mday), 3),
                Dk::Dd => num(tm.mday.into(), 2),
                Dk::D => (tm.wday + 1).to_string(),
                Dk::Id => (if tm.wday == 0 { 7 } else { tm.wday }).to_string(),
                Dk::Ww => num(((tm.yday - 1) / 7 + 1).into(), 2),
                Dk::Iw => num(date2isoweek(tm.year, tm.mon, tm.mday), 2),
                Dk::Q => ((tm.mon - 1) / 3 + 1).to_string(),
                Dk::Cc => {
                    let i = if tm.year > 0 {
                        (tm.year - 1) / 100 + 1
                    } else {
                        tm.year / 100 - 1
                    };
                    if (-99..=99).contains(&i) {
                        num(i.into(), if i >= 0 { 2 } else { 3 })
                    } else {
                        i.to_string()
                    }
                }
                Dk::YComma => {
                    let y = adjust_year(tm.year.into());
                    format!("{},{:03}", y / 1000, y - (y / 1000) * 1000)
                }
                Dk::Yyyy => num(adjust_year(tm.year.into()), 4),
                Dk::Iyyy => num(adjust_year(date2isoyear(tm.year, tm.mon, tm.mday)), 4),
                Dk::Yyy => num(adjust_year(tm.year.into()) % 1000, 3),
                Dk::Iyy => num(
                    adjust_year(date2isoyear(tm.year, tm.mon, tm.mday)) % 1000,
                    3,
                ),
                Dk::Yy => num(adjust_year(tm.year.into()) % 100, 2),
                Dk::Iy => num(adjust_year(date2isoyear(tm.year, tm.mon, tm.mday)) % 100, 2),
                Dk::Y => (adjust_year(tm.year.into()) % 10).to_string(),
                Dk::I => (adjust_year(date2isoyear(tm.year, tm.mon, tm.mday)) % 10).to_string(),
                Dk::Rm { upper } => {
                    let rm = RM_MONTHS[(12 - tm.mon) as usize];
                    let rm = if upper {
                        rm.to_ascii_uppercase()
                    } else {
                        rm.to_string()
                    };
                    if fm { rm } else { format!("{rm:<4}") }
                }
                Dk::W => ((tm.mday - 1) / 7 + 1).to_string(),
                Dk::J => jd.to_string(),
                Dk::Fx => String::new(),
            };
            out.push_str(&s);
            let ordinal = suffix & (SUF_TH_UPPER | SUF_TH_LOWER) != 0;
            if ordinal && numeric_output(kw.key) {
                out.push_str(ordinal_suffix(&s, suffix & SUF_TH_UPPER != 0)?);
            }
        }
        Ok(out)
    }
}

/// `AM` / `P.M.` / `am` ... as the keyword spells it, for the afternoon when `pm`.
pub(super) fn meridiem(dots: bool, upper: bool, pm: bool) -> String {
    let s = match (dots, pm) {
        (true, true) => "P.M.",
        (true, false) => "A.M.",
        (false, true) => "PM",
        (false, false) => "AM",
    };
    if upper {
        s.to_string()
    } else {
        s.to_ascii_lowercase()
    }
}

/// Whether `DCH_to_char` appends the `TH`/`th` ordinal for this keyword.
fn numeric_output(key: Dk) -> bool {
    !matches!(
        key,
        Dk::Meridiem { .. }
            | Dk::Era { .. }
            | Dk::Tz { .. }
            | Dk::Tzh
            | Dk::Tzm
            | Dk::Of
            | Dk::MonthName(_)
            | Dk::MonthAbbr(_)
            | Dk::DayName(_)
            | Dk::DayAbbr(_)
            | Dk::Rm { .. }
            | Dk::Fx
    )
}

/// A month or day name in the pattern's letter case, blank-padded on the
/// right to `width` unless `no_pad` (FM, TM, or an abbreviation).
fn name_text(name: &str, case: Case, no_pad: bool, width: usize) -> String {
    let s = match case {
        Case::Upper => name.to_ascii_uppercase(),
        Case::Init => name.to_string(),
        Case::Lower => name.to_ascii_lowercase(),
    };
    if no_pad { s } else { format!("{s:<width$}") }
}

/// How PostgreSQL (via the tz database) spells a zone without a letter
/// abbreviation: "+02", "-0530", "+053045".
fn numeric_zone_abbrev(offset: i32) -> String {
    let sign = if offset >= 0 { '+' } else { '-' };
    let abs = offset.unsigned_abs();
    let (h, m, s) = (abs / 3600, abs % 3600 / 60, abs % 60);
    if s != 0 {
        format!("{sign}{h:02}{m:02}{s:02}")
    } else if m != 0 {
        format!("{sign}{h:02}{m:02}")
    } else {
        format!("{sign}{h:02}")
    }
}

/// PostgreSQL's `ADJUST_YEAR` for timestamps: 1 BC (year 0) prints as 1.
fn adjust_year(year: i64) -> i64 {
    if year <= 0 { -(year - 1) } else { year }
}

/// PostgreSQL's `date2j`: Julian day number of a (proleptic Gregorian) date.
/// Month and day may be out of range; the result then rolls over as in C.
pub(super) fn date2j(year: i32, month: i32, day: i32) -> i64 {
    let (mut y, mut m) = (i64::from(year), i64::from(month));
    if m > 2 {
        m += 1;
        y += 4800;
    } else {
        m += 13;
        y += 4799;
    }
    let century = y / 100;
    let mut julian = y * 365 - 32167;
    julian += y / 4 - century + century / 4;
    julian + 7834 * m / 256 + i64::from(day)
}

/// PostgreSQL's `j2date` (with its unsigned 32-bit arithmetic).
pub(super) fn j2date(jd: i32) -> (i32, i32, i32) {
    let mut julian = (jd as u32).wrapping_add(32044);
    let mut quad = julian / 146_097;
    let extra = (julian.wrapping_sub(quad.wrapping_mul(146_097)))
        .wrapping_mul(4)
        .wrapping_add(3);
    julian = julian
        .wrapping_add(60)
        .wrapping_add(quad.wrapping_mul(3))
        .wrapping_add(extra / 146_097);
    quad = julian / 1461;
    julian = julian.wrapping_sub(quad.wrapping_mul(1461));
    let mut y = (julian.wrapping_mul(4) / 1461) as i32;
    julian = if y != 0 {
        julian.wrapping_add(305) % 365
    } else {
        julian.wrapping_add(306) % 366
    } + 123;
    y = y.wrapping_add(quad.wrapping_mul(4) as i32);
    let year = y.wrapping_sub(4800);
    let quad = julian.wrapping_mul(2141) / 65536;
    let day = julian.wrapping_sub(7834u32.wrapping_mul(quad) / 256) as i32;
    let month = (quad.wrapping_add(10) % 12 + 1) as i32;
    (year, month, day)
}

/// Day of week of a Julian day, 0 = Sunday (PostgreSQL's `j2day`).
fn j2day(jd: i64) -> i64 {
    (jd + 1).rem_euclid(7)
}

/// Julian day of the first day of ISO week `week` of ISO year `year`.
pub(super) fn isoweek2j(year: i32, week: i32) -> i64 {
    let day4 = date2j(year, 1, 4);
    let day0 = j2day(day4 - 1);
    (i64::from(week) - 1) * 7 + (day4 - day0)
}

/// Start of the ISO week-numbering year that contains the given day, and that year.
fn iso_year_start(year: i32, mon: i32, mday: i32) -> (i64, i64) {
    let dayn = date2j(year, mon, mday);
    let mut year = i64::from(year);
    let mut start = isoweek2j(year as i32, 1);
    if dayn < start {
        year -= 1;
        start = isoweek2j(year as i32, 1);
    }
    if (dayn - start) / 7 + 1 >= 52 {
        let next = isoweek2j((year + 1) as i32, 1);
        if dayn >= next {
            year += 1;
            start = next;
        }
    }
    (start, year)
}

fn date2isoweek(year: i32, mon: i32, mday: i32) -> i64 {
    let (start, _) = iso_year_start(year, mon, mday);
    (date2j(year, mon, mday) - start) / 7 + 1
}

fn date2isoyear(year: i32, mon: i32, mday: i32) -> i64 {
    iso_year_start(year, mon, mday).1
}

fn date2isoyearday(year: i32, mon: i32, mday: i32) -> i64 {
    date2j(year, mon, mday) - iso_year_start(year, mon, mday).0 + 1
}
