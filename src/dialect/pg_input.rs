//! PostgreSQL's input forms of dates, intervals and numerics that Arrow's parsers refuse,
//! rewritten as constant texts to forms they read: intervals with a clock part (`'1 day 03:04:05'`,
//! `'-1 day +02:00'`), ISO 8601 durations (`'P1Y2M3DT4H'`), `@ ... ago`; and dates written with
//! a month's name or slashes (`'March 7, 2024'`, `'7 Mar 2024'`, `'2024/03/07'`, `'03/07/2024'`
//! in PostgreSQL's default MDY order, `'20240307'`); numerics with an exponent (`'1e3'::numeric`).
//! Only constants are rewritten (`INTERVAL
//! '...'`, `'...'::interval`, `DATE '...'`, `CAST('...' AS date)`); a text that fits none of
//! these shapes is left for the engine's parser to report.

use sqlparser::ast::{CastKind, DataType, ExactNumberInfo, Expr, Value};

/// Rewrites the constant date or interval text of `expr`, if it is one.
pub fn rewrite(expr: &mut Expr) {
    // `TYPE 'text'` is `CAST('text' AS TYPE)` in PostgreSQL (and in DataFusion's plan): one form
    // for every cast rule below (`numeric '1.5'` kept ten fractional digits).
    if let Expr::TypedString(typed) = expr {
        *expr = Expr::Cast {
            kind: CastKind::Cast,
            expr: Box::new(Expr::Value(typed.value.clone())),
            data_type: typed.data_type.clone(),
            array: false,
            format: None,
        };
    }
    if numeric_cast(expr) || json_cast(expr) {
        return;
    }
    if let Expr::Interval(interval) = expr
        && interval.leading_field.is_none()
    {
        if let Expr::Value(v) = interval.value.as_mut()
            && let Value::SingleQuotedString(text) = &mut v.value
            && let Some(normal) = normalize_interval(text)
        {
            *text = normal;
        }
        return;
    }
    let Some((data_type, text)) = typed_constant(expr) else {
        return;
    };
    let normal = match data_type {
        DataType::Interval { .. } => normalize_interval(text),
        DataType::Date => normalize_date(text),
        _ => None,
    };
    if let Some(normal) = normal {
        *text = normal;
    }
}

/// The type and text of a typed constant: `TYPE 'text'` or `CAST('text' AS type)` (`'text'::type`).
pub(super) fn typed_constant(expr: &mut Expr) -> Option<(&DataType, &mut String)> {
    let (data_type, value) = match expr {
        Expr::TypedString(typed) => (&typed.data_type, &mut typed.value.value),
        Expr::Cast {
            data_type, expr, ..
        } => match expr.as_mut() {
            Expr::Value(v) => (&*data_type, &mut v.value),
            _ => return None,
        },
        _ => return None,
    };
    match value {
        Value::SingleQuotedString(text) => Some((data_type, text)),
        _ => None,
    }
}

/// Whether a type is `numeric` (or `decimal`) with no precision.
fn unconstrained_numeric(data_type: &DataType) -> bool {
    matches!(
        data_type,
        DataType::Numeric(ExactNumberInfo::None)
            | DataType::Decimal(ExactNumberInfo::None)
            | DataType::Dec(ExactNumberInfo::None)
    )
}

/// `CAST(x AS numeric)` with no precision: a constant gets the precision and scale its text
/// has (`'1e3'` is `1000`, numeric(4, 0)); any other value is planned as `pg_numeric(x)`, which
/// keeps a value's scale (see `semantics::numeric_cast`). Returns whether `expr` was one.
fn numeric_cast(expr: &mut Expr) -> bool {
    let Some((data_type, value)) = plain_cast(expr) else {
        return false;
    };
    if !unconstrained_numeric(data_type) {
        return false;
    }
    let constant = match value.as_ref() {
        Expr::Value(v) => match &v.value {
            Value::SingleQuotedString(text) | Value::Number(text, _) => Some(text.clone()),
            _ => None,
        },
        _ => None,
    };
    if let Some(text) = constant {
        let plain = expand_exponent(&text).unwrap_or_else(|| text.trim().to_string());
        if let Some((precision, scale)) = digits_of(&plain) {
            *data_type = DataType::Numeric(ExactNumberInfo::PrecisionAndScale(precision, scale));
            if let Expr::Value(v) = value.as_mut() {
                v.value = Value::SingleQuotedString(plain);
            }
        }
        // Not a number: the engine's cast reports the text (22P02).
        return true;
    }
    *expr = super::pg_rewrites::call("pg_numeric", vec![(**value).clone()]);
    true
}

