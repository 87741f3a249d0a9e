//! PostgreSQL 15's `regexp_substr(string, pattern [, start [, n [, flags [, subexpr]]]])`: the
//! text of the `n`-th match of `pattern` at or after character `start` (or of its `subexpr`-th
//! parenthesized group), NULL when there is none. Flags and pattern syntax as the other regular
//! expression functions (`regexp_sets::compile`); `g` is refused as PostgreSQL refuses it, and
//! `start`, `n` below 1 or `subexpr` below 0 are 22023. A NULL argument gives NULL.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, StringBuilder};
use datafusion::arrow::datatypes::{DataType, Int64Type};
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use regex::Regex;

use crate::error::ErrorKind;

/// `regexp_substr`; see the module header.
#[derive(Debug, PartialEq, Eq, Hash)]
struct RegexpSubstr {
    signature: Signature,
}

/// The function, for registration.
pub fn function() -> ScalarUDF {
    ScalarUDF::from(RegexpSubstr {
        signature: Signature::user_defined(Volatility::Immutable),
    })
}

/// Which arguments are texts (the string, the pattern, the flags); the others are integers.
fn is_text_argument(index: usize) -> bool {
    matches!(index, 0 | 1 | 4)
}

impl ScalarUDFImpl for RegexpSubstr {
    fn name(&self) -> &str {
        "regexp_substr"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        if !(2..=6).contains(&arg_types.len()) {
            return Err(super::pg_error(
                ErrorKind::UndefinedFunction,
                format!(
                    "function regexp_substr with {} arguments does not exist",
                    arg_types.len()
                ),
            ));
        }
        Ok((0..arg_types.len())
            .map(|i| {
                if is_text_argument(i) {
                    DataType::Utf8
                } else {
                    DataType::Int64
                }
            })
            .collect())
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        super::over_arrays(&args, |arrays| {
            let text_at = |i: usize| arrays.get(i).map(|a| a.as_string::<i32>());
            let int_at = |i: usize| arrays.get(i).map(|a| a.as_primitive::<Int64Type>());
            let (texts, patterns) = (text_at(0).unwrap(), text_at(1).unwrap());
            let (starts, ns, flags, subexprs) = (int_at(2), int_at(3), text_at(4), int_at(5));
            let mut compiled: Option<(String, String, Regex)> = None;
            let mut out = StringBuilder::new();
            for row in 0..texts.len() {
                let null = arrays.iter().any(|a| a.is_null(row));
                if null {
                    out.append_null();
                    continue;
                }
                let start = starts.map_or(1, |s| s.value(row));
                let n = ns.map_or(1, |s| s.value(row));
                let subexpr = subexprs.map_or(0, |s| s.value(row));
                for (name, value, least) in
                    [("start", start, 1), ("n", n, 1), ("subexpr", subexpr, 0)]
                {
                    if value < least {
                        return Err(super::pg_error(
                            ErrorKind::InvalidParameterValue,
                            format!("invalid value for parameter \"{name}\": {value}"),
                        ));
                    }
                }
                let (pattern, flag_text) =
                    (patterns.value(row), flags.map_or("", |f| f.value(row)));
                let fresh = !matches!(&compiled, Some((p, f, _)) if p == pattern && f == flag_text);
                if fresh {
                    let (regex, global) = super::regexp_sets::compile(pattern, flag_text)?;
                    if global {
                        return Err(super::pg_error(
                            ErrorKind::InvalidParameterValue,
                            "regexp_substr() does not support the \"global\" option",
                        ));
                    }
                    compiled = Some((pattern.to_string(), flag_text.to_string(), regex));
                }
                let regex = &compiled.as_ref().expect("compiled above").2;
                match nth_match(regex, texts.value(row), start, n, subexpr) {
                    Some(found) => out.append_value(found),
                    None => out.append_null(),
                }
            }
            Ok(Arc::new(out.finish()) as ArrayRef)
        })
    }
}

/// The text of group `subexpr` (0: the whole match) of the `n`-th match at or after character
/// `start` (both 1-based); matches do not overlap, and an empty match moves on by a character.
fn nth_match<'t>(
    regex: &Regex,
    text: &'t str,
    start: i64,
    n: i64,
    subexpr: i64,
) -> Option<&'t str> {
    let mut at = text
        .char_indices()
        .nth(usize::try_from(start - 1).ok()?)
        .map(|(i, _)| i)?;
    let mut seen = 0;
    while at <= text.len() {
        let captures = regex.captures_at(text, at)?;
        let whole = captures.get(0)?;
        seen += 1;
        if seen == n {
            return captures
                .get(usize::try_from(subexpr).ok()?)
                .map(|m| m.as_str());
        }
        at = if whole.end() > whole.start() {
            whole.end()
        } else {
            whole.end() + text[whole.end()..].chars().next()?.len_utf8()
        };
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_nth_match_and_group() {
        let regex = Regex::new("b(.)").unwrap();
        assert_eq!(nth_match(&regex, "abcabd", 1, 1, 0), Some("bc"));
        assert_eq!(nth_match(&regex, "abcabd", 1, 2, 1), Some("d"));
        assert_eq!(nth_match(&regex, "abcabd", 3, 1, 0), Some("bd"));
        assert_eq!(nth_match(&regex, "abcabd", 1, 3, 0), None);
        assert_eq!(nth_match(&regex, "abcabd", 1, 1, 2), None);
        assert_eq!(nth_match(&regex, "ab", 9, 1, 0), None);
    }
}
