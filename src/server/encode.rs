//! Session results to pgwire messages: rows (via `arrow-pg`), command tags, errors, notices.

use std::sync::Arc;

use arrow_pg::datatypes::arrow_schema_to_pg_fields;
use datafusion::arrow::datatypes::Schema;
use futures::StreamExt;
use pgwire::api::Type;
use pgwire::api::portal::Format;
use pgwire::api::results::{CopyResponse, FieldInfo, QueryResponse, Response, Tag};
use pgwire::error::{ErrorInfo, PgWireError, PgWireResult};
use pgwire::messages::PgWireBackendMessage;
use pgwire::messages::copy::CopyData;
use pgwire::messages::response::NoticeResponse;
use pgwire::types::format::FormatOptions;

use crate::error::Error;
use crate::session::{
    CommandTag, Notice, NoticeSeverity, QueryOutput, RowSet, Settings, display_name,
};

/// The ErrorResponse fields for one of our errors.
///
/// The message is one line, as PostgreSQL's are (psql prints it after `ERROR:`, drivers put it
/// in their exception's text): the lines a library appends to its own (DataFusion's "Column
/// names are case sensitive ..." and "Valid fields are ...") go to DETAIL.
pub fn error_info(e: &Error) -> ErrorInfo {
    let (message, rest) = match e.message.split_once('\n') {
        Some((first, rest)) if !rest.trim().is_empty() => (first.trim_end(), Some(rest.trim())),
        _ => (e.message.trim_end(), None),
    };
    let mut info = ErrorInfo::new("ERROR".into(), e.sqlstate().into(), message.to_string());
    info.detail = match (rest, &e.detail) {
        (Some(rest), Some(detail)) => Some(format!("{rest}\n{detail}")),
        (Some(rest), None) => Some(rest.to_string()),
        (None, detail) => detail.clone(),
    };
    info.hint = e.hint.clone();
    info
}

/// Our error as a pgwire error carrying its SQLSTATE.
pub fn pg_error(e: &Error) -> PgWireError {
    PgWireError::UserError(Box::new(error_info(e)))
}

/// A NOTICE or WARNING message.
pub fn notice_message(n: &Notice) -> PgWireBackendMessage {
    let severity = match n.severity {
        NoticeSeverity::Notice => "NOTICE",
        NoticeSeverity::Warning => "WARNING",
    };
    PgWireBackendMessage::NoticeResponse(NoticeResponse::from(ErrorInfo::new(
        severity.into(),
        n.code.clone(),
        n.message.clone(),
    )))
}

/// Text/binary rendering options from the session's DateStyle, IntervalStyle, ... settings.
pub fn format_options(settings: &Settings) -> Arc<FormatOptions> {
    let mut options = FormatOptions::default();
    if let Ok(v) = settings.get("datestyle") {
        options.date_style = v;
    }
    if let Ok(v) = settings.get("intervalstyle") {
        options.interval_style = v;
    }
    if let Ok(v) = settings.get("bytea_output") {
        options.bytea_output = v;
    }
    if let Ok(v) = settings.get("timezone") {
        options.time_zone = v;
    }
    if let Ok(v) = settings.get("extra_float_digits") {
        options.extra_float_digits = v.parse().unwrap_or(1);
    }
    Arc::new(options)
}

/// Row descriptions for a schema in the requested formats.
pub fn fields(
    schema: &Schema,
    format: &Format,
    options: Arc<FormatOptions>,
) -> PgWireResult<Vec<FieldInfo>> {
    // Clients see PostgreSQL's names (the engine's may carry a uniqueness suffix).
    let displayed = Schema::new(
        schema
            .fields()
            .iter()
            .map(|f| {
                let f = match display_name(f.name()) {
                    name if name.len() < f.name().len() => f.as_ref().clone().with_name(name),
                    _ => f.as_ref().clone(),
                };
                // Sent as jsonb (see json_values): described as text first, retyped below.
                // A column of no type (`SELECT NULL`, an undeclared `$1`) is text, as PostgreSQL
                // resolves unknown output columns.
                if super::json_values::sent_as_json(f.data_type())
                    || f.data_type() == &datafusion::arrow::datatypes::DataType::Null
                {
                    Arc::new(f.with_data_type(datafusion::arrow::datatypes::DataType::Utf8))
                } else {
                    Arc::new(f)
                }
            })
            .collect::<Vec<_>>(),
    );
    let fields = arrow_schema_to_pg_fields(&displayed, format, Some(options))?;
    Ok(fields
        .into_iter()
        .zip(schema.fields())
        .map(|(info, field)| {
            // Nested columns are sent as jsonb (json_values); a document (a json / jsonb column,
            // a cast, a JSON builder; its text encoded from Utf8 in row_values) as the type the
            // catalog names it, so clients parse it.
            let document = if super::json_values::sent_as_json(field.data_type()) {
                Some(Type::JSONB)
            } else if matches!(
                field.data_type(),
                datafusion::arrow::datatypes::DataType::Utf8
                    | datafusion::arrow::datatypes::DataType::Utf8View
                    | datafusion::arrow::datatypes::DataType::LargeUtf8
            ) {
                // ... and a uuid, varchar(n) or char(n) value as that type.
                Some(crate::catalog::field_wire_type(field)).filter(|t| {
                    matches!(
                        *t,
                        Type::JSON | Type::JSONB | Type::UUID | Type::VARCHAR | Type::BPCHAR
                    )
                })
            } else {
                None
            };
            let info = match document {
                Some(pg_type) => FieldInfo::new(
                    info.name().to_string(),
                    info.table_id(),
                    info.column_id(),
                    pg_type,
                    info.format(),
                )
                .with_format_options(info.format_options().clone()),
                None => info,
            };
            let size = type_size(info.datatype());
            info.with_type_size(size)
                .with_type_modifier(crate::catalog::field_type_modifier(field))
        })
        .collect())
}

