//! The SQL standard's `FETCH FIRST n ROWS ONLY` (what JDBC tools and SQL written for other
//! databases send; PostgreSQL accepts it) as the `LIMIT n` it means: DataFusion refuses the
//! FETCH clause. `WITH TIES` and `PERCENT` have no LIMIT form and stay refused (0A000).

use std::ops::ControlFlow;

use sqlparser::ast::{Expr, LimitClause, Query, Value, VisitMut, VisitorMut};

/// Rewrites every `FETCH FIRST | NEXT [n] ROW[S] ONLY` of `node`, subqueries included.
pub fn rewrite<N: VisitMut>(node: &mut N) {
    let _ = node.visit(&mut FetchToLimit);
}

struct FetchToLimit;

impl VisitorMut for FetchToLimit {
    type Break = ();

    fn pre_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
        fetch_to_limit(query);
        ControlFlow::Continue(())
    }
}

fn fetch_to_limit(query: &mut Query) {
    let Some(fetch) = &query.fetch else {
        return;
    };
    if fetch.with_ties || fetch.percent {
        return;
    }
    // `FETCH FIRST ROW ONLY` is one row.
    let quantity = fetch
        .quantity
        .clone()
        .unwrap_or_else(|| Expr::value(Value::Number("1".into(), false)));
    match &mut query.limit_clause {
        None => {
            query.limit_clause = Some(LimitClause::LimitOffset {
                limit: Some(quantity),
                offset: None,
                limit_by: Vec::new(),
            })
        }
        Some(LimitClause::LimitOffset {
            limit: limit @ None,
            ..
        }) => *limit = Some(quantity),
        // LIMIT and FETCH together: PostgreSQL refuses it; so does DataFusion.
        Some(_) => return,
    }
    query.fetch = None;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewritten(sql: &str) -> String {
        let dialect = super::super::LakehouseDialect::default();
        let mut statement = sqlparser::parser::Parser::parse_sql(&dialect, sql)
            .unwrap()
            .remove(0);
        rewrite(&mut statement);
        statement.to_string()
    }

    #[test]
    fn fetch_first_is_a_limit() {
        assert_eq!(
            rewritten("SELECT a FROM t ORDER BY a FETCH FIRST 5 ROWS ONLY"),
            "SELECT a FROM t ORDER BY a LIMIT 5"
        );
        assert_eq!(
            rewritten("SELECT a FROM t OFFSET 2 ROWS FETCH NEXT 3 ROWS ONLY"),
            "SELECT a FROM t LIMIT 3 OFFSET 2 ROWS"
        );
        assert_eq!(
            rewritten("SELECT (SELECT b FROM u FETCH FIRST ROW ONLY) FROM t"),
            "SELECT (SELECT b FROM u LIMIT 1) FROM t"
        );
        assert!(
            rewritten("SELECT a FROM t ORDER BY a FETCH FIRST 5 ROWS WITH TIES").contains("FETCH")
        );
    }
}
