//! The conditions and values of UPDATE, DELETE, MERGE and REPLACE WHERE, planned by this
//! session before delta-rs runs the write.
//!
//! delta-rs plans an expression given as text with DataFusion's default planners only, so the
//! dialect's operators were lost in a write: `WHERE doc ->> 'k' = '2'` failed with XX000
//! "type_coercion" and `SET s = doc ->> 'k'` with "Operator ->> is not yet supported". Planned
//! here, with the session's planners and functions, a write reads as a SELECT does, and the
//! type of an assigned value is known (PostgreSQL's assignment rule, `assignment_types`).

use std::sync::Arc;

use datafusion::arrow::datatypes::FieldRef;
use datafusion::catalog::Session;
use datafusion::common::{DFSchema, DFSchemaRef};
use datafusion::execution::SessionState;
use datafusion::logical_expr::{EmptyRelation, Expr, LogicalPlan, Projection};

use crate::error::Result;

/// A session and the rows a write's expressions read (the table's columns; for MERGE the
/// target's and the source's, each under its alias).
pub struct WriteExprs {
    state: Arc<SessionState>,
    rows: DFSchemaRef,
}

impl WriteExprs {
    /// Expressions over `rows`, planned and later run in `state`.
    pub fn new(state: SessionState, rows: DFSchema) -> Self {
        Self {
            state: Arc::new(state),
            rows: Arc::new(rows),
        }
    }

    /// Expressions over one table's rows (`columns`, unqualified), as UPDATE, DELETE and
    /// REPLACE WHERE read them.
    pub fn over_table(
        state: SessionState,
        columns: &datafusion::arrow::datatypes::Schema,
    ) -> Result<Self> {
        Ok(Self::new(state, DFSchema::try_from(columns.clone())?))
    }

    /// The session delta-rs runs the write in (the one the expressions were planned in).
    pub fn session(&self) -> Arc<dyn Session> {
        self.state.clone()
    }

    /// The rows the expressions read.
    pub fn rows(&self) -> &DFSchema {
        &self.rows
    }

    /// The expression of `sql` (a condition or a value) over the rows, read with PostgreSQL's
    /// operator precedence as the statement was (`doc ->> 'k' = '2'` compares the field).
    pub fn plan(&self, sql: &str) -> Result<Expr> {
        let parsed = sqlparser::parser::Parser::new(&crate::dialect::LakehouseDialect::default())
            .try_with_sql(sql)?
            .parse_expr()?;
        let parsed = sqlparser::ast::ExprWithAlias {
            expr: parsed,
            alias: None,
        };
        Ok(self
            .state
            .create_logical_expr_from_sql_expr(parsed, &self.rows)?)
    }

    /// `expr` as the session's analyzer rules make it in a SELECT (types coerced, PostgreSQL's
    /// input rules and time zones applied: `WHERE tz < '2024-01-01 05:00'` failed with 22008,
    /// a text without seconds that only the rules read), or `expr` itself where it cannot be
    /// analyzed here (the write reports the problem).
    fn analyzed(&self, expr: Expr) -> Expr {
        match self.analyzed_projection(expr.clone()) {
            Some(analyzed) => analyzed.expr[0].clone().unalias(),
            None => expr,
        }
    }

    /// The type `expr` has once the session's analyzer rules have typed it (as in a SELECT:
    /// `b || '\x21'` of a bytea is a bytea there), or `None` if it cannot be worked out here
    /// (the write reports the problem).
    pub fn analyzed_field(&self, expr: Expr) -> Option<FieldRef> {
        Some(self.analyzed_projection(expr)?.schema.field(0).clone())
    }

    /// `SELECT expr` over the rows, through the session's analyzer rules; `None` where they
    /// refuse it.
    fn analyzed_projection(&self, expr: Expr) -> Option<Projection> {
        let rows = Arc::new(LogicalPlan::EmptyRelation(EmptyRelation {
            produce_one_row: false,
            schema: self.rows.clone(),
        }));
        let plan = LogicalPlan::Projection(Projection::try_new(vec![expr], rows).ok()?);
        match self
            .state
            .analyzer()
            .execute_and_check(plan, self.state.config_options(), |_, _| {})
        {
            Ok(LogicalPlan::Projection(analyzed)) if analyzed.expr.len() == 1 => Some(analyzed),
            _ => None,
        }
    }
}

/// A write's condition or value for delta-rs: planned here, or its text where delta-rs could
/// not write a planned condition back as SQL (it records each condition in the commit as SQL
/// text and has no text for some planned forms, e.g. an array constant: `id <> ALL (ARRAY[2,
/// NULL])` failed with XX000), or where a generated column's expression (Spark's SQL) does not
/// plan here. delta-rs plans a text itself, without the dialect's operators, as before.
#[derive(Clone)]
pub enum WriteExpr {
    /// Planned by this session.
    Planned(Expr),
    /// Read by delta-rs.
    Text(String),
}

impl WriteExpr {
    /// `builder` given this expression by `planned` or by `text`.
    pub fn apply<B, R>(
        self,
        builder: B,
        planned: impl FnOnce(B, Expr) -> R,
        text: impl FnOnce(B, String) -> R,
    ) -> R {
        match self {
            WriteExpr::Planned(expr) => planned(builder, expr),
            WriteExpr::Text(sql) => text(builder, sql),
        }
    }
}

