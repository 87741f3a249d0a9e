//! DataFusion's planner errors that PostgreSQL has its own SQLSTATE and words for, said as
//! PostgreSQL says them: a column neither grouped nor aggregated (42803), an ORDER BY that a
//! DISTINCT or a position cannot sort by (42P10), and a correlated subquery the engine cannot
//! turn into a join or a row IN outside a WHERE (0A000, one line instead of the planner's
//! expression dump), and set operations and INSERT queries of different widths (42601).

use super::{Error, ErrorKind};

/// PostgreSQL's error for a planner message, if it is one of those.
pub(super) fn planner_error(message: &str) -> Option<Error> {
    grouping(message)
        .or_else(|| order_by(message))
        .or_else(|| correlated_subquery(message))
        .or_else(|| row_in_subquery(message))
        .or_else(|| set_operation_width(message))
        .or_else(|| insert_width(message))
}

/// `INSERT INTO t (a) SELECT 1, 2`: 42601 as in PostgreSQL (DataFusion's plan error does not
/// say which side is longer; VALUES rows are checked before planning, with PostgreSQL's words).
fn insert_width(message: &str) -> Option<Error> {
    message
        .starts_with("Column count doesn't match insert query")
        .then(|| {
            Error::new(
                ErrorKind::Syntax,
                "INSERT has a different number of expressions than target columns",
            )
        })
}

/// `SELECT 1 UNION SELECT 1, 2`: PostgreSQL's 42601 and words (DataFusion's plan error was
/// 42000).
fn set_operation_width(message: &str) -> Option<Error> {
    let operation = ["UNION", "INTERSECT", "EXCEPT"]
        .into_iter()
        .find(|op| message.starts_with(&format!("{op} queries have different number of columns")));
    let operation = match operation {
        Some(op) => op,
        None if message.starts_with("INTERSECT/EXCEPT query must have the same number") => {
            "INTERSECT/EXCEPT"
        }
        None => return None,
    };
    Some(Error::new(
        ErrorKind::Syntax,
        format!("each {operation} query must have the same number of columns"),
    ))
}

/// `Column in SELECT must be in GROUP BY or an aggregate function: ... column "t.v" must
/// appear in the GROUP BY clause ...`.
fn grouping(message: &str) -> Option<Error> {
    if !message.contains("must be in GROUP BY or an aggregate function") {
        return None;
    }
    let column = message
        .split("column \"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or("?");
    Some(Error::new(
        ErrorKind::GroupingError,
        format!(
            "column \"{column}\" must appear in the GROUP BY clause or be used in an aggregate function"
        ),
    ))
}

/// DISTINCT with an ORDER BY outside the select list, and `ORDER BY n` past the last column.
fn order_by(message: &str) -> Option<Error> {
    if message.starts_with("For SELECT DISTINCT, ORDER BY expressions") {
        return Some(Error::new(
            ErrorKind::InvalidColumnReference,
            "for SELECT DISTINCT, ORDER BY expressions must appear in select list",
        ));
    }
    let rest = message.strip_prefix("Order by column out of bounds, specified: ")?;
    let position = rest.split(',').next().unwrap_or(rest).trim();
    Some(Error::new(
        ErrorKind::InvalidColumnReference,
        format!("ORDER BY position {position} is not in select list"),
    ))
}

/// A subquery that reads the outer row in a form the engine cannot turn into a join (a
/// `LATERAL` subquery using an outer column, a scalar subquery correlated by `<` or `>`).
fn correlated_subquery(message: &str) -> Option<Error> {
    let rest = message.strip_prefix("Physical plan does not support logical expression ")?;
    let what = if rest.starts_with("OuterReferenceColumn") {
        "a LATERAL subquery or function that reads a column of the outer query"
    } else if rest.starts_with("ScalarSubquery") {
        "a scalar subquery correlated with the outer query other than by equality"
    } else if rest.starts_with("Exists") || rest.starts_with("InSubquery") {
        "this correlated EXISTS / IN subquery"
    } else {
        return None;
    };
    Some(
        Error::unsupported(format!("{what} is not supported yet")).with_hint(
            "write it as a JOIN (with GROUP BY for an aggregate), or correlate by equality: \
             WHERE inner.k = outer.k",
        ),
    )
}

/// A row compared with a subquery's rows where it is not a WHERE condition (see
/// `dialect::row_in`).
fn row_in_subquery(message: &str) -> Option<Error> {
    message
        .starts_with("Too many columns! The subquery should only return one column")
        .then(|| {
            Error::unsupported(
                "a row compared with a subquery's rows, (a, b) IN (SELECT ...), is supported only as a condition of WHERE",
            )
            .with_hint("write NOT EXISTS (SELECT 1 FROM ... WHERE x = a AND y = b), or a JOIN")
        })
}

#[cfg(test)]
mod tests {
    use super::planner_error;

    #[test]
    fn planner_messages_get_postgresql_states() {
        let e = planner_error("Column in SELECT must be in GROUP BY or an aggregate function: While expanding wildcard, column \"w.v\" must appear in the GROUP BY clause or must be part of an aggregate function, currently only \"w.g\" appears").unwrap();
        assert_eq!(e.sqlstate(), "42803");
        assert_eq!(
            e.message,
            "column \"w.v\" must appear in the GROUP BY clause or be used in an aggregate function"
        );
        let e = planner_error("Order by column out of bounds, specified: 4, max: 3").unwrap();
        assert_eq!(
            (e.sqlstate(), e.message.as_str()),
            ("42P10", "ORDER BY position 4 is not in select list")
        );
        let e = planner_error(
            "Physical plan does not support logical expression ScalarSubquery(<subquery>)",
        )
        .unwrap();
        assert_eq!(e.sqlstate(), "0A000");
        assert!(planner_error("something else").is_none());
    }
}
