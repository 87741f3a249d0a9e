//! PostgreSQL functions and operators that DataFusion has under other names or not at all,
//! rewritten on the syntax tree into what it plans: `mod(a, b)`, `ceiling(x)`, `sign(x)`,
//! `div(a, b)` (the integral quotient, toward zero), `|/ x` and `||/ x` (square and cube root),
//! `@ x` (absolute value), `LOCALTIMESTAMP` / `LOCALTIME`, `statement_timestamp()` and
//! `transaction_timestamp()` (the statement's `now()`), `num_nulls(...)` / `num_nonnulls(...)` (a sum of CASEs), `make_interval(...)` (by position or by `name => value`), and
//! `date_trunc` of a decade, century or millennium (DataFusion stops at the year),
//! `x op ANY / ALL (array)` (as `pg_any` / `pg_all`, with PostgreSQL's NULLs),
//! `json_agg` / `jsonb_agg` (as `array_agg` of JSON texts, see `semantics::json_build`),
//! `json[b]_object_agg` (as `array_agg` of `[key, value]` pairs) and the set-returning
//! `json[b]_array_elements[_text]` / `json[b]_object_keys` (as `unnest` of a list, see
//! `semantics::json_items`), `regexp_split_to_table` and `regexp_matches` (as `unnest` of
//! `regexp_split_to_array` / `pg_regexp_matches`, see `semantics::regexp_sets`), and the
//! ordered-set aggregates `percentile_disc` and `mode` (see `semantics::ordered_set`).
//!
//! And functions DataFusion has under PostgreSQL's name with another answer: `array_remove` and
//! `array_replace` act on every matching element in PostgreSQL, NULL included (DataFusion's on
//! the first: `semantics::ARRAY_REMOVE` / `array_replace_all`); `array_length` of an empty array
//! is NULL (not 0), an integer; `array_dims` is text (`[1:2]`, DataFusion: a list of lengths);
//! `array_agg(DISTINCT x)` / `string_agg(DISTINCT x, s)` without an ORDER BY list the values in
//! order, as PostgreSQL's sorting DISTINCT does (DataFusion's hashing lists them as found; see
//! `sorted_distinct`).

use sqlparser::ast::{
    self, BinaryOperator, Expr, FunctionArg, FunctionArgExpr, FunctionArgOperator,
    FunctionArguments, Ident, ObjectName, ObjectNamePart, UnaryOperator, Value,
};

use super::pg_rewrites::call;

