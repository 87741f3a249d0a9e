//! Numeric templates: `to_char(numeric|int|float, text)`, a port of
//! PostgreSQL 15's `NUMDesc_prepare`, `numeric_to_char`/`float8_to_char`
//! and the `to_char` half of `NUM_processor`, for the C locale (decimal
//! point ".", thousands separator ",", currency symbol " ").

use super::{Keyword, Node, ordinal_suffix, tokenize};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Nk {
    Comma,
    Dec,
    Zero,
    Nine,
    B,
    C,
    D,
    E,
    Fm,
    G,
    L,
    Mi,
    Pl,
    Pr,
    Rn { upper: bool },
    Sg,
    Sp,
    S,
    Th { upper: bool },
    V,
}

const fn kw(name: &'static str, key: Nk) -> Keyword<Nk> {
    Keyword { name, key }
}

/// PostgreSQL 15's `NUM_keywords`, in its order.
static NUM_KEYWORDS: &[Keyword<Nk>] = &[
    kw(",", Nk::Comma),
    kw(".", Nk::Dec),
    kw("0", Nk::Zero),
    kw("9", Nk::Nine),
    kw("B", Nk::B),
    kw("C", Nk::C),
    kw("D", Nk::D),
    kw("EEEE", Nk::E),
    kw("FM", Nk::Fm),
    kw("G", Nk::G),
    kw("L", Nk::L),
    kw("MI", Nk::Mi),
    kw("PL", Nk::Pl),
    kw("PR", Nk::Pr),
    kw("RN", Nk::Rn { upper: true }),
    kw("SG", Nk::Sg),
    kw("SP", Nk::Sp),
    kw("S", Nk::S),
    kw("TH", Nk::Th { upper: true }),
    kw("V", Nk::V),
    kw("b", Nk::B),
    kw("c", Nk::C),
    kw("d", Nk::D),
    kw("eeee", Nk::E),
    kw("fm", Nk::Fm),
    kw("g", Nk::G),
    kw("l", Nk::L),
    kw("mi", Nk::Mi),
    kw("pl", Nk::Pl),
    kw("pr", Nk::Pr),
    kw("rn", Nk::Rn { upper: false }),
    kw("sg", Nk::Sg),
    kw("sp", Nk::Sp),
    kw("s", Nk::S),
    kw("th", Nk::Th { upper: false }),
    kw("v", Nk::V),
];

const F_DECIMAL: u32 = 0x01;
const F_ZERO: u32 = 0x04;
const F_BLANK: u32 = 0x08;
const F_FILLMODE: u32 = 0x10;
const F_LSIGN: u32 = 0x20;
const F_BRACKET: u32 = 0x40;
const F_MINUS: u32 = 0x80;
const F_PLUS: u32 = 0x100;
const F_ROMAN: u32 = 0x200;
const F_MULTI: u32 = 0x400;
const F_EEEE: u32 = 0x800;

const LSIGN_PRE: i32 = -1;
const LSIGN_POST: i32 = 1;

/// PostgreSQL's `NUMDesc`: what the template asks for.
#[derive(Default, Debug)]
struct NumDesc {
    pre: i32,
    post: i32,
    lsign: i32,
    flag: u32,
    pre_lsign_num: i32,
    multi: i32,
    zero_start: i32,
    zero_end: i32,
}

impl NumDesc {
    fn has(&self, f: u32) -> bool {
        self.flag & f != 0
    }

