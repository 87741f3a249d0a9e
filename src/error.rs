//! The one error type of deltagres and its SQLSTATE mapping.
//!
//! Every failure a client can see passes through [`Error`], so the mapping from DataFusion, delta-rs
//! and parser errors to PostgreSQL SQLSTATE codes lives here and nowhere else. Clients (psql, JDBC,
//! pipeline scripts) branch on the code: a write conflict (40001) is retried, a syntax error is not.

use datafusion::error::DataFusionError;
use deltalake::DeltaTableError;
use deltalake::kernel::transaction::TransactionError;

/// What went wrong, in the vocabulary of PostgreSQL error classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// 42601: the SQL text does not parse.
    Syntax,
    /// 42000: the SQL parses but cannot be planned (a generic class 42 error).
    Semantic,
    /// 42P01: a table or view does not exist.
    UndefinedTable,
    /// 3F000: a schema does not exist.
    UndefinedSchema,
    /// 42703: a column does not exist.
    UndefinedColumn,
    /// 42883: a function does not exist.
    UndefinedFunction,
    /// 42P07: a table already exists.
    DuplicateTable,
    /// 42809: the object is of another kind than the statement needs (DROP TABLE on a view).
    WrongObjectType,
    /// 42P16: a table or view definition is not allowed (a view replaced with fewer columns).
    InvalidTableDefinition,
    /// 42P06: a schema already exists.
    DuplicateSchema,
    /// 42701: a column already exists.
    DuplicateColumn,
    /// 42702: a column reference is ambiguous.
    AmbiguousColumn,
    /// 42804: an expression has the wrong type.
    DatatypeMismatch,
    /// 42939: a name deltagres reserves for itself.
    ReservedName,
    /// 2BP01: an object cannot be dropped because others depend on it.
    DependentObjectsStillExist,
    /// 21000: a MERGE matched one target row with several source rows.
    CardinalityViolation,
    /// 23502: a NULL was written into a NOT NULL column.
    NotNullViolation,
    /// 23514: a row violates a CHECK constraint.
    CheckViolation,
    /// 428C9: a value given for a generated column.
    GeneratedAlways,
    /// 42710: an object (a constraint) of that name already exists.
    DuplicateObject,
    /// 22012: division by zero.
    DivisionByZero,
    /// 22007: text that is not a date or time.
    InvalidDatetimeFormat,
    /// 22008: a date or time with a field out of range (February 30th).
    DatetimeFieldOverflow,
    /// 22P02: a value could not be converted to the requested type.
    InvalidTextRepresentation,
    /// 22P04: COPY data that does not follow its format (wrong field count, open quote).
    BadCopyFileFormat,
    /// 22003: a numeric value is out of range.
    NumericValueOutOfRange,
    /// 22001: a string longer than its column's declared length (`varchar(n)`, `char(n)`).
    StringDataRightTruncation,
    /// 22023: a SET or function argument has an invalid value.
    InvalidParameterValue,
    /// 22011: a substring with a negative length.
    SubstringError,
    /// 22021: bytes that are not a character of their encoding (`convert_from`).
    CharacterNotInRepertoire,
    /// 22P05: a character with no equivalent in the target encoding (`convert_to`).
    UntranslatableCharacter,
    /// 2201F: `power` / `sqrt` of arguments with no real result.
    InvalidArgumentForPower,
    /// 2201E: the logarithm of zero or of a negative number.
    InvalidArgumentForLogarithm,
    /// 2201B: a regular expression that does not parse.
    InvalidRegularExpression,
    /// 54000: a value past a fixed limit (`chr(0)`: a NUL character).
    ProgramLimitExceeded,
    /// 22000: other data exceptions.
    DataException,
    /// 42704: an unknown configuration parameter or object.
    UndefinedObject,
    /// 40001: a concurrent writer committed first; retrying the statement may succeed.
    WriteConflict,
    /// 0A000: valid SQL that deltagres does not support.
    FeatureNotSupported,
    /// 53200: the query exceeded the memory pool.
    OutOfMemory,
    /// 57014: the statement was canceled (timeout or cancel request).
    QueryCanceled,
    /// 42501: not allowed (e.g. a path outside `allowed_paths`).
    InsufficientPrivilege,
    /// 58030: the storage layer failed (disk, object store).
    IoError,
    /// 58P01: a file or folder to read is not there (yet).
    UndefinedFile,
    /// 55P03: a lock (a table's write turn) was not obtained within `lock_timeout`.
    LockNotAvailable,
    /// 55000: the object is not in the state the statement needs (a change data feed read
    /// from a table that does not record one).
    ObjectNotInPrerequisiteState,
    /// 25006: a write in a session or transaction set READ ONLY.
    ReadOnlyTransaction,
    /// 25P02: a statement in a failed transaction block.
    InFailedTransaction,
    /// 08P01: the client broke the wire protocol.
    ProtocolViolation,
    /// 08006: our own tools could not reach or lost a server.
    ConnectionFailure,
    /// P0001: a check in SQL failed (`assert_true`, `raise_error`).
    RaiseException,
    /// 54001: a statement nests too deeply to plan safely.
    StatementTooComplex,
    /// XX001: a table's files are not what Delta says they must be (a corrupt log).
    DataCorrupted,
    /// XX000: a bug; the message says what failed.
    Internal,
}