/// The target type and operand of `CAST(x AS t)` or `x::t` (without FORMAT).
fn plain_cast(expr: &mut Expr) -> Option<(&mut DataType, &mut Box<Expr>)> {
    match expr {
        Expr::Cast {
            kind: CastKind::Cast | CastKind::DoubleColon,
            data_type,
            expr: value,
            format: None,
            ..
        } => Some((data_type, value)),
        _ => None,
    }
}

/// `CAST(x AS json)` / `x::jsonb`: planned as `pg_json(x)` / `pg_jsonb(x)` (the document checked,
/// and for jsonb written in its form; see `semantics::json`), since DataFusion has no JSON type;
/// `x::uuid` as `pg_uuid(x)` alike.
fn json_cast(expr: &mut Expr) -> bool {
    let Some((data_type, value)) = plain_cast(expr) else {
        return false;
    };
    let function = match data_type {
        DataType::JSON => "pg_json",
        DataType::JSONB => "pg_jsonb",
        // uuid: PostgreSQL's input checks and canonical text (see `semantics::uuid_type`).
        DataType::Uuid => "pg_uuid",
        _ => return false,
    };
    *expr = super::pg_rewrites::call(function, vec![(**value).clone()]);
    true
}

/// The precision and scale of a plain decimal text (`-12.50` is (4, 2)); `None` when it is not
/// one or needs more than 38 digits.
fn digits_of(text: &str) -> Option<(u64, i64)> {
    let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
    let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    if whole.is_empty() && fraction.is_empty()
        || !whole
            .bytes()
            .chain(fraction.bytes())
            .all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let whole = whole.trim_start_matches('0');
    let precision = (whole.len() + fraction.len()).max(1) as u64;
    (precision <= 38).then_some((precision, fraction.len() as i64))
}

/// An interval text in Arrow's `<number> <unit>` form, or `None` when Arrow reads it as it is
/// (or nothing here can).
pub fn normalize_interval(text: &str) -> Option<String> {
    let trimmed = text.trim();
    if let Some(iso) = trimmed.strip_prefix(['P', 'p']) {
        return iso_duration(iso);
    }
    let mut tokens: Vec<&str> = trimmed.split_whitespace().collect();
    let mut changed = false;
    if tokens.first() == Some(&"@") {
        tokens.remove(0);
        changed = true;
    }
    let ago = tokens.last().is_some_and(|t| t.eq_ignore_ascii_case("ago"));
    if ago {
        tokens.pop();
        changed = true;
    }
    let mut parts: Vec<(String, &str)> = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let token = tokens[i];
        if token.contains(':') {
            parts.extend(clock(token)?);
            changed = true;
            i += 1;
            continue;
        }
        let (number, unit) = match token.find(|c: char| c.is_ascii_alphabetic()) {
            Some(at) if at > 0 => (&token[..at], &token[at..]),
            _ => {
                let unit = tokens.get(i + 1).copied().unwrap_or("second");
                i += 1;
                (token, unit)
            }
        };
        if number.starts_with('+') {
            changed = true;
        }
        parts.push((number.trim_start_matches('+').to_string(), unit));
        i += 1;
    }
    if !changed || parts.is_empty() {
        return None;
    }
    let words: Vec<String> = parts
        .into_iter()
        .map(|(number, unit)| {
            let number = if ago { negate(&number) } else { number };
            format!("{number} {unit}")
        })
        .collect();
    Some(words.join(" "))
}

fn negate(number: &str) -> String {
    match number.strip_prefix('-') {
        Some(positive) => positive.to_string(),
        None => format!("-{number}"),
    }
}

/// `[+-]H:M[:S[.f]]` as hours, minutes and seconds carrying the sign.
fn clock(token: &str) -> Option<Vec<(String, &'static str)>> {
    let (sign, body) = match token.as_bytes().first()? {
        b'-' => ("-", &token[1..]),
        b'+' => ("", &token[1..]),
        _ => ("", token),
    };
    let fields: Vec<&str> = body.split(':').collect();
    let numeric = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit() || c == '.');
    if !(2..=3).contains(&fields.len()) || !fields.iter().all(|f| numeric(f)) {
        return None;
    }
    let mut out = vec![
        (format!("{sign}{}", fields[0]), "hours"),
        (format!("{sign}{}", fields[1]), "minutes"),
    ];
    if let Some(seconds) = fields.get(2) {
        out.push((format!("{sign}{seconds}"), "seconds"));
    }
    Some(out)
}