    /// PostgreSQL's `NUMDesc_prepare` for one keyword.
    fn prepare(&mut self, key: Nk) -> Result<(), String> {
        let err = |m: &str| Err(m.to_string());
        if self.has(F_EEEE) && key != Nk::E {
            return err("\"EEEE\" must be the last pattern used");
        }
        match key {
            Nk::Nine | Nk::Zero => {
                if self.has(F_BRACKET) {
                    return Err(format!(
                        "\"{}\" must be ahead of \"PR\"",
                        if key == Nk::Nine { 9 } else { 0 }
                    ));
                }
                if key == Nk::Nine && self.has(F_MULTI) {
                    self.multi += 1;
                } else if key == Nk::Nine {
                    if self.has(F_DECIMAL) {
                        self.post += 1
                    } else {
                        self.pre += 1
                    }
                } else {
                    if !self.has(F_ZERO) && !self.has(F_DECIMAL) {
                        self.flag |= F_ZERO;
                        self.zero_start = self.pre + 1;
                    }
                    if self.has(F_DECIMAL) {
                        self.post += 1
                    } else {
                        self.pre += 1
                    }
                    self.zero_end = self.pre + self.post;
                }
            }
            Nk::B => {
                if self.pre == 0 && self.post == 0 && !self.has(F_ZERO) {
                    self.flag |= F_BLANK;
                }
            }
            Nk::D | Nk::Dec => {
                if self.has(F_DECIMAL) {
                    return err("multiple decimal points");
                }
                if self.has(F_MULTI) {
                    return err("cannot use \"V\" and decimal point together");
                }
                self.flag |= F_DECIMAL;
            }
            Nk::Fm => self.flag |= F_FILLMODE,
            Nk::S => {
                if self.has(F_LSIGN) {
                    return err("cannot use \"S\" twice");
                }
                if self.has(F_PLUS) || self.has(F_MINUS) || self.has(F_BRACKET) {
                    return err("cannot use \"S\" and \"PL\"/\"MI\"/\"SG\"/\"PR\" together");
                }
                if !self.has(F_DECIMAL) {
                    self.lsign = LSIGN_PRE;
                    self.pre_lsign_num = self.pre;
                    self.flag |= F_LSIGN;
                } else if self.lsign == 0 {
                    self.lsign = LSIGN_POST;
                    self.flag |= F_LSIGN;
                }
            }
            Nk::Mi | Nk::Pl | Nk::Sg => {
                if self.has(F_LSIGN) {
                    let which = match key {
                        Nk::Mi => "MI",
                        Nk::Pl => "PL",
                        _ => "SG",
                    };
                    return Err(format!("cannot use \"S\" and \"{which}\" together"));
                }
                self.flag |= match key {
                    Nk::Mi => F_MINUS,
                    Nk::Pl => F_PLUS,
                    _ => F_MINUS | F_PLUS,
                };
            }
            Nk::Pr => {
                if self.has(F_LSIGN) || self.has(F_PLUS) || self.has(F_MINUS) {
                    return err("cannot use \"PR\" and \"S\"/\"PL\"/\"MI\"/\"SG\" together");
                }
                self.flag |= F_BRACKET;
            }
            Nk::Rn { .. } => self.flag |= F_ROMAN,
            Nk::V => {
                if self.has(F_DECIMAL) {
                    return err("cannot use \"V\" and decimal point together");
                }
                self.flag |= F_MULTI;
            }
            Nk::E => {
                if self.has(F_EEEE) {
                    return err("cannot use \"EEEE\" twice");
                }
                let others = F_BLANK
                    | F_FILLMODE
                    | F_LSIGN
                    | F_BRACKET
                    | F_MINUS
                    | F_PLUS
                    | F_ROMAN
                    | F_MULTI;
                if self.flag & others != 0 {
                    return err("\"EEEE\" is incompatible with other formats");
                }
                self.flag |= F_EEEE;
            }
            Nk::Comma | Nk::C | Nk::G | Nk::L | Nk::Sp | Nk::Th { .. } => {}
        }
        Ok(())
    }
}

fn parse_template(pattern: &str) -> Result<(Vec<Node<Nk>>, NumDesc), String> {
    let nodes = tokenize(pattern, NUM_KEYWORDS, false);
    let mut num = NumDesc::default();
    for node in &nodes {
        if let Node::Action { kw, .. } = node {
            num.prepare(kw.key)?;
        }
    }
    Ok((nodes, num))
}

/// A numeric value parsed from its decimal text: `digits` × 10^-`scale`.
enum NumVal {
    Finite {
        neg: bool,
        digits: Vec<u8>,
        scale: i64,
    },
    NaN,
    Inf {
        neg: bool,
    },
}

