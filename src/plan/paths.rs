//! Spark's path tables: ``FROM parquet.`/data/orders/*.parquet` `` reads the files, exactly as
//! `read_parquet('/data/orders/*.parquet')` does (same path confinement). Rewritten before
//! planning, together with time travel (see `timetravel::resolve`).

use std::ops::ControlFlow;

use sqlparser::ast::{
    Expr, FunctionArg, FunctionArgExpr, Ident, ObjectName, TableFactor, TableFunctionArgs, Value,
    VisitMut, VisitorMut,
};

/// Turns every ``parquet.`path` `` table reference into `read_parquet('path')`.
pub fn rewrite_path_tables<N: VisitMut>(node: &mut N) {
    struct Rewrite;
    impl VisitorMut for Rewrite {
        type Break = ();
        fn pre_visit_table_factor(&mut self, factor: &mut TableFactor) -> ControlFlow<()> {
            if let TableFactor::Table { name, args, .. } = factor
                && args.is_none()
                && let [format, path] = name.0.as_slice()
                && format
                    .as_ident()
                    .is_some_and(|f| f.value.eq_ignore_ascii_case("parquet"))
                && let Some(path) = path.as_ident().filter(|p| p.quote_style == Some('`'))
            {
                let literal = Expr::Value(Value::SingleQuotedString(path.value.clone()).into());
                *args = Some(TableFunctionArgs {
                    args: vec![FunctionArg::Unnamed(FunctionArgExpr::Expr(literal))],
                    settings: None,
                });
                *name = ObjectName::from(vec![Ident::new("read_parquet")]);
            }
            ControlFlow::Continue(())
        }
    }
    let _ = node.visit(&mut Rewrite);
}
