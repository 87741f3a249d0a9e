//! How the libraries' errors become ours: DataFusion's, delta-rs's, Arrow's and the ones of our
//! own that come back wrapped in theirs, mapped to PostgreSQL's SQLSTATEs by variant first and,
//! where a library gives only a message, by its well-known wording (one line, no backtrace).

use datafusion::error::DataFusionError;
use deltalake::DeltaTableError;
use deltalake::kernel::transaction::TransactionError;

use super::{Error, ErrorKind};

/// Maps a DataFusion error by its variant first and, where DataFusion only gives a message (plan
/// errors), by the message's well-known wording.
pub(super) fn from_datafusion(e: DataFusionError) -> Error {
    use datafusion::common::SchemaError;
    match e {
        DataFusionError::SQL(parser_error, _) => Error::from(*parser_error),
        DataFusionError::SchemaError(schema_error, _) => {
            let message = schema_error.to_string();
            let kind = match *schema_error {
                SchemaError::FieldNotFound {
                    field,
                    valid_fields,
                } => {
                    let valid: Vec<String> = valid_fields.iter().map(|c| c.name.clone()).collect();
                    return Error::new(
                        ErrorKind::UndefinedColumn,
                        format!("column \"{}\" does not exist", field.name),
                    )
                    .with_hint(format!("valid columns are: {}", valid.join(", ")));
                }
                SchemaError::AmbiguousReference { .. } => ErrorKind::AmbiguousColumn,
                SchemaError::DuplicateQualifiedField { .. }
                | SchemaError::DuplicateUnqualifiedField { .. } => ErrorKind::DuplicateColumn,
            };
            Error::new(kind, message)
        }
        DataFusionError::NotImplemented(m) => {
            super::planner_messages::planner_error(strip_backtrace(&m)).unwrap_or_else(|| {
                Error::unsupported(format!("not supported: {}", strip_backtrace(&m)))
            })
        }
        DataFusionError::ResourcesExhausted(m) => Error::new(
            ErrorKind::OutOfMemory,
            format!("out of memory: {}", strip_backtrace(&m)),
        )
        .with_hint("reduce the data the query holds at once, or raise engine.memory_limit"),
        DataFusionError::ArrowError(arrow_error, _) => from_arrow(*arrow_error),
        DataFusionError::External(inner) => from_boxed(inner),
        DataFusionError::Context(context, inner) => {
            let mut err = from_datafusion(*inner);
            // A bad value found while folding constants is the value's error, not the
            // optimizer's ("Optimizer rule 'simplify_expressions' failed").
            if !err.sqlstate().starts_with("22") {
                err.message = format!("{context}: {}", err.message);
            }
            err
        }
        DataFusionError::Shared(inner) => {
            shared_ours(&inner).unwrap_or_else(|| from_datafusion(clone_shared(&inner)))
        }
        DataFusionError::Diagnostic(_, inner) => from_datafusion(*inner),
        DataFusionError::Collection(mut errors) if !errors.is_empty() => {
            from_datafusion(errors.remove(0))
        }
        DataFusionError::Plan(m) => super::planner_messages::planner_error(strip_backtrace(&m))
            .unwrap_or_else(|| classify_message(strip_backtrace(&m), ErrorKind::Semantic)),
        DataFusionError::Execution(m) => {
            classify_message(strip_backtrace(&m), ErrorKind::DataException)
        }
        DataFusionError::Configuration(m) => {
            Error::new(ErrorKind::UndefinedObject, strip_backtrace(&m).to_string())
        }
        DataFusionError::IoError(e) => Error::from(e),
        DataFusionError::ObjectStore(e) => {
            Error::new(ErrorKind::IoError, format!("storage error: {e}"))
        }
        DataFusionError::ParquetError(e) => {
            Error::new(ErrorKind::IoError, format!("parquet error: {e}"))
        }
        other => classify_message(&other.to_string(), ErrorKind::Internal),
    }
}

/// Our own error inside a shared one (a function's 22023 raised below an unnest or a repartition
/// reaches the client as DataFusion shares it), by reference: its SQLSTATE and message kept.
fn shared_ours(e: &DataFusionError) -> Option<Error> {
    match e {
        DataFusionError::External(inner) => inner.downcast_ref::<Error>().cloned().or_else(|| {
            inner
                .downcast_ref::<DataFusionError>()
                .and_then(shared_ours)
        }),
        DataFusionError::ArrowError(arrow, _) => match arrow.as_ref() {
            arrow::error::ArrowError::ExternalError(inner) => {
                inner.downcast_ref::<Error>().cloned()
            }
            _ => None,
        },
        DataFusionError::Context(_, inner) => shared_ours(inner),
        DataFusionError::Shared(inner) => shared_ours(inner),
        _ => None,
    }
}

