//! PostgreSQL template-pattern formatting and parsing (`to_char`, `to_timestamp`,
//! `to_date`), as pure functions over `chrono` and std.
//!
//! deltagres must never answer differently from PostgreSQL. The template
//! language of PostgreSQL 15 (docs section 9.8, "Data Type Formatting
//! Functions") is full of quirks: fixed-width padding of month and day names,
//! the leading blank reserved for the sign in numeric output, `#` fill on
//! overflow, how `FM` strips zeros, how a separator in a `to_timestamp`
//! template matches any separator in the input, and so on. This module is a
//! careful port of the relevant parts of PostgreSQL 15's
//! `src/backend/utils/adt/formatting.c`, checked case by case against a real
//! PostgreSQL 15 server. Every pattern PostgreSQL 15 accepts is implemented;
//! should one ever be missing, the functions must return `Err` with a message
//! naming it: an unsupported pattern is an error, never a silent echo of the
//! template. Errors carry PostgreSQL's own message text.
//!
//! The module is split in:
//! * `datetime`: template parsing and `to_char(timestamp[tz], text)`;
//! * `from_char`: `to_timestamp(text, text)` / `to_date(text, text)`;
//! * `number`: `to_char(numeric|int|float, text)`.
//!
//! Assumptions and known limits:
//! * the C locale (`lc_time`/`lc_numeric` = 'C'): `TM` selects the same
//!   English names as the plain patterns (but, as in PostgreSQL, without the
//!   blank padding), `D`/`G`/`L` are ".", "," and " ";
//! * `chrono` stops at year 262142, so `to_timestamp` of a later year (which
//!   PostgreSQL accepts up to 294276) is a "timestamp out of range" error.

mod datetime;
mod from_char;
mod interval;
mod number;
#[cfg(test)]
mod tests;

pub use datetime::DateTimeTemplate;
pub use interval::IntervalFormatError;
pub use number::format_float;
pub use number::format_number;

/// How a literal (non-pattern) piece of a template is classified; matters
/// only for `to_timestamp`, where separators and spaces match loosely.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum LitKind {
    /// Ordinary text (including everything inside double quotes).
    Char,
    /// An ASCII punctuation character outside quotes (datetime templates only).
    Separator,
    /// White space outside quotes.
    Space,
}

/// A template keyword: its spelling in the template and what it means.
#[derive(Debug)]
struct Keyword<K: 'static> {
    name: &'static str,
    key: K,
}

/// One element of a parsed template.
#[derive(Clone, Debug)]
enum Node<K: 'static> {
    /// A template pattern with its modifier bits (`SUF_*`).
    Action { kw: &'static Keyword<K>, suffix: u8 },
    /// Literal text, copied to the output by `to_char`.
    Literal { text: String, kind: LitKind },
}

/// `FM` prefix: fill mode.
const SUF_FM: u8 = 1;
/// `TH` suffix: upper-case ordinal.
const SUF_TH_UPPER: u8 = 2;
/// `th` suffix: lower-case ordinal.
const SUF_TH_LOWER: u8 = 4;
/// `SP` suffix: accepted and ignored, exactly as PostgreSQL does.
const SUF_SP: u8 = 8;
/// `TM` prefix: translation mode.
const SUF_TM: u8 = 16;

const PREFIXES: [(&str, u8); 4] = [
    ("FM", SUF_FM),
    ("fm", SUF_FM),
    ("TM", SUF_TM),
    ("tm", SUF_TM),
];
const POSTFIXES: [(&str, u8); 3] = [("TH", SUF_TH_UPPER), ("th", SUF_TH_LOWER), ("SP", SUF_SP)];

