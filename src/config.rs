//! Server configuration: `config.toml`, then `DELTAGRES_<SECTION>_<KEY>` environment variables, then
//! command-line flags, each layer overriding the one before.
//!
//! Every key has a default so `deltagres serve` runs with no file at all; the environment layer exists
//! so containers and CI can change one key without shipping a file.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The whole configuration, one struct per `[section]` of `config.toml`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Network settings (`[server]`).
    pub server: ServerConfig,
    /// Where tables live (`[storage]`).
    pub storage: StorageConfig,
    /// Query engine limits (`[engine]`).
    pub engine: EngineConfig,
    /// Logging (`[log]`).
    pub log: LogConfig,
    /// Who may connect (`[auth]`).
    pub auth: AuthConfig,
    /// Encryption on the wire (`[tls]`).
    pub tls: TlsConfig,
}

/// Whether connections are encrypted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TlsMode {
    /// No TLS: SSLRequest is declined.
    #[default]
    Disable,
    /// TLS for clients that ask (sslmode=prefer/require), plaintext for the others.
    Allow,
    /// TLS only: a plaintext connection gets 28000 and is closed.
    Require,
}

/// `[tls]`: certificate and key (PEM files) and the mode.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TlsConfig {
    /// disable | allow | require.
    pub mode: TlsMode,
    /// The server certificate chain (PEM), e.g. from `deltagres cert`.
    pub cert: Option<PathBuf>,
    /// Its private key (PEM).
    pub key: Option<PathBuf>,
}

/// How clients prove who they are.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AuthMethod {
    /// Anyone who reaches the port is in (allowed on loopback only, unless forced).
    #[default]
    Trust,
    /// The client sends its password (use with TLS); checked against the SCRAM verifier.
    Password,
    /// SCRAM-SHA-256: the password never crosses the wire.
    #[serde(rename = "scram-sha-256")]
    ScramSha256,
}

/// One user who may log in.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserConfig {
    /// The login name.
    pub name: String,
    /// `SCRAM-SHA-256$...`, as printed by `deltagres passwd NAME` (never a plain password).
    pub verifier: String,
}

/// `[auth]`: the authentication method and its users.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// trust | password | scram-sha-256.
    pub method: AuthMethod,
    /// Users and their SCRAM verifiers.
    pub users: Vec<UserConfig>,
    /// Start with `trust` on a non-loopback address anyway (refused otherwise).
    pub allow_trust_on_network: bool,
}

/// `[server]`: what the listener binds to and how many sessions it admits.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// `HOST:PORT` to listen on; 5433 so a local PostgreSQL on 5432 can run beside us.
    pub listen: String,
    /// Seconds a shutdown waits for running statements before it stops anyway.
    pub shutdown_grace_secs: u64,
    /// Connections served at once; one more is refused with 53300, as PostgreSQL does.
    pub max_connections: usize,
    /// Close a connection idle (no statement running or streaming) this long; 0 = never.
    pub idle_session_timeout_secs: u64,
    /// Largest frontend message accepted (a size such as "256MiB"); a longer one closes the
    /// connection with 54000 before its body is buffered, so one client cannot make the server
    /// hold ~1 GiB. Big enough for any statement; COPY data arrives in many small messages.
    pub max_message_size: String,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:5433".into(),
            shutdown_grace_secs: 30,
            max_connections: 100,
            idle_session_timeout_secs: 0,
            max_message_size: "256MiB".into(),
        }
    }
}

/// `[storage]`: the data directory holding one Delta table per `<schema>/<table>` folder.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StorageConfig {
    /// Root of the managed tables; created when missing.
    pub data_dir: PathBuf,
    /// Directories that LOCATION and file-reading functions may point into (besides `data_dir`).
    pub allowed_paths: Vec<PathBuf>,
}

impl Default for StorageConfig {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("./data"),
            allowed_paths: Vec::new(),
        }
    }
}

/// `[engine]`: DataFusion execution settings shared by every session.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EngineConfig {
    /// Memory pool size for query execution, e.g. `"2GiB"`; queries spill past it. Empty: no limit.
    pub memory_limit: String,
    /// Partitions a query is split into; 0 means one per CPU core.
    pub target_partitions: usize,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            memory_limit: "4GiB".into(),
            target_partitions: 0,
        }
    }
}