/// Re-creates an owned error from a shared one (DataFusion shares errors between partitions).
fn clone_shared(e: &DataFusionError) -> DataFusionError {
    match e {
        DataFusionError::ResourcesExhausted(m) => DataFusionError::ResourcesExhausted(m.clone()),
        DataFusionError::Execution(m) => DataFusionError::Execution(m.clone()),
        DataFusionError::Plan(m) => DataFusionError::Plan(m.clone()),
        DataFusionError::NotImplemented(m) => DataFusionError::NotImplemented(m.clone()),
        other => DataFusionError::Execution(other.to_string()),
    }
}

/// DataFusion appends backtraces to some messages when built with them; clients need one line.
pub(super) fn strip_backtrace(m: &str) -> &str {
    m.split("\n\nbacktrace").next().unwrap_or(m).trim()
}

/// Errors whose only structure is their text: match the wording DataFusion and delta-rs use.
pub(super) fn classify_message(message: &str, fallback: ErrorKind) -> Error {
    let lower = message.to_ascii_lowercase();
    // Arrow's check of a value against a numeric(p, s) column or cast, as PostgreSQL says it.
    if lower.contains("too large to store in a decimal") {
        return Error::new(ErrorKind::NumericValueOutOfRange, "numeric field overflow")
            .with_detail(strip_wrappers(message).trim_start_matches("Invalid argument error: "));
    }
    if lower.contains("scalar subquery returned more than one row") {
        return Error::new(
            ErrorKind::CardinalityViolation,
            "more than one row returned by a subquery used as an expression",
        );
    }
    if lower.contains("merge matched a target row with multiple source rows") {
        return Error::new(
            ErrorKind::CardinalityViolation,
            "MERGE matched a target row with more than one source row",
        )
        .with_detail(message.to_string())
        .with_hint("deduplicate the source (e.g. keep the latest row per key) so each target row matches at most once");
    }
    // delta-rs's check of rows against the table's CHECK constraints (`delta.constraints.*`).
    if let Some(at) = lower.find("invalid data found:") {
        let text = &message[at..];
        let (summary, preview) = text.split_once('\n').unwrap_or((text, ""));
        let count = summary
            .trim_start_matches("Invalid data found:")
            .split(" rows failed")
            .next()
            .unwrap_or("")
            .trim();
        let rows = if count.is_empty() {
            String::new()
        } else {
            format!(" ({count} rows)")
        };
        return Error::new(
            ErrorKind::CheckViolation,
            format!("new row violates a check constraint of the table{rows}"),
        )
        .with_detail(preview.trim().to_string())
        .with_hint(
            "DESCRIBE DETAIL lists the table's constraints under properties (delta.constraints.*)",
        );
    }
    // The regex crate's parse error: `regex parse error:\n    (\n    ^\nerror: unclosed group`.
    if lower.contains("regex parse error") || lower.contains("invalid regex") {
        let reason = message
            .lines()
            .find_map(|l| l.trim().strip_prefix("error: "))
            .unwrap_or("the pattern does not parse");
        return Error::new(
            ErrorKind::InvalidRegularExpression,
            format!("invalid regular expression: {reason}"),
        );
    }
    // DataFusion's `make_date` of a day the month has not, as PostgreSQL says it.
    if let Some(at) = message.find("Unable to parse date from ") {
        let fields: Vec<&str> = message[at + "Unable to parse date from ".len()..]
            .split(',')
            .map(str::trim)
            .collect();
        if let [year, month, day] = fields.as_slice() {
            let pad = |f: &str| format!("{:0>2}", f);
            return Error::new(
                ErrorKind::DatetimeFieldOverflow,
                format!(
                    "date field value out of range: {year}-{}-{}",
                    pad(month),
                    pad(day)
                ),
            );
        }
    }
    // DataFusion's planner refusing a conversion (an INSERT's value into its column's type).
    if let Some(at) = message.find("Cannot automatically convert ") {
        let rest = message[at + "Cannot automatically convert ".len()..].trim();
        if let Some((from, to)) = rest.rsplit_once(" to ") {
            return Error::new(
                ErrorKind::DatatypeMismatch,
                format!(
                    "a value of type {} cannot be converted to type {}",
                    arrow_type_words(from),
                    arrow_type_words(to)
                ),
            )
            .with_hint("You will need to rewrite or cast the expression.");
        }
    }
    if lower.starts_with("no files found at ") {
        return Error::new(
            ErrorKind::UndefinedFile,
            message.split(". ").next().unwrap_or(message).to_string(),
        )
        .with_hint("no file matches the path (yet): check it, or wait for the data to land");
    }
    let kind = if lower.contains("table '") && lower.contains("not found")
        || lower.contains("table not found")
    {
        ErrorKind::UndefinedTable
    } else if lower.contains("no field named") || lower.contains("column not found") {
        ErrorKind::UndefinedColumn
    } else if lower.contains("invalid function") || lower.contains("no function matches") {
        ErrorKind::UndefinedFunction
    } else if lower.contains("non-nullable")
        || lower.contains("not null") && lower.contains("null")
        || lower.contains("violates not-null constraint")
    {
        ErrorKind::NotNullViolation
    } else if lower.contains("divide by zero") || lower.contains("division by zero") {
        ErrorKind::DivisionByZero
    } else if let Some(err) = datetime_input_error(message, &lower) {
        return err;
    } else if lower.contains("can't cast value") || lower.contains("is out of range int") {
        return Error::new(
            ErrorKind::NumericValueOutOfRange,
            out_of_range_message(message),
        );
    } else if let Some(err) = text_cast_error(message) {
        return err;
    } else if lower.contains("overflow on abs") || lower.contains("overflow happened on: -") {
        return Error::new(
            ErrorKind::NumericValueOutOfRange,
            integer_out_of_range(message),
        );
    } else if lower.contains("invalid input syntax for type interval") {
        // PostgreSQL's interval input reports 22007 (as for dates and times), in lower case.
        let text =
            quoted_arrow_message(message).unwrap_or_else(|| strip_wrappers(message).to_string());
        return Error::new(
            ErrorKind::InvalidDatetimeFormat,
            text.replacen("Invalid input syntax", "invalid input syntax", 1),
        );
    } else if lower.contains("cannot cast")
        || lower.contains("cast error")
        // Our input checks' own wording (a json column's value that is not JSON), raised inside
        // delta-rs's writer and passed back as text.
        || lower.contains("invalid input syntax for type")
    {
        ErrorKind::InvalidTextRepresentation
    } else if lower.contains("value too long for type") {
        // A varchar(n) / char(n) column's length check (semantics::CharType), as text alike.
        ErrorKind::StringDataRightTruncation
    } else if lower.contains("date/time field value out of range") {
        ErrorKind::DatetimeFieldOverflow
    } else if lower.contains("overflow") || lower.contains(" out of range") {
        ErrorKind::NumericValueOutOfRange
    } else if lower.contains("does not match the schema") {
        ErrorKind::DatatypeMismatch
    } else {
        fallback
    };
    // Our own errors come back as text from inside delta-rs's writers; show them as raised.
    // An input error raised while the Parquet reader evaluated a filter arrives as a debug
    // dump (`Parquet error: ... ArrowError(ParseError("Invalid input syntax ..."), ...)`):
    // the quoted message is the one to show.
    let unquoted = kind
        .sqlstate()
        .starts_with("22")
        .then(|| quoted_arrow_message(message))
        .flatten();
    let message = match &unquoted {
        Some(inner) => inner.as_str(),
        None if kind.sqlstate().starts_with("22") => strip_wrappers(message),
        None => message,
    };
    let message = match kind {
        ErrorKind::UndefinedTable => rewrite_table_not_found(message),
        // Already PostgreSQL's message (ours, passed along by delta-rs as text).
        ErrorKind::NotNullViolation
            if strip_wrappers(message).starts_with("null value in column") =>
        {
            strip_wrappers(message).to_string()
        }
        ErrorKind::NotNullViolation => format!(
            "null value violates not-null constraint ({})",
            message.trim_start_matches("Invalid argument error: ")
        ),
        _ => message.to_string(),
    };
    Error::new(kind, message)
}

