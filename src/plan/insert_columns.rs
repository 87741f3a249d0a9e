//! The columns an INSERT gives values for, worked out from its statement before DataFusion
//! plans it, with PostgreSQL's rules for the columns whose values the table makes:
//! - `DEFAULT` in a VALUES row is the column's default: its DEFAULT expression, NULL for a
//!   column without one, the next value for an identity column, the expression's value for a
//!   generated column (DataFusion would read `DEFAULT` as a column name);
//! - a column with a DEFAULT expression that the statement leaves out gets the expression, in
//!   each VALUES row or beside a query's columns (see [`super::column_defaults`]);
//! - a value given to a GENERATED ALWAYS identity column or a generated column is 428C9;
//! - a value given to a BY DEFAULT identity column is kept, and a NULL among such values is
//!   23502 (only an omitted column or `DEFAULT` is generated);
//! - an INSERT without a column list whose rows are narrower than the table (`VALUES (1)` into
//!   three columns) fills the columns its values reach, the rest get their defaults (DataFusion
//!   would refuse the statement).

use sqlparser::ast;

use super::PlanContext;
use crate::error::{Error, ErrorKind, Result};

/// What the planning of an INSERT needs to know about its target's made columns.
#[derive(Debug, Default)]
pub(super) struct InsertColumns {
    /// The target's generated columns (`GENERATED ALWAYS AS (expr)`): their values are left
    /// out of the rows for delta-rs to compute.
    pub generated: Vec<String>,
    /// The BY DEFAULT identity columns the statement gives values for: a NULL among them is
    /// refused rather than replaced by a generated value.
    pub identity_given: Vec<String>,
    /// The target's other NOT NULL columns (not identity, not generated): a NULL in them is
    /// refused as PostgreSQL refuses it, naming the column.
    pub not_null: Vec<String>,
}

