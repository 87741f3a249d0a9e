//! SQL conformance: DataFusion's own sqllogictest files, run over the wire.
//!
//! The `.slt` files come from the `datafusion-sqllogictest` 55.2.0 crate (the engine's version),
//! which `tests/slt/fetch.sh` downloads from crates.io and unpacks into the build cache; they are
//! not kept in this repository. Each file runs in a fresh schema of one server, through
//! tokio-postgres, with the value formatting of DataFusion's own postgres runner (NULL,
//! true/false, floats and numerics rounded to 12 decimals without trailing zeros, `(empty)` for
//! empty strings). A file that fails for a reason we accept is listed in `tests/slt/skip.toml`
//! with that reason; every other file must pass.
//!
//! `DELTAGRES_SLT_FILES=substring` runs only the matching files; `DELTAGRES_SLT_ALL=1` runs the
//! skipped files too and reports which of them would pass.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use bigdecimal::BigDecimal;
use sqllogictest::{ColumnType, DBOutput, Record};
use tokio_postgres::types::Type;
use tokio_postgres::{NoTls, SimpleQueryMessage};

use crate::support::TestServer;

/// The DataFusion version whose test files we run (the engine's).
const CRATE: &str = "datafusion-sqllogictest-55.2.0";

/// The files we run, relative to the crate's `test_files`: DataFusion's PostgreSQL-compatibility
/// files and self-contained join and aggregate files (no data files of their own).
const FILES: &[&str] = &[
    "pg_compat/pg_compat_null.slt",
    "pg_compat/pg_compat_simple.slt",
    "pg_compat/pg_compat_type_coercion.slt",
    "pg_compat/pg_compat_types.slt",
    "pg_compat/pg_compat_union.slt",
    "pg_compat/pg_compat_window.slt",
    "join_lists.slt",
    "same_column_name_cross_join.slt",
    "join_is_not_distinct_from.slt",
    "lateral_join.slt",
    "propagate_empty_relation_outer_join.slt",
    "push_down_filter_outer_joins.slt",
    "eliminate_outer_join.slt",
    "null_aware_anti_join.slt",
    "aggregate_any_value.slt",
    "aggregates_simplify.slt",
    "count_star_rule.slt",
    "grouping.slt",
    "group.slt",
];

/// Longest a single file may take before it counts as failed.
const FILE_TIMEOUT: Duration = Duration::from_secs(90);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn datafusion_sqllogictest_files_pass_over_the_wire() {
    let root = test_files_dir();
    let skips = skip_list();
    for name in skips.files.keys().chain(skips.records.keys()) {
        assert!(
            FILES.contains(&name.as_str()),
            "tests/slt/skip.toml lists {name}, which is not among the files slt.rs runs"
        );
    }
    let only = std::env::var("DELTAGRES_SLT_FILES").ok();
    let run_all = std::env::var("DELTAGRES_SLT_ALL").is_ok_and(|v| v == "1");
    let data = Arc::new(AggregateTest100::from_crate(&root));

    let server = TestServer::start().await;
    let started = Instant::now();
    let mut report = Vec::new();
    let mut failures = Vec::new();
    let (mut passed, mut failed, mut skipped) = (0, 0, 0);
    for (i, file) in FILES.iter().enumerate() {
        if only.as_deref().is_some_and(|o| !file.contains(o)) {
            continue;
        }
        let skip = skips.files.get(*file);
        if let Some(reason) = skip
            && !run_all
        {
            skipped += 1;
            report.push(format!("SKIP {file}: {reason}"));
            continue;
        }
        let t = Instant::now();
        let schema = format!("slt{i}_{}", sanitize(file));
        let no_records = Vec::new();
        let skip_records = skips.records.get(*file).unwrap_or(&no_records);
        let outcome = run_file(
            &server.conn_str(),
            &root.join(file),
            &schema,
            data.clone(),
            skip_records,
        )
        .await;
        let secs = t.elapsed().as_secs_f32();
        match (outcome, skip) {
            (Ok(n), None) => {
                passed += 1;
                report.push(format!("PASS {file} ({n} records, {secs:.1}s)"));
            }
            (Ok(n), Some(reason)) => {
                skipped += 1;
                report.push(format!(
                    "SKIP {file}: {reason} -- but it PASSES now ({n} records, {secs:.1}s): remove it from tests/slt/skip.toml"
                ));
            }
            (Err(e), None) => {
                failed += 1;
                report.push(format!("FAIL {file} ({secs:.1}s)"));
                failures.push(format!("{file}:\n{e}"));
            }
            (Err(e), Some(reason)) => {
                skipped += 1;
                let first = e.lines().take(12).collect::<Vec<_>>().join("\n    ");
                report.push(format!("SKIP {file}: {reason} (still fails: {first})"));
            }
        }
    }
    server.stop().await;
    println!(
        "DataFusion sqllogictest files over the wire ({:.1}s):\n  {}\nslt files: {passed} pass, {failed} fail, {skipped} skipped",
        started.elapsed().as_secs_f32(),
        report.join("\n  ")
    );
    assert!(
        failures.is_empty(),
        "{failed} sqllogictest file(s) failed (fix the server, or list the file in tests/slt/skip.toml with the reason):\n\n{}",
        failures.join("\n\n")
    );
}