/// The message inside an Arrow error's debug form (`ArrowError(ParseError("..."), ...)`),
/// unescaped; `None` when `message` holds none.
fn quoted_arrow_message(message: &str) -> Option<String> {
    let start = ["ParseError(\"", "CastError(\"", "ComputeError(\""]
        .iter()
        .find_map(|p| message.find(p).map(|at| at + p.len()))?;
    let rest = &message[start..];
    let end = rest.find("\")")?;
    let inner = rest[..end].replace("\\\"", "\"").replace("\\\\", "\\");
    // Arrow's words, in PostgreSQL's case.
    Some(match inner.strip_prefix("Invalid input syntax") {
        Some(rest) => format!("invalid input syntax{rest}"),
        None => inner,
    })
}

/// A message without the prefixes delta-rs and DataFusion put on an error they pass along.
pub(super) fn strip_wrappers(mut message: &str) -> &str {
    const WRAPPERS: &[&str] = &[
        "Generic DeltaTable error: ",
        "External error: ",
        "Execution error: ",
        "Arrow error: ",
    ];
    while let Some(rest) = WRAPPERS.iter().find_map(|w| message.strip_prefix(w)) {
        message = rest;
    }
    message
}

/// PostgreSQL's message for an integer cast that overflowed (Arrow names the Arrow type).
fn out_of_range_message(message: &str) -> String {
    let t = if message.contains("Int16") || message.contains("Int8") {
        "smallint"
    } else if message.contains("Int32") {
        "integer"
    } else if message.contains("Int64") {
        "bigint"
    } else {
        return message.to_string();
    };
    format!("{t} out of range")
}