/// `[log]`: the `tracing` filter, e.g. `info` or `deltagres=debug`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    /// An `EnvFilter` directive; `RUST_LOG` wins when set.
    pub level: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            level: "info".into(),
        }
    }
}

/// Why a configuration could not be loaded; shown to the operator at start-up.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file named with `--config` (or `./config.toml`) could not be read.
    #[error("cannot read config file {path}: {source}")]
    Read {
        /// The file that failed.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not valid TOML or has unknown keys.
    #[error("invalid config file {path}: {message}")]
    Parse {
        /// The file that failed.
        path: PathBuf,
        /// What the TOML parser said.
        message: String,
    },
    /// A `DELTAGRES_*` variable names no key or holds a value of the wrong type.
    #[error("invalid environment override {name}={value}: {message}")]
    Env {
        /// The variable name.
        name: String,
        /// Its value.
        value: String,
        /// What was wrong.
        message: String,
    },
    /// A value is well-formed but unusable (e.g. a bad memory size).
    #[error("invalid config value {key}: {message}")]
    Value {
        /// The `section.key` at fault.
        key: String,
        /// What was wrong.
        message: String,
    },
}

impl Config {
    /// Loads the layered configuration: `file` (or `./config.toml` when present, else defaults), then
    /// the given environment variables (pass `std::env::vars()`; tests pass their own).
    pub fn load(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let default_file = Path::new("config.toml");
        let path = match file {
            Some(p) => Some(p.to_path_buf()),
            None if default_file.exists() => Some(default_file.to_path_buf()),
            None => None,
        };
        let mut value = match &path {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: path.clone(),
                    source,
                })?;
                toml::from_str::<toml::Table>(&text).map_err(|e| ConfigError::Parse {
                    path: path.clone(),
                    message: e.to_string(),
                })?
            }
            None => toml::Table::new(),
        };
        for (name, raw) in env {
            apply_env_override(&mut value, &name, &raw)?;
        }
        let config: Config =
            toml::Value::Table(value)
                .try_into()
                .map_err(|e: toml::de::Error| ConfigError::Parse {
                    path: path.unwrap_or_else(|| PathBuf::from("<environment>")),
                    message: e.to_string(),
                })?;
        config.validate()?;
        Ok(config)
    }

    /// Checks values that deserialize fine but cannot be used.
    fn validate(&self) -> Result<(), ConfigError> {
        self.memory_limit_bytes()?;
        self.max_message_bytes()?;
        Ok(())
    }

    /// The largest frontend message in bytes ("unlimited" means the protocol's own 1 GiB).
    pub fn max_message_bytes(&self) -> Result<usize, ConfigError> {
        let bytes = parse_byte_size(&self.server.max_message_size).map_err(|message| {
            ConfigError::Value {
                key: "server.max_message_size".into(),
                message,
            }
        })?;
        Ok(bytes
            .unwrap_or(PROTOCOL_MESSAGE_LIMIT)
            .min(PROTOCOL_MESSAGE_LIMIT))
    }

    /// The memory pool size in bytes, `None` when unlimited.
    pub fn memory_limit_bytes(&self) -> Result<Option<usize>, ConfigError> {
        parse_byte_size(&self.engine.memory_limit).map_err(|message| ConfigError::Value {
            key: "engine.memory_limit".into(),
            message,
        })
    }
}

/// The wire protocol's own ceiling on a message (PostgreSQL's and pgwire's: 1 GiB - 1).
const PROTOCOL_MESSAGE_LIMIT: usize = 0x3fff_ffff;