/// The crate's `test_files` directory, fetched by `tests/slt/fetch.sh` when missing.
pub fn test_files_dir() -> PathBuf {
    let dir = crate_dir().join("test_files");
    if !dir.is_dir() {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/slt/fetch.sh");
        let status = std::process::Command::new("bash").arg(&script).status();
        assert!(
            status.is_ok_and(|s| s.success()) && dir.is_dir(),
            "DataFusion's sqllogictest files are missing at {}: run `bash tests/slt/fetch.sh` \
             (it downloads the {CRATE} crate from crates.io; .ci/run does this)",
            dir.display()
        );
    }
    dir
}

/// Where `tests/slt/fetch.sh` unpacks the crate: `$CARGO_TARGET_DIR/slt/<crate>`, with the
/// project's default target directory when the variable is unset.
fn crate_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").expect("HOME is set"))
                .join(".cache/deltagres-target")
        });
    target.join("slt").join(CRATE)
}

/// `tests/slt/skip.toml`: `[files]` maps a file to the reason it is not required to pass;
/// `[records."file"]` maps the line of one record (its `query`/`statement` line), or a range of
/// lines "from-to", to the reason those records are not run.
struct Skips {
    files: BTreeMap<String, String>,
    records: BTreeMap<String, Vec<(u32, u32, String)>>,
}

fn skip_list() -> Skips {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/slt/skip.toml");
    let text = std::fs::read_to_string(&path).expect("tests/slt/skip.toml is readable");
    let table: toml::Table = text.parse().expect("tests/slt/skip.toml parses");
    let reason = |what: &str, v: &toml::Value| -> String {
        v.as_str()
            .unwrap_or_else(|| panic!("skip.toml: the reason for {what} is not a string"))
            .to_string()
    };
    let section = |name: &str| {
        table
            .get(name)
            .map(|s| {
                s.as_table()
                    .unwrap_or_else(|| panic!("skip.toml: [{name}] is not a table"))
                    .clone()
            })
            .unwrap_or_default()
    };
    let files = section("files")
        .iter()
        .map(|(file, v)| (file.clone(), reason(file, v)))
        .collect();
    let records = section("records")
        .iter()
        .map(|(file, lines)| {
            let lines = lines
                .as_table()
                .unwrap_or_else(|| panic!("skip.toml: [records.\"{file}\"] is not a table"))
                .iter()
                .map(|(lines, v)| {
                    let (from, to) = lines.split_once('-').unwrap_or((lines, lines));
                    let line = |l: &str| {
                        l.trim().parse::<u32>().unwrap_or_else(|_| {
                            panic!("skip.toml: {file}: {lines} is not a line or a range")
                        })
                    };
                    (line(from), line(to), reason(&format!("{file}:{lines}"), v))
                })
                .collect();
            (file.clone(), lines)
        })
        .collect();
    Skips { files, records }
}

