//! `MERGE [WITH SCHEMA EVOLUTION] INTO target USING source ON cond WHEN ...` through delta-rs's
//! merge: one commit that rewrites only the target files holding matched rows.
//!
//! Databricks semantics on top of delta-rs: clauses of one kind apply in order (first match wins),
//! `UPDATE SET *` / `INSERT *` mean "every column by name", and a target row matched by two source
//! rows is an error (21000), never a silent pick.

use std::ops::ControlFlow;

use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::prelude::DataFrame;
use sqlparser::ast::{
    self, AssignmentTarget, Expr, Ident, MergeAction, MergeClauseKind, MergeInsertKind, TableFactor,
};

use super::merge_values::AssignmentTyping;
use super::names::{normalize_ident, quote_identifiers};
use super::{PlanContext, resolve_table, timetravel};
use crate::dialect::STAR_COLUMN;
use crate::error::{Error, ErrorKind, Result};
use crate::output::{CommandTag, Notice, QueryOutput};

/// Refuses a WHEN clause that follows an unconditional clause of the same kind: it could never
/// apply (PostgreSQL and Spark refuse it too, 42601), and accepting it would hide a mistake.
fn check_reachable(clauses: &[ast::MergeClause]) -> Result<()> {
    let group = |kind: &MergeClauseKind| match kind {
        MergeClauseKind::Matched => 0,
        MergeClauseKind::NotMatched | MergeClauseKind::NotMatchedByTarget => 1,
        MergeClauseKind::NotMatchedBySource => 2,
    };
    let mut unconditional = [false; 3];
    for clause in clauses {
        let g = group(&clause.clause_kind);
        if unconditional[g] {
            return Err(Error::new(
                ErrorKind::Syntax,
                "unreachable WHEN clause specified after unconditional WHEN clause",
            ));
        }
        unconditional[g] |= clause.predicate.is_none();
    }
    Ok(())
}

