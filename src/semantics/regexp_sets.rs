//! PostgreSQL's regular-expression functions that give several values: `regexp_split_to_array`
//! (and `regexp_split_to_table`, which the dialect plans as `unnest` of it) and
//! `regexp_matches` (set-returning: planned as `unnest(pg_regexp_matches(...))`, this module
//! giving the list of each match's `text[]`).
//!
//! As PostgreSQL: `.` matches a newline and `^`/`$` only the ends of the text unless the `n`
//! flag is given; `i`/`c` choose case (in)sensitivity, `x` the expanded syntax; `g` makes
//! `regexp_matches` give every match (else the first) and is refused by the split functions;
//! any other flag is 22023. A pattern with groups matches as the list of its groups (an unmatched
//! one NULL), else as the whole match. The split ignores zero-length matches at the start or end
//! of the text or right after a previous match, so `regexp_split_to_array('abc', '')` is
//! `{a,b,c}`. A NULL argument gives NULL (an empty set for `regexp_matches`).

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, ListBuilder, StringBuilder};
use datafusion::arrow::datatypes::{DataType, Field};
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, TypeSignature,
    Volatility,
};
use regex::{Regex, RegexBuilder};

use crate::error::ErrorKind;

/// The name `regexp_matches(...)` is planned with (under `unnest`).
pub const REGEXP_MATCHES_LISTS: &str = "pg_regexp_matches";

/// Which function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    Split,
    Matches,
}

/// `regexp_split_to_array` or the list form of `regexp_matches` (see the module header).
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct RegexpSets {
    kind: Kind,
    signature: Signature,
}

/// The functions of this module.
pub fn functions() -> Vec<ScalarUDF> {
    [Kind::Split, Kind::Matches]
        .into_iter()
        .map(|kind| {
            ScalarUDF::from(RegexpSets {
                kind,
                signature: Signature::one_of(
                    vec![TypeSignature::String(2), TypeSignature::String(3)],
                    Volatility::Immutable,
                ),
            })
        })
        .collect()
}

impl RegexpSets {
    fn public_name(&self) -> &'static str {
        match self.kind {
            Kind::Split => "regexp_split_to_array",
            Kind::Matches => "regexp_matches",
        }
    }
}

fn text_list() -> DataType {
    DataType::List(Arc::new(Field::new_list_field(DataType::Utf8, true)))
}