/// Rewrites `expr` if it is one of those functions or operators.
pub fn rewrite(expr: &mut Expr) {
    if let Expr::UnaryOp { op, expr: operand } = expr {
        let name = match op {
            UnaryOperator::PGSquareRoot => "sqrt",
            UnaryOperator::PGCubeRoot => "cbrt",
            UnaryOperator::PGAbs => "abs",
            _ => return,
        };
        *expr = call(name, vec![(**operand).clone()]);
        return;
    }
    if let Some(matched) = substring_of_pattern(expr) {
        *expr = matched;
        return;
    }
    if let Some(quantified) = quantified_comparison(expr) {
        *expr = quantified;
        return;
    }
    let Expr::Function(function) = expr else {
        return;
    };
    if function.name.0.len() != 1 || function.over.is_some() {
        return;
    }
    let name = function.name.to_string().to_ascii_lowercase();
    // SQL's `LOCALTIMESTAMP` / `LOCALTIME` (keywords the parser reads as functions without
    // parentheses): the statement's time in the session's zone, without the zone.
    if matches!(function.args, FunctionArguments::None) {
        let local = match name.as_str() {
            "localtimestamp" => ast::DataType::Timestamp(None, ast::TimezoneInfo::None),
            "localtime" => ast::DataType::Time(None, ast::TimezoneInfo::None),
            _ => return,
        };
        *expr = Expr::Cast {
            kind: ast::CastKind::Cast,
            expr: Box::new(call("now", vec![])),
            data_type: local,
            array: false,
            format: None,
        };
        return;
    }
    if (name == "percentile_disc" || name == "mode") && !function.within_group.is_empty() {
        if let Some(planned) = ordered_set(function, &name) {
            *expr = planned;
        }
        return;
    }
    if name == "json_agg" || name == "jsonb_agg" {
        if let Some(planned) = json_agg(function, name == "jsonb_agg") {
            *expr = planned;
        }
        return;
    }
    if name == "json_object_agg" || name == "jsonb_object_agg" {
        if let Some(planned) = json_object_agg(function, name == "jsonb_object_agg") {
            *expr = planned;
        }
        return;
    }
    if crate::semantics::JSON_SET_RETURNING.contains(&name.as_str()) {
        if let FunctionArguments::List(list) = &function.args
            && let [FunctionArg::Unnamed(FunctionArgExpr::Expr(doc))] = list.args.as_slice()
        {
            let rows = call(
                "unnest",
                vec![call(&format!("pg_{name}"), vec![doc.clone()])],
            );
            *expr = match name.as_str() {
                "json_array_elements" => call(crate::semantics::CAST_JSON, vec![rows]),
                "jsonb_array_elements" => call(crate::semantics::CAST_JSONB, vec![rows]),
                _ => rows,
            };
        }
        return;
    }
    // `num_nulls(a, b, ...)` / `num_nonnulls(...)`: a sum of 1s, as an integer.
    if (name == "num_nulls" || name == "num_nonnulls")
        && let FunctionArguments::List(list) = &function.args
        && !list.args.is_empty()
    {
        let counted: Option<Vec<Expr>> = list
            .args
            .iter()
            .map(|arg| match arg {
                FunctionArg::Unnamed(FunctionArgExpr::Expr(value)) => {
                    let test = if name == "num_nulls" {
                        Expr::IsNull(Box::new(value.clone()))
                    } else {
                        Expr::IsNotNull(Box::new(value.clone()))
                    };
                    Some(super::pg_rewrites::case_when(
                        test,
                        Expr::value(Value::Number("1".into(), false)),
                        Some(Expr::value(Value::Number("0".into(), false))),
                    ))
                }
                _ => None,
            })
            .collect();
        if let Some(counted) = counted {
            let sum = counted
                .into_iter()
                .reduce(|left, right| Expr::BinaryOp {
                    left: Box::new(left),
                    op: BinaryOperator::Plus,
                    right: Box::new(right),
                })
                .unwrap_or_else(|| Expr::value(Value::Number("0".into(), false)));
            *expr = Expr::Cast {
                kind: ast::CastKind::Cast,
                expr: Box::new(Expr::Nested(Box::new(sum))),
                data_type: ast::DataType::Int(None),
                array: false,
                format: None,
            };
        }
        return;
    }
    // Set-returning regular-expression functions: `unnest` of the list form.
    if name == "regexp_split_to_table" || name == "regexp_matches" {
        let list = match name.as_str() {
            "regexp_split_to_table" => "regexp_split_to_array",
            _ => crate::semantics::REGEXP_MATCHES_LISTS,
        };
        function.name = ObjectName(vec![ObjectNamePart::Identifier(Ident::new(list))]);
        *expr = call("unnest", vec![expr.clone()]);
        return;
    }
    if name == "ceiling"
        || name == "sign"
        || name == "every"
        || name == "statement_timestamp"
        || name == "transaction_timestamp"
    {
        let to = match name.as_str() {
            "ceiling" => "ceil",
            "sign" => "signum",
            "every" => "bool_and",
            // The statement's start: each statement is its own transaction here.
            _ => "now",
        };
        function.name = ObjectName(vec![ObjectNamePart::Identifier(Ident::new(to))]);
        return;
    }
    if name == "array_remove" || name == "array_replace" {
        let to = match name.as_str() {
            "array_remove" => crate::semantics::ARRAY_REMOVE,
            _ => "array_replace_all",
        };
        function.name = ObjectName(vec![ObjectNamePart::Identifier(Ident::new(to))]);
        return;
    }
    if name == "array_agg" || name == "string_agg" {
        if let Some(sorted) = sorted_distinct(function, &name) {
            *expr = sorted;
        }
        return;
    }
    let FunctionArguments::List(list) = &function.args else {
        return;
    };
    if name == "make_interval" {
        if let Some(interval) = make_interval(&list.args) {
            *expr = interval;
        }
        return;
    }
    let args: Vec<Expr> = list
        .args
        .iter()
        .filter_map(|a| match a {
            FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Some(e.clone()),
            _ => None,
        })
        .collect();
    if args.len() != list.args.len() {
        return;
    }
    match (name.as_str(), &args[..]) {
        // PostgreSQL names a row's fields f1, f2, ... (DataFusion's `row` says c0, c1, ...):
        // `row_to_json(row(1, 'a'))` is `{"f1":1,"f2":"a"}`, `(row(1, 'a')).f1` is 1.
        ("row", [_, ..]) => {
            let fields = args
                .iter()
                .enumerate()
                .flat_map(|(i, value)| {
                    [
                        Expr::value(Value::SingleQuotedString(format!("f{}", i + 1))),
                        value.clone(),
                    ]
                })
                .collect();
            *expr = call("named_struct", fields);
        }
        // The JSON array of an array (`to_json` of it); the pretty-printing form is left to
        // fail as an unknown function.
        ("array_to_json", [array]) => *expr = call("to_json", vec![array.clone()]),
        // `array_fill(v, ARRAY[n])`: n copies of v (other dimensions and lower bounds are
        // left to fail as an unknown function).
        ("array_fill", [value, Expr::Array(ast::Array { elem, .. })]) if elem.len() == 1 => {
            *expr = call("array_repeat", vec![value.clone(), elem[0].clone()]);
        }
        ("mod", [a, b]) => *expr = binary(a.clone(), BinaryOperator::Modulo, b.clone()),
        ("div", [a, b]) => {
            let quotient = binary(
                numeric(a.clone()),
                BinaryOperator::Divide,
                numeric(b.clone()),
            );
            *expr = call("trunc", vec![quotient]);
        }
        ("array_length", [_, _]) => {
            // PostgreSQL's integer (DataFusion's is unsigned).
            let length = call("nullif", vec![expr.clone(), number(0)]);
            *expr = cast(length, ast::DataType::Int(None));
        }
        ("array_dims", [array]) => {
            // PostgreSQL's text, `[1:2][1:3]` (DataFusion's answer is the list of lengths), NULL
            // for an empty array.
            let text = |t: &str| Expr::value(Value::SingleQuotedString(t.into()));
            let lengths = call(
                "array_to_string",
                vec![call("array_dims", vec![array.clone()]), text("][1:")],
            );
            let dims = binary(
                binary(text("[1:"), BinaryOperator::StringConcat, lengths),
                BinaryOperator::StringConcat,
                text("]"),
            );
            *expr = call("nullif", vec![dims, text("[1:]")]);
        }
        ("regexp_replace", [s, p, r] | [s, p, r, _]) => {
            // PostgreSQL's replacement syntax (see `semantics::regexp_replacement`).
            let mut rewritten = vec![
                s.clone(),
                p.clone(),
                call(crate::semantics::PG_REGEXP_REPLACEMENT, vec![r.clone()]),
            ];
            rewritten.extend(args.get(3).cloned());
            *expr = call("regexp_replace", rewritten);
        }
        ("date_trunc", [field, value]) => {
            if let Some(truncated) = date_trunc_beyond_year(field, value) {
                *expr = truncated;
            }
        }
        _ => {}
    }
}

