//! `COMMENT ON TABLE t IS '...'` and `COMMENT ON COLUMN t.c IS '...'` (dbt's `persist_docs`,
//! data catalogs, people documenting a table from psql). Kept where Spark keeps them, so
//! Databricks and the deltalake package read the same text: a table's in its Delta
//! description (`metaData.description`), a column's in its field metadata under `comment`. The
//! catalog shows them as PostgreSQL does (`pg_description`, `obj_description`, `col_description`,
//! psql `\dt+` and `\d+`), and DESCRIBE TABLE as Spark does. `IS NULL` and `IS ''` remove one.

use datafusion::catalog::SchemaProvider;
use sqlparser::ast::{CommentObject, ObjectName, ObjectNamePart};

use super::PlanContext;
use super::names::{normalize_ident, resolve_table};
use crate::catalog::TableRef;
use crate::delta;
use crate::error::{Error, ErrorKind, Result};
use crate::output::{CommandTag, QueryOutput};

/// Runs `COMMENT ON <object_type> <name> IS <comment>`.
pub async fn comment(
    cx: &mut PlanContext<'_>,
    object_type: CommentObject,
    name: &ObjectName,
    comment: Option<String>,
) -> Result<QueryOutput> {
    // PostgreSQL: "Write NULL to drop the comment" and an empty string drops it too.
    let comment = comment.filter(|text| !text.is_empty());
    match object_type {
        CommentObject::Table => {
            let (table_ref, _turn, table) = commented_table(cx, name).await?;
            let committed = delta::set_description(table, comment).await?;
            cx.catalog.adopt(&table_ref, &committed).await;
        }
        CommentObject::Column => {
            let Some((ObjectNamePart::Identifier(column), table_parts)) =
                name.0.split_last().filter(|(_, table)| !table.is_empty())
            else {
                return Err(Error::new(
                    ErrorKind::Syntax,
                    "column name must be qualified",
                ));
            };
            let column = normalize_ident(column);
            let (table_ref, _turn, table) =
                commented_table(cx, &ObjectName(table_parts.to_vec())).await?;
            if table.snapshot()?.schema().field(&column).is_none() {
                return Err(super::alter::no_such_column(&column, &table_ref));
            }
            let committed =
                delta::set_column_metadata(table, &column, delta::COLUMN_COMMENT, comment).await?;
            cx.catalog.adopt(&table_ref, &committed).await;
        }
        other => {
            return Err(Error::unsupported(format!(
                "COMMENT ON {other} is not supported: comments are kept on tables and their columns"
            )));
        }
    }
    Ok(QueryOutput::Command(CommandTag::Other("COMMENT".into())))
}

/// The Delta table `name` names, loaded in its write turn (a comment is a commit), or the
/// error PostgreSQL gives: 42P01 for no such relation; views and temporary tables keep no
/// comments here (0A000).
async fn commented_table(
    cx: &PlanContext<'_>,
    name: &ObjectName,
) -> Result<(TableRef, crate::catalog::WriteTurn, deltalake::DeltaTable)> {
    let table_ref = resolve_table(name, cx.default_schema)?;
    let unqualified = name.0.len() == 1;
    if super::temp_tables::is_temp_name(name)
        || unqualified && cx.temp.table_exist(&table_ref.table)
    {
        return Err(Error::unsupported(
            "COMMENT ON a temporary table is not supported: it is not a Delta table",
        ));
    }
    if cx.catalog.view(&table_ref).is_some() {
        return Err(Error::unsupported(format!(
            "COMMENT ON a view is not supported: \"{}\" is a view, and views keep no comments",
            table_ref.table
        )));
    }
    if !cx.catalog.table_exists(&table_ref) {
        return Err(Error::undefined_table(&table_ref.table));
    }
    let (turn, table) = cx.load_for_rewrite(&table_ref).await?;
    Ok((table_ref, turn, table))
}
