//! PostgreSQL's spellings of values and functions that DataFusion reads differently, rewritten
//! on the syntax tree: timestamps written without seconds (`TIMESTAMP '2024-03-07 10:00'`, which
//! Arrow's parser refuses), a zone written on a `timestamp without time zone` (which PostgreSQL
//! ignores and Arrow applied) and `x AT TIME ZONE z` (planned as `pg_at_time_zone`, PostgreSQL's
//! meaning for both timestamp kinds); with [`super::pg_input`]'s date, interval and numeric
//! texts and [`super::pg_functions`]' functions, for every expression.

use std::ops::ControlFlow;

use sqlparser::ast::{self, DataType, Expr, TimezoneInfo, Value, visit_expressions_mut};

/// Applies the rewrites to every expression of a statement.
pub fn rewrite(statement: &mut ast::Statement) {
    let _ = visit_expressions_mut(statement, |expr: &mut Expr| {
        timestamp_literal(expr);
        wide_integer_to_numeric(expr);
        super::pg_input::rewrite(expr);
        super::pg_functions::rewrite(expr);
        super::pg_forms::rewrite(expr);
        super::array_slices::rewrite(expr);
        at_time_zone(expr);
        wide_number_to_float(expr);
        ControlFlow::<()>::Continue(())
    });
}

/// An integer literal beyond `bigint` (`12345678901234567890`): a `numeric`, as PostgreSQL
/// types it (DataFusion read it as an unsigned 64-bit integer or refused it, and our bigint
/// check answered 22003 "bigint out of range").
fn wide_integer_to_numeric(expr: &mut Expr) {
    let Expr::Value(v) = expr else {
        return;
    };
    let Value::Number(text, _) = &v.value else {
        return;
    };
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) || text.parse::<i64>().is_ok() {
        return;
    }
    // 38 digits fit a decimal; a wider one is a double, as `wide_number_to_float` makes them.
    let data_type = if text.trim_start_matches('0').len() <= 38 {
        DataType::Numeric(ast::ExactNumberInfo::None)
    } else {
        DataType::Double(ast::ExactNumberInfo::None)
    };
    *expr = Expr::Cast {
        kind: ast::CastKind::Cast,
        expr: Box::new(Expr::Value(Value::SingleQuotedString(text.clone()).into())),
        data_type,
        array: false,
        format: None,
    };
}

/// Applies the rewrites to a query (the query of a CREATE TABLE ... AS).
pub fn rewrite_query(query: &mut ast::Query) {
    let _ = visit_expressions_mut(query, |expr: &mut Expr| {
        timestamp_literal(expr);
        wide_integer_to_numeric(expr);
        super::pg_input::rewrite(expr);
        super::pg_functions::rewrite(expr);
        super::pg_forms::rewrite(expr);
        super::array_slices::rewrite(expr);
        at_time_zone(expr);
        wide_number_to_float(expr);
        ControlFlow::<()>::Continue(())
    });
}

/// Whether a type is a timestamp, and whether it carries a zone.
fn timestamp_kind(data_type: &DataType) -> Option<bool> {
    match data_type {
        DataType::Timestamp(_, TimezoneInfo::WithTimeZone | TimezoneInfo::Tz) => Some(true),
        DataType::Timestamp(_, _) | DataType::Datetime(_) => Some(false),
        _ => None,
    }
}

/// `TIMESTAMP '...'` and `'...'::timestamp[tz]` with a constant text: the text as Arrow reads it.
pub(super) fn timestamp_literal(expr: &mut Expr) {
    let Some((data_type, text)) = super::pg_input::typed_constant(expr) else {
        return;
    };
    let Some(with_zone) = timestamp_kind(data_type) else {
        return;
    };
    if let Some(normal) = normalize_timestamp(text, with_zone) {
        *text = normal;
    }
}

/// `YYYY-MM-DD HH:MM[...]` with seconds added when missing; for a timestamp without time zone,
/// a trailing zone dropped (PostgreSQL ignores it there). `None` when nothing changes or the text
/// is not of that shape (the engine's own parser then reports it).
fn normalize_timestamp(text: &str, with_zone: bool) -> Option<String> {
    let trimmed = text.trim();
    let bytes = trimmed.as_bytes();
    let dated = bytes.len() >= 16
        && bytes[..4].iter().all(u8::is_ascii_digit)
        && bytes[4] == b'-'
        && matches!(bytes[10], b' ' | b'T');
    if !dated {
        return None;
    }
    let (date, rest) = trimmed.split_at(11);
    let time_len = rest
        .find(|c: char| !(c.is_ascii_digit() || c == ':' || c == '.'))
        .unwrap_or(rest.len());
    let (time, zone) = rest.split_at(time_len);
    let mut time = time.to_string();
    if time.matches(':').count() == 1 && !time.contains('.') {
        time.push_str(":00");
    }
    let zone = zone.trim();
    let zone_like = zone.starts_with(['+', '-', 'Z', 'z'])
        || zone.chars().next().is_some_and(|c| c.is_ascii_alphabetic());
    let zone = if !with_zone && zone_like { "" } else { zone };
    // Arrow reads an offset or ISO 8601's `Z` only right after the time, a zone name after a
    // space (`'2024-01-01 10:00:00 Z'` and `'...00.000Z'` named a zone "Z" it could not find).
    let zone = if zone.eq_ignore_ascii_case("z") {
        "Z"
    } else {
        zone
    };
    let separator = if zone.is_empty() || zone.starts_with(['+', '-']) || zone == "Z" {
        ""
    } else {
        " "
    };
    let normal = format!("{date}{time}{separator}{zone}");
    (normal != text).then_some(normal)
}