/// `x op ANY (array)` / `x op ALL (array)` over an array or an array text (not a subquery) as
/// `pg_any('op', array, x)` / `pg_all(...)`, which answer with PostgreSQL's NULLs (see
/// `semantics::quantified`; DataFusion's `= ANY` answered false where PostgreSQL says NULL).
fn quantified_comparison(expr: &Expr) -> Option<Expr> {
    let (left, op, right, name) = match expr {
        Expr::AnyOp {
            left,
            compare_op,
            right,
            ..
        } => (left, compare_op, right, "pg_any"),
        Expr::AllOp {
            left,
            compare_op,
            right,
        } => (left, compare_op, right, "pg_all"),
        _ => return None,
    };
    if matches!(right.as_ref(), Expr::Subquery(_)) {
        return None;
    }
    let op = match op {
        BinaryOperator::Eq => "=",
        BinaryOperator::NotEq => "<>",
        BinaryOperator::Lt => "<",
        BinaryOperator::LtEq => "<=",
        BinaryOperator::Gt => ">",
        BinaryOperator::GtEq => ">=",
        _ => return None,
    };
    Some(call(
        name,
        vec![
            Expr::value(Value::SingleQuotedString(op.into())),
            (**right).clone(),
            (**left).clone(),
        ],
    ))
}

/// `substring(s FROM 'pattern')` (a text, not a position): the part of `s` the POSIX pattern
/// matches, or its first parenthesized group, as `regexp_match(s, pattern)[1]`; DataFusion took
/// the pattern for a position and failed.
fn substring_of_pattern(expr: &Expr) -> Option<Expr> {
    let Expr::Substring {
        expr: text,
        substring_from: Some(from),
        substring_for: None,
        ..
    } = expr
    else {
        return None;
    };
    let Expr::Value(v) = from.as_ref() else {
        return None;
    };
    if !matches!(
        v.value,
        Value::SingleQuotedString(_) | Value::EscapedStringLiteral(_)
    ) {
        return None;
    }
    Some(call(
        "array_element",
        vec![
            call("regexp_match", vec![(**text).clone(), (**from).clone()]),
            number(1),
        ],
    ))
}