fn sanitize(file: &str) -> String {
    file.trim_end_matches(".slt")
        .rsplit('/')
        .next()
        .unwrap()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

/// Runs every record of one file (all of them, not stopping at the first failure); returns how
/// many records ran, or the failures.
async fn run_file(
    conn_str: &str,
    path: &Path,
    schema: &str,
    data: Arc<AggregateTest100>,
    skip_records: &[(u32, u32, String)],
) -> Result<usize, String> {
    let setup = tokio_postgres::connect(conn_str, NoTls).await;
    let (client, connection) = setup.map_err(|e| format!("connect: {e}"))?;
    tokio::spawn(connection);
    client
        .batch_execute(&format!("CREATE SCHEMA {schema}"))
        .await
        .map_err(|e| format!("CREATE SCHEMA {schema}: {}", db_error(&e)))?;
    drop(client);

    let records = sqllogictest::parse_file::<SltType>(path).map_err(|e| format!("parse: {e}"))?;
    let conn_str = conn_str.to_string();
    let schema_name = schema.to_string();
    let mut runner = sqllogictest::Runner::new(move || {
        Wire::connect(conn_str.clone(), schema_name.clone(), data.clone())
    });
    // The pg_compat files set up their tables with `onlyif postgres` records.
    runner.add_label("postgres");
    runner.with_column_validator(sqllogictest::strict_column_validator);
    runner.with_normalizer(value_normalizer);
    runner.with_validator(value_validator);

    let work = async {
        let mut errors = Vec::new();
        let mut ran = 0;
        for record in records {
            if let Record::Halt { .. } = record {
                break;
            }
            if is_explain(&record) {
                // Plan text is DataFusion's and depends on its configuration, not on the wire.
                continue;
            }
            if let Some(line) = record_line(&record)
                && skip_records
                    .iter()
                    .any(|(from, to, _)| (*from..=*to).contains(&line))
            {
                continue;
            }
            ran += 1;
            if let Err(e) = runner.run_async(record).await {
                errors.push(e.to_string());
            }
        }
        runner.shutdown_async().await;
        (ran, errors)
    };
    let (ran, errors) = tokio::time::timeout(FILE_TIMEOUT, work)
        .await
        .map_err(|_| format!("timed out after {FILE_TIMEOUT:?}"))?;
    if errors.is_empty() {
        return Ok(ran);
    }
    let shown = errors
        .iter()
        .take(10)
        .enumerate()
        .map(|(i, e)| format!("  {}. {e}", i + 1))
        .collect::<Vec<_>>()
        .join("\n");
    let more = if errors.len() > 10 {
        format!("\n  ... and {} more", errors.len() - 10)
    } else {
        String::new()
    };
    Err(format!(
        "{} of {ran} records failed:\n{shown}{more}",
        errors.len()
    ))
}

fn record_line(record: &Record<SltType>) -> Option<u32> {
    match record {
        Record::Query { loc, .. } | Record::Statement { loc, .. } => Some(loc.line()),
        _ => None,
    }
}

fn is_explain(record: &Record<SltType>) -> bool {
    let sql = match record {
        Record::Query { sql, .. } | Record::Statement { sql, .. } => sql,
        _ => return false,
    };
    sql.trim_start().to_ascii_lowercase().starts_with("explain")
}

#[allow(clippy::ptr_arg)] // sqllogictest's Normalizer takes &String
fn value_normalizer(s: &String) -> String {
    s.trim_end().to_string()
}

/// DataFusion's validator: the values of a row joined by one space, trailing space trimmed.
fn value_validator(
    normalizer: sqllogictest::Normalizer,
    actual: &[Vec<String>],
    expected: &[String],
) -> bool {
    let expected: Vec<String> = expected.iter().map(normalizer).collect();
    let actual: Vec<String> = actual
        .iter()
        .map(|row| row.join(" ").trim_end().to_string())
        .collect();
    actual == expected
}

/// The column types of DataFusion's sqllogictest files.
#[derive(Debug, PartialEq, Eq, Clone)]
pub enum SltType {
    Boolean,
    DateTime,
    Integer,
    Float,
    Text,
    Timestamp,
    Another,
}

impl ColumnType for SltType {
    fn from_char(value: char) -> Option<Self> {
        Some(match value {
            'B' => Self::Boolean,
            'D' => Self::DateTime,
            'I' => Self::Integer,
            'P' => Self::Timestamp,
            'R' => Self::Float,
            'T' => Self::Text,
            _ => Self::Another,
        })
    }

    fn to_char(&self) -> char {
        match self {
            Self::Boolean => 'B',
            Self::DateTime => 'D',
            Self::Integer => 'I',
            Self::Timestamp => 'P',
            Self::Float => 'R',
            Self::Text => 'T',
            Self::Another => '?',
        }
    }
}

/// A failed statement, with the server's message and SQLSTATE.
#[derive(Debug)]
pub struct WireError(String, Option<String>);

impl std::fmt::Display for WireError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for WireError {}

impl From<tokio_postgres::Error> for WireError {
    fn from(e: tokio_postgres::Error) -> Self {
        let code = e.as_db_error().map(|d| d.code().code().to_string());
        WireError(db_error(&e), code)
    }
}

/// "ERROR: message (SQLSTATE xxxxx)" for a server error, the client's text otherwise.
pub fn db_error(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(d) => format!(
            "{}: {} (SQLSTATE {})",
            d.severity(),
            d.message(),
            d.code().code()
        ),
        None => e.to_string(),
    }
}

/// One sqllogictest connection: a tokio-postgres client with `search_path` on the file's schema.
struct Wire {
    client: tokio_postgres::Client,
    data: Arc<AggregateTest100>,
}

