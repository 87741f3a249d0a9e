//! `x op ANY / ALL (subquery)` with the subquery's rows under a name of their own, before
//! DataFusion's rewrite of such comparisons (see [`requalified`]).

use datafusion::error::Result;
use datafusion::logical_expr::{Expr, LogicalPlan};

/// The name the rows of an `x op ANY / ALL (subquery)` are known by inside its comparison.
const QUANTIFIED_ROWS: &str = "__quantified_rows";

/// `x op ANY / ALL (subquery)` with the subquery's rows under a name of their own: DataFusion
/// compares `x` (made an outer reference) with the subquery's first column by its qualified
/// name, so where both were the same column of the same table (`WHERE id = ANY (SELECT id FROM
/// t WHERE ...)` over `t`) the decorrelated comparison read one side twice: `= ANY` kept every
/// row and `> ALL` none. `None` when `expr` is no such comparison or is already renamed.
pub(super) fn requalified(expr: &Expr) -> Result<Option<Expr>> {
    let Expr::SetComparison(comparison) = expr else {
        return Ok(None);
    };
    let plan = &comparison.subquery.subquery;
    if matches!(plan.as_ref(), LogicalPlan::SubqueryAlias(a) if a.alias.table() == QUANTIFIED_ROWS)
    {
        return Ok(None);
    }
    let renamed = datafusion::logical_expr::SubqueryAlias::try_new(plan.clone(), QUANTIFIED_ROWS)?;
    let mut comparison = comparison.clone();
    comparison.subquery.subquery = std::sync::Arc::new(LogicalPlan::SubqueryAlias(renamed));
    Ok(Some(Expr::SetComparison(comparison)))
}