/// Splits a template into keywords and literals, like PostgreSQL's
/// `parse_format`. Keywords are searched case-sensitively in table order among
/// the entries sharing the first character, so the table lists longer
/// keywords first ("MONTH" before "MON"). `dch` enables the datetime-only
/// modifiers and the separator classification.
fn tokenize<K>(pattern: &str, table: &'static [Keyword<K>], dch: bool) -> Vec<Node<K>> {
    let b = pattern.as_bytes();
    let b = &b[..b.iter().position(|&c| c == 0).unwrap_or(b.len())];
    let mut nodes = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let mut suffix = 0;
        if dch && let Some((bits, len)) = affix_at(&b[i..], &PREFIXES) {
            suffix |= bits;
            i += len;
        }
        if i >= b.len() {
            break;
        }
        let rest = &b[i..];
        if let Some(kw) = table
            .iter()
            .filter(|k| k.name.as_bytes()[0] == rest[0])
            .find(|k| rest.starts_with(k.name.as_bytes()))
        {
            i += kw.name.len();
            if dch && let Some((bits, len)) = affix_at(&b[i..], &POSTFIXES) {
                suffix |= bits;
                i += len;
            }
            nodes.push(Node::Action { kw, suffix });
            continue;
        }
        if b[i] == b'"' {
            i += 1;
            while i < b.len() {
                if b[i] == b'"' {
                    i += 1;
                    break;
                }
                if b[i] == b'\\' && i + 1 < b.len() {
                    i += 1;
                }
                let len = char_len(b, i);
                nodes.push(Node::Literal {
                    text: lossy(&b[i..i + len]),
                    kind: LitKind::Char,
                });
                i += len;
            }
        } else {
            if b[i] == b'\\' && b.get(i + 1) == Some(&b'"') {
                i += 1;
            }
            let len = char_len(b, i);
            let kind = if dch && is_separator_char(b[i]) {
                LitKind::Separator
            } else if is_c_space(b[i]) {
                LitKind::Space
            } else {
                LitKind::Char
            };
            nodes.push(Node::Literal {
                text: lossy(&b[i..i + len]),
                kind,
            });
            i += len;
        }
    }
    nodes
}

fn affix_at(rest: &[u8], list: &[(&str, u8)]) -> Option<(u8, usize)> {
    list.iter()
        .find(|(name, _)| rest.starts_with(name.as_bytes()))
        .map(|&(name, bits)| (bits, name.len()))
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Length of the (UTF-8) character starting at `b[i]`, clamped to the input.
fn char_len(b: &[u8], i: usize) -> usize {
    let Some(&lead) = b.get(i) else { return 0 };
    let len = match lead {
        0xF0.. => 4,
        0xE0.. => 3,
        0xC0.. => 2,
        _ => 1,
    };
    len.min(b.len() - i)
}

/// C-locale `isspace`.
fn is_c_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// PostgreSQL's `is_separator_char`: printable ASCII that is not alphanumeric.
fn is_separator_char(c: u8) -> bool {
    c > 0x20 && c < 0x7f && !c.is_ascii_alphanumeric()
}

/// C `strtol(s + start, &end, 10)`: returns (value, end index, overflowed).
/// When no digits are found, `end == start` and the value is 0.
fn strtol(s: &[u8], start: usize) -> (i64, usize, bool) {
    let mut i = start;
    while i < s.len() && is_c_space(s[i]) {
        i += 1;
    }
    let neg = match s.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let digits_start = i;
    let mut value: i64 = 0;
    let mut overflow = false;
    while i < s.len() && s[i].is_ascii_digit() {
        let d = i64::from(s[i] - b'0');
        match value.checked_mul(10).and_then(|v| {
            if neg {
                v.checked_sub(d)
            } else {
                v.checked_add(d)
            }
        }) {
            Some(v) => value = v,
            None => overflow = true,
        }
        i += 1;
    }
    if i == digits_start {
        return (0, start, false);
    }
    if overflow {
        value = if neg { i64::MIN } else { i64::MAX };
    }
    (value, i, overflow)
}

/// PostgreSQL's `get_th`: the ordinal suffix for a formatted number
/// ("1" -> "st", "12" -> "th", "23" -> "rd").
fn ordinal_suffix(num: &str, upper: bool) -> Result<&'static str, String> {
    let b = num.as_bytes();
    let Some(&last) = b.last().filter(|c| c.is_ascii_digit()) else {
        return Err(format!("\"{num}\" is not a number"));
    };
    let teen = b.len() > 1 && b[b.len() - 2] == b'1';
    let idx = match last {
        b'1' if !teen => 0,
        b'2' if !teen => 1,
        b'3' if !teen => 2,
        _ => 3,
    };
    Ok(if upper {
        ["ST", "ND", "RD", "TH"][idx]
    } else {
        ["st", "nd", "rd", "th"][idx]
    })
}