/// `percentile_disc(f) WITHIN GROUP (ORDER BY x)` and `mode() WITHIN GROUP (ORDER BY x)` as
/// `semantics::ordered_set`'s final step over `array_agg(x ORDER BY x ...)` (the call's FILTER
/// kept); None for other forms (left to DataFusion, which refuses them).
fn ordered_set(function: &ast::Function, name: &str) -> Option<Expr> {
    let [by] = function.within_group.as_slice() else {
        return None;
    };
    let fraction = match &function.args {
        FunctionArguments::List(list) if list.clauses.is_empty() => match list.args.as_slice() {
            [FunctionArg::Unnamed(FunctionArgExpr::Expr(f))] if name == "percentile_disc" => {
                Some(f.clone())
            }
            [] if name == "mode" => None,
            _ => return None,
        },
        FunctionArguments::None if name == "mode" => None,
        _ => return None,
    };
    let mut values = call("array_agg", vec![by.expr.clone()]);
    if let Expr::Function(agg) = &mut values {
        if let FunctionArguments::List(args) = &mut agg.args {
            args.clauses = vec![ast::FunctionArgumentClause::OrderBy(vec![by.clone()])];
        }
        agg.filter = function.filter.clone();
    }
    Some(match fraction {
        Some(fraction) => call(crate::semantics::PERCENTILE_DISC, vec![values, fraction]),
        None => call(crate::semantics::MODE, vec![values]),
    })
}

/// `array_agg(DISTINCT x [ORDER BY x ...])` / `string_agg(DISTINCT x, s [ORDER BY x ...])`,
/// planned as `array_sort` of the distinct values (and `array_to_string` of the non-NULL ones for
/// `string_agg`): without an ORDER BY in order, NULLs last, as PostgreSQL's sorting DISTINCT
/// lists them; with one in its order. Not DataFusion's ordered DISTINCT aggregate, which gives
/// two such aggregates of one column the first one's order (`array_agg(DISTINCT x ORDER BY x),
/// array_agg(DISTINCT x ORDER BY x DESC)` both ascended). None for other calls.
fn sorted_distinct(function: &ast::Function, name: &str) -> Option<Expr> {
    let FunctionArguments::List(list) = &function.args else {
        return None;
    };
    if list.duplicate_treatment != Some(ast::DuplicateTreatment::Distinct) {
        return None;
    }
    let (value, separator) = match (name, list.args.as_slice()) {
        ("array_agg", [FunctionArg::Unnamed(FunctionArgExpr::Expr(v))]) => (v, None),
        (
            "string_agg",
            [
                FunctionArg::Unnamed(FunctionArgExpr::Expr(v)),
                FunctionArg::Unnamed(FunctionArgExpr::Expr(s)),
            ],
        ) => (v, Some(s)),
        _ => return None,
    };
    // The order: none (ascending), or `ORDER BY x [ASC | DESC] [NULLS ...]` of the value itself.
    let (ascending, nulls_first) = match list.clauses.as_slice() {
        [] => (true, false),
        [ast::FunctionArgumentClause::OrderBy(order)] => match order.as_slice() {
            [by] if &by.expr == value => {
                let ascending = by.options.asc.unwrap_or(true);
                (ascending, by.options.nulls_first.unwrap_or(!ascending))
            }
            _ => return None,
        },
        _ => return None,
    };
    let mut values = function.clone();
    values.name = ObjectName(vec![ObjectNamePart::Identifier(Ident::new("array_agg"))]);
    if let FunctionArguments::List(args) = &mut values.args {
        args.args.truncate(1);
        args.clauses.clear();
    }
    if separator.is_some() {
        // string_agg skips NULLs, and is NULL when no value is left.
        let not_null = Expr::IsNotNull(Box::new(value.clone()));
        values.filter = Some(Box::new(match values.filter.take() {
            Some(filter) => binary(nested(*filter), BinaryOperator::And, not_null),
            None => not_null,
        }));
    }
    let text = |s: &str| Expr::value(Value::SingleQuotedString(s.into()));
    let sorted = call(
        "array_sort",
        vec![
            Expr::Function(values),
            text(if ascending { "ASC" } else { "DESC" }),
            text(if nulls_first {
                "NULLS FIRST"
            } else {
                "NULLS LAST"
            }),
        ],
    );
    Some(match separator {
        Some(separator) => call("array_to_string", vec![sorted, separator.clone()]),
        None => sorted,
    })
}

