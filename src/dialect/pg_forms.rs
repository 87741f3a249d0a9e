//! PostgreSQL spellings of operators, literals and functions that DataFusion has no form for,
//! rewritten on the syntax tree into ones it plans with PostgreSQL's answer:
//! - `~ x` (bitwise not) as `x # -1`, and `a ^@ b` as `starts_with(a, b)`;
//! - `U&'d\0061t\+000061'` strings (the parser decodes them) as plain strings;
//! - `x [NOT] LIKE / ILIKE ANY (ARRAY[p, ...])` as the OR of each match;
//! - `(s1, e1) OVERLAPS (s2, e2)` (an end may be an interval after the start) as PostgreSQL's
//!   `overlaps_timestamp` computes it, NULL endpoints included;
//! - `date(x)` as `x::date`, `timezone(z, t)` as `t AT TIME ZONE z`, `date_trunc(f, t, z)` as the
//!   truncation of `t`'s wall clock in `z`, `make_timestamptz(...)` as `make_timestamp(...)` read
//!   in the session's zone (or the zone given), `row_to_json(r)` as `to_json(r)`, `gen_random_uuid()` as
//!   DataFusion's `uuid()` typed uuid, `age(x)` as `age(today's midnight, x)`;
//! - `generate_subscripts(a, dim [, reverse])` as `generate_series` from 1 to the dimension's
//!   length (arrays here start at 1);
//! - `generate_series(start, stop, 'text')`: a quoted step that is no number is an interval (an
//!   integer one beside integer endpoints an integer), and
//!   a quoted endpoint beside a typed timestamp or date is of that type (PostgreSQL's reading of
//!   untyped literals; DataFusion refused the texts);
//! - `LIKE p ESCAPE ''` (no escape character) as `LIKE` of `p` with its backslashes escaped.

use sqlparser::ast::{
    self, BinaryOperator, DataType, Expr, FunctionArg, FunctionArgExpr, FunctionArguments,
    TimezoneInfo, UnaryOperator, Value,
};

use super::pg_functions::{binary, cast, nested, number};
use super::pg_rewrites::{call, case_when};
use super::pg_values::pg_at_time_zone as at_time_zone;

/// Rewrites `expr` if it is one of those forms.
pub fn rewrite(expr: &mut Expr) {
    if let Some(rewritten) = rewritten(expr) {
        *expr = rewritten;
    }
}

fn rewritten(expr: &Expr) -> Option<Expr> {
    if let Some(plain) = like_without_escape(expr) {
        return Some(plain);
    }
    match expr {
        Expr::UnaryOp {
            op: UnaryOperator::BitwiseNot,
            expr: operand,
        } => Some(binary(
            nested((**operand).clone()),
            BinaryOperator::PGBitwiseXor,
            Expr::UnaryOp {
                op: UnaryOperator::Minus,
                expr: Box::new(number(1)),
            },
        )),
        Expr::BinaryOp {
            left,
            op: BinaryOperator::PGStartsWith,
            right,
        } => Some(call(
            "starts_with",
            vec![(**left).clone(), (**right).clone()],
        )),
        Expr::BinaryOp {
            left,
            op: BinaryOperator::Overlaps,
            right,
        } => overlaps(left, right),
        Expr::Value(v) => match &v.value {
            Value::UnicodeStringLiteral(s) => {
                Some(Expr::value(Value::SingleQuotedString(s.clone())))
            }
            _ => None,
        },
        Expr::Like {
            negated,
            any: true,
            expr: value,
            pattern,
            escape_char: None,
        } => like_any(pattern, |pattern| Expr::Like {
            negated: *negated,
            any: false,
            expr: value.clone(),
            pattern: Box::new(pattern),
            escape_char: None,
        }),
        Expr::ILike {
            negated,
            any: true,
            expr: value,
            pattern,
            escape_char: None,
        } => like_any(pattern, |pattern| Expr::ILike {
            negated: *negated,
            any: false,
            expr: value.clone(),
            pattern: Box::new(pattern),
            escape_char: None,
        }),
        Expr::Function(function) if function.over.is_none() && function.name.0.len() == 1 => {
            let name = function.name.to_string().to_ascii_lowercase();
            let args = plain_args(&function.args)?;
            function_form(&name, args)
        }
        _ => None,
    }
}

/// A call's arguments when all are plain (no names, no `*`, no DISTINCT or ORDER BY).
fn plain_args(args: &FunctionArguments) -> Option<Vec<Expr>> {
    let FunctionArguments::List(list) = args else {
        return None;
    };
    if list.duplicate_treatment.is_some() || !list.clauses.is_empty() {
        return None;
    }
    list.args
        .iter()
        .map(|arg| match arg {
            FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Some(e.clone()),
            _ => None,
        })
        .collect()
}