/// The digits a number literal needs as a decimal (precision, scale), e.g. `1e300` -> (301, 0).
fn decimal_digits(text: &str) -> Option<(i64, i64)> {
    let (mantissa, exponent) = match text.find(['e', 'E']) {
        Some(at) => (&text[..at], text[at + 1..].parse::<i64>().ok()?),
        None => (text, 0),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits: String = format!("{whole}{fraction}");
    let significant = digits.trim_start_matches('0').len().max(1) as i64;
    let scale = fraction.len() as i64 - exponent;
    Some(if scale < 0 {
        (significant - scale, 0)
    } else {
        (significant.max(scale), scale)
    })
}

/// A number literal too wide for a 38-digit decimal (`1e300`): a `double precision`, where
/// DataFusion would refuse it (PostgreSQL keeps an arbitrary-precision numeric; see the README).
fn wide_number_to_float(expr: &mut Expr) {
    let Expr::Value(v) = expr else {
        return;
    };
    let Value::Number(text, _) = &v.value else {
        return;
    };
    if !text.contains(['.', 'e', 'E']) {
        return;
    }
    let wide = decimal_digits(text).is_none_or(|(precision, scale)| precision > 38 || scale > 38);
    if wide {
        *expr = Expr::Cast {
            kind: ast::CastKind::Cast,
            expr: Box::new(Expr::Value(Value::SingleQuotedString(text.clone()).into())),
            data_type: DataType::Double(ast::ExactNumberInfo::None),
            array: false,
            format: None,
        };
    }
}

/// `x AT TIME ZONE z` -> `pg_at_time_zone(x, z)`.
fn at_time_zone(expr: &mut Expr) {
    if let Expr::AtTimeZone {
        timestamp,
        time_zone,
    } = expr
    {
        *expr = pg_at_time_zone((**timestamp).clone(), (**time_zone).clone());
    }
}

/// `timestamp AT TIME ZONE zone` as PostgreSQL answers it, for both timestamp kinds.
pub(super) fn pg_at_time_zone(timestamp: Expr, zone: Expr) -> Expr {
    super::pg_rewrites::call("pg_at_time_zone", vec![timestamp, zone])
}

#[cfg(test)]
mod tests {
    use super::normalize_timestamp;

    #[test]
    fn number_widths() {
        use super::decimal_digits;
        assert_eq!(decimal_digits("1e300"), Some((301, 0)));
        assert_eq!(decimal_digits("1.5e3"), Some((4, 0)));
        assert_eq!(decimal_digits("0.125"), Some((3, 3)));
        assert_eq!(decimal_digits("1e-5"), Some((5, 5)));
        assert_eq!(decimal_digits("123.45"), Some((5, 2)));
    }

    #[test]
    fn timestamps_get_their_seconds_and_lose_ignored_zones() {
        assert_eq!(
            normalize_timestamp("2024-03-07 10:00", false).as_deref(),
            Some("2024-03-07 10:00:00")
        );
        assert_eq!(
            normalize_timestamp("2024-03-07 10:00:00+02", false).as_deref(),
            Some("2024-03-07 10:00:00")
        );
        assert_eq!(
            normalize_timestamp("2024-03-07 10:00+02", true).as_deref(),
            Some("2024-03-07 10:00:00+02")
        );
        assert_eq!(
            normalize_timestamp("2024-03-07 10:00:00 America/New_York", true).as_deref(),
            None
        );
        assert_eq!(
            normalize_timestamp("2024-03-07 10:00:00 z", true).as_deref(),
            Some("2024-03-07 10:00:00Z")
        );
        assert_eq!(
            normalize_timestamp("2024-03-07T10:00:00.000Z", true).as_deref(),
            None,
            "Arrow reads it as it is"
        );
        assert_eq!(normalize_timestamp("2024-03-07 10:00:00.5", false), None);
        assert_eq!(normalize_timestamp("2024-03-07", false), None);
    }
}