impl ScalarUDFImpl for RegexpSets {
    fn name(&self) -> &str {
        match self.kind {
            Kind::Split => "regexp_split_to_array",
            Kind::Matches => REGEXP_MATCHES_LISTS,
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(match self.kind {
            Kind::Split => text_list(),
            Kind::Matches => DataType::List(Arc::new(Field::new_list_field(text_list(), true))),
        })
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        super::over_arrays(&args, |arrays| {
            let texts: Vec<ArrayRef> = arrays
                .iter()
                .map(|a| datafusion::arrow::compute::cast(a, &DataType::Utf8))
                .collect::<std::result::Result<_, _>>()?;
            let text = texts[0].as_string::<i32>();
            let pattern = texts[1].as_string::<i32>();
            let flags = texts.get(2).map(|f| f.as_string::<i32>());
            let mut compiled: Option<(String, String, Regex, bool)> = None;
            let mut split = ListBuilder::new(StringBuilder::new());
            let mut matches = ListBuilder::new(ListBuilder::new(StringBuilder::new()));
            for row in 0..text.len() {
                let flag_text = match flags {
                    Some(f) if f.is_null(row) => None,
                    Some(f) => Some(f.value(row)),
                    None => Some(""),
                };
                let (Some(flag_text), false, false) =
                    (flag_text, text.is_null(row), pattern.is_null(row))
                else {
                    match self.kind {
                        Kind::Split => split.append_null(),
                        Kind::Matches => matches.append(true),
                    }
                    continue;
                };
                let fresh = !compiled
                    .as_ref()
                    .is_some_and(|(p, f, _, _)| p == pattern.value(row) && f == flag_text);
                if fresh {
                    let (regex, global) = compile(pattern.value(row), flag_text)?;
                    if global && self.kind == Kind::Split {
                        return Err(super::pg_error(
                            ErrorKind::InvalidParameterValue,
                            format!(
                                "{}() does not support the \"global\" option",
                                self.public_name()
                            ),
                        ));
                    }
                    compiled = Some((
                        pattern.value(row).to_string(),
                        flag_text.to_string(),
                        regex,
                        global,
                    ));
                }
                let Some((_, _, regex, global)) = &compiled else {
                    continue;
                };
                let value = text.value(row);
                match self.kind {
                    Kind::Split => {
                        for piece in split_pieces(regex, value) {
                            split.values().append_value(piece);
                        }
                        split.append(true);
                    }
                    Kind::Matches => {
                        for captures in regex.captures_iter(value) {
                            let groups = matches.values();
                            if captures.len() == 1 {
                                groups
                                    .values()
                                    .append_option(captures.get(0).map(|m| m.as_str()));
                            } else {
                                for group in captures.iter().skip(1) {
                                    groups.values().append_option(group.map(|m| m.as_str()));
                                }
                            }
                            groups.append(true);
                            if !global {
                                break;
                            }
                        }
                        matches.append(true);
                    }
                }
            }
            Ok(match self.kind {
                Kind::Split => Arc::new(split.finish()) as ArrayRef,
                Kind::Matches => Arc::new(matches.finish()) as ArrayRef,
            })
        })
    }
}

/// The pieces of `text` between the matches of `regex`, with PostgreSQL's treatment of
/// zero-length matches (see the module header).
fn split_pieces<'t>(regex: &Regex, text: &'t str) -> Vec<&'t str> {
    let mut pieces = Vec::new();
    let mut start = 0;
    let mut previous_end = None;
    for found in regex.find_iter(text) {
        let degenerate = found.start() == found.end();
        if degenerate
            && (found.start() == 0
                || found.start() == text.len()
                || previous_end == Some(found.start()))
        {
            continue;
        }
        pieces.push(&text[start..found.start()]);
        start = found.end();
        previous_end = Some(found.end());
    }
    pieces.push(&text[start..]);
    pieces
}

/// `pattern` compiled with PostgreSQL's flags; the second value says whether `g` was given.
pub(super) fn compile(pattern: &str, flags: &str) -> Result<(Regex, bool)> {
    let mut builder = RegexBuilder::new(pattern);
    builder.dot_matches_new_line(true);
    let mut global = false;
    for flag in flags.chars() {
        match flag {
            'g' => global = true,
            'i' => {
                builder.case_insensitive(true);
            }
            'c' => {
                builder.case_insensitive(false);
            }
            'n' | 'm' => {
                builder.dot_matches_new_line(false).multi_line(true);
            }
            's' => {
                builder.dot_matches_new_line(true).multi_line(false);
            }
            'x' => {
                builder.ignore_whitespace(true);
            }
            other => {
                return Err(super::pg_error(
                    ErrorKind::InvalidParameterValue,
                    format!("invalid regular expression option: \"{other}\""),
                ));
            }
        }
    }
    let regex = builder.build().map_err(|e| {
        super::pg_error(
            ErrorKind::InvalidRegularExpression,
            format!("invalid regular expression: {}", regex_reason(&e)),
        )
    })?;
    Ok((regex, global))
}

/// The last line of the regex crate's error (its reason), without the pattern drawing.
fn regex_reason(e: &regex::Error) -> String {
    let text = e.to_string();
    text.lines()
        .rev()
        .find_map(|l| l.trim().strip_prefix("error: ").map(str::to_string))
        .unwrap_or(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_as_postgresql() {
        let (comma, _) = compile(",", "").unwrap();
        assert_eq!(split_pieces(&comma, "a,b,,c"), ["a", "b", "", "c"]);
        assert_eq!(split_pieces(&comma, ",a"), ["", "a"]);
        let (empty, _) = compile("", "").unwrap();
        assert_eq!(split_pieces(&empty, "abc"), ["a", "b", "c"]);
        let (spaces, _) = compile(r"\s*", "").unwrap();
        assert_eq!(split_pieces(&spaces, "a b  c"), ["a", "b", "c"]);
        assert!(compile("a", "z").is_err());
    }
}