/// Runs a MERGE.
pub async fn merge(
    cx: &mut PlanContext<'_>,
    statement: ast::Statement,
    schema_evolution: bool,
) -> Result<QueryOutput> {
    let ast::Statement::Merge(merge) = statement else {
        return Err(Error::internal("not a MERGE statement"));
    };
    if merge.output.is_some() {
        return Err(Error::unsupported(
            "MERGE ... RETURNING/OUTPUT is not supported",
        ));
    }
    check_reachable(&merge.clauses)?;
    let TableFactor::Table {
        name,
        alias,
        version,
        ..
    } = &merge.table
    else {
        return Err(Error::unsupported("MERGE INTO needs a table as its target"));
    };
    if version.is_some() {
        return Err(Error::new(
            ErrorKind::Syntax,
            "the MERGE target cannot be time-travelled",
        ));
    }
    let target_ref = resolve_table(name, cx.default_schema)?;
    let target_alias = alias
        .as_ref()
        .map(|a| normalize_ident(&a.name))
        .unwrap_or_else(|| target_ref.table.clone());
    let source_alias = source_alias(&merge.source)?;
    if source_alias == target_alias {
        return Err(Error::new(
            ErrorKind::Syntax,
            format!("MERGE source and target are both named \"{source_alias}\"; give one an alias"),
        ));
    }

    let source = source_frame(cx, &merge.source).await?;
    let source_columns: Vec<String> = source
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    let (_turn, target) = cx.load_for_rewrite(&target_ref).await?;
    let target_columns: Vec<String> = target
        .snapshot()?
        .schema()
        .fields()
        .map(|f| f.name().to_string())
        .collect();

    let generated = crate::delta::generated_columns(&target)?;
    let identity = crate::delta::identity_columns(&target)?;
    let defaults = super::column_defaults::stored(&target)?;
    // Values assigned to document columns go through their casts (plan::documents).
    let target_schema = crate::delta::table_arrow_schema(&target)?;
    let checked = |sets: Vec<(String, String)>| -> Vec<(String, String)> {
        sets.into_iter()
            .map(|(c, v)| {
                let v = super::column_input::checked_sql(&target_schema, &c, v);
                (c, v)
            })
            .collect()
    };
    let floats = super::write_predicates::float_columns(&target)?;
    let mut on = super::write_predicates::merge_on((*merge.on).clone(), &floats, &target_alias);
    let binaries = super::write_predicates::binary_columns(&target)?;
    super::write_predicates::with_bytea_literals(&mut on, &binaries, Some(&target_alias))?;
    quote_identifiers(&mut on);
    // delta-rs checks inside the merge's own plan, on the snapshot it writes, that no target row
    // is changed by two source rows (Delta's rule: several matches that all delete are fine).

    cx.notices.push(Notice::note(
        "00000",
        format!(
            "merging into {target_ref} (version {})",
            target.version().unwrap_or_default()
        ),
    ));
    // Run the merge in this session's runtime, so it shares (and spills within) the engine's
    // memory pool; the session's planner knows delta-rs's own nodes (`plan::lakehouse_state`).
    let mut merge_state = cx.df.state();
    // Identity values of inserted rows come from functions of this statement, and their
    // high-water marks go into the merge's own commit (delta/identity_write.rs).
    let (identity_values, fill) = crate::delta::identity_value_functions(&identity)?;
    for value in &identity_values {
        datafusion::execution::FunctionRegistry::register_udf(
            &mut merge_state,
            std::sync::Arc::new(value.function.clone()),
        )?;
    }
    let exprs = super::merge_values::merge_exprs(
        merge_state,
        source.schema().as_arrow(),
        &source_alias,
        &target_schema,
        &target_alias,
    )?;
    let typing = AssignmentTyping {
        exprs: &exprs,
        target: &target_schema,
    };
    let operable = crate::delta::operable(&target)?;
    let store = if identity.is_empty() {
        operable.log_store()
    } else {
        crate::delta::marking_store(&target, fill)?
    };
    use deltalake::operations::merge::MergeBuilder;
    let parts = (store, Some(operable.snapshot()?.snapshot().clone()), source);
    let mut builder = exprs
        .condition(&on.to_string())?
        .apply(
            parts,
            |(store, snapshot, source), on| MergeBuilder::new(store, snapshot, on, source),
            |(store, snapshot, source), on| MergeBuilder::new(store, snapshot, on, source),
        )
        .with_session_state(exprs.session())
        .with_source_alias(source_alias.clone())
        .with_target_alias(target_alias.clone())
        .with_merge_schema(schema_evolution)
        // The checkpoint is the upkeep's after the statement, as for every write (it reads the
        // table's own state, never the copy an identity table is merged through).
        .with_commit_properties(crate::delta::quiet_commit());
    let column = |c: &str| format!("\"{}\".\"{}\"", source_alias, c.replace('"', "\"\""));
    for clause in merge.clauses {
        // A NOT MATCHED clause sees only the source row, a NOT MATCHED BY SOURCE clause only
        // the target row: a bare column there is that side's (dbt's `VALUES ("id", ...)`),
        // where delta-rs would call a name both sides have ambiguous.
        let only_side = match clause.clause_kind {
            MergeClauseKind::NotMatched | MergeClauseKind::NotMatchedByTarget => {
                Some(source_alias.as_str())
            }
            MergeClauseKind::NotMatchedBySource => Some(target_alias.as_str()),
            MergeClauseKind::Matched => None,
        };
        let resolve = |expr: &mut ast::Expr| {
            if let Some(side) = only_side {
                qualify_bare_columns(expr, side);
            }
            quote_identifiers(expr);
        };
        let predicate = clause
            .predicate
            .map(|mut p| {
                resolve(&mut p);
                exprs.condition(&p.to_string())
            })
            .transpose()?;
        match (clause.clause_kind, clause.action) {
            (
                MergeClauseKind::Matched | MergeClauseKind::NotMatchedBySource,
                MergeAction::Update(update),
            ) => {
                let star = update.assignments.iter().any(|a| {
                    matches!(&a.target, AssignmentTarget::ColumnName(c) if last_ident(c).is_ok_and(|n| n == STAR_COLUMN))
                });
                let mut sets = Vec::new();
                for a in update.assignments {
                    let AssignmentTarget::ColumnName(col) = &a.target else {
                        return Err(Error::unsupported(
                            "tuple assignments in MERGE are not supported",
                        ));
                    };
                    let name = last_ident(col)?;
                    if name == STAR_COLUMN {
                        for c in star_columns(&target_columns, &source_columns, schema_evolution) {
                            sets.push((c.clone(), column(&c)));
                        }
                    } else {
                        let mut value = a.value;
                        if super::column_defaults::is_default_keyword(&value) {
                            value = super::column_defaults::value_of(&defaults, &name);
                        }
                        resolve(&mut value);
                        let value = typing.assign(&name, &value)?;
                        sets.push((name, value));
                    }
                }
                // Generated columns are recomputed from the updated row (delta-rs only checks
                // them); a SET of one is 428C9, a `SET *` leaves them to the recomputation.
                if !generated.is_empty() {
                    if let Some((column, _)) = sets
                        .iter()
                        .find(|(c, _)| generated.iter().any(|(g, _)| g == c))
                        && !star
                    {
                        return Err(super::dml::generated_assigned(column));
                    }
                    sets.retain(|(c, _)| !generated.iter().any(|(g, _)| g == c));
                    let mut assigned = std::collections::HashMap::new();
                    for (c, v) in &sets {
                        let value = sqlparser::parser::Parser::new(
                            &sqlparser::dialect::PostgreSqlDialect {},
                        )
                        .try_with_sql(v)?
                        .parse_expr()?;
                        assigned.insert(c.clone(), value);
                    }
                    for (column, expr) in &generated {
                        let value =
                            super::dml::generated_value(expr, &assigned, Some(&target_alias))?;
                        sets.push((column.clone(), value.to_string()));
                    }
                }
                // A GENERATED ALWAYS identity keeps its value: SET of it is 428C9, `SET *`
                // leaves it out.
                for column in identity.iter().filter(|c| c.always) {
                    if star {
                        sets.retain(|(c, _)| *c != column.name);
                    } else if sets.iter().any(|(c, _)| *c == column.name) {
                        return Err(super::identity::update_refused(&column.name));
                    }
                }
                let by_source = clause.clause_kind == MergeClauseKind::NotMatchedBySource;
                let sets = exprs.values(checked(sets), &generated)?;
                let apply = |mut u: deltalake::operations::merge::UpdateBuilder| {
                    if let Some(p) = &predicate {
                        u = p
                            .clone()
                            .apply(u, |b, e| b.predicate(e), |b, t| b.predicate(t));
                    }
                    for (c, v) in &sets {
                        u = v
                            .clone()
                            .apply(u, |u, e| u.update(c, e), |u, t| u.update(c, t));
                    }
                    u
                };
                builder = if by_source {
                    builder.when_not_matched_by_source_update(apply)?
                } else {
                    builder.when_matched_update(apply)?
                };
            }
            (
                MergeClauseKind::Matched | MergeClauseKind::NotMatchedBySource,
                MergeAction::Delete { .. },
            ) => {
                let by_source = clause.clause_kind == MergeClauseKind::NotMatchedBySource;
                let apply = |mut d: deltalake::operations::merge::DeleteBuilder| {
                    if let Some(p) = &predicate {
                        d = p
                            .clone()
                            .apply(d, |b, e| b.predicate(e), |b, t| b.predicate(t));
                    }
                    d
                };
                builder = if by_source {
                    builder.when_not_matched_by_source_delete(apply)?
                } else {
                    builder.when_matched_delete(apply)?
                };
            }
            (
                MergeClauseKind::NotMatched | MergeClauseKind::NotMatchedByTarget,
                MergeAction::Insert(insert),
            ) => {
                let is_star =
                    insert.columns.len() == 1 && last_ident(&insert.columns[0])? == STAR_COLUMN;
                let mut sets: Vec<(String, String)> = match insert.kind {
                    _ if is_star => {
                        star_columns(&target_columns, &source_columns, schema_evolution)
                            .into_iter()
                            .map(|c| {
                                let v = column(&c);
                                (c, v)
                            })
                            .collect()
                    }
                    MergeInsertKind::Row => {
                        return Err(Error::unsupported(
                            "MERGE ... INSERT ROW is not supported; use INSERT *",
                        ));
                    }
                    MergeInsertKind::Values(values) => {
                        let [row] = values.rows.as_slice() else {
                            return Err(Error::new(
                                ErrorKind::Syntax,
                                "MERGE INSERT takes exactly one VALUES row",
                            ));
                        };
                        let columns: Vec<String> = if insert.columns.is_empty() {
                            target_columns.clone()
                        } else {
                            insert
                                .columns
                                .iter()
                                .map(last_ident)
                                .collect::<Result<_>>()?
                        };
                        if columns.len() != row.len() {
                            return Err(Error::new(
                                ErrorKind::Syntax,
                                format!(
                                    "MERGE INSERT has {} columns but {} values",
                                    columns.len(),
                                    row.len()
                                ),
                            ));
                        }
                        columns
                            .into_iter()
                            .zip(row.iter().cloned())
                            .map(|(c, mut v)| {
                                if super::column_defaults::is_default_keyword(&v) {
                                    v = super::column_defaults::value_of(&defaults, &c);
                                }
                                resolve(&mut v);
                                let v = typing.assign(&c, &v)?;
                                Ok((c, v))
                            })
                            .collect::<Result<_>>()?
                    }
                };
                // Columns left out take their DEFAULT expression.
                for (column, expr) in &defaults {
                    if !sets.iter().any(|(c, _)| c == column) {
                        let value =
                            typing.assign(column, &super::column_defaults::as_value(expr))?;
                        sets.push((column.clone(), value));
                    }
                }
                for (column, function) in identity.iter().zip(&identity_values) {
                    match sets.iter().any(|(c, _)| *c == column.name) {
                        true if column.always => {
                            return Err(super::identity::insert_refused(&column.name));
                        }
                        true => {}
                        false => sets.push((
                            column.name.clone(),
                            format!("{}(CAST(NULL AS BIGINT))", function.name),
                        )),
                    }
                }
                let sets = exprs.values(checked(sets), &generated)?;
                builder = builder.when_not_matched_insert(|mut i| {
                    if let Some(p) = &predicate {
                        i = p
                            .clone()
                            .apply(i, |b, e| b.predicate(e), |b, t| b.predicate(t));
                    }
                    for (c, v) in &sets {
                        i = v.clone().apply(i, |i, e| i.set(c, e), |i, t| i.set(c, t));
                    }
                    i
                })?;
            }
            (kind, action) => {
                return Err(Error::new(
                    ErrorKind::Syntax,
                    format!("WHEN {kind} THEN {action} is not a valid MERGE clause"),
                ));
            }
        }
    }
    let (_, metrics) = match builder.await {
        Ok(done) => done,
        Err(e) => {
            let columns: Vec<&String> = target_columns.iter().collect();
            let mut error = super::dml::null_in_not_null_column(
                Error::from(e),
                &target,
                &target_ref.table,
                &columns,
            );
            if error.kind == ErrorKind::CardinalityViolation
                && let Ok(Some(key)) = duplicate_match_detail(
                    cx,
                    &merge.table,
                    &merge.source,
                    &merge.on,
                    &target_alias,
                )
                .await
            {
                error = error.with_detail(key);
            }
            return Err(error);
        }
    };
    let affected = metrics.num_target_rows_updated
        + metrics.num_target_rows_deleted
        + metrics.num_target_rows_inserted;
    tracing::info!(table = %target_ref, ?metrics, "merge committed");
    cx.notices.push(Notice::note(
        "00000",
        format!(
            "num_affected_rows={affected} num_updated_rows={} num_deleted_rows={} num_inserted_rows={} \
             num_target_files_added={} num_target_files_removed={} num_target_files_skipped={}",
            metrics.num_target_rows_updated,
            metrics.num_target_rows_deleted,
            metrics.num_target_rows_inserted,
            metrics.num_target_files_added,
            metrics.num_target_files_removed,
            metrics.num_target_files_skipped_during_scan,
        ),
    ));
    Ok(QueryOutput::Command(CommandTag::Merge(affected as u64)))
}