impl ErrorKind {
    const ALL: [ErrorKind; 54] = [
        ErrorKind::Syntax,
        ErrorKind::Semantic,
        ErrorKind::UndefinedTable,
        ErrorKind::UndefinedSchema,
        ErrorKind::UndefinedColumn,
        ErrorKind::UndefinedFunction,
        ErrorKind::DuplicateTable,
        ErrorKind::WrongObjectType,
        ErrorKind::InvalidTableDefinition,
        ErrorKind::DuplicateSchema,
        ErrorKind::DuplicateColumn,
        ErrorKind::AmbiguousColumn,
        ErrorKind::DatatypeMismatch,
        ErrorKind::ReservedName,
        ErrorKind::DependentObjectsStillExist,
        ErrorKind::CardinalityViolation,
        ErrorKind::NotNullViolation,
        ErrorKind::CheckViolation,
        ErrorKind::GeneratedAlways,
        ErrorKind::DuplicateObject,
        ErrorKind::DivisionByZero,
        ErrorKind::InvalidDatetimeFormat,
        ErrorKind::DatetimeFieldOverflow,
        ErrorKind::InvalidTextRepresentation,
        ErrorKind::BadCopyFileFormat,
        ErrorKind::NumericValueOutOfRange,
        ErrorKind::StringDataRightTruncation,
        ErrorKind::InvalidParameterValue,
        ErrorKind::SubstringError,
        ErrorKind::CharacterNotInRepertoire,
        ErrorKind::UntranslatableCharacter,
        ErrorKind::InvalidArgumentForPower,
        ErrorKind::InvalidArgumentForLogarithm,
        ErrorKind::ProgramLimitExceeded,
        ErrorKind::InvalidRegularExpression,
        ErrorKind::DataException,
        ErrorKind::UndefinedObject,
        ErrorKind::WriteConflict,
        ErrorKind::FeatureNotSupported,
        ErrorKind::OutOfMemory,
        ErrorKind::QueryCanceled,
        ErrorKind::InsufficientPrivilege,
        ErrorKind::IoError,
        ErrorKind::UndefinedFile,
        ErrorKind::InFailedTransaction,
        ErrorKind::ReadOnlyTransaction,
        ErrorKind::LockNotAvailable,
        ErrorKind::ObjectNotInPrerequisiteState,
        ErrorKind::ProtocolViolation,
        ErrorKind::ConnectionFailure,
        ErrorKind::RaiseException,
        ErrorKind::StatementTooComplex,
        ErrorKind::DataCorrupted,
        ErrorKind::Internal,
    ];

    /// The kind a server's SQLSTATE stands for, when our tools relay a server's error; codes we
    /// do not produce ourselves fall back to their class (22xxx data, 42xxx semantic).
    pub fn from_sqlstate(code: &str) -> Self {
        if let Some(kind) = Self::ALL.iter().find(|k| k.sqlstate() == code) {
            return *kind;
        }
        match code.get(..2) {
            Some("22") => ErrorKind::DataException,
            Some("42") => ErrorKind::Semantic,
            Some("40") => ErrorKind::WriteConflict,
            Some("0A") => ErrorKind::FeatureNotSupported,
            Some("08") => ErrorKind::ConnectionFailure,
            Some("57") => ErrorKind::QueryCanceled,
            _ => ErrorKind::Internal,
        }
    }