fn parse_numeric(text: &str) -> Result<NumVal, String> {
    let bad = || format!("invalid input syntax for type numeric: \"{text}\"");
    let t = text.trim_matches(|c: char| c.is_ascii_whitespace() || c == '\u{0b}');
    let (neg, body) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    if body.eq_ignore_ascii_case("infinity") || body.eq_ignore_ascii_case("inf") {
        return Ok(NumVal::Inf { neg });
    }
    if t.eq_ignore_ascii_case("nan") {
        return Ok(NumVal::NaN);
    }
    let (mantissa, exp) = match body.find(['e', 'E']) {
        Some(i) => {
            let e = &body[i + 1..];
            let digits = e.strip_prefix(['+', '-']).unwrap_or(e);
            if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()) {
                return Err(bad());
            }
            let v: i64 = e.parse().map_err(|_| bad())?;
            if !(-1000..=1000).contains(&v) {
                return Err(bad());
            }
            (&body[..i], v)
        }
        None => (body, 0),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if int.is_empty() && frac.is_empty()
        || !int.bytes().chain(frac.bytes()).all(|c| c.is_ascii_digit())
    {
        return Err(bad());
    }
    let digits: Vec<u8> = int
        .bytes()
        .chain(frac.bytes())
        .map(|c| c - b'0')
        .skip_while(|&d| d == 0)
        .collect();
    Ok(NumVal::Finite {
        neg,
        digits,
        scale: frac.len() as i64 - exp,
    })
}

/// Rounds `digits` × 10^-`scale` half away from zero to `post` decimals and
/// prints it as `numeric_out` does with that display scale (no sign).
fn round_text(digits: &[u8], scale: i64, post: i64) -> String {
    let mut d: Vec<u8> = digits.to_vec();
    let shift = post - scale;
    if shift >= 0 {
        d.extend(std::iter::repeat_n(0, shift as usize));
    } else {
        let drop = (-shift) as usize;
        let keep = d.len().saturating_sub(drop);
        let round_digit = if drop <= d.len() { d[keep] } else { 0 };
        d.truncate(keep);
        if round_digit >= 5 {
            let mut i = d.len();
            loop {
                if i == 0 {
                    d.insert(0, 1);
                    break;
                }
                i -= 1;
                if d[i] == 9 {
                    d[i] = 0;
                } else {
                    d[i] += 1;
                    break;
                }
            }
        }
    }
    let first = d.iter().position(|&x| x != 0).unwrap_or(d.len());
    let mut s: String = d[first..].iter().map(|&x| char::from(b'0' + x)).collect();
    let post = post as usize;
    if s.len() <= post {
        s = format!("{}{s}", "0".repeat(post + 1 - s.len()));
    }
    if post > 0 {
        s.insert(s.len() - post, '.');
    }
    s
}

/// `numeric_out_sci`: "d.ddde+XX" with `post` decimals in the significand.
fn numeric_sci(neg: bool, digits: &[u8], scale: i64, post: i64) -> String {
    let (exp, sig_scale) = if digits.is_empty() {
        (0, 0)
    } else {
        (digits.len() as i64 - 1 - scale, digits.len() as i64 - 1)
    };
    let sig = round_text(digits, sig_scale, post);
    let sign = if neg && !digits.is_empty() { "-" } else { "" };
    format!(
        "{sign}{sig}e{}{:02}",
        if exp < 0 { '-' } else { '+' },
        exp.unsigned_abs()
    )
}

/// `fill_str` of a '#' overflow mask: `len` '#' with `dot` at index `dot_at`.
fn hash_fill(len: usize, dot_at: usize, first: Option<u8>) -> Vec<u8> {
    let mut v = vec![b'#'; len];
    if let Some(c) = first.filter(|_| len > 0) {
        v[0] = c;
    }
    if dot_at < len {
        v[dot_at] = b'.';
    }
    v
}

/// The '#' mask PostgreSQL prints for NaN and infinity under EEEE.
fn eeee_special(num: &NumDesc) -> Vec<u8> {
    let len = (num.pre + num.post + 6).max(0) as usize;
    hash_fill(len, (num.pre + 1) as usize, Some(b' '))
}