impl Wire {
    async fn connect(
        conn_str: String,
        schema: String,
        data: Arc<AggregateTest100>,
    ) -> Result<Self, WireError> {
        let (client, connection) = tokio_postgres::connect(&conn_str, NoTls).await?;
        tokio::spawn(connection);
        client
            .batch_execute(&format!("SET search_path TO {schema}"))
            .await?;
        Ok(Self { client, data })
    }
}

#[async_trait]
impl sqllogictest::AsyncDB for Wire {
    type Error = WireError;
    type ColumnType = SltType;

    async fn run(&mut self, sql: &str) -> Result<DBOutput<SltType>, WireError> {
        let lower = sql.trim_start().to_ascii_lowercase();
        if lower.starts_with("copy") && lower.contains("aggregate_test_100.csv") {
            // DataFusion's postgres runner streams the CSV with COPY FROM STDIN; we insert the
            // same rows (see AggregateTest100).
            let table = sql.split_whitespace().nth(1).unwrap_or_default();
            self.client.batch_execute(&self.data.insert(table)).await?;
            return Ok(DBOutput::StatementComplete(0));
        }
        let is_query = [
            "select", "values", "show", "with", "describe", "explain", "(", "table",
        ]
        .iter()
        .any(|p| lower.starts_with(p))
            || (["insert", "update", "delete"]
                .iter()
                .any(|p| lower.starts_with(p))
                && lower.contains("returning"));
        if !is_query {
            self.client.batch_execute(sql).await?;
            return Ok(DBOutput::StatementComplete(0));
        }
        // The extended protocol's Describe gives the column types; the simple protocol gives the
        // values as text (as DataFusion's postgres runner does).
        let statement = self.client.prepare(sql).await?;
        let types: Vec<Type> = statement
            .columns()
            .iter()
            .map(|c| c.type_().clone())
            .collect();
        let messages = self.client.simple_query(sql).await?;
        let rows: Vec<Vec<String>> = messages
            .iter()
            .filter_map(|m| match m {
                SimpleQueryMessage::Row(row) => Some(
                    (0..row.len())
                        .map(|i| cell_to_string(types.get(i), row.get(i)))
                        .collect(),
                ),
                _ => None,
            })
            .collect();
        if rows.is_empty() && types.is_empty() {
            return Ok(DBOutput::StatementComplete(0));
        }
        Ok(DBOutput::Rows {
            types: types.iter().map(slt_type).collect(),
            rows,
        })
    }

    async fn shutdown(&mut self) {}

    fn engine_name(&self) -> &str {
        "postgres"
    }

    async fn sleep(dur: Duration) {
        tokio::time::sleep(dur).await;
    }

    fn error_sql_state(err: &WireError) -> Option<String> {
        err.1.clone()
    }
}

fn slt_type(t: &Type) -> SltType {
    match *t {
        Type::BOOL => SltType::Boolean,
        Type::INT2 | Type::INT4 | Type::INT8 => SltType::Integer,
        Type::BPCHAR | Type::VARCHAR | Type::TEXT => SltType::Text,
        Type::FLOAT4 | Type::FLOAT8 | Type::NUMERIC => SltType::Float,
        Type::DATE | Type::TIME => SltType::DateTime,
        Type::TIMESTAMP => SltType::Timestamp,
        _ => SltType::Another,
    }
}