/// Applies the rules of the module header to `statement` (an INSERT into a Delta table; any
/// other statement is left as it is): fills in the column list where needed, replaces `DEFAULT`
/// in VALUES rows, and refuses values for columns that take none.
pub(super) async fn prepare(
    cx: &PlanContext<'_>,
    statement: &mut ast::Statement,
) -> Result<InsertColumns> {
    let ast::Statement::Insert(insert) = statement else {
        return Ok(InsertColumns::default());
    };
    let ast::TableObject::TableName(name) = &insert.table else {
        return Ok(InsertColumns::default());
    };
    check_column_list(insert)?;
    let Ok(table_ref) = super::resolve_table(name, cx.default_schema) else {
        return Ok(InsertColumns::default());
    };
    if !cx.catalog.table_exists(&table_ref) {
        return Ok(InsertColumns::default());
    }
    let table = cx.catalog.load(&table_ref).await?;
    let generated: Vec<String> = crate::delta::generated_columns(&table)?
        .into_iter()
        .map(|(name, _)| name)
        .collect();
    let identity = crate::delta::identity_columns(&table)?;
    let defaults = super::column_defaults::stored(&table)?;
    let table_columns = crate::delta::table_arrow_schema(&table)?;
    if insert.source.is_none() && insert.columns.is_empty() {
        default_values(insert, &table_columns, &generated)?;
    }
    let values_width = match insert.source.as_ref().map(|q| q.body.as_ref()) {
        Some(ast::SetExpr::Values(values)) => values.rows.first().map(|row| row.content.len()),
        _ => None,
    };
    let not_null: Vec<String> = table_columns
        .fields()
        .iter()
        .filter(|f| !f.is_nullable())
        .map(|f| f.name().clone())
        .filter(|c| !generated.contains(c) && !identity.iter().any(|i| i.name == *c))
        .collect();
    let made_columns = !generated.is_empty() || !identity.is_empty() || !defaults.is_empty();
    if !made_columns && values_width.is_none() {
        return Ok(InsertColumns {
            not_null,
            ..Default::default()
        });
    }
    if insert.columns.is_empty() {
        let width = match values_width {
            Some(width) => width,
            None => {
                let Some(source) = insert.source.clone() else {
                    return Ok(InsertColumns {
                        generated,
                        not_null,
                        ..Default::default()
                    });
                };
                super::planned::logical_plan(&cx.df.state(), ast::Statement::Query(source))
                    .await?
                    .schema()
                    .fields()
                    .len()
            }
        };
        let narrower = width < table_columns.fields().len();
        let has_default = values_width.is_some() && default_positions(insert).next().is_some();
        if made_columns || narrower || has_default {
            insert.columns = table_columns
                .fields()
                .iter()
                .take(width)
                .map(|f| quoted_column(f.name()))
                .collect();
        }
    }
    let named = named_columns(insert);
    let by_default = |column: &str| {
        identity
            .iter()
            .any(|c| !c.always && c.name.eq_ignore_ascii_case(column))
    };
    let omitted = replace_defaults(insert, &named, &defaults, &by_default)?;
    if let Some(ast::SetExpr::Values(values)) = insert.source.as_ref().map(|q| q.body.as_ref()) {
        // The columns the rows still give values for (those every row gave DEFAULT are out).
        let remaining: Vec<&String> = named.iter().filter(|c| !omitted.contains(c)).collect();
        let targets: Vec<Option<&datafusion::arrow::datatypes::Field>> = if named.is_empty() {
            table_columns
                .fields()
                .iter()
                .map(|f| Some(f.as_ref()))
                .collect()
        } else {
            remaining
                .iter()
                .map(|n| table_columns.field_with_name(n).ok())
                .collect()
        };
        super::assignment_types::check_values(cx.df, values, &targets)?;
        // A NULL written into a NOT NULL column, named as PostgreSQL names it (DataFusion's
        // check named the VALUES list's own column, `column1`); identity columns have their own
        // rules (a DEFAULT is a NULL here by now).
        for row in &values.rows {
            for (value, target) in row.content.iter().zip(&targets) {
                if let Some(target) = target
                    && not_null.contains(target.name())
                    && matches!(value, ast::Expr::Value(v) if v.value == ast::Value::Null)
                {
                    return Err(super::identity::null_refused(
                        target.name(),
                        &table_ref.table,
                    ));
                }
            }
        }
    }
    add_left_out_defaults(cx, insert, &defaults).await?;
    let given: Vec<&String> = named.iter().filter(|c| !omitted.contains(c)).collect();
    if let Some(column) = given.iter().find(|c| {
        identity
            .iter()
            .any(|i| i.always && i.name.as_str() == c.as_str())
    }) {
        return Err(super::identity::insert_refused(column));
    }
    if let Some(column) = given.iter().find(|c| generated.contains(c)) {
        return Err(Error::new(
            ErrorKind::GeneratedAlways,
            format!("cannot insert a non-DEFAULT value into column \"{column}\""),
        )
        .with_detail(format!("Column \"{column}\" is a generated column.")));
    }
    let identity_given = given
        .into_iter()
        .filter(|c| by_default(c))
        .cloned()
        .collect();
    Ok(InsertColumns {
        generated,
        identity_given,
        not_null,
    })
}

use super::column_defaults::is_default_keyword as is_default;

/// The columns `insert`'s column list names, as the catalog names them.
fn named_columns(insert: &ast::Insert) -> Vec<String> {
    insert
        .columns
        .iter()
        .filter_map(|c| c.0.last().and_then(|p| p.as_ident()))
        .map(super::normalize_ident)
        .collect()
}

/// A column list entry for the column `name`.
fn quoted_column(name: &str) -> ast::ObjectName {
    ast::ObjectName::from(vec![ast::Ident::with_quote('"', name)])
}

/// PostgreSQL's errors for a column list the statement does not fit: a column named twice
/// (42701), VALUES rows longer or shorter than the list (42601). (DataFusion's were "Schema
/// contains duplicate unqualified field name" and "Column count doesn't match insert query!".)
fn check_column_list(insert: &ast::Insert) -> Result<()> {
    let named = named_columns(insert);
    for (i, column) in named.iter().enumerate() {
        if named[..i].contains(column) {
            return Err(Error::new(
                ErrorKind::DuplicateColumn,
                format!("column \"{column}\" specified more than once"),
            ));
        }
    }
    let Some(ast::SetExpr::Values(values)) = insert.source.as_ref().map(|q| q.body.as_ref()) else {
        return Ok(());
    };
    if named.is_empty() {
        return Ok(());
    }
    for row in &values.rows {
        let problem = match row.content.len().cmp(&named.len()) {
            std::cmp::Ordering::Greater => "INSERT has more expressions than target columns",
            std::cmp::Ordering::Less => "INSERT has more target columns than expressions",
            std::cmp::Ordering::Equal => continue,
        };
        return Err(Error::syntax(problem));
    }
    Ok(())
}