/// A message without the backtrace some libraries append to their errors (delta-kernel's are
/// 80 lines of frames and source paths): a client gets the message, the server log the rest.
pub(super) fn without_backtrace(message: String) -> String {
    let cut = message
        .find("\n   0: ")
        .or_else(|| message.find("\nStack backtrace:"))
        .or_else(|| message.find("\nstack backtrace:"));
    match cut {
        Some(at) => {
            tracing::debug!(full = %message, "error backtrace dropped from the client's message");
            message[..at].trim_end().to_string()
        }
        None => message,
    }
}

/// Arrow's `Cannot cast string 'x' to value of Int64 type` as PostgreSQL says it: 22003 when the
/// text is an integer too large for the type, 22P02 when it is not a number of that type.
fn text_cast_error(message: &str) -> Option<Error> {
    // Arrow says `string` for numbers and `value` for booleans.
    let rest = ["Cannot cast string '", "Cannot cast value '"]
        .iter()
        .find_map(|words| message.find(words).map(|at| &message[at + words.len()..]))?;
    let (text, rest) = rest.rsplit_once("' to value of ")?;
    // The type name ends at ` type` (a wrapper may follow: `...Int64 type"), Some(""))` when
    // the cast failed inside a Parquet scan's filter).
    let arrow_type = rest.split(" type").next().unwrap_or(rest).trim();
    let pg_type = match arrow_type {
        "Int8" | "Int16" => "smallint",
        "Int32" => "integer",
        "Int64" => "bigint",
        "Float32" => "real",
        "Float64" => "double precision",
        "Boolean" => "boolean",
        t if t.starts_with("Decimal") => "numeric",
        _ => return None,
    };
    let digits = text.trim().trim_start_matches(['-', '+']);
    let integral = !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit());
    Some(
        if integral && matches!(pg_type, "smallint" | "integer" | "bigint") {
            Error::new(
                ErrorKind::NumericValueOutOfRange,
                format!("value \"{text}\" is out of range for type {pg_type}"),
            )
        } else {
            Error::new(
                ErrorKind::InvalidTextRepresentation,
                format!("invalid input syntax for type {pg_type}: \"{text}\""),
            )
        },
    )
}

/// The integer type an overflow message's value belongs to, in PostgreSQL's words.
fn integer_out_of_range(message: &str) -> String {
    if message.contains("Int16") || message.contains("32768") {
        "smallint out of range".into()
    } else if message.contains("Int32") || message.contains("2147483648") {
        "integer out of range".into()
    } else {
        "bigint out of range".into()
    }
}