/// Splits a plain decimal rendering into sign and digits, and decides the
/// leading padding or the '#' overflow mask (shared tail of `*_to_char`).
fn plain_numstr(orgnum: String, num: &NumDesc) -> (Vec<u8>, i32, u8) {
    let (sign, digits) = match orgnum.strip_prefix('-') {
        Some(rest) => (b'-', rest.as_bytes().to_vec()),
        None => (b'+', orgnum.into_bytes()),
    };
    let pre_len = digits
        .iter()
        .position(|&c| c == b'.')
        .unwrap_or(digits.len()) as i64;
    if pre_len < i64::from(num.pre) {
        (digits, (i64::from(num.pre) - pre_len) as i32, sign)
    } else if pre_len > i64::from(num.pre) {
        let pre = num.pre.max(0) as usize;
        (
            hash_fill(pre + num.post.max(0) as usize + 1, pre, None),
            0,
            sign,
        )
    } else {
        (digits, 0, sign)
    }
}

/// PostgreSQL's `int_to_roman`.
fn int_to_roman(n: i64) -> Vec<u8> {
    if !(1..=3999).contains(&n) {
        return vec![b'#'; 15];
    }
    const R1: [&str; 9] = ["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX"];
    const R10: [&str; 9] = ["X", "XX", "XXX", "XL", "L", "LX", "LXX", "LXXX", "XC"];
    const R100: [&str; 9] = ["C", "CC", "CCC", "CD", "D", "DC", "DCC", "DCCC", "CM"];
    let mut s = "M".repeat((n / 1000) as usize);
    for (unit, table) in [(100, &R100), (10, &R10), (1, &R1)] {
        let d = (n / unit % 10) as usize;
        if d > 0 {
            s.push_str(table[d - 1]);
        }
    }
    s.into_bytes()
}

/// to_char(number, pattern) for numeric templates (9 0 . , D G FM S MI PL SG PR, and '#' overflow fill
/// exactly as PostgreSQL). `value` is given as a decimal string (e.g. "-125.8", "1234", "0.005") so
/// that numeric precision is exact.
///
/// This is `to_char(numeric, text)`, and also `to_char(int, text)`, whose
/// output is the same. `value` may also be `NaN`, `Infinity` or `-Infinity`.
/// Besides the patterns above, `V`, `TH`/`th`, `RN`/`rn`, `EEEE` and `L` are
/// implemented, and `B`, `C` and `SP` are accepted and ignored, as in
/// PostgreSQL. An empty pattern gives an empty string, as in PostgreSQL.
///
/// For `real`/`double precision` input use [`format_float`] instead:
/// PostgreSQL formats those through `printf`, which rounds the binary value
/// half-to-even and keeps only 6 or 15 significant digits, so for example
/// `to_char(2.5::float8, '9')` is `'  2'` while `to_char(2.5::numeric, '9')`
/// is `'  3'`.
pub fn format_number(value: &str, pattern: &str) -> Result<String, String> {
    let value = parse_numeric(value)?;
    if pattern.is_empty() {
        return Ok(String::new());
    }
    let (nodes, mut num) = parse_template(pattern)?;
    let (numstr, out_pre_spaces, sign) = if num.has(F_ROMAN) {
        let n = match &value {
            NumVal::NaN => return Err("cannot convert NaN to integer".into()),
            NumVal::Inf { .. } => return Err("cannot convert infinity to integer".into()),
            NumVal::Finite { neg, digits, scale } => {
                let text = round_text(digits, *scale, 0);
                let v: i64 = if text.len() > 12 {
                    i64::MAX
                } else {
                    text.parse().unwrap_or(i64::MAX)
                };
                let v = if *neg { -v } else { v };
                if i32::try_from(v).is_err() {
                    return Err("integer out of range".into());
                }
                v
            }
        };
        (int_to_roman(n), 0, 0)
    } else if num.has(F_EEEE) {
        match &value {
            NumVal::NaN | NumVal::Inf { .. } => (eeee_special(&num), 0, 0),
            NumVal::Finite { neg, digits, scale } => {
                let s = numeric_sci(*neg, digits, *scale, i64::from(num.post));
                let s = if s.starts_with('-') {
                    s
                } else {
                    format!(" {s}")
                };
                (s.into_bytes(), 0, 0)
            }
        }
    } else {
        let orgnum = match &value {
            NumVal::NaN => "NaN".to_string(),
            NumVal::Inf { neg: true } => "-Infinity".to_string(),
            NumVal::Inf { neg: false } => "Infinity".to_string(),
            NumVal::Finite { neg, digits, scale } => {
                let scale = if num.has(F_MULTI) {
                    scale - i64::from(num.multi)
                } else {
                    *scale
                };
                // numeric_round clamps the scale to NUMERIC_MAX_RESULT_SCALE.
                let text = round_text(digits, scale, i64::from(num.post.min(2000)));
                let zero = text.bytes().all(|c| c == b'0' || c == b'.');
                if *neg && !zero {
                    format!("-{text}")
                } else {
                    text
                }
            }
        };
        if num.has(F_MULTI) {
            num.pre += num.multi;
        }
        plain_numstr(orgnum, &num)
    };
    process(&nodes, &mut num, numstr, out_pre_spaces, sign)
}