    /// The five-character SQLSTATE sent in the ErrorResponse `C` field.
    pub fn sqlstate(self) -> &'static str {
        match self {
            ErrorKind::Syntax => "42601",
            ErrorKind::Semantic => "42000",
            ErrorKind::UndefinedTable => "42P01",
            ErrorKind::UndefinedSchema => "3F000",
            ErrorKind::UndefinedColumn => "42703",
            ErrorKind::UndefinedFunction => "42883",
            ErrorKind::DuplicateTable => "42P07",
            ErrorKind::WrongObjectType => "42809",
            ErrorKind::InvalidTableDefinition => "42P16",
            ErrorKind::DuplicateSchema => "42P06",
            ErrorKind::DuplicateColumn => "42701",
            ErrorKind::AmbiguousColumn => "42702",
            ErrorKind::DatatypeMismatch => "42804",
            ErrorKind::ReservedName => "42939",
            ErrorKind::DependentObjectsStillExist => "2BP01",
            ErrorKind::CardinalityViolation => "21000",
            ErrorKind::NotNullViolation => "23502",
            ErrorKind::CheckViolation => "23514",
            ErrorKind::GeneratedAlways => "428C9",
            ErrorKind::DuplicateObject => "42710",
            ErrorKind::DivisionByZero => "22012",
            ErrorKind::InvalidDatetimeFormat => "22007",
            ErrorKind::DatetimeFieldOverflow => "22008",
            ErrorKind::InvalidTextRepresentation => "22P02",
            ErrorKind::BadCopyFileFormat => "22P04",
            ErrorKind::NumericValueOutOfRange => "22003",
            ErrorKind::StringDataRightTruncation => "22001",
            ErrorKind::InvalidParameterValue => "22023",
            ErrorKind::SubstringError => "22011",
            ErrorKind::CharacterNotInRepertoire => "22021",
            ErrorKind::UntranslatableCharacter => "22P05",
            ErrorKind::InvalidArgumentForPower => "2201F",
            ErrorKind::InvalidArgumentForLogarithm => "2201E",
            ErrorKind::ProgramLimitExceeded => "54000",
            ErrorKind::InvalidRegularExpression => "2201B",
            ErrorKind::DataException => "22000",
            ErrorKind::UndefinedObject => "42704",
            ErrorKind::WriteConflict => "40001",
            ErrorKind::FeatureNotSupported => "0A000",
            ErrorKind::OutOfMemory => "53200",
            ErrorKind::QueryCanceled => "57014",
            ErrorKind::InsufficientPrivilege => "42501",
            ErrorKind::IoError => "58030",
            ErrorKind::UndefinedFile => "58P01",
            ErrorKind::InFailedTransaction => "25P02",
            ErrorKind::ReadOnlyTransaction => "25006",
            ErrorKind::LockNotAvailable => "55P03",
            ErrorKind::ObjectNotInPrerequisiteState => "55000",
            ErrorKind::ProtocolViolation => "08P01",
            ErrorKind::ConnectionFailure => "08006",
            ErrorKind::RaiseException => "P0001",
            ErrorKind::StatementTooComplex => "54001",
            ErrorKind::DataCorrupted => "XX001",
            ErrorKind::Internal => "XX000",
        }
    }
}

/// An error with its SQLSTATE class and the text a person reads.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct Error {
    /// The class; decides the SQLSTATE.
    pub kind: ErrorKind,
    /// One line saying what failed.
    pub message: String,
    /// Extra facts (the offending key, the conflicting version).
    pub detail: Option<String>,
    /// What the user can do about it.
    pub hint: Option<String>,
}

