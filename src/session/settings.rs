//! Per-session PostgreSQL run-time parameters (`SET`, `SHOW`, `RESET`).
//!
//! Clients set these at connect time (JDBC sets `extra_float_digits`, psql `application_name`, BI
//! tools `DateStyle`) and read them back with `SHOW`; an unknown name is an error as in PostgreSQL,
//! except names with a dot, which PostgreSQL accepts as custom placeholders.

use std::collections::BTreeMap;

use crate::error::{Error, ErrorKind, Result};

/// One known parameter: its display name, default and whether clients are told of changes
/// (ParameterStatus, PostgreSQL's `GUC_REPORT`).
struct ParamDef {
    name: &'static str,
    default: &'static str,
    report: bool,
}

const PARAMS: &[ParamDef] = &[
    ParamDef {
        name: "application_name",
        default: "",
        report: true,
    },
    ParamDef {
        name: "client_encoding",
        default: "UTF8",
        report: true,
    },
    ParamDef {
        name: "DateStyle",
        default: "ISO, MDY",
        report: true,
    },
    ParamDef {
        name: "IntervalStyle",
        default: "postgres",
        report: true,
    },
    ParamDef {
        name: "TimeZone",
        default: "UTC",
        report: true,
    },
    ParamDef {
        name: "extra_float_digits",
        default: "1",
        report: false,
    },
    ParamDef {
        name: "search_path",
        default: "\"$user\", public",
        report: false,
    },
    ParamDef {
        name: "statement_timeout",
        default: "0",
        report: false,
    },
    ParamDef {
        name: "lock_timeout",
        default: "0",
        report: false,
    },
    ParamDef {
        name: "idle_in_transaction_session_timeout",
        default: "0",
        report: false,
    },
    ParamDef {
        name: "standard_conforming_strings",
        default: "on",
        report: true,
    },
    ParamDef {
        name: "integer_datetimes",
        default: "on",
        report: true,
    },
    ParamDef {
        name: "server_encoding",
        default: "UTF8",
        report: true,
    },
    ParamDef {
        name: "server_version_num",
        default: "160000",
        report: false,
    },
    ParamDef {
        name: "is_superuser",
        default: "on",
        report: true,
    },
    ParamDef {
        name: "bytea_output",
        default: "hex",
        report: false,
    },
    ParamDef {
        name: "client_min_messages",
        default: "notice",
        report: false,
    },
    ParamDef {
        name: "default_transaction_isolation",
        default: "read committed",
        report: false,
    },
    ParamDef {
        name: "transaction_isolation",
        default: "read committed",
        report: false,
    },
    ParamDef {
        name: "default_transaction_read_only",
        default: "off",
        report: false,
    },
    ParamDef {
        name: "transaction_read_only",
        default: "off",
        report: false,
    },
    ParamDef {
        name: "lc_messages",
        default: "C",
        report: false,
    },
    ParamDef {
        name: "lc_monetary",
        default: "C",
        report: false,
    },
    ParamDef {
        name: "lc_numeric",
        default: "C",
        report: false,
    },
    ParamDef {
        name: "lc_time",
        default: "C",
        report: false,
    },
    ParamDef {
        name: "max_identifier_length",
        default: "63",
        report: false,
    },
    // pgjdbc's getImportedKeys / getExportedKeys read it from pg_settings.
    ParamDef {
        name: "max_index_keys",
        default: "32",
        report: false,
    },
    ParamDef {
        name: "geqo",
        default: "on",
        report: false,
    },
    ParamDef {
        name: "jit",
        default: "off",
        report: false,
    },
    ParamDef {
        name: "row_security",
        default: "on",
        report: false,
    },
    ParamDef {
        name: "synchronous_commit",
        default: "on",
        report: false,
    },
    ParamDef {
        name: "work_mem",
        default: "4MB",
        report: false,
    },
    ParamDef {
        name: "session_authorization",
        default: "deltagres",
        report: true,
    },
    ParamDef {
        name: "server_version",
        default: "",
        report: true,
    },
];