/// to_char(real | double precision, pattern), following PostgreSQL's
/// `float4_to_char`/`float8_to_char`: the value is printed with C `printf`
/// rules (exact binary value, ties to even), limited to 6 (`float4`) or 15
/// significant digits, before the template is applied.
pub fn format_float(value: f64, pattern: &str, float4: bool) -> Result<String, String> {
    if pattern.is_empty() {
        return Ok(String::new());
    }
    let (nodes, mut num) = parse_template(pattern)?;
    let (numstr, out_pre_spaces, sign) = if num.has(F_ROMAN) {
        // C's (int) rint(x): out of range (and NaN) ends up outside 1..=3999 too.
        (int_to_roman(value.round_ties_even() as i64), 0, 0)
    } else if num.has(F_EEEE) {
        if !value.is_finite() {
            (eeee_special(&num), 0, 0)
        } else {
            let s = format!("{:.*e}", num.post.max(0) as usize, value.abs());
            let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
            let exp: i32 = exp.parse().unwrap_or(0);
            let sign = if value.is_sign_negative() { '-' } else { ' ' };
            let e_sign = if exp < 0 { '-' } else { '+' };
            (
                format!("{sign}{mant}e{e_sign}{:02}", exp.unsigned_abs()).into_bytes(),
                0,
                0,
            )
        }
    } else {
        let val = match (num.has(F_MULTI), float4) {
            (false, _) => value,
            (true, true) => f64::from((value as f32) * (10f64.powi(num.multi) as f32)),
            (true, false) => value * 10f64.powi(num.multi),
        };
        if num.has(F_MULTI) {
            num.pre += num.multi;
        }
        let max_digits = if float4 { 6 } else { 15 };
        let pre_len = printf_f(val.abs(), 0).len() as i32;
        if pre_len >= max_digits {
            num.post = 0;
        } else if pre_len + num.post > max_digits {
            num.post = max_digits - pre_len;
        }
        plain_numstr(printf_f(val, num.post.max(0) as usize), &num)
    };
    process(&nodes, &mut num, numstr, out_pre_spaces, sign)
}

/// `printf("%.*f")` as PostgreSQL's own snprintf does it (NaN and infinity
/// are spelled "NaN", "Infinity", "-Infinity").
fn printf_f(v: f64, prec: usize) -> String {
    if v.is_nan() {
        "NaN".to_string()
    } else if v.is_infinite() {
        if v < 0.0 { "-Infinity" } else { "Infinity" }.to_string()
    } else {
        format!("{v:.prec$}")
    }
}