/// Applies one `DELTAGRES_<SECTION>_<KEY>=value` variable to the TOML tree. The value is read as
/// TOML when it parses (numbers, booleans, arrays), else as a plain string.
fn apply_env_override(table: &mut toml::Table, name: &str, raw: &str) -> Result<(), ConfigError> {
    let Some(rest) = name.strip_prefix("DELTAGRES_") else {
        return Ok(());
    };
    let env_err = |message: &str| ConfigError::Env {
        name: name.into(),
        value: raw.into(),
        message: message.into(),
    };
    let rest = rest.to_ascii_lowercase();
    let defaults = toml::Table::try_from(Config::default()).expect("defaults serialize");
    let (section, key) = defaults
        .iter()
        .find_map(|(section, keys)| {
            let key = rest.strip_prefix(section.as_str())?.strip_prefix('_')?;
            keys.as_table()?
                .contains_key(key)
                .then(|| (section.clone(), key.to_string()))
        })
        .ok_or_else(|| env_err("no such config key (expected DELTAGRES_<SECTION>_<KEY>)"))?;
    let default_value = &defaults[&section][&key];
    let value = parse_env_value(raw, default_value).map_err(|m| env_err(&m))?;
    table
        .entry(section)
        .or_insert_with(|| toml::Value::Table(toml::Table::new()))
        .as_table_mut()
        .ok_or_else(|| env_err("config section is not a table"))?
        .insert(key, value);
    Ok(())
}

/// Reads an environment value with the type of the key's default value.
fn parse_env_value(raw: &str, like: &toml::Value) -> Result<toml::Value, String> {
    match like {
        toml::Value::String(_) => Ok(toml::Value::String(raw.to_string())),
        toml::Value::Integer(_) => raw
            .trim()
            .parse::<i64>()
            .map(toml::Value::Integer)
            .map_err(|e| format!("expected an integer: {e}")),
        toml::Value::Boolean(_) => match raw.trim().to_ascii_lowercase().as_str() {
            "1" | "true" | "on" | "yes" => Ok(toml::Value::Boolean(true)),
            "0" | "false" | "off" | "no" => Ok(toml::Value::Boolean(false)),
            _ => Err("expected a boolean".into()),
        },
        toml::Value::Array(_) => Ok(toml::Value::Array(
            raw.split([',', ':'])
                .filter(|s| !s.trim().is_empty())
                .map(|s| toml::Value::String(s.trim().to_string()))
                .collect(),
        )),
        _ => raw
            .parse::<toml::Value>()
            .map_err(|e| format!("invalid value: {e}")),
    }
}

/// Parses `"512MiB"`, `"2GB"`, `"1048576"`; empty, `0` or `unlimited` mean no limit.
pub fn parse_byte_size(text: &str) -> Result<Option<usize>, String> {
    let t = text.trim();
    if t.is_empty() || t == "0" || t.eq_ignore_ascii_case("unlimited") {
        return Ok(None);
    }
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let number: f64 = number
        .parse()
        .map_err(|_| format!("'{text}' is not a size like 512MiB or 2GiB"))?;
    let factor: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" | "kib" => 1024.0,
        "m" | "mb" | "mib" => 1024.0 * 1024.0,
        "g" | "gb" | "gib" => 1024.0 * 1024.0 * 1024.0,
        "t" | "tb" | "tib" => 1024.0_f64.powi(4),
        other => return Err(format!("unknown size unit '{other}' (use KiB, MiB, GiB)")),
    };
    Ok(Some((number * factor) as usize))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_overrides_file_values_with_typed_values() {
        let env = vec![
            (
                "DELTAGRES_SERVER_LISTEN".to_string(),
                "0.0.0.0:6000".to_string(),
            ),
            (
                "DELTAGRES_ENGINE_TARGET_PARTITIONS".to_string(),
                "8".to_string(),
            ),
            (
                "DELTAGRES_STORAGE_DATA_DIR".to_string(),
                "/tmp/x".to_string(),
            ),
            ("UNRELATED".to_string(), "1".to_string()),
        ];
        let c = Config::load(Some(Path::new("/dev/null")), env).unwrap();
        assert_eq!(c.server.listen, "0.0.0.0:6000");
        assert_eq!(c.engine.target_partitions, 8);
        assert_eq!(c.storage.data_dir, PathBuf::from("/tmp/x"));
    }

    #[test]
    fn unknown_env_key_is_an_error() {
        let env = vec![("DELTAGRES_SERVER_NOPE".to_string(), "1".to_string())];
        assert!(Config::load(Some(Path::new("/dev/null")), env).is_err());
    }

    #[test]
    fn byte_sizes() {
        assert_eq!(parse_byte_size("2GiB").unwrap(), Some(2 << 30));
        assert_eq!(parse_byte_size("512 MB").unwrap(), Some(512 << 20));
        assert_eq!(parse_byte_size("").unwrap(), None);
        assert!(parse_byte_size("lots").is_err());
    }
}