/// Qualifies every bare column name of `expr` with `alias`.
fn qualify_bare_columns(expr: &mut ast::Expr, alias: &str) {
    let _ = ast::visit_expressions_mut(expr, |e| {
        if let ast::Expr::Identifier(ident) = e {
            *e = ast::Expr::CompoundIdentifier(vec![
                ast::Ident::with_quote('"', alias),
                ident.clone(),
            ]);
        }
        std::ops::ControlFlow::<()>::Continue(())
    });
}

/// `UPDATE SET *` / `INSERT *`: every target column the source has (plus, with schema evolution,
/// the source's new columns).
fn star_columns(target: &[String], source: &[String], evolve: bool) -> Vec<String> {
    let mut columns: Vec<String> = target
        .iter()
        .filter(|c| source.contains(c))
        .cloned()
        .collect();
    if evolve {
        columns.extend(source.iter().filter(|c| !target.contains(c)).cloned());
    }
    columns
}

fn last_ident(name: &ast::ObjectName) -> Result<String> {
    name.0
        .last()
        .and_then(|p| p.as_ident())
        .map(normalize_ident)
        .ok_or_else(|| Error::syntax(format!("invalid column name {name}")))
}

fn source_alias(source: &TableFactor) -> Result<String> {
    match source {
        TableFactor::Table { alias: Some(a), .. } | TableFactor::Derived { alias: Some(a), .. } => {
            Ok(normalize_ident(&a.name))
        }
        TableFactor::Table {
            name, alias: None, ..
        } => last_ident(name),
        _ => Err(Error::new(
            ErrorKind::Syntax,
            "a MERGE source subquery needs an alias",
        )),
    }
}

