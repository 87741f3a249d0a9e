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
    /// The web console and `/metrics` (`[http]`).
    pub http: HttpConfig,
}

/// The default console address; when it is taken (a second server on the machine), the server
/// starts without a console and says so, while an address set by the user must be free.
pub const DEFAULT_HTTP_LISTEN: &str = "127.0.0.1:5480";

/// `[http]`: the web console of queries and `/metrics`, in the same process.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpConfig {
    /// `HOST:PORT` of the console; `""` turns it off. Loopback by default: the console shows
    /// statements' SQL.
    pub listen: String,
    /// Finished statements the console keeps (running ones are always shown).
    pub recent_statements: usize,
    /// Users who see every user's SQL text (others see only their own) when `[auth]` is on.
    pub admins: Vec<String>,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            listen: DEFAULT_HTTP_LISTEN.into(),
            recent_statements: 200,
            admins: Vec::new(),
        }
    }
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

/// `[storage]`: the data directory holding one Delta table per `<schema>/<table>` folder: a local
/// path or an object-store URL (`s3://bucket/prefix`, `gs://`, `az://`, `abfss://`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StorageConfig {
    /// Root of the managed tables: a local folder (created when missing) or an object-store URL.
    pub data_dir: PathBuf,
    /// Directories or URL prefixes that LOCATION and file-reading functions may point into
    /// (besides `data_dir`).
    pub allowed_paths: Vec<PathBuf>,
    /// How to reach S3 and S3-compatible stores (`[storage.s3]`); the standard `AWS_*`
    /// variables are read too.
    pub s3: S3Config,
    /// Further object-store options passed to delta-rs as given (`google_service_account`,
    /// `azure_storage_account_name`, ...: the keys object_store documents).
    pub options: ObjectStoreOptions,
    /// Start (and write) on an object store that does not refuse a second put-if-absent. Safe
    /// only when a single writer ever uses the data directory.
    pub allow_unsafe_commits: bool,
    /// Seconds between re-reads of the catalog from the data directory, so tables and views
    /// another server created or dropped are seen (0: only when a name is not found).
    pub catalog_refresh_secs: u64,
}

impl Default for StorageConfig {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("./data"),
            allowed_paths: Vec::new(),
            s3: S3Config::default(),
            options: Default::default(),
            allow_unsafe_commits: false,
            catalog_refresh_secs: 5,
        }
    }
}

impl StorageConfig {
    /// The object-store options this config sets, in delta-rs's key names.
    pub fn object_store_options(&self) -> std::collections::HashMap<String, String> {
        let mut options: std::collections::HashMap<String, String> = self
            .options
            .0
            .iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
            .collect();
        let s3 = &self.s3;
        let typed = [
            ("aws_endpoint", s3.endpoint.clone()),
            ("aws_region", s3.region.clone()),
            ("aws_access_key_id", s3.access_key_id.clone()),
            ("aws_secret_access_key", s3.secret_access_key.clone()),
            ("aws_session_token", s3.session_token.clone()),
            ("aws_allow_http", s3.allow_http.then(|| "true".to_string())),
            (
                "aws_virtual_hosted_style_request",
                s3.virtual_hosted_style.map(|v| v.to_string()),
            ),
        ];
        for (key, value) in typed {
            if let Some(value) = value {
                options.insert(key.to_string(), value);
            }
        }
        options
    }
}

/// `[storage.options]`: object-store options by key; `Debug` prints the keys, never the values
/// (they may be keys or tokens).
#[derive(Clone, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ObjectStoreOptions(pub std::collections::BTreeMap<String, String>);

impl std::fmt::Debug for ObjectStoreOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.0.keys()).finish()
    }
}

/// `[storage.s3]`: endpoint, region and credentials of an S3 or S3-compatible store (MinIO, R2,
/// ...). Unset keys fall back to the `AWS_*` environment variables and AWS's usual credential
/// chain. `Debug` never prints the secrets.
#[derive(Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct S3Config {
    /// The endpoint URL of an S3-compatible store (`http://127.0.0.1:9000`); AWS when unset.
    pub endpoint: Option<String>,
    /// The region (`us-east-1`).
    pub region: Option<String>,
    /// Allow a plain `http://` endpoint.
    pub allow_http: bool,
    /// Access key id.
    pub access_key_id: Option<String>,
    /// Secret access key (prefer the environment or a credential file over the config file).
    pub secret_access_key: Option<String>,
    /// Session token of temporary credentials.
    pub session_token: Option<String>,
    /// `bucket.host` addressing instead of `host/bucket` (AWS's default; off for most stand-ins).
    pub virtual_hosted_style: Option<bool>,
}

impl std::fmt::Debug for S3Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let hidden = |v: &Option<String>| v.as_ref().map(|_| "<redacted>");
        f.debug_struct("S3Config")
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("allow_http", &self.allow_http)
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &hidden(&self.secret_access_key))
            .field("session_token", &hidden(&self.session_token))
            .field("virtual_hosted_style", &self.virtual_hosted_style)
            .finish()
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
            split_list(raw)
                .into_iter()
                .map(toml::Value::String)
                .collect(),
        )),
        _ => raw
            .parse::<toml::Value>()
            .map_err(|e| format!("invalid value: {e}")),
    }
}

/// A list from an environment variable: items separated by `,` or, PATH-style, by `:`, except the
/// `:` of a URL's `scheme://` (`/in:s3://lake/landing` is two items).
fn split_list(raw: &str) -> Vec<String> {
    let mut items = Vec::new();
    for part in raw.split(',') {
        let mut current = String::new();
        let mut rest = part;
        while let Some(i) = rest.find(':') {
            if rest[i..].starts_with("://") {
                current.push_str(&rest[..i + 3]);
                rest = &rest[i + 3..];
            } else {
                current.push_str(&rest[..i]);
                items.push(std::mem::take(&mut current));
                rest = &rest[i + 1..];
            }
        }
        current.push_str(rest);
        items.push(current);
    }
    items
        .into_iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
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
    fn env_lists_split_on_commas_and_colons_but_not_inside_urls() {
        assert_eq!(
            split_list("/in:s3://lake/landing, gs://b/p,/x"),
            vec!["/in", "s3://lake/landing", "gs://b/p", "/x"]
        );
        assert_eq!(split_list("./input"), vec!["./input"]);
    }

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
