//! Type names that mean another type in PostgreSQL than in DataFusion.
//!
//! `FLOAT` without a precision, and `FLOAT(p)` with `p` above 24, are `double precision` in
//! PostgreSQL (and in the SQL standard's reading PostgreSQL follows); DataFusion plans every
//! `FLOAT` as a 4-byte `real`. `SELECT 1::float / 3` answered `0.33333334`, and a `FLOAT` column
//! stored 7 significant digits of every value written to it. They are rewritten to `FLOAT8`
//! (the name PostgreSQL gives such a column, `float8`) wherever a type is written: casts, typed
//! literals, column definitions, `ALTER TABLE` column types and `PREPARE` parameter types.

use std::ops::ControlFlow;

use sqlparser::ast::{
    self, AlterColumnOperation, AlterTableOperation, ArrayElemTypeDef, ColumnDef, DataType,
    ExactNumberInfo, Expr, visit_expressions_mut,
};

use super::Statement;

/// The largest `FLOAT(p)` precision that is a `real` (PostgreSQL: 1 to 24 bits).
const REAL_PRECISION: u64 = 24;

/// Rewrites the types `statement` writes (see the module header).
pub fn rewrite(statement: &mut Statement) {
    match statement {
        Statement::Sql(sql) => rewrite_sql(sql),
        Statement::CreateTable(create) => {
            columns(&mut create.columns);
            if let Some(query) = create.query.as_mut() {
                expressions(query.as_mut());
            }
        }
        Statement::Merge { merge, .. } => expressions(merge),
        Statement::InsertReplaceWhere {
            predicate, query, ..
        } => {
            expressions(predicate);
            expressions(query.as_mut());
        }
        _ => {}
    }
}

fn rewrite_sql(sql: &mut ast::Statement) {
    match sql {
        ast::Statement::CreateTable(create) => columns(&mut create.columns),
        ast::Statement::AlterTable(alter) => {
            for operation in &mut alter.operations {
                match operation {
                    AlterTableOperation::AddColumn { column_def, .. } => {
                        pg_data_type(&mut column_def.data_type)
                    }
                    AlterTableOperation::AlterColumn {
                        op: AlterColumnOperation::SetDataType { data_type, .. },
                        ..
                    } => pg_data_type(data_type),
                    _ => {}
                }
            }
        }
        ast::Statement::Prepare { data_types, .. } => data_types.iter_mut().for_each(pg_data_type),
        _ => {}
    }
    expressions(sql);
}

fn columns(columns: &mut [ColumnDef]) {
    for column in columns {
        pg_data_type(&mut column.data_type);
    }
}

/// The types of the casts and typed literals in `node`.
fn expressions<N: ast::VisitMut>(node: &mut N) {
    let _ = visit_expressions_mut(node, |expr: &mut Expr| {
        match expr {
            Expr::Cast { data_type, .. } => pg_data_type(data_type),
            Expr::TypedString(typed) => pg_data_type(&mut typed.data_type),
            _ => {}
        }
        ControlFlow::<()>::Continue(())
    });
}

/// `data_type` as PostgreSQL reads it, arrays' element types included.
fn pg_data_type(data_type: &mut DataType) {
    match data_type {
        DataType::Float(info) => {
            let precision = match info {
                ExactNumberInfo::None => None,
                ExactNumberInfo::Precision(p) | ExactNumberInfo::PrecisionAndScale(p, _) => {
                    Some(*p)
                }
            };
            match precision {
                Some(p) if p <= REAL_PRECISION => *data_type = DataType::Real,
                _ => *data_type = DataType::Float8,
            }
        }
        DataType::Array(
            ArrayElemTypeDef::AngleBracket(inner)
            | ArrayElemTypeDef::SquareBracket(inner, _)
            | ArrayElemTypeDef::Parenthesis(inner),
        ) => pg_data_type(inner),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewritten(sql: &str) -> String {
        let mut statements = super::super::parser::parse_statements(sql).unwrap();
        rewrite(&mut statements[0]);
        match &statements[0] {
            Statement::Sql(sql) => sql.to_string(),
            other => format!("{other:?}"),
        }
    }

    #[test]
    fn float_is_double_precision_unless_its_precision_says_real() {
        assert_eq!(
            rewritten("SELECT 1::float, CAST(x AS FLOAT(25)), CAST(y AS FLOAT(24)), z::float[]"),
            "SELECT 1::FLOAT8, CAST(x AS FLOAT8), CAST(y AS REAL), z::FLOAT8[]"
        );
        assert!(rewritten("ALTER TABLE t ADD COLUMN f FLOAT").contains("f FLOAT8"));
    }
}