/// The `to_char` half of PostgreSQL's `NUM_processor`.
fn process(
    nodes: &[Node<Nk>],
    num: &mut NumDesc,
    number: Vec<u8>,
    out_pre_spaces: i32,
    sign: u8,
) -> Result<String, String> {
    if num.zero_start != 0 {
        num.zero_start -= 1;
    }
    if num.has(F_EEEE) {
        return Ok(String::from_utf8_lossy(&number).into_owned());
    }
    if num.has(F_ROMAN) {
        num.lsign = 0;
        num.pre_lsign_num = 0;
        num.post = 0;
        num.pre = 0;
        num.flag = (num.flag & F_FILLMODE) | F_ROMAN;
    }
    let mut np = NumProc {
        num,
        number,
        number_p: 0,
        out: Vec::new(),
        sign,
        sign_wrote: false,
        num_count: 0,
        num_in: false,
        num_curr: 0,
        out_pre_spaces,
        last_relevant: None,
    };
    if np.num.has(F_PLUS) || np.num.has(F_MINUS) {
        np.sign_wrote = !np.num.has(F_PLUS) || np.num.has(F_MINUS);
    } else {
        if np.sign != b'-' {
            if np.num.has(F_BRACKET) && np.num.has(F_FILLMODE) {
                np.num.flag &= !F_BRACKET;
            }
        } else if np.num.has(F_PLUS) {
            np.num.flag &= !F_PLUS;
        }
        np.sign_wrote = np.sign == b'+' && np.num.has(F_FILLMODE) && !np.num.has(F_LSIGN);
        if np.num.lsign == LSIGN_PRE && np.num.pre == np.num.pre_lsign_num {
            np.num.lsign = LSIGN_POST;
        }
    }
    np.num_count = np.num.post + np.num.pre - 1;
    if np.num.has(F_FILLMODE) && np.num.has(F_DECIMAL) {
        // Last relevant digit after the decimal point ("12.0500" -> the '5').
        if let Some(dot) = np.number.iter().position(|&c| c == b'.') {
            let mut last = dot;
            for (i, &c) in np.number.iter().enumerate().skip(dot + 1) {
                if c != b'0' {
                    last = i;
                }
            }
            if np.num.zero_end > np.out_pre_spaces {
                let last_zero = (np.number.len() as i64 - 1)
                    .min(i64::from(np.num.zero_end - np.out_pre_spaces));
                if (last as i64) < last_zero {
                    last = last_zero as usize;
                }
            }
            np.last_relevant = Some(last);
        }
    }
    if !np.sign_wrote && np.out_pre_spaces == 0 {
        np.num_count += 1;
    }
    for node in nodes {
        let key = match node {
            Node::Action { kw, .. } => kw.key,
            Node::Literal { text, .. } => {
                np.out.extend_from_slice(text.as_bytes());
                continue;
            }
        };
        let fill = np.num.has(F_FILLMODE);
        match key {
            Nk::Nine | Nk::Zero | Nk::Dec | Nk::D => np.numpart(key),
            Nk::Comma | Nk::G => {
                if np.num_in {
                    np.out.push(b',');
                } else if !fill {
                    np.out.push(b' ');
                }
            }
            Nk::L => np.out.push(b' '),
            Nk::Rn { upper } => {
                let r = String::from_utf8_lossy(&np.number[np.number_p.min(np.number.len())..])
                    .into_owned();
                let r = if upper { r } else { r.to_ascii_lowercase() };
                let r = if fill { r } else { format!("{r:>15}") };
                np.out.extend_from_slice(r.as_bytes());
            }
            Nk::Th { upper } => {
                if np.num.has(F_ROMAN)
                    || np.number.first() == Some(&b'#')
                    || np.sign == b'-'
                    || np.num.has(F_DECIMAL)
                {
                    continue;
                }
                let digits = String::from_utf8_lossy(&np.number).into_owned();
                np.out
                    .extend_from_slice(ordinal_suffix(&digits, upper)?.as_bytes());
            }
            Nk::Mi => match np.sign {
                b'-' => np.out.push(b'-'),
                _ if fill => {}
                _ => np.out.push(b' '),
            },
            Nk::Pl => match np.sign {
                b'+' => np.out.push(b'+'),
                _ if fill => {}
                _ => np.out.push(b' '),
            },
            Nk::Sg => np.out.push(np.sign),
            Nk::B | Nk::C | Nk::E | Nk::Fm | Nk::Pr | Nk::Sp | Nk::S | Nk::V => {}
        }
    }
    let end = np.out.iter().position(|&c| c == 0).unwrap_or(np.out.len());
    Ok(String::from_utf8_lossy(&np.out[..end]).into_owned())
}