fn function_form(name: &str, mut args: Vec<Expr>) -> Option<Expr> {
    Some(match (name, args.len()) {
        ("date", 1) => cast(args.pop()?, DataType::Date),
        // A version 4 UUID, as text (Delta has no uuid type; Spark keeps UUIDs as strings).
        ("gen_random_uuid", 0) => call("pg_uuid", vec![call("uuid", args)]),
        // A record's JSON object (a whole-row reference is a record, see `plan::whole_rows`).
        ("row_to_json", 1) => call("to_json", args),
        // `age(x)`: from midnight of today, as PostgreSQL's one-argument form.
        ("age", 1) => call(
            "age",
            vec![
                cast(
                    call("current_date", vec![]),
                    DataType::Timestamp(None, TimezoneInfo::None),
                ),
                args.pop()?,
            ],
        ),
        ("timezone", 2) => {
            let timestamp = args.pop()?;
            at_time_zone(timestamp, args.pop()?)
        }
        ("date_trunc", 3) => {
            let zone = args.pop()?;
            let value = args.pop()?;
            let field = args.pop()?;
            let wall_clock = at_time_zone(value, zone.clone());
            at_time_zone(call("date_trunc", vec![field, wall_clock]), zone)
        }
        ("make_timestamptz", 6) => cast(
            call("make_timestamp", args),
            DataType::Timestamp(None, TimezoneInfo::WithTimeZone),
        ),
        ("make_timestamptz", 7) => {
            let zone = args.pop()?;
            at_time_zone(call("make_timestamp", args), zone)
        }
        ("generate_series", 3) => call("generate_series", series_of_instants(args)?),
        ("generate_subscripts", 2 | 3) => call("generate_series", subscript_series(args)?),
        _ => return None,
    })
}

/// The `generate_series` arguments that give `generate_subscripts(array, dim [, reverse])`'s
/// rows (in a select list or in FROM): 1 to the dimension's length (arrays here start at 1),
/// none for an empty or NULL array; downwards when `reverse` is true.
pub(super) fn subscript_series(mut args: Vec<Expr>) -> Option<Vec<Expr>> {
    let reverse = match args.len() {
        2 => None,
        3 => args.pop(),
        _ => return None,
    };
    let length = cast(call("array_length", args), DataType::BigInt(None));
    Some(match reverse {
        None => vec![number(1), length],
        Some(reverse) => {
            let pick = |down: Expr, up: Expr| case_when(reverse.clone(), down, Some(up));
            vec![
                pick(length.clone(), number(1)),
                pick(number(1), length),
                pick(number(-1), number(1)),
            ]
        }
    })
}

/// The arguments of `generate_series(start, stop, step)` (in a select list or in FROM) with its
/// quoted literals typed (see the module header); `None` when nothing changes.
pub(super) fn series_of_instants(mut args: Vec<Expr>) -> Option<Vec<Expr>> {
    let quoted = |e: &Expr| match e {
        Expr::Value(v) => match &v.value {
            Value::SingleQuotedString(s) => Some(s.clone()),
            _ => None,
        },
        _ => None,
    };
    let instant = |t: &DataType| matches!(t, DataType::Timestamp(..) | DataType::Date);
    let typed_instant = |e: &Expr| match e {
        Expr::Cast { data_type, .. } if instant(data_type) => Some(data_type.clone()),
        Expr::TypedString(typed) if instant(&typed.data_type) => Some(typed.data_type.clone()),
        _ => None,
    };
    let number = |e: &Expr| matches!(e, Expr::Value(v) if matches!(v.value, Value::Number(..)));
    let mut changed = false;
    if let Some(step) = quoted(&args[2])
        && step.trim().parse::<i64>().is_ok()
        && number(&args[0])
        && number(&args[1])
    {
        args[2] = Expr::value(Value::Number(step.trim().to_string(), false));
        changed = true;
    } else if let Some(step) = quoted(&args[2])
        && step.trim().parse::<f64>().is_err()
    {
        let mut interval = cast(
            args[2].clone(),
            DataType::Interval {
                fields: None,
                precision: None,
            },
        );
        super::pg_input::rewrite(&mut interval);
        args[2] = interval;
        changed = true;
    }
    for (this, other) in [(0, 1), (1, 0)] {
        if quoted(&args[this]).is_some()
            && let Some(data_type) = typed_instant(&args[other])
        {
            let mut instant = cast(args[this].clone(), data_type);
            super::pg_input::rewrite(&mut instant);
            super::pg_values::timestamp_literal(&mut instant);
            args[this] = instant;
            changed = true;
        }
    }
    changed.then_some(args)
}

/// `value [NOT] LIKE ANY (ARRAY[p1, p2, ...])` as `value LIKE p1 OR value LIKE p2 ...` (false
/// for an empty array, as PostgreSQL). Other patterns (an array column, a parameter) stay.
fn like_any(pattern: &Expr, matches: impl Fn(Expr) -> Expr) -> Option<Expr> {
    let mut pattern = pattern;
    while let Expr::Nested(inner) = pattern {
        pattern = inner;
    }
    let Expr::Array(array) = pattern else {
        return None;
    };
    let any = array
        .elem
        .iter()
        .cloned()
        .map(&matches)
        .reduce(|a, b| binary(a, BinaryOperator::Or, b))
        .unwrap_or_else(|| Expr::value(Value::Boolean(false)));
    Some(nested(any))
}