/// The source rows as a DataFrame (a table, a time-travelled table, a subquery or VALUES).
async fn source_frame(cx: &mut PlanContext<'_>, source: &TableFactor) -> Result<DataFrame> {
    let mut query = select_star_from(source)?;
    let versioned = timetravel::resolve(cx, &mut query).await?;
    let ctx = versioned.as_ref().unwrap_or(cx.df);
    // delta-rs plans the merge with its own physical planner, which cannot see join strategy
    // markers: SKEW and the rest of the rewrite stay, join strategies are reported as not applied.
    let planned = super::planned::plan_statement(ctx, cx.settings, query)
        .await?
        .without_join_markers("delta-rs plans MERGE joins itself");
    planned.report(cx.notices);
    Ok(ctx.execute_logical_plan(planned.plan).await?)
}

/// `SELECT * FROM <factor>` as a statement (built on the AST: a table factor's text form puts
/// the alias before `VERSION AS OF`, which does not parse back).
fn select_star_from(factor: &TableFactor) -> Result<ast::Statement> {
    let dialect = crate::dialect::LakehouseDialect::default();
    let mut statement =
        sqlparser::parser::Parser::parse_sql(&dialect, "SELECT * FROM placeholder")?
            .pop()
            .ok_or_else(|| Error::internal("MERGE source did not parse"))?;
    if let ast::Statement::Query(query) = &mut statement
        && let ast::SetExpr::Select(select) = query.body.as_mut()
        && let Some(from) = select.from.first_mut()
    {
        from.relation = factor.clone();
    }
    Ok(statement)
}