/// DataFusion's text for one value (its `engines/conversion.rs` and postgres runner).
pub fn cell_to_string(t: Option<&Type>, value: Option<&str>) -> String {
    let Some(value) = value else {
        return "NULL".to_string();
    };
    let Some(t) = t else {
        return text(value);
    };
    match *t {
        Type::CHAR => value
            .as_bytes()
            .first()
            .map(|b| (*b as i8).to_string())
            .unwrap_or_else(|| "NULL".to_string()),
        Type::INT2 | Type::INT4 | Type::INT8 => value
            .parse::<i64>()
            .map(|v| v.to_string())
            .unwrap_or_else(|_| value.to_string()),
        Type::NUMERIC => match BigDecimal::from_str(value) {
            Ok(d) => decimal(d),
            Err(_) => value.to_string(),
        },
        Type::FLOAT4 => match value.parse::<f32>() {
            Ok(v) => float(v.is_nan(), v.is_infinite(), v < 0.0, &v.to_string()),
            Err(_) => value.to_string(),
        },
        Type::FLOAT8 => match value.parse::<f64>() {
            Ok(v) => float(v.is_nan(), v.is_infinite(), v < 0.0, &v.to_string()),
            Err(_) => value.to_string(),
        },
        Type::BOOL => match value {
            "t" | "true" | "TRUE" => "true".to_string(),
            "f" | "false" | "FALSE" => "false".to_string(),
            other => other.to_string(),
        },
        Type::DATE => chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d")
            .map(|d| d.to_string())
            .unwrap_or_else(|_| value.to_string()),
        Type::TIME => chrono::NaiveTime::parse_from_str(value, "%H:%M:%S%.f")
            .map(|d| d.to_string())
            .unwrap_or_else(|_| value.to_string()),
        Type::TIMESTAMP => chrono::NaiveDateTime::parse_from_str(value, "%Y-%m-%d %H:%M:%S%.f")
            .or_else(|_| chrono::NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M:%S%.f"))
            .map(|d| format!("{d:?}"))
            .unwrap_or_else(|_| value.to_string()),
        _ => text(value),
    }
}

fn text(value: &str) -> String {
    if value.is_empty() {
        "(empty)".to_string()
    } else {
        value.trim_end_matches('\n').replace('\u{0000}', "\\0")
    }
}

fn float(nan: bool, infinite: bool, negative: bool, shortest: &str) -> String {
    if nan {
        "NaN".to_string()
    } else if infinite {
        if negative { "-Infinity" } else { "Infinity" }.to_string()
    } else {
        decimal(BigDecimal::from_str(shortest).expect("a float's text is a decimal"))
    }
}

/// Rounded to 12 decimals, without trailing zeros, never in exponent form.
fn decimal(d: BigDecimal) -> String {
    d.round(12).normalized().to_plain_string()
}

/// `aggregate_test_100.csv`, the table the pg_compat files load with COPY. It lives in the
/// arrow-testing repository, not in the crate, so we rebuild it from the crate itself:
/// `pg_compat_simple.slt` lists all 100 rows (`select * ... order by c1, ..., c13`) with c12
/// rounded to 12 decimals, and `array_agg.slt` lists every c12 at full precision; each rounded
/// c12 matches exactly one full value.
pub struct AggregateTest100 {
    rows: Vec<Vec<String>>,
}

impl AggregateTest100 {
    fn from_crate(test_files: &Path) -> Self {
        let simple = std::fs::read_to_string(test_files.join("pg_compat/pg_compat_simple.slt"))
            .expect("pg_compat_simple.slt");
        let marker = "order by c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12, c13;\n----\n";
        let start = simple
            .find(marker)
            .expect("pg_compat_simple.slt lists the table")
            + marker.len();
        let rows: Vec<Vec<String>> = simple[start..]
            .lines()
            .take_while(|l| !l.trim().is_empty())
            .map(|l| l.split(' ').map(str::to_string).collect())
            .collect();
        assert_eq!(rows.len(), 100, "aggregate_test_100 has 100 rows");
        assert!(
            rows.iter().all(|r| r.len() == 13),
            "aggregate_test_100 has 13 columns"
        );

        let agg = std::fs::read_to_string(test_files.join("array_agg.slt")).expect("array_agg.slt");
        let list = agg
            .lines()
            .find(|l| l.starts_with("[0.01479305307777301, "))
            .expect("array_agg.slt lists c12");
        let full: Vec<&str> = list[1..list.find(']').unwrap()].split(", ").collect();
        assert_eq!(full.len(), 100, "array_agg.slt lists 100 values of c12");
        let rows = rows
            .into_iter()
            .map(|mut row| {
                let matches: Vec<&&str> = full
                    .iter()
                    .filter(|v| decimal(BigDecimal::from_str(v).unwrap()) == row[11])
                    .collect();
                assert_eq!(matches.len(), 1, "one full-precision c12 for {}", row[11]);
                row[11] = matches[0].to_string();
                row
            })
            .collect();
        Self { rows }
    }

    /// An INSERT of all rows into `table` (c1 .. c13 in order; c10 is text in the pg_compat
    /// schema because its values exceed BIGINT).
    fn insert(&self, table: &str) -> String {
        let values: Vec<String> = self
            .rows
            .iter()
            .map(|r| {
                let v: Vec<String> = r
                    .iter()
                    .enumerate()
                    .map(|(i, v)| match i {
                        _ if v == "NULL" => "NULL".to_string(),
                        0 | 9 | 12 => format!("'{}'", v.replace('\'', "''")),
                        _ => v.clone(),
                    })
                    .collect();
                format!("({})", v.join(", "))
            })
            .collect();
        format!("INSERT INTO {table} VALUES {}", values.join(", "))
    }
}