/// `pg_type.typlen` for the RowDescription: fixed widths, -1 for variable-length types.
fn type_size(pg_type: &Type) -> i16 {
    match *pg_type {
        Type::BOOL | Type::CHAR => 1,
        Type::INT2 => 2,
        Type::INT4 | Type::FLOAT4 | Type::DATE | Type::OID => 4,
        Type::INT8 | Type::FLOAT8 | Type::TIMESTAMP | Type::TIMESTAMPTZ | Type::TIME => 8,
        Type::UUID => 16,
        _ => -1,
    }
}

/// A session output as a pgwire response; rows stay a stream.
pub fn response(
    output: QueryOutput,
    format: &Format,
    options: Arc<FormatOptions>,
) -> PgWireResult<Response> {
    Ok(match output {
        QueryOutput::Empty => Response::EmptyQuery,
        QueryOutput::Command(tag) => command_response(tag),
        QueryOutput::Rows(rows) => Response::Query(rows_response(rows, format, options)?),
        QueryOutput::CopyIn(copy) => Response::CopyIn(CopyResponse::new(
            if copy.format.binary { 1 } else { 0 },
            copy.columns.len(),
            futures::stream::empty(),
        )),
        QueryOutput::CopyOut(copy) => {
            let data = copy.data.map(|chunk| {
                chunk
                    .map(|bytes| CopyData::new(bytes.into()))
                    .map_err(|e| pg_error(&e))
            });
            // With format 1, pgwire appends the binary trailer itself.
            let format = if copy.binary { 1 } else { 0 };
            Response::CopyOut(CopyResponse::new(format, copy.columns, data))
        }
    })
}

/// The CommandComplete tag of a statement without rows.
pub fn command_tag(tag: CommandTag) -> Tag {
    match command_response(tag) {
        Response::Execution(t) | Response::TransactionStart(t) | Response::TransactionEnd(t) => t,
        _ => Tag::new("OK"),
    }
}

fn command_response(tag: CommandTag) -> Response {
    match tag {
        CommandTag::Begin => Response::TransactionStart(Tag::new("BEGIN")),
        CommandTag::Commit => Response::TransactionEnd(Tag::new("COMMIT")),
        CommandTag::Rollback => Response::TransactionEnd(Tag::new("ROLLBACK")),
        CommandTag::Insert(n) => {
            Response::Execution(Tag::new("INSERT").with_oid(0).with_rows(n as usize))
        }
        CommandTag::Update(n) => Response::Execution(Tag::new("UPDATE").with_rows(n as usize)),
        CommandTag::Delete(n) => Response::Execution(Tag::new("DELETE").with_rows(n as usize)),
        CommandTag::Merge(n) => Response::Execution(Tag::new("MERGE").with_rows(n as usize)),
        CommandTag::Copy(n) => Response::Execution(Tag::new("COPY").with_rows(n as usize)),
        CommandTag::Select(n) => Response::Execution(Tag::new("SELECT").with_rows(n as usize)),
        CommandTag::Other(t) => Response::Execution(Tag::new(&t)),
    }
}

fn rows_response(
    rows: RowSet,
    format: &Format,
    options: Arc<FormatOptions>,
) -> PgWireResult<QueryResponse> {
    let fields = Arc::new(fields(&rows.schema, format, options)?);
    let row_fields = fields.clone();
    let data = rows
        .stream
        .map(
            move |batch| -> Box<dyn Iterator<Item = PgWireResult<_>> + Send + Sync> {
                match batch {
                    Ok(batch) => {
                        Box::new(super::row_values::encode_batch(row_fields.clone(), batch))
                    }
                    Err(e) => Box::new(std::iter::once(Err(pg_error(&Error::from(e))))),
                }
            },
        )
        .flat_map(futures::stream::iter);
    let mut response = QueryResponse::new(fields, data);
    response.set_command_tag(&rows.tag);
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    #[test]
    fn a_library_s_extra_lines_go_to_detail() {
        let e = Error::new(
            ErrorKind::UndefinedColumn,
            "Schema error: No field named order.\nColumn names are case sensitive.\nValid fields are \"Order\".",
        )
        .with_detail("while inserting");
        let info = error_info(&e);
        assert_eq!(info.message, "Schema error: No field named order.");
        assert_eq!(
            info.detail.as_deref(),
            Some("Column names are case sensitive.\nValid fields are \"Order\".\nwhile inserting")
        );
        let one_line = error_info(&Error::new(ErrorKind::UndefinedColumn, "no such column\n"));
        assert_eq!(one_line.message, "no such column");
        assert_eq!(one_line.detail, None);
    }
}