/// For the 21000 error delta-rs raises: the key of a target row several source rows match
/// (delta-rs names only a file and a row ordinal). Runs only once the MERGE has failed.
async fn duplicate_match_detail(
    cx: &PlanContext<'_>,
    target: &TableFactor,
    source: &TableFactor,
    on: &Expr,
    target_alias: &str,
) -> Result<Option<String>> {
    let mut target_columns = Vec::new();
    let _ = ast::visit_expressions(on, |e| {
        if let Expr::CompoundIdentifier(parts) = e
            && parts.len() >= 2
            && normalize_ident(&parts[parts.len() - 2]) == target_alias
        {
            let text = e.to_string();
            if !target_columns.contains(&text) {
                target_columns.push(text);
            }
        }
        ControlFlow::<()>::Continue(())
    });
    let key = if target_columns.is_empty() {
        "NULL".to_string()
    } else {
        target_columns.join(", ")
    };
    let TableFactor::Table { name, .. } = target else {
        return Ok(None);
    };
    let numbered = format!(
        "(SELECT row_number() OVER () AS __deltagres_row, * FROM {name}) AS {}",
        Ident::with_quote('"', target_alias)
    );
    let sql = format!(
        "SELECT {key} FROM {numbered} JOIN placeholder ON {on} GROUP BY __deltagres_row, {key} HAVING count(*) > 1 LIMIT 1"
    );
    let mut statement =
        sqlparser::parser::Parser::parse_sql(&crate::dialect::LakehouseDialect::default(), &sql)?
            .pop()
            .ok_or_else(|| Error::internal("multiple-match check did not parse"))?;
    // The source goes in as AST: its text form does not always parse back (alias before VERSION).
    if let ast::Statement::Query(query) = &mut statement
        && let ast::SetExpr::Select(select) = query.body.as_mut()
        && let Some(join) = select.from.first_mut().and_then(|f| f.joins.first_mut())
    {
        join.relation = source.clone();
    }
    let versioned = timetravel::resolve(cx, &mut statement).await?;
    let ctx = versioned.as_ref().unwrap_or(cx.df);
    let plan = super::planned::logical_plan(&ctx.state(), statement).await?;
    let batches = ctx.execute_logical_plan(plan).await?.collect().await?;
    let Some(batch) = batches.iter().find(|b| b.num_rows() > 0) else {
        return Ok(None);
    };
    let options = FormatOptions::default();
    let values: Vec<String> = batch
        .columns()
        .iter()
        .map(|c| {
            ArrayFormatter::try_new(c.as_ref(), &options)
                .map(|f| f.value(0).to_string())
                .unwrap_or_default()
        })
        .collect();
    Ok(Some(format!(
        "({key}) = ({}) is matched by several source rows",
        values.join(", ")
    )))
}