/// `json_agg(x ...)` as `pg_json_list(array_agg(pg_json_element(x) ...))` (jsonb alike), so the
/// ORDER BY, DISTINCT and FILTER of the call are array_agg's (see `semantics::json_build`). None
/// for a call of another shape, which then fails as an unknown function.
fn json_agg(function: &ast::Function, jsonb: bool) -> Option<Expr> {
    let (element, list) = if jsonb {
        ("pg_jsonb_element", "pg_jsonb_list")
    } else {
        ("pg_json_element", "pg_json_list")
    };
    let FunctionArguments::List(args) = &function.args else {
        return None;
    };
    let [FunctionArg::Unnamed(FunctionArgExpr::Expr(value))] = args.args.as_slice() else {
        return None;
    };
    let mut inner = function.clone();
    inner.name = ObjectName(vec![ObjectNamePart::Identifier(Ident::new("array_agg"))]);
    if args.duplicate_treatment == Some(ast::DuplicateTreatment::Distinct) {
        // The list keeps the values themselves (DISTINCT orders only by its argument), and
        // with them no mark of a JSON document: such arguments stay unplanned (42883).
        if is_document(value) {
            return None;
        }
        let list = format!("{list}_values");
        let values = match sorted_distinct(&inner, "array_agg") {
            Some(sorted) => sorted,
            None => Expr::Function(inner),
        };
        return Some(call(&list, vec![values]));
    }
    if let FunctionArguments::List(inner_args) = &mut inner.args {
        inner_args.args = vec![FunctionArg::Unnamed(FunctionArgExpr::Expr(call(
            element,
            vec![value.clone()],
        )))];
    }
    Some(call(list, vec![Expr::Function(inner)]))
}

/// `json[b]_object_agg(k, v ...)` as `pg_json[b]_object_agg(array_agg(json_build_array(k::text,
/// v) ...))`: each row a `[key, value]` pair, the final step builds the object (see
/// `semantics::json_items`). ORDER BY and FILTER of the call are array_agg's; DISTINCT is not
/// PostgreSQL's syntax for it (None: it fails as an unknown function).
fn json_object_agg(function: &ast::Function, jsonb: bool) -> Option<Expr> {
    let FunctionArguments::List(args) = &function.args else {
        return None;
    };
    if args.duplicate_treatment.is_some() {
        return None;
    }
    let [
        FunctionArg::Unnamed(FunctionArgExpr::Expr(key)),
        FunctionArg::Unnamed(FunctionArgExpr::Expr(value)),
    ] = args.args.as_slice()
    else {
        return None;
    };
    let mut inner = function.clone();
    inner.name = ObjectName(vec![ObjectNamePart::Identifier(Ident::new("array_agg"))]);
    if let FunctionArguments::List(inner_args) = &mut inner.args {
        let pair = call(
            "json_build_array",
            vec![cast(key.clone(), ast::DataType::Text), value.clone()],
        );
        inner_args.args = vec![FunctionArg::Unnamed(FunctionArgExpr::Expr(pair))];
    }
    let last = if jsonb {
        crate::semantics::JSONB_OBJECT_AGG
    } else {
        crate::semantics::JSON_OBJECT_AGG
    };
    Some(call(last, vec![Expr::Function(inner)]))
}

/// Whether an expression is visibly a JSON document: a cast to json or jsonb, `->` / `#>`, or a
/// JSON builder.
fn is_document(expr: &Expr) -> bool {
    match expr {
        Expr::Nested(e) => is_document(e),
        Expr::Cast { data_type, .. } => {
            matches!(data_type, ast::DataType::JSON | ast::DataType::JSONB)
        }
        Expr::BinaryOp { op, .. } => {
            matches!(op, BinaryOperator::Arrow | BinaryOperator::HashArrow)
        }
        Expr::Function(f) => {
            let name = f.name.to_string().to_ascii_lowercase();
            name.starts_with("json") || name.starts_with("to_json")
        }
        _ => false,
    }
}

/// A syntax-tree builder the rewrites share.
pub(super) fn nested(e: Expr) -> Expr {
    Expr::Nested(Box::new(e))
}