/// PostgreSQL's `NUMProc` state while writing the output.
struct NumProc<'a> {
    num: &'a mut NumDesc,
    number: Vec<u8>,
    number_p: usize,
    out: Vec<u8>,
    sign: u8,
    sign_wrote: bool,
    num_count: i32,
    num_in: bool,
    num_curr: i32,
    out_pre_spaces: i32,
    last_relevant: Option<usize>,
}

impl NumProc<'_> {
    /// The current number character, NUL past the end (C string semantics).
    fn cur(&self) -> u8 {
        self.number.get(self.number_p).copied().unwrap_or(0)
    }

    fn last_relevant_is_dot(&self) -> bool {
        self.last_relevant
            .is_some_and(|i| self.number.get(i) == Some(&b'.'))
    }

    /// `IS_PREDEC_SPACE`: "0.1" with "9.9" prints " .1".
    fn predec_space(&self) -> bool {
        !self.num.has(F_ZERO)
            && self.number_p == 0
            && self.number.first() == Some(&b'0')
            && self.num.post != 0
    }

    fn sign_char(&self) -> u8 {
        if self.sign == b'-' { b'-' } else { b'+' }
    }

    /// PostgreSQL's `NUM_numpart_to_char` for 9, 0, '.' and D.
    fn numpart(&mut self, id: Nk) {
        if self.num.has(F_ROMAN) {
            return;
        }
        self.num_in = false;
        let fill = self.num.has(F_FILLMODE);
        if !self.sign_wrote
            && (self.num_curr >= self.out_pre_spaces
                || (self.num.has(F_ZERO) && self.num.zero_start == self.num_curr))
            && (!self.predec_space() || self.last_relevant_is_dot())
        {
            if self.num.has(F_LSIGN) {
                if self.num.lsign == LSIGN_PRE {
                    self.out.push(self.sign_char());
                    self.sign_wrote = true;
                }
            } else if self.num.has(F_BRACKET) {
                self.out.push(if self.sign == b'+' { b' ' } else { b'<' });
                self.sign_wrote = true;
            } else if self.sign == b'+' {
                if !fill {
                    self.out.push(b' ');
                }
                self.sign_wrote = true;
            } else if self.sign == b'-' {
                self.out.push(b'-');
                self.sign_wrote = true;
            }
        }
        let zero = self.num.has(F_ZERO);
        if self.num_curr < self.out_pre_spaces && (self.num.zero_start > self.num_curr || !zero) {
            if !fill {
                self.out.push(b' ');
            }
        } else if zero
            && self.num_curr < self.out_pre_spaces
            && self.num.zero_start <= self.num_curr
        {
            self.out.push(b'0');
            self.num_in = true;
        } else {
            if self.cur() == b'.' {
                if !self.last_relevant_is_dot() || fill {
                    self.out.push(b'.');
                }
            } else if self.last_relevant.is_some_and(|lr| self.number_p > lr) && id != Nk::Zero {
                // Trailing zero suppressed by FM.
            } else if self.predec_space() {
                if !fill {
                    self.out.push(b' ');
                } else if self.last_relevant_is_dot() {
                    self.out.push(b'0');
                }
            } else {
                self.out.push(self.cur());
                self.num_in = true;
            }
            if self.cur() != 0 {
                self.number_p += 1;
            }
        }
        let mut end = self.num_count
            + i32::from(self.out_pre_spaces != 0)
            + i32::from(self.num.has(F_DECIMAL));
        if self.last_relevant.is_some_and(|lr| lr == self.number_p) {
            end = self.num_curr;
        }
        if self.num_curr + 1 == end {
            if self.sign_wrote && self.num.has(F_BRACKET) {
                self.out.push(if self.sign == b'+' { b' ' } else { b'>' });
            } else if self.num.has(F_LSIGN) && self.num.lsign == LSIGN_POST {
                self.out.push(self.sign_char());
            }
        }
        self.num_curr += 1;
    }
}