/// The server version string reported to clients: PostgreSQL 16 compatible, naming deltagres.
pub fn server_version() -> String {
    format!("16.0 (deltagres {})", env!("CARGO_PKG_VERSION"))
}

/// A parameter change clients must be told of with a ParameterStatus message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportedChange {
    /// The display name (`TimeZone`).
    pub name: String,
    /// The new value.
    pub value: String,
}

/// The current values of one session's parameters.
#[derive(Debug, Clone)]
pub struct Settings {
    values: BTreeMap<String, String>,
    /// Changes with every change of a value: a number no other change (of any session, or of a
    /// copy kept for a transaction's end) ever had, so one comparison tells whether what was
    /// handed to DataFusion is still current.
    generation: u64,
}

/// The source of [`Settings::generation`] numbers, shared by every session.
static GENERATIONS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

fn next_generation() -> u64 {
    GENERATIONS.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

impl Default for Settings {
    fn default() -> Self {
        Self::new()
    }
}

impl Settings {
    /// Defaults for every known parameter.
    pub fn new() -> Self {
        let values = PARAMS
            .iter()
            .map(|p| (p.name.to_ascii_lowercase(), default_value(p)))
            .collect();
        Self {
            values,
            generation: next_generation(),
        }
    }

    /// Identifies the current values: equal generations mean equal values (see the field).
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Applies startup-packet parameters (`application_name`, `options`, ...) silently, skipping
    /// ones that are not settable (the protocol's own `user`, `database`).
    pub fn apply_startup(&mut self, params: &[(String, String)]) {
        for (name, value) in params {
            if matches!(
                name.as_str(),
                "user" | "database" | "replication" | "options"
            ) {
                continue;
            }
            let _ = self.set(name, Some(value.clone()));
        }
    }

    /// Sets `name` (any case) to `value`, or to its default when `value` is None (`SET x TO DEFAULT`,
    /// `RESET x`). Returns the change to report, if any.
    pub fn set(&mut self, name: &str, value: Option<String>) -> Result<Option<ReportedChange>> {
        let key = name.to_ascii_lowercase();
        let key = if key == "time zone" {
            "timezone".to_string()
        } else {
            key
        };
        let def = find(&key);
        if def.is_none() && !key.contains('.') {
            return Err(unknown(name));
        }
        if matches!(
            key.as_str(),
            "server_version"
                | "server_encoding"
                | "integer_datetimes"
                | "server_version_num"
                | "max_identifier_length"
                | "max_index_keys"
        ) {
            return Err(Error::new(
                ErrorKind::InvalidParameterValue,
                format!("parameter \"{name}\" cannot be changed"),
            ));
        }
        let value = match value {
            Some(v) => normalise(&key, v)?,
            None => def.map(default_value).unwrap_or_default(),
        };
        self.values.insert(key, value.clone());
        self.generation = next_generation();
        Ok(def.filter(|d| d.report).map(|d| ReportedChange {
            name: d.name.to_string(),
            value,
        }))
    }

    /// Whether writes are refused (`default_transaction_read_only` or `transaction_read_only` is
    /// on), as PostgreSQL refuses them with 25006.
    pub fn read_only(&self) -> bool {
        ["default_transaction_read_only", "transaction_read_only"]
            .iter()
            .any(|k| self.values.get(*k).is_some_and(|v| is_on(v)))
    }

    /// The value of `name`; unknown names are 42704 like PostgreSQL.
    pub fn get(&self, name: &str) -> Result<String> {
        self.values
            .get(&canonical_key(name))
            .cloned()
            .ok_or_else(|| unknown(name))
    }

    /// The name PostgreSQL gives a parameter (`TimeZone` for `SHOW time zone`), as SHOW
    /// names its result column.
    pub fn display_name(name: &str) -> String {
        let key = canonical_key(name);
        find(&key).map(|d| d.name.to_string()).unwrap_or(key)
    }

    /// Resets everything to defaults, returning the reportable changes.
    pub fn reset_all(&mut self) -> Vec<ReportedChange> {
        let before = std::mem::take(&mut self.values);
        *self = Self::new();
        PARAMS
            .iter()
            .filter(|p| p.report)
            .filter_map(|p| {
                let key = p.name.to_ascii_lowercase();
                let now = self.values.get(&key)?;
                (before.get(&key) != Some(now)).then(|| ReportedChange {
                    name: p.name.to_string(),
                    value: now.clone(),
                })
            })
            .collect()
    }

    /// Every parameter with its display name and value, for `SHOW ALL`.
    pub fn all(&self) -> Vec<(String, String)> {
        self.values
            .iter()
            .map(|(k, v)| {
                let name = find(k)
                    .map(|d| d.name.to_string())
                    .unwrap_or_else(|| k.clone());
                (name, v.clone())
            })
            .collect()
    }

    /// The first schema of `search_path` that is not `$user`, lower-cased unless quoted.
    pub fn first_search_path_schema(&self) -> Option<String> {
        self.search_path_schemas().into_iter().next()
    }

    /// The schemas of `search_path` other than `$user` and `pg_catalog`, lower-cased unless
    /// quoted, in order.
    pub fn search_path_schemas(&self) -> Vec<String> {
        let Some(path) = self.values.get("search_path") else {
            return Vec::new();
        };
        path.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty() && *s != "\"$user\"" && *s != "$user" && *s != "pg_catalog")
            .map(
                |s| match s.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
                    Some(quoted) => quoted.to_string(),
                    None => s.to_ascii_lowercase(),
                },
            )
            .collect()
    }

    /// `lock_timeout` in milliseconds (0: wait as long as the statement may run).
    pub fn lock_timeout_ms(&self) -> u64 {
        self.values
            .get("lock_timeout")
            .and_then(|v| parse_duration_ms(v))
            .unwrap_or(0)
    }

    /// `statement_timeout` in milliseconds (0: none).
    pub fn statement_timeout_ms(&self) -> u64 {
        self.values
            .get("statement_timeout")
            .and_then(|v| parse_duration_ms(v))
            .unwrap_or(0)
    }
}