/// The body of an ISO 8601 duration after its `P`: `1Y2M3DT4H5M6S`, weeks `2W`.
fn iso_duration(body: &str) -> Option<String> {
    let (date, time) = match body.split_once(['T', 't']) {
        Some((d, t)) => (d, t),
        None => (body, ""),
    };
    let mut out = Vec::new();
    for (part, units) in [
        (
            date,
            &[
                ('Y', "years"),
                ('M', "months"),
                ('W', "weeks"),
                ('D', "days"),
            ][..],
        ),
        (
            time,
            &[('H', "hours"), ('M', "minutes"), ('S', "seconds")][..],
        ),
    ] {
        let mut number = String::new();
        for c in part.chars() {
            if c.is_ascii_digit() || c == '.' || c == '-' {
                number.push(c);
                continue;
            }
            let unit = units.iter().find(|(u, _)| u.eq_ignore_ascii_case(&c))?.1;
            if number.is_empty() {
                return None;
            }
            out.push(format!("{number} {unit}"));
            number.clear();
        }
        if !number.is_empty() {
            return None;
        }
    }
    (!out.is_empty()).then(|| out.join(" "))
}

/// A number text with an exponent (`1.5e3`, `2E-2`) written out (`1500`, `0.02`); `None` for any
/// other text.
pub fn expand_exponent(text: &str) -> Option<String> {
    let trimmed = text.trim();
    let at = trimmed.find(['e', 'E'])?;
    let exponent: i64 = trimmed[at + 1..].parse().ok()?;
    let mantissa = &trimmed[..at];
    let (sign, mantissa) = match mantissa.strip_prefix(['-', '+']) {
        Some(rest) => (if mantissa.starts_with('-') { "-" } else { "" }, rest),
        None => ("", mantissa),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if whole.is_empty() && fraction.is_empty()
        || !whole
            .bytes()
            .chain(fraction.bytes())
            .all(|b| b.is_ascii_digit())
        || exponent.abs() > 1000
    {
        return None;
    }
    let digits = format!("{whole}{fraction}");
    // The decimal point's place within `digits`.
    let point = whole.len() as i64 + exponent;
    let text = if point <= 0 {
        format!("0.{}{digits}", "0".repeat((-point) as usize))
    } else if point as usize >= digits.len() {
        format!("{digits}{}", "0".repeat(point as usize - digits.len()))
    } else {
        format!(
            "{}.{}",
            &digits[..point as usize],
            &digits[point as usize..]
        )
    };
    let text = text.trim_start_matches('0');
    let text = if text.is_empty() || text.starts_with('.') {
        format!("0{text}")
    } else {
        text.to_string()
    };
    Some(format!("{sign}{text}"))
}

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];
const WEEKDAYS: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

/// A date text as `YYYY-MM-DD`, or `None` when it already is one or has no shape read here.
/// The fields' ranges are left to the engine (February 30th stays an error there).
pub fn normalize_date(text: &str) -> Option<String> {
    let trimmed = text.trim();
    if trimmed.len() == 8 && trimmed.bytes().all(|b| b.is_ascii_digit()) {
        return Some(format!(
            "{}-{}-{}",
            &trimmed[..4],
            &trimmed[4..6],
            &trimmed[6..]
        ));
    }
    let tokens: Vec<&str> = trimmed
        .split([' ', ',', '/', '-', '.'])
        .filter(|t| !t.is_empty())
        .filter(|t| !is_weekday(t))
        .collect();
    let [a, b, c] = tokens[..] else {
        return None;
    };
    let month_of = |t: &str| month_number(t);
    let digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    let (year, month, day) = if let Some(m) = month_of(a) {
        // March 7, 2024
        (c, m, b)
    } else if let Some(m) = month_of(b) {
        // 7 March 2024, 2024-Mar-07
        if a.len() >= 3 { (a, m, c) } else { (c, m, a) }
    } else if [a, b, c].iter().all(|t| digits(t)) {
        if a.len() >= 3 {
            // 2024/03/07: already ISO with dashes is left alone
            if trimmed.contains('-') && !trimmed.contains(['/', '.', ' ']) {
                return None;
            }
            (a, b.parse().ok()?, c)
        } else {
            // 03/07/2024: month first, PostgreSQL's default DateStyle
            (c, a.parse().ok()?, b)
        }
    } else {
        return None;
    };
    if !digits(year) || !digits(day) || year.len() < 3 || day.len() > 2 {
        return None;
    }
    let day: u32 = day.parse().ok()?;
    Some(format!("{year:0>4}-{month:02}-{day:02}"))
}