/// `INSERT INTO t DEFAULT VALUES` as the one VALUES row of `DEFAULT` in every column that takes
/// a value (generated columns are computed), which the rules above then fill.
fn default_values(
    insert: &mut ast::Insert,
    table_columns: &datafusion::arrow::datatypes::Schema,
    generated: &[String],
) -> Result<()> {
    let columns: Vec<&String> = table_columns
        .fields()
        .iter()
        .map(|f| f.name())
        .filter(|c| !generated.contains(c))
        .collect();
    let row = vec!["DEFAULT"; columns.len()].join(", ");
    let statement = sqlparser::parser::Parser::parse_sql(
        &sqlparser::dialect::PostgreSqlDialect {},
        &format!("VALUES ({row})"),
    )
    .map_err(|e| Error::internal(format!("rewriting DEFAULT VALUES: {e}")))?
    .pop();
    let Some(ast::Statement::Query(values)) = statement else {
        return Err(Error::internal("rewriting DEFAULT VALUES"));
    };
    insert.source = Some(values);
    insert.columns = columns.into_iter().map(|c| quoted_column(c)).collect();
    Ok(())
}

/// The positions of a VALUES source's rows that hold `DEFAULT` somewhere.
fn default_positions(insert: &ast::Insert) -> impl Iterator<Item = usize> + '_ {
    let rows = match insert.source.as_ref().map(|q| q.body.as_ref()) {
        Some(ast::SetExpr::Values(values)) => values.rows.as_slice(),
        _ => &[],
    };
    let width = rows.first().map_or(0, |row| row.content.len());
    (0..width).filter(move |&p| {
        rows.iter()
            .any(|row| row.content.get(p).is_some_and(is_default))
    })
}

/// Replaces `DEFAULT` in the VALUES rows of `insert` (whose columns are `named`) with the
/// column's DEFAULT expression (of `defaults`) or else NULL, and returns the columns without
/// one that every row gives `DEFAULT`: they count as omitted (their values are made) and leave
/// the statement, as DataFusion refuses NULL in a VALUES column of a NOT NULL column. A BY
/// DEFAULT identity column with `DEFAULT` in some rows and values in others is refused: its
/// NULLs could not be told apart.
fn replace_defaults(
    insert: &mut ast::Insert,
    named: &[String],
    defaults: &[(String, ast::Expr)],
    by_default: &dyn Fn(&str) -> bool,
) -> Result<Vec<String>> {
    let positions: Vec<usize> = default_positions(insert).collect();
    let Some(query) = insert.source.as_mut() else {
        return Ok(Vec::new());
    };
    let ast::SetExpr::Values(values) = query.body.as_mut() else {
        return Ok(Vec::new());
    };
    let mut omitted_positions = Vec::new();
    for p in positions {
        let column = named.get(p).cloned().unwrap_or_default();
        if defaults.iter().any(|(c, _)| *c == column) {
            let value = super::column_defaults::value_of(defaults, &column);
            for row in &mut values.rows {
                if let Some(expr) = row.content.get_mut(p)
                    && is_default(expr)
                {
                    *expr = value.clone();
                }
            }
            continue;
        }
        let every_row = values
            .rows
            .iter()
            .all(|row| row.content.get(p).is_some_and(is_default));
        if every_row {
            omitted_positions.push(p);
        } else if by_default(&column) {
            return Err(Error::unsupported(format!(
                "identity column \"{column}\" is given DEFAULT in some rows and values in others"
            ))
            .with_hint("insert the rows that take a generated value in a statement of their own"));
        }
        for row in &mut values.rows {
            if let Some(expr) = row.content.get_mut(p)
                && is_default(expr)
            {
                *expr = ast::Expr::value(ast::Value::Null);
            }
        }
    }
    let omitted: Vec<String> = omitted_positions
        .iter()
        .filter_map(|&p| named.get(p).cloned())
        .collect();
    let width = values.rows.first().map_or(0, |row| row.content.len());
    if omitted_positions.len() < width {
        let keep = |p: &usize| !omitted_positions.contains(p);
        for row in &mut values.rows {
            row.content = std::mem::take(&mut row.content)
                .into_iter()
                .enumerate()
                .filter(|(p, _)| keep(p))
                .map(|(_, expr)| expr)
                .collect();
        }
        insert.columns = std::mem::take(&mut insert.columns)
            .into_iter()
            .enumerate()
            .filter(|(p, _)| keep(p))
            .map(|(_, column)| column)
            .collect();
    } else if !omitted.is_empty() {
        // Every column DEFAULT: a statement needs one column, so the rows of NULLs stay, read
        // as a query (DataFusion checks NOT NULL on VALUES only) and made by the write.
        let subquery = query.as_ref().clone();
        **query = wrapped_query(subquery)?;
    }
    Ok(omitted)
}

