//! `current_setting('name')` and `set_config('name', 'value', is_local)` read and change this
//! session's settings (Grafana, pgAdmin and Metabase call them at connect), and
//! `current_schemas(b)` lists its search path. Calls with literal
//! arguments are replaced by their value before planning; the engine's fallbacks for other calls
//! live in `catalog::pg`.

use std::ops::ControlFlow;

use sqlparser::ast::{
    Expr, FunctionArg, FunctionArgExpr, FunctionArguments, ObjectNamePart, Value,
    visit_expressions_mut,
};

use super::settings::{ReportedChange, Settings};
use crate::dialect::Statement;
use crate::error::Result;

/// Replaces setting calls in `statement` by their values, applying `set_config` to `settings`;
/// `schema_exists` says which search path entries `current_schemas` lists. Returns the changes
/// to report to the client.
pub fn inline(
    statement: &mut Statement,
    settings: &mut Settings,
    schema_exists: &dyn Fn(&str) -> bool,
) -> Result<Vec<ReportedChange>> {
    let Statement::Sql(sql) = statement else {
        return Ok(Vec::new());
    };
    let mut reported = Vec::new();
    let flow = visit_expressions_mut(sql.as_mut(), |expr: &mut Expr| {
        match replacement(expr, settings, schema_exists, &mut reported) {
            Ok(Some(value)) => *expr = value,
            Ok(None) => {}
            Err(e) => return ControlFlow::Break(e),
        }
        ControlFlow::Continue(())
    });
    match flow {
        ControlFlow::Break(e) => Err(e),
        ControlFlow::Continue(()) => Ok(reported),
    }
}

/// The literal a setting call stands for, if `expr` is one with literal arguments.
fn replacement(
    expr: &Expr,
    settings: &mut Settings,
    schema_exists: &dyn Fn(&str) -> bool,
    reported: &mut Vec<ReportedChange>,
) -> Result<Option<Expr>> {
    let Expr::Function(function) = expr else {
        return Ok(None);
    };
    let Some(ObjectNamePart::Identifier(name)) = function.name.0.last() else {
        return Ok(None);
    };
    let FunctionArguments::List(list) = &function.args else {
        return Ok(None);
    };
    let args: Option<Vec<Value>> = list
        .args
        .iter()
        .map(|arg| match arg {
            FunctionArg::Unnamed(FunctionArgExpr::Expr(Expr::Value(v))) => Some(v.value.clone()),
            _ => None,
        })
        .collect();
    let Some(args) = args else {
        return Ok(None);
    };
    let text = |v: &Value| v.clone().into_string();
    match (name.value.to_ascii_lowercase().as_str(), args.as_slice()) {
        ("current_setting", [setting]) => Ok(text(setting)
            .map(|setting| settings.get(&setting))
            .transpose()?
            .map(|value| Expr::value(Value::SingleQuotedString(value)))),
        ("current_setting", [setting, missing_ok]) => {
            let Some(setting) = text(setting) else {
                return Ok(None);
            };
            let missing_ok = matches!(missing_ok, Value::Boolean(true));
            match settings.get(&setting) {
                Ok(value) => Ok(Some(Expr::value(Value::SingleQuotedString(value)))),
                Err(_) if missing_ok => Ok(Some(Expr::value(Value::Null))),
                Err(e) => Err(e),
            }
        }
        ("set_config", [setting, value, _is_local]) => {
            let (Some(setting), Some(value)) = (text(setting), text(value)) else {
                return Ok(None);
            };
            reported.extend(settings.set(&setting, Some(value))?);
            let value = settings.get(&setting)?;
            Ok(Some(Expr::value(Value::SingleQuotedString(value))))
        }
        // pgcli: the existing schemas names resolve in, `pg_catalog` first when implicit ones
        // count.
        ("current_schemas", [Value::Boolean(implicit)]) => {
            let mut schemas = settings.search_path_schemas();
            schemas.retain(|s| schema_exists(s));
            if *implicit {
                schemas.insert(0, "pg_catalog".into());
            }
            Ok(Some(Expr::Array(sqlparser::ast::Array {
                elem: schemas
                    .into_iter()
                    .map(|s| Expr::value(Value::SingleQuotedString(s)))
                    .collect(),
                named: true,
            })))
        }
        _ => Ok(None),
    }
}