/// `(s1, e1) OVERLAPS (s2, e2)` as PostgreSQL's `overlaps_timestamp`: each period from its
/// earlier to its later endpoint (a NULL end leaves the start alone), then true when one starts
/// inside the other, with NULL where the NULL endpoints leave the answer open.
fn overlaps(left: &Expr, right: &Expr) -> Option<Expr> {
    let (s1, e1) = period(left)?;
    let (s2, e2) = period(right)?;
    let (s1, e1) = ordered(s1, e1);
    let (s2, e2) = ordered(s2, e2);
    let null = || Expr::value(Value::Null);
    let truth = |b: bool| Expr::value(Value::Boolean(b));
    let is_null = |e: &Expr| Expr::IsNull(Box::new(e.clone()));
    let lt = |a: &Expr, b: &Expr| binary(a.clone(), BinaryOperator::Lt, b.clone());
    let gt = |a: &Expr, b: &Expr| binary(a.clone(), BinaryOperator::Gt, b.clone());
    // One start after the other: true when it is before the other's end.
    let after = |later: &Expr, later_end: &Expr, other_end: &Expr| Expr::Case {
        case_token: ast::helpers::attached_token::AttachedToken::empty(),
        end_token: ast::helpers::attached_token::AttachedToken::empty(),
        operand: None,
        conditions: vec![
            when(is_null(other_end), null()),
            when(lt(later, other_end), truth(true)),
            when(is_null(later_end), null()),
        ],
        else_result: Some(Box::new(truth(false))),
    };
    Some(Expr::Case {
        case_token: ast::helpers::attached_token::AttachedToken::empty(),
        end_token: ast::helpers::attached_token::AttachedToken::empty(),
        operand: None,
        conditions: vec![
            when(
                binary(is_null(&s1), BinaryOperator::Or, is_null(&s2)),
                null(),
            ),
            when(gt(&s1, &s2), after(&s1, &e1, &e2)),
            when(lt(&s1, &s2), after(&s2, &e2, &e1)),
            when(
                binary(is_null(&e1), BinaryOperator::Or, is_null(&e2)),
                null(),
            ),
        ],
        else_result: Some(Box::new(truth(true))),
    })
}

fn when(condition: Expr, result: Expr) -> ast::CaseWhen {
    ast::CaseWhen { condition, result }
}

/// A period's two endpoints; an interval second element is a length after the start.
fn period(expr: &Expr) -> Option<(Expr, Expr)> {
    let mut expr = expr;
    while let Expr::Nested(inner) = expr {
        expr = inner;
    }
    let Expr::Tuple(items) = expr else {
        return None;
    };
    let [start, end] = items.as_slice() else {
        return None;
    };
    let end = if is_interval(end) {
        binary(start.clone(), BinaryOperator::Plus, end.clone())
    } else {
        end.clone()
    };
    Some((start.clone(), end))
}

fn is_interval(expr: &Expr) -> bool {
    match expr {
        Expr::Interval(_) => true,
        Expr::Cast { data_type, .. } => matches!(data_type, DataType::Interval { .. }),
        Expr::Nested(inner) => is_interval(inner),
        _ => false,
    }
}

/// The earlier and later of two endpoints: with one NULL, the other is the start and the end
/// is NULL; with both NULL, both are.
fn ordered(start: Expr, end: Expr) -> (Expr, Expr) {
    let either_null = binary(
        Expr::IsNull(Box::new(start.clone())),
        BinaryOperator::Or,
        Expr::IsNull(Box::new(end.clone())),
    );
    let earlier = case_when(
        either_null.clone(),
        call("coalesce", vec![start.clone(), end.clone()]),
        Some(case_when(
            binary(start.clone(), BinaryOperator::Gt, end.clone()),
            end.clone(),
            Some(start.clone()),
        )),
    );
    let later = case_when(
        either_null,
        Expr::value(Value::Null),
        Some(case_when(
            binary(start.clone(), BinaryOperator::Gt, end.clone()),
            start,
            Some(end),
        )),
    );
    (earlier, later)
}

/// `x [NOT] LIKE / ILIKE 'p' ESCAPE ''`: no escape character at all, so a backslash in the
/// pattern is itself (DataFusion refused the empty escape): the pattern with each backslash
/// escaped by the default one.
fn like_without_escape(expr: &Expr) -> Option<Expr> {
    let (Expr::Like {
        escape_char: Some(escape),
        pattern,
        ..
    }
    | Expr::ILike {
        escape_char: Some(escape),
        pattern,
        ..
    }) = expr
    else {
        return None;
    };
    if escape.value != Value::SingleQuotedString(String::new()) {
        return None;
    }
    let Expr::Value(literal) = pattern.as_ref() else {
        return None;
    };
    let Value::SingleQuotedString(text) = &literal.value else {
        return None;
    };
    let escaped = Expr::value(Value::SingleQuotedString(text.replace('\\', "\\\\")));
    let mut plain = expr.clone();
    if let Expr::Like {
        escape_char,
        pattern,
        ..
    }
    | Expr::ILike {
        escape_char,
        pattern,
        ..
    } = &mut plain
    {
        *escape_char = None;
        **pattern = escaped;
    }
    Some(plain)
}
