//! The conditions UPDATE, DELETE and MERGE hand delta-rs, shaped so that delta-rs chooses the
//! files to rewrite only by what it can judge exactly.
//!
//! delta-rs picks the files a write touches from its condition: by partition values (with the
//! kernel's file skipping) and by the log's min/max statistics, then evaluates the condition row
//! by row in those files. Two kinds of condition must not pick files:
//! - one that is NULL for every row: the kernel keeps (so a DELETE removed) every file it cannot
//!   rule out; `p AND (p) IS TRUE` is never NULL and the kernel does not take `IS TRUE`;
//! - one that reads a float column: statistics leave NaN out (see `delta::scan_filters`), so a
//!   file holding the NaN a condition matches (`y > 2`, `y <> 1.5`, `t.y = s.y`) was passed by.
//!   Such conjuncts reach delta-rs only in shapes it cannot turn into file filters.
//!
//! A string literal compared with a bytea column is written as the bytes PostgreSQL reads it
//! as (`b = '\x5a'` as `b = X'5a'`): delta-rs casts it with Arrow, which takes the text's own
//! bytes, and chose no file for `UPDATE t SET ... WHERE b = '\x5a'`.

use std::collections::HashSet;
use std::ops::ControlFlow;

use datafusion::arrow::datatypes::DataType;
use sqlparser::ast::{
    BinaryOperator, Expr, Function, FunctionArg, FunctionArgExpr, FunctionArgumentList,
    FunctionArguments, Ident, ObjectName, ObjectNamePart, Value, visit_expressions,
    visit_expressions_mut,
};

use crate::error::Result;

/// The float columns of `table` (lower-cased), whose statistics must not choose files.
pub fn float_columns(table: &deltalake::DeltaTable) -> Result<HashSet<String>> {
    let schema = crate::delta::table_arrow_schema(table)?;
    let partition_columns = table.snapshot()?.metadata().partition_columns().to_vec();
    Ok(crate::delta::float_columns(&schema, &partition_columns)
        .into_iter()
        .map(|c| c.to_lowercase())
        .collect())
}

/// The bytea columns of `table` (lower-cased), whose literals [`with_bytea_literals`] reads.
pub fn binary_columns(table: &deltalake::DeltaTable) -> Result<HashSet<String>> {
    let schema = crate::delta::table_arrow_schema(table)?;
    Ok(schema
        .fields()
        .iter()
        .filter(|f| {
            matches!(
                f.data_type(),
                DataType::Binary | DataType::LargeBinary | DataType::BinaryView
            )
        })
        .map(|f| f.name().to_lowercase())
        .collect())
}

