//! The one error type of deltagres and its SQLSTATE mapping.
//!
//! Every failure a client can see passes through [`Error`], so the mapping from DataFusion, delta-rs
//! and parser errors to PostgreSQL SQLSTATE codes lives here (the libraries' errors in
//! [`translate`]) and nowhere else. Clients (psql, JDBC, pipeline scripts) branch on the code: a
//! write conflict (40001) is retried, a syntax error is not.

use datafusion::error::DataFusionError;
use deltalake::DeltaTableError;

mod planner_messages;
mod translate;

pub use translate::type_words;
use translate::{from_arrow, from_datafusion, from_delta, without_backtrace};

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
    /// 42803: a column neither grouped nor aggregated in a grouped query.
    GroupingError,
    /// 42P20: a window function where none may be (a DEFAULT expression).
    WindowingError,
    /// 42P10: an ORDER BY a DISTINCT or a position cannot sort by.
    InvalidColumnReference,
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
    /// 2201G: `width_bucket` with equal bounds or no buckets.
    InvalidArgumentForWidthBucket,
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
    const ALL: [ErrorKind; 58] = [
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
        ErrorKind::InvalidArgumentForWidthBucket,
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
        ErrorKind::GroupingError,
        ErrorKind::WindowingError,
        ErrorKind::InvalidColumnReference,
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
            ErrorKind::GroupingError => "42803",
            ErrorKind::WindowingError => "42P20",
            ErrorKind::InvalidColumnReference => "42P10",
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
            ErrorKind::InvalidArgumentForWidthBucket => "2201G",
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
    fn input_errors_inside_a_parquet_filter_read_as_the_input_error() {
        let e = Error::from(DataFusionError::Execution(
            "Parquet error: External: Compute error: Error evaluating filter predicate: \
             ArrowError(ParseError(\"Invalid input syntax for type interval: \\\"1 day \
             12:00\\\"\"), Some(\"\"))"
                .into(),
        ));
        assert_eq!(e.sqlstate(), "22007");
        assert_eq!(
            e.message,
            "invalid input syntax for type interval: \"1 day 12:00\""
        );
    }

    #[test]
    fn parser_errors_are_syntax_errors() {
        let e = Error::from(sqlparser::parser::ParserError::ParserError("x".into()));
        assert_eq!(e.sqlstate(), "42601");
    }
}