/// The key a parameter is stored under: lower case, SHOW's multi-word forms resolved.
fn canonical_key(name: &str) -> String {
    let key = name.to_ascii_lowercase();
    match key.as_str() {
        "time zone" => "timezone".to_string(),
        "transaction isolation level" => "transaction_isolation".to_string(),
        "session authorization" => "session_authorization".to_string(),
        _ => key,
    }
}

fn find(key: &str) -> Option<&'static ParamDef> {
    PARAMS.iter().find(|p| p.name.eq_ignore_ascii_case(key))
}

fn default_value(p: &ParamDef) -> String {
    if p.name == "server_version" {
        server_version()
    } else {
        p.default.to_string()
    }
}

fn unknown(name: &str) -> Error {
    Error::new(
        ErrorKind::UndefinedObject,
        format!("unrecognized configuration parameter \"{name}\""),
    )
}

/// Checks and canonicalises values whose form matters to us.
fn normalise(key: &str, value: String) -> Result<String> {
    match key {
        "statement_timeout" | "lock_timeout" | "idle_in_transaction_session_timeout" => {
            parse_duration_ms(&value)
                .map(|ms| ms.to_string())
                .ok_or_else(|| {
                    Error::new(
                        ErrorKind::InvalidParameterValue,
                        format!("invalid value for parameter \"{key}\": \"{value}\""),
                    )
                    .with_hint("use milliseconds or a unit: 5000, '5s', '2min'")
                })
        }
        "client_encoding" => {
            let upper = value.to_ascii_uppercase().replace(['-', '_'], "");
            if upper == "UTF8" || upper == "UNICODE" {
                Ok("UTF8".into())
            } else {
                Err(Error::new(
                    ErrorKind::FeatureNotSupported,
                    format!("client encoding \"{value}\" is not supported; only UTF8 is"),
                ))
            }
        }
        "extra_float_digits" => value
            .trim()
            .parse::<i32>()
            .ok()
            .filter(|n| (-15..=3).contains(n))
            .map(|n| n.to_string())
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::InvalidParameterValue,
                    format!("{value} is outside the valid range for parameter \"extra_float_digits\" (-15 .. 3)"),
                )
            }),
        "timezone" => {
            // `SET TIME ZONE "Asia/Shanghai"` arrives as a quoted identifier.
            let v = value.trim();
            let v = v
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .unwrap_or(v);
            if v.eq_ignore_ascii_case("local") || v.eq_ignore_ascii_case("default") {
                return Ok("UTC".into());
            }
            if v.parse::<arrow::array::timezone::Tz>().is_err() {
                return Err(Error::new(
                    ErrorKind::InvalidParameterValue,
                    format!("invalid value for parameter \"TimeZone\": \"{v}\""),
                )
                .with_hint("use an IANA name such as 'Europe/Berlin', 'UTC' or an offset such as '+02:00'"));
            }
            Ok(v.to_string())
        }
        "datestyle" => datestyle(&value),
        _ => Ok(value),
    }
}