/// Each string literal `predicate` compares with one of the `binaries` columns (bare, or
/// qualified by `qualifier` when given) made a hex literal of the bytes bytea's input function
/// reads from it; a text bytea cannot read is PostgreSQL's error (22P02 / 22023).
pub fn with_bytea_literals(
    predicate: &mut Expr,
    binaries: &HashSet<String>,
    qualifier: Option<&str>,
) -> Result<()> {
    if binaries.is_empty() {
        return Ok(());
    }
    let is_bytea = |e: &Expr| match e {
        Expr::Identifier(ident) => binaries.contains(&ident.value.to_lowercase()),
        Expr::CompoundIdentifier(parts) => match parts.as_slice() {
            [.., table, column] => {
                binaries.contains(&column.value.to_lowercase())
                    && qualifier.is_none_or(|q| table.value.eq_ignore_ascii_case(q))
            }
            _ => false,
        },
        _ => false,
    };
    let mut failure = None;
    let mut as_bytes = |e: &mut Expr| {
        let Expr::Value(v) = e else { return };
        let Value::SingleQuotedString(text) = &v.value else {
            return;
        };
        match crate::semantics::bytea_in(text) {
            Ok(bytes) => {
                *e = Expr::Value(Value::HexStringLiteral(hex::encode(bytes)).into());
            }
            Err(err) => failure = Some(err),
        }
    };
    let _ = visit_expressions_mut(predicate, |e| {
        match e {
            Expr::BinaryOp {
                left,
                op:
                    BinaryOperator::Eq
                    | BinaryOperator::NotEq
                    | BinaryOperator::Lt
                    | BinaryOperator::LtEq
                    | BinaryOperator::Gt
                    | BinaryOperator::GtEq,
                right,
            } => {
                if is_bytea(left) {
                    as_bytes(right);
                } else if is_bytea(right) {
                    as_bytes(left);
                }
            }
            Expr::InList { expr, list, .. } if is_bytea(expr) => {
                list.iter_mut().for_each(&mut as_bytes)
            }
            Expr::Between {
                expr, low, high, ..
            } if is_bytea(expr) => {
                as_bytes(low);
                as_bytes(high);
            }
            _ => {}
        }
        ControlFlow::<()>::Continue(())
    });
    match failure {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// A DELETE's condition for delta-rs: rows where `predicate` is true, with only the conjuncts
/// that read no float column left to choose files (see the module header).
pub fn delete_predicate(predicate: &Expr, floats: &HashSet<String>) -> String {
    let is_true = format!("(({predicate}) IS TRUE)");
    match choosing_part(predicate, floats) {
        Some(choosing) => format!("({choosing}) AND {is_true}"),
        None => is_true,
    }
}

/// An UPDATE's condition for delta-rs: `predicate` itself unless it reads a float column, then
/// as a DELETE's.
pub fn update_predicate(predicate: &Expr, floats: &HashSet<String>) -> String {
    if reads_any(predicate, floats, None) {
        delete_predicate(predicate, floats)
    } else {
        predicate.to_string()
    }
}

/// A MERGE's ON condition with each conjunct that reads one of the target's float columns
/// (`target.y` or a bare `y`) put out of delta-rs's reach for choosing files: an equality as
/// `coalesce(a, a) = coalesce(b, b)` (still a join key; delta-rs would have turned `t.y = s.y`
/// into `t.y BETWEEN min(s.y) AND max(s.y)`), anything else as `(c) IS TRUE`.
pub fn merge_on(on: Expr, floats: &HashSet<String>, target_alias: &str) -> Expr {
    if floats.is_empty() {
        return on;
    }
    let conjuncts: Vec<Expr> = split_conjunction(on)
        .into_iter()
        .map(|c| {
            if !reads_any(&c, floats, Some(target_alias)) {
                return c;
            }
            match c {
                Expr::BinaryOp {
                    left,
                    op: BinaryOperator::Eq,
                    right,
                } => Expr::BinaryOp {
                    left: Box::new(same_value(*left)),
                    op: BinaryOperator::Eq,
                    right: Box::new(same_value(*right)),
                },
                other => Expr::IsTrue(Box::new(Expr::Nested(Box::new(other)))),
            }
        })
        .collect();
    conjuncts
        .into_iter()
        .reduce(|a, b| Expr::BinaryOp {
            left: Box::new(a),
            op: BinaryOperator::And,
            right: Box::new(b),
        })
        .expect("a condition has at least one conjunct")
}

/// `coalesce(e, e)`: the value of `e`, in a form delta-rs does not trace to a column.
fn same_value(e: Expr) -> Expr {
    let arg = |e: Expr| FunctionArg::Unnamed(FunctionArgExpr::Expr(e));
    Expr::Function(Function {
        name: ObjectName(vec![ObjectNamePart::Identifier(Ident::new("coalesce"))]),
        uses_odbc_syntax: false,
        parameters: FunctionArguments::None,
        args: FunctionArguments::List(FunctionArgumentList {
            duplicate_treatment: None,
            args: vec![arg(e.clone()), arg(e)],
            clauses: vec![],
        }),
        filter: None,
        null_treatment: None,
        over: None,
        within_group: vec![],
    })
}

/// The conjuncts of `predicate` that read no float column, ANDed; `None` when there is none.
fn choosing_part(predicate: &Expr, floats: &HashSet<String>) -> Option<Expr> {
    split_conjunction(predicate.clone())
        .into_iter()
        .filter(|c| !reads_any(c, floats, None))
        .reduce(|a, b| Expr::BinaryOp {
            left: Box::new(a),
            op: BinaryOperator::And,
            right: Box::new(b),
        })
}

/// `a AND b AND ...` as its parts (parenthesized ones too).
fn split_conjunction(expr: Expr) -> Vec<Expr> {
    match expr {
        Expr::BinaryOp {
            left,
            op: BinaryOperator::And,
            right,
        } => {
            let mut parts = split_conjunction(*left);
            parts.extend(split_conjunction(*right));
            parts
        }
        Expr::Nested(inner)
            if matches!(
                *inner,
                Expr::BinaryOp {
                    op: BinaryOperator::And,
                    ..
                }
            ) =>
        {
            split_conjunction(*inner)
        }
        other => vec![other],
    }
}

/// Whether `expr` names one of `columns`: bare, or qualified by `qualifier` (any qualifier when
/// none is given). Names compare case-insensitively, which can only over-match: harmless here.
fn reads_any(expr: &Expr, columns: &HashSet<String>, qualifier: Option<&str>) -> bool {
    let named = |ident: &Ident| columns.contains(&ident.value.to_lowercase());
    visit_expressions(expr, |e| {
        let found = match e {
            Expr::Identifier(ident) => named(ident),
            Expr::CompoundIdentifier(parts) => match parts.as_slice() {
                [.., table, column] => {
                    named(column) && qualifier.is_none_or(|q| table.value.eq_ignore_ascii_case(q))
                }
                _ => false,
            },
            _ => false,
        };
        if found {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    })
    .is_break()
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlparser::dialect::PostgreSqlDialect;
    use sqlparser::parser::Parser;

    fn expr(sql: &str) -> Expr {
        Parser::new(&PostgreSqlDialect {})
            .try_with_sql(sql)
            .unwrap()
            .parse_expr()
            .unwrap()
    }

    fn floats() -> HashSet<String> {
        HashSet::from(["y".to_string()])
    }

    #[test]
    fn float_conjuncts_do_not_choose_files() {
        assert_eq!(
            delete_predicate(&expr("id = 1 AND y > 2"), &floats()),
            "(id = 1) AND ((id = 1 AND y > 2) IS TRUE)"
        );
        assert_eq!(
            delete_predicate(&expr("y <> 1.5"), &floats()),
            "((y <> 1.5) IS TRUE)"
        );
        assert_eq!(
            delete_predicate(&expr("d = NULL"), &floats()),
            "(d = NULL) AND ((d = NULL) IS TRUE)"
        );
        assert_eq!(update_predicate(&expr("id = 1"), &floats()), "id = 1");
        assert_eq!(
            update_predicate(&expr("Y > 2"), &floats()),
            "((Y > 2) IS TRUE)"
        );
    }

    #[test]
    fn merge_conditions_on_target_floats_are_hidden_from_file_choice() {
        let on = merge_on(
            expr("t.id = s.id AND t.y = s.y AND t.y > 0"),
            &floats(),
            "t",
        );
        assert_eq!(
            on.to_string(),
            "t.id = s.id AND coalesce(t.y, t.y) = coalesce(s.y, s.y) AND (t.y > 0) IS TRUE"
        );
        // A source column of the same name is not the target's.
        let on = merge_on(expr("t.id = s.y"), &floats(), "t");
        assert_eq!(on.to_string(), "t.id = s.y");
    }
}