/// `SELECT * FROM (query) AS deltagres_defaults`.
fn wrapped_query(query: ast::Query) -> Result<ast::Query> {
    query_wrapper(query, None)
}

/// `SELECT * FROM (query) AS deltagres_defaults [(c1, ..., cn)]` (the column names keep a
/// query's duplicate names apart).
/// The wrapper is parsed from text with `(SELECT 1)` in the query's place, which then goes in
/// as it is (already rewritten by the dialect: its text would be rewritten twice).
fn query_wrapper(query: ast::Query, width: Option<usize>) -> Result<ast::Query> {
    let columns = match width {
        Some(width) => format!(
            "({})",
            (1..=width)
                .map(|i| format!("c{i}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        None => String::new(),
    };
    let sql = format!("SELECT * FROM (SELECT 1) AS deltagres_defaults {columns}");
    let statement =
        sqlparser::parser::Parser::parse_sql(&sqlparser::dialect::PostgreSqlDialect {}, &sql)
            .map_err(|e| Error::internal(format!("rewriting DEFAULT rows: {e}")))?
            .pop();
    let Some(ast::Statement::Query(mut wrapper)) = statement else {
        return Err(Error::internal("rewriting DEFAULT rows"));
    };
    if let ast::SetExpr::Select(select) = wrapper.body.as_mut()
        && let Some(ast::TableFactor::Derived { subquery, .. }) =
            select.from.first_mut().map(|from| &mut from.relation)
    {
        **subquery = query;
        return Ok(*wrapper);
    }
    Err(Error::internal("rewriting DEFAULT rows"))
}

/// Gives the columns of `defaults` that `insert` does not name their DEFAULT expression: added
/// to its column list, and to each VALUES row or beside the columns of its query.
async fn add_left_out_defaults(
    cx: &PlanContext<'_>,
    insert: &mut ast::Insert,
    defaults: &[(String, ast::Expr)],
) -> Result<()> {
    let named = named_columns(insert);
    let left_out: Vec<&(String, ast::Expr)> = defaults
        .iter()
        .filter(|(c, _)| !named.contains(c))
        .collect();
    if left_out.is_empty() {
        return Ok(());
    }
    let Some(query) = insert.source.as_mut() else {
        return Ok(());
    };
    let value = |(_, expr): &&(String, ast::Expr)| super::column_defaults::as_value(expr);
    match query.body.as_mut() {
        ast::SetExpr::Values(values) => {
            for row in &mut values.rows {
                row.content.extend(left_out.iter().map(value));
            }
        }
        _ => {
            let width =
                super::planned::logical_plan(&cx.df.state(), ast::Statement::Query(query.clone()))
                    .await?
                    .schema()
                    .fields()
                    .len();
            let mut wrapper = query_wrapper(query.as_ref().clone(), Some(width))?;
            if let ast::SetExpr::Select(select) = wrapper.body.as_mut() {
                select.projection.extend(
                    left_out
                        .iter()
                        .map(|d| ast::SelectItem::UnnamedExpr(value(d))),
                );
            }
            **query = wrapper;
        }
    }
    insert
        .columns
        .extend(left_out.iter().map(|(c, _)| quoted_column(c)));
    Ok(())
}