impl WriteExprs {
    /// The condition `sql` over the rows (see [`WriteExpr`]), simplified as delta-rs would
    /// before writing it as text, with quantified comparisons over constant arrays expanded.
    pub fn condition(&self, sql: &str) -> Result<WriteExpr> {
        use datafusion::optimizer::simplify_expressions::ExprSimplifier;
        let planned = self.analyzed(self.plan(sql)?);
        let context = datafusion::logical_expr::simplify::SimplifyContext::builder()
            .with_schema(self.rows.clone())
            .with_config_options(self.state.config_options().clone())
            // `now()` is the statement's time, written as a constant (delta-rs folded it into
            // a nanosecond timestamp it has no text for).
            .with_query_execution_start_time(
                self.state
                    .execution_props()
                    .query_execution_start_time
                    .or_else(|| Some(chrono::Utc::now())),
            )
            .build();
        let written = ExprSimplifier::new(context)
            .simplify(planned)
            .and_then(crate::semantics::expand_quantified_constants)
            .and_then(microsecond_instants)
            .ok()
            .filter(writable);
        Ok(match written {
            Some(expr) => WriteExpr::Planned(expr),
            None => WriteExpr::Text(sql.to_string()),
        })
    }

    /// The values `sets` (column, SQL) assign, planned; a value of one of the `generated`
    /// columns that does not plan here is left as text.
    pub fn values(
        &self,
        sets: Vec<(String, String)>,
        generated: &[(String, String)],
    ) -> Result<Vec<(String, WriteExpr)>> {
        sets.into_iter()
            .map(|(column, sql)| match self.plan(&sql) {
                // As a SELECT's analyzer rules make it: delta-rs types the value again but runs
                // none of them (`'{1,2}'::int[]` was Arrow's cast, a one-element list, 22P02).
                Ok(expr) => Ok((column, WriteExpr::Planned(self.analyzed(expr)))),
                Err(_) if generated.iter().any(|(g, _)| *g == column) => {
                    Ok((column, WriteExpr::Text(sql)))
                }
                Err(e) => Err(e),
            })
            .collect()
    }
}

/// `expr` with its nanosecond timestamp constants (a `TIMESTAMPTZ '...'` literal, `now()`, a
/// bound timestamptz parameter) made microsecond ones, the precision PostgreSQL and Delta keep
/// (Delta's columns are microseconds; delta-rs types the condition again against them): its SQL
/// writer has text only for microsecond timestamps, so `WHERE tz = TIMESTAMPTZ '2024-05-06
/// 07:08:09+00'` failed with XX000 "Unable to convert expression to string".
fn microsecond_instants(expr: Expr) -> datafusion::error::Result<Expr> {
    use datafusion::common::ScalarValue;
    use datafusion::common::tree_node::{Transformed, TreeNode};
    expr.transform_up(|e| match e {
        Expr::Literal(ScalarValue::TimestampNanosecond(nanos, zone), metadata) => {
            let micros = ScalarValue::TimestampMicrosecond(nanos.map(|n| n.div_euclid(1000)), zone);
            Ok(Transformed::yes(Expr::Literal(micros, metadata)))
        }
        other => Ok(Transformed::no(other)),
    })
    .map(|t| t.data)
}

/// Whether delta-rs's SQL writer (`fmt_expr_to_sql`) has a text for every part of `expr`: its
/// expression kinds and constant types (it panics on a part it lacks inside a function call).
fn writable(expr: &Expr) -> bool {
    use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
    let mut writable = true;
    let _ = expr.apply(|e| {
        writable = match e {
            Expr::Literal(value, _) => writable_value(value),
            Expr::Column(_)
            | Expr::Case(_)
            | Expr::Not(_)
            | Expr::Negative(_)
            | Expr::IsNull(_)
            | Expr::IsNotNull(_)
            | Expr::IsTrue(_)
            | Expr::IsFalse(_)
            | Expr::IsUnknown(_)
            | Expr::IsNotTrue(_)
            | Expr::IsNotFalse(_)
            | Expr::IsNotUnknown(_)
            | Expr::BinaryExpr(_)
            | Expr::ScalarFunction(_)
            | Expr::Cast(_)
            | Expr::Between(_)
            | Expr::Like(_)
            | Expr::SimilarTo(_)
            | Expr::InList(_) => true,
            _ => false,
        };
        Ok(if writable {
            TreeNodeRecursion::Continue
        } else {
            TreeNodeRecursion::Stop
        })
    });
    writable
}

/// Whether delta-rs's SQL writer has a text for a constant of this type.
fn writable_value(value: &datafusion::common::ScalarValue) -> bool {
    use datafusion::common::ScalarValue as V;
    match value {
        V::Dictionary(_, inner) => writable_value(inner),
        V::Boolean(_)
        | V::Float32(_)
        | V::Float64(_)
        | V::Int8(_)
        | V::Int16(_)
        | V::Int32(_)
        | V::Int64(_)
        | V::UInt8(_)
        | V::UInt16(_)
        | V::UInt32(_)
        | V::UInt64(_)
        | V::Decimal128(..)
        | V::Date32(_)
        | V::Date64(_)
        | V::TimestampMicrosecond(..)
        | V::Utf8(_)
        | V::LargeUtf8(_)
        | V::Utf8View(_)
        | V::Binary(_)
        | V::FixedSizeBinary(..)
        | V::LargeBinary(_)
        | V::BinaryView(_)
        | V::Null => true,
        _ => false,
    }
}