fn month_number(token: &str) -> Option<u32> {
    let lower = token.to_ascii_lowercase();
    if lower.len() < 3 || !lower.bytes().all(|b| b.is_ascii_alphabetic()) {
        return None;
    }
    const FULL: [&str; 12] = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ];
    let index = MONTHS.iter().position(|m| lower.starts_with(m))?;
    let full = FULL[index];
    // "Mar", "March", and PostgreSQL's "Sept"
    (full.starts_with(&lower) || lower == "sept").then_some(index as u32 + 1)
}

fn is_weekday(token: &str) -> bool {
    let lower = token.to_ascii_lowercase();
    lower.len() >= 3
        && WEEKDAYS.iter().any(|d| lower.starts_with(d))
        && lower.bytes().all(|b| b.is_ascii_alphabetic())
        && month_number(token).is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_with_clocks_become_units() {
        let n = |t: &str| normalize_interval(t);
        assert_eq!(
            n("1 day 03:04:05").as_deref(),
            Some("1 day 03 hours 04 minutes 05 seconds")
        );
        assert_eq!(
            n("-1 day +02:00").as_deref(),
            Some("-1 day 02 hours 00 minutes")
        );
        assert_eq!(
            n("-03:04:05.5").as_deref(),
            Some("-03 hours -04 minutes -05.5 seconds")
        );
        assert_eq!(
            n("P1Y2M3DT4H5M6S").as_deref(),
            Some("1 years 2 months 3 days 4 hours 5 minutes 6 seconds")
        );
        assert_eq!(n("@ 2 days ago").as_deref(), Some("-2 days"));
        assert_eq!(n("3 days"), None);
        assert_eq!(n("1 day 3:4:5:6"), None);
    }

    #[test]
    fn numeric_texts_have_their_own_scale() {
        assert_eq!(digits_of("-12.50"), Some((4, 2)));
        assert_eq!(digits_of("1000"), Some((4, 0)));
        assert_eq!(digits_of("0.001"), Some((3, 3)));
        assert_eq!(digits_of("abc"), None);
    }

    #[test]
    fn exponents_are_written_out() {
        assert_eq!(expand_exponent("1e3").as_deref(), Some("1000"));
        assert_eq!(expand_exponent("1.5E3").as_deref(), Some("1500"));
        assert_eq!(expand_exponent("-2e-2").as_deref(), Some("-0.02"));
        assert_eq!(expand_exponent("12.345e1").as_deref(), Some("123.45"));
        assert_eq!(expand_exponent("0.5e0").as_deref(), Some("0.5"));
        assert_eq!(expand_exponent("12"), None);
        assert_eq!(expand_exponent("abc"), None);
    }

    #[test]
    fn dates_in_words_become_iso() {
        let n = |t: &str| normalize_date(t);
        assert_eq!(n("March 7, 2024").as_deref(), Some("2024-03-07"));
        assert_eq!(n("7 March 2024").as_deref(), Some("2024-03-07"));
        assert_eq!(n("Mar 7 2024").as_deref(), Some("2024-03-07"));
        assert_eq!(n("Thursday, March 7, 2024").as_deref(), Some("2024-03-07"));
        assert_eq!(n("2024/03/07").as_deref(), Some("2024-03-07"));
        assert_eq!(n("03/07/2024").as_deref(), Some("2024-03-07"));
        assert_eq!(n("20240307").as_deref(), Some("2024-03-07"));
        assert_eq!(n("2024-Mar-07").as_deref(), Some("2024-03-07"));
        assert_eq!(n("2024-03-07"), None);
        assert_eq!(n("not a date"), None);
        assert_eq!(n("Mayday 7 2024"), None);
    }
}