/// Results across deltagres.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An error of `kind` with `message`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: without_backtrace(message.into()),
            detail: None,
            hint: None,
        }
    }

    /// Adds a DETAIL line.
    #[must_use]
    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    /// Adds a HINT line.
    #[must_use]
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// The SQLSTATE of this error.
    pub fn sqlstate(&self) -> &'static str {
        self.kind.sqlstate()
    }

    /// 42601 with the parser's message.
    pub fn syntax(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Syntax, message)
    }

    /// 0A000 naming the unsupported feature.
    pub fn unsupported(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::FeatureNotSupported, message)
    }

    /// XX000: a bug or an unexpected state.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Internal, message)
    }

    /// 42P01 for `name`.
    pub fn undefined_table(name: impl std::fmt::Display) -> Self {
        Self::new(
            ErrorKind::UndefinedTable,
            format!("relation \"{name}\" does not exist"),
        )
    }
}

/// The start of a parser error our dialect raises for valid SQL it does not implement: such an
/// error is 0A000 (feature not supported), not a syntax error.
pub const UNSUPPORTED_SYNTAX: &str = "unsupported: ";

impl From<sqlparser::parser::ParserError> for Error {
    fn from(e: sqlparser::parser::ParserError) -> Self {
        let message = match e {
            sqlparser::parser::ParserError::TokenizerError(m)
            | sqlparser::parser::ParserError::ParserError(m) => m,
            sqlparser::parser::ParserError::RecursionLimitExceeded => {
                return Error::new(
                    ErrorKind::Syntax,
                    "statement is nested too deeply (recursion limit exceeded)",
                );
            }
        };
        match message.strip_prefix(UNSUPPORTED_SYNTAX) {
            Some(rest) => Error::new(ErrorKind::FeatureNotSupported, rest),
            None => Error::syntax(format!("syntax error: {message}")),
        }
    }
}

impl From<DataFusionError> for Error {
    fn from(e: DataFusionError) -> Self {
        from_datafusion(e)
    }
}

impl From<DeltaTableError> for Error {
    fn from(e: DeltaTableError) -> Self {
        from_delta(e)
    }
}

impl From<arrow::error::ArrowError> for Error {
    fn from(e: arrow::error::ArrowError) -> Self {
        from_arrow(e)
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::new(ErrorKind::IoError, format!("storage error: {e}"))
    }
}

/// Maps a DataFusion error by its variant first and, where DataFusion only gives a message (plan
/// errors), by the message's well-known wording.
fn from_datafusion(e: DataFusionError) -> Error {
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
            Error::unsupported(format!("not supported: {}", strip_backtrace(&m)))
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
        DataFusionError::Plan(m) => classify_message(strip_backtrace(&m), ErrorKind::Semantic),
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
fn strip_backtrace(m: &str) -> &str {
    m.split("\n\nbacktrace").next().unwrap_or(m).trim()
}

/// Errors whose only structure is their text: match the wording DataFusion and delta-rs use.
fn classify_message(message: &str, fallback: ErrorKind) -> Error {
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
    let message = if kind.sqlstate().starts_with("22") {
        strip_wrappers(message)
    } else {
        message
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

/// A message without the prefixes delta-rs and DataFusion put on an error they pass along.
fn strip_wrappers(mut message: &str) -> &str {
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
fn without_backtrace(message: String) -> String {
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
    let rest = &message[message.find("Cannot cast string '")? + "Cannot cast string '".len()..];
    let (text, rest) = rest.rsplit_once("' to value of ")?;
    let arrow_type = rest.trim_end_matches(" type").trim();
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

fn from_boxed(inner: Box<dyn std::error::Error + Send + Sync>) -> Error {
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

fn from_arrow(e: arrow::error::ArrowError) -> Error {
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

fn from_delta(e: DeltaTableError) -> Error {
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

fn write_conflict(version: impl std::fmt::Display) -> Error {
    Error::new(
        ErrorKind::WriteConflict,
        format!(
            "could not serialize access: version {version} was committed by a concurrent writer"
        ),
    )
    .with_hint("retry the statement")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_not_found_reads_like_postgres() {
        let e = Error::from(DataFusionError::Plan(
            "table 'deltagres.public.nope' not found".into(),
        ));
        assert_eq!(e.sqlstate(), "42P01");
        assert_eq!(e.message, "relation \"nope\" does not exist");
    }

    #[test]
    fn parser_errors_are_syntax_errors() {
        let e = Error::from(sqlparser::parser::ParserError::ParserError("x".into()));
        assert_eq!(e.sqlstate(), "42601");
    }
}