/// PostgreSQL's spellings of a true boolean setting.
fn is_on(value: &str) -> bool {
    matches!(
        value.trim().to_ascii_lowercase().as_str(),
        "on" | "true" | "yes" | "1" | "t" | "y"
    )
}

/// PostgreSQL's DateStyle, always shown as `output style, field order` (`SET DateStyle = ISO`
/// shows `ISO, MDY`); a part left out keeps PostgreSQL's default.
fn datestyle(value: &str) -> Result<String> {
    let mut style = "ISO";
    let mut order = "MDY";
    for part in value.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match part.to_ascii_uppercase().as_str() {
            "ISO" => style = "ISO",
            "SQL" => style = "SQL",
            "POSTGRES" => style = "Postgres",
            "GERMAN" => style = "German",
            "DMY" | "EURO" | "EUROPEAN" => order = "DMY",
            "MDY" | "US" | "NONEURO" | "NONEUROPEAN" => order = "MDY",
            "YMD" => order = "YMD",
            _ => {
                return Err(Error::new(
                    ErrorKind::InvalidParameterValue,
                    format!("invalid value for parameter \"DateStyle\": \"{value}\""),
                )
                .with_hint(
                    "Unrecognized key word: use ISO, SQL, Postgres or German, and DMY, MDY or YMD",
                ));
            }
        }
    }
    Ok(format!("{style}, {order}"))
}

/// `5000`, `'5s'`, `'250ms'`, `'2min'`, `'1h'` to milliseconds.
pub fn parse_duration_ms(text: &str) -> Option<u64> {
    let t = text.trim().trim_matches('\'');
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (n, unit) = t.split_at(split);
    let n: u64 = n.parse().ok()?;
    let factor = match unit.trim() {
        "" | "ms" => 1,
        "s" => 1000,
        "min" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return None,
    };
    Some(n * factor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_show_reset() {
        let mut s = Settings::new();
        let change = s.set("TIMEZONE", Some("Europe/Paris".into())).unwrap();
        assert_eq!(change.unwrap().name, "TimeZone");
        assert_eq!(s.get("timezone").unwrap(), "Europe/Paris");
        s.set("statement_timeout", Some("5s".into())).unwrap();
        assert_eq!(s.statement_timeout_ms(), 5000);
        assert!(s.set("no_such_thing", Some("1".into())).is_err());
        s.set("myapp.flag", Some("x".into())).unwrap();
        assert_eq!(s.get("myapp.flag").unwrap(), "x");
        let changes = s.reset_all();
        assert!(
            changes
                .iter()
                .any(|c| c.name == "TimeZone" && c.value == "UTC")
        );
    }

    #[test]
    fn search_path_first_schema() {
        let mut s = Settings::new();
        assert_eq!(s.first_search_path_schema().as_deref(), Some("public"));
        s.set("search_path", Some("\"$user\", Retail, public".into()))
            .unwrap();
        assert_eq!(s.first_search_path_schema().as_deref(), Some("retail"));
    }
}