/// A text that did not convert to a date or timestamp: 22008 when it has a date's shape with a
/// field out of range (February 30th), 22007 when it is not a date at all, as PostgreSQL says.
fn datetime_input_error(message: &str, lower: &str) -> Option<Error> {
    let temporal = lower.contains("error parsing timestamp from")
        || lower.contains("cannot cast string")
            && (lower.contains("date32") || lower.contains("timestamp"));
    if !temporal {
        return None;
    }
    // The quoted text after Arrow's own words (a context around them may quote other names:
    // "Optimizer rule 'simplify_expressions' failed").
    let from = ["cannot cast string '", "error parsing timestamp from '"]
        .iter()
        .find_map(|words| lower.find(words).map(|at| at + words.len() - 1))
        .unwrap_or(0);
    let text = message[from..].split('\'').nth(1).unwrap_or(message);
    let shaped = {
        let b = text.as_bytes();
        b.len() >= 10 && b[..4].iter().all(u8::is_ascii_digit) && b[4] == b'-'
    };
    Some(if shaped {
        Error::new(
            ErrorKind::DatetimeFieldOverflow,
            format!("date/time field value out of range: \"{text}\""),
        )
    } else {
        let kind = if lower.contains("date32") {
            "date"
        } else {
            "timestamp"
        };
        Error::new(
            ErrorKind::InvalidDatetimeFormat,
            format!("invalid input syntax for type {kind}: \"{text}\""),
        )
    })
}

/// `table 'deltagres.public.t' not found` reads better as PostgreSQL says it.
fn rewrite_table_not_found(message: &str) -> String {
    let name = message
        .split('\'')
        .nth(1)
        .map(|full| full.split('.').next_back().unwrap_or(full).to_string());
    match name {
        Some(n) => format!("relation \"{n}\" does not exist"),
        None => message.to_string(),
    }
}

pub(super) fn from_boxed(inner: Box<dyn std::error::Error + Send + Sync>) -> Error {
    let inner = match inner.downcast::<Error>() {
        Ok(ours) => return *ours,
        Err(other) => other,
    };
    let inner = match inner.downcast::<DeltaTableError>() {
        Ok(delta) => return from_delta(*delta),
        Err(other) => other,
    };
    let inner = match inner.downcast::<DataFusionError>() {
        Ok(df) => return from_datafusion(*df),
        Err(other) => other,
    };
    let inner = match inner.downcast::<arrow::error::ArrowError>() {
        Ok(a) => return from_arrow(*a),
        Err(other) => other,
    };
    classify_message(&inner.to_string(), ErrorKind::Internal)
}

pub(super) fn from_arrow(e: arrow::error::ArrowError) -> Error {
    use arrow::error::ArrowError;
    match e {
        ArrowError::DivideByZero => Error::new(ErrorKind::DivisionByZero, "division by zero"),
        ArrowError::CastError(m) | ArrowError::ParseError(m) => {
            classify_message(&m, ErrorKind::InvalidTextRepresentation)
        }
        ArrowError::ArithmeticOverflow(m) if m.starts_with("Overflow happened on: -") => {
            Error::new(ErrorKind::NumericValueOutOfRange, integer_out_of_range(&m))
        }
        ArrowError::ArithmeticOverflow(m) => Error::new(ErrorKind::NumericValueOutOfRange, m),
        ArrowError::ExternalError(inner) => from_boxed(inner),
        other => classify_message(&other.to_string(), ErrorKind::DataException),
    }
}