/// A syntax-tree builder the rewrites share.
pub(super) fn binary(left: Expr, op: BinaryOperator, right: Expr) -> Expr {
    nested(Expr::BinaryOp {
        left: Box::new(nested(left)),
        op,
        right: Box::new(nested(right)),
    })
}

/// A syntax-tree builder the rewrites share.
pub(super) fn cast(e: Expr, data_type: ast::DataType) -> Expr {
    Expr::Cast {
        kind: ast::CastKind::Cast,
        expr: Box::new(e),
        data_type,
        array: false,
        format: None,
    }
}

fn numeric(e: Expr) -> Expr {
    cast(e, ast::DataType::Numeric(ast::ExactNumberInfo::None))
}

fn interval(text: &str) -> Expr {
    Expr::Interval(ast::Interval {
        value: Box::new(Expr::Value(Value::SingleQuotedString(text.into()).into())),
        leading_field: None,
        leading_precision: None,
        last_field: None,
        fractional_seconds_precision: None,
    })
}

/// A syntax-tree builder the rewrites share.
pub(super) fn number(n: i64) -> Expr {
    Expr::Value(Value::Number(n.to_string(), false).into())
}

/// `make_interval(years, months, weeks, days, hours, mins, secs)`, any of them by name, as the
/// sum of each unit times its count (interval times number is PostgreSQL's exact product here).
fn make_interval(args: &[FunctionArg]) -> Option<Expr> {
    const UNITS: [(&str, &str); 7] = [
        ("years", "1 year"),
        ("months", "1 month"),
        ("weeks", "7 days"),
        ("days", "1 day"),
        ("hours", "1 hour"),
        ("mins", "1 minute"),
        ("secs", "1 second"),
    ];
    let mut counts: Vec<Option<Expr>> = vec![None; UNITS.len()];
    for (position, arg) in args.iter().enumerate() {
        let (index, value) = match arg {
            FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => (position, e),
            FunctionArg::Named {
                name,
                arg: FunctionArgExpr::Expr(e),
                operator: FunctionArgOperator::RightArrow | FunctionArgOperator::Assignment,
            } => (
                UNITS
                    .iter()
                    .position(|(n, _)| name.value.eq_ignore_ascii_case(n))?,
                e,
            ),
            FunctionArg::ExprNamed {
                name: Expr::Identifier(name),
                arg: FunctionArgExpr::Expr(e),
                ..
            } => (
                UNITS
                    .iter()
                    .position(|(n, _)| name.value.eq_ignore_ascii_case(n))?,
                e,
            ),
            _ => return None,
        };
        *counts.get_mut(index)? = Some(value.clone());
    }
    let terms: Vec<Expr> = UNITS
        .iter()
        .zip(counts)
        .filter_map(|((_, unit), count)| {
            count.map(|c| binary(interval(unit), BinaryOperator::Multiply, c))
        })
        .collect();
    Some(
        terms
            .into_iter()
            .reduce(|a, b| binary(a, BinaryOperator::Plus, b))
            .unwrap_or_else(|| interval("0 seconds")),
    )
}

/// `date_trunc('decade' | 'century' | 'millennium', x)` as the year's start moved back to the
/// period's first year (2020, 2001, 2001 for 2024), as PostgreSQL counts them.
fn date_trunc_beyond_year(field: &Expr, value: &Expr) -> Option<Expr> {
    let Expr::Value(v) = field else {
        return None;
    };
    let Value::SingleQuotedString(text) = &v.value else {
        return None;
    };
    let (offset, period) = match text.to_ascii_lowercase().as_str() {
        "decade" => (0, 10),
        "century" => (1, 100),
        "millennium" => (1, 1000),
        _ => return None,
    };
    let year_start = call(
        "date_trunc",
        vec![
            Expr::Value(Value::SingleQuotedString("year".into()).into()),
            value.clone(),
        ],
    );
    let year = cast(
        call(
            "date_part",
            vec![
                Expr::Value(Value::SingleQuotedString("year".into()).into()),
                value.clone(),
            ],
        ),
        ast::DataType::BigInt(None),
    );
    let years_back = binary(
        binary(year, BinaryOperator::Minus, number(offset)),
        BinaryOperator::Modulo,
        number(period),
    );
    Some(binary(
        year_start,
        BinaryOperator::Minus,
        binary(interval("1 year"), BinaryOperator::Multiply, years_back),
    ))
}