pub(super) fn from_delta(e: DeltaTableError) -> Error {
    match e {
        DeltaTableError::NotATable(m) | DeltaTableError::InvalidTableLocation(m) => {
            Error::new(ErrorKind::UndefinedTable, format!("not a Delta table: {m}"))
        }
        DeltaTableError::Transaction { source } => from_transaction(source),
        DeltaTableError::VersionAlreadyExists(v) => write_conflict(v),
        DeltaTableError::SchemaMismatch { msg } => Error::new(
            ErrorKind::DatatypeMismatch,
            format!("data does not match the table schema: {msg}"),
        ),
        DeltaTableError::InvalidData { message } => {
            classify_message(&message, ErrorKind::DataException)
        }
        DeltaTableError::Arrow { source } => from_arrow(source),
        DeltaTableError::Io { source } => Error::from(source),
        DeltaTableError::ObjectStore { source } => {
            Error::new(ErrorKind::IoError, format!("storage error: {source}"))
        }
        DeltaTableError::UnsupportedColumnMapping { operation, .. } => Error::new(
            ErrorKind::FeatureNotSupported,
            format!(
                "{operation} is not supported yet on a table with column mapping (a table that \
                 had a column renamed or dropped, or one written so by Spark)"
            ),
        ),
        other => {
            let text = other.to_string();
            if text.contains("Schema evolution on column-mapped tables") {
                return Error::new(
                    ErrorKind::FeatureNotSupported,
                    "replacing the schema of a table with column mapping (a table that had a \
                     column renamed or dropped) is not supported yet",
                )
                .with_hint("DROP TABLE, then CREATE TABLE ... AS SELECT");
            }
            if text.contains("is outside table root") {
                // delta-rs rewrites only files under the table's own folder.
                return Error::new(
                    ErrorKind::FeatureNotSupported,
                    "this statement would rewrite data files the table shares with the table it \
                     was shallow-cloned from, which is not supported yet",
                )
                .with_hint("INSERT into a shallow clone works; DEEP CLONE the source for a copy to change freely");
            }
            if let Some(df) =
                std::error::Error::source(&other).and_then(|s| s.downcast_ref::<DataFusionError>())
            {
                // Our own error raised while delta-rs ran the plan keeps its SQLSTATE; another
                // is judged by its root cause, not by the context around it ("Optimizer rule
                // 'simplify_expressions' failed", whose quoted name was read as the bad value).
                return shared_ours(df).unwrap_or_else(|| {
                    let root = df.find_root();
                    let fallback = match root {
                        DataFusionError::ArrowError(..) | DataFusionError::Execution(_) => {
                            ErrorKind::DataException
                        }
                        _ => ErrorKind::Internal,
                    };
                    classify_message(strip_wrappers(&root.to_string()), fallback)
                });
            }
            classify_message(strip_wrappers(&text), ErrorKind::Internal)
        }
    }
}

fn from_transaction(e: TransactionError) -> Error {
    match e {
        TransactionError::VersionAlreadyExists(v) => write_conflict(v),
        TransactionError::CommitConflict(conflict) => Error::new(
            ErrorKind::WriteConflict,
            format!("could not serialize access due to a concurrent write: {conflict}"),
        )
        .with_hint("retry the statement"),
        TransactionError::MaxCommitAttempts(n) => Error::new(
            ErrorKind::WriteConflict,
            format!("could not commit after {n} attempts: concurrent writers kept winning"),
        )
        .with_hint("retry the statement"),
        TransactionError::UnsupportedTableFeatures(features) => Error::new(
            ErrorKind::FeatureNotSupported,
            format!(
                "the table needs Delta features this server cannot read or write: {}",
                features
                    .iter()
                    .map(|f| f.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ),
        other => Error::new(ErrorKind::IoError, format!("commit failed: {other}")),
    }
}

pub(super) fn write_conflict(version: impl std::fmt::Display) -> Error {
    Error::new(
        ErrorKind::WriteConflict,
        format!(
            "could not serialize access: version {version} was committed by a concurrent writer"
        ),
    )
    .with_hint("retry the statement")
}

/// PostgreSQL's name of an Arrow type written as Arrow writes it (`List(Int64)` is `bigint[]`);
/// the Arrow text itself where there is no PostgreSQL name.
fn arrow_type_words(arrow: &str) -> String {
    match arrow
        .trim()
        .parse::<datafusion::arrow::datatypes::DataType>()
    {
        Ok(data_type) => type_words(&data_type),
        Err(_) => arrow.trim().to_string(),
    }
}

/// PostgreSQL's name of the type a value of `data_type` has (`integer`, `text`, `timestamp
/// without time zone`, `bigint[]`), as its error messages write types; Arrow's name where
/// there is no PostgreSQL one.
pub fn type_words(data_type: &datafusion::arrow::datatypes::DataType) -> String {
    use datafusion::arrow::datatypes::DataType;
    match data_type {
        DataType::Boolean => "boolean".into(),
        DataType::Int8 | DataType::Int16 => "smallint".into(),
        DataType::Int32 => "integer".into(),
        DataType::Int64 => "bigint".into(),
        DataType::Float32 => "real".into(),
        DataType::Float64 => "double precision".into(),
        DataType::Decimal128(..) | DataType::Decimal256(..) => "numeric".into(),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => "text".into(),
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView => "bytea".into(),
        DataType::Date32 | DataType::Date64 => "date".into(),
        DataType::Timestamp(_, None) => "timestamp without time zone".into(),
        DataType::Timestamp(_, Some(_)) => "timestamp with time zone".into(),
        DataType::Time32(_) | DataType::Time64(_) => "time without time zone".into(),
        DataType::Interval(_) => "interval".into(),
        DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _) => {
            format!("{}[]", type_words(f.data_type()))
        }
        other => other.to_string(),
    }
}
