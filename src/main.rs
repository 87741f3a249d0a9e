//! The `deltagres` command line: `deltagres serve` runs the server; `plan-check` snapshots plans.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use deltagres::config::Config;
use deltagres::server::{Server, shutdown_signal};
use tracing_subscriber::EnvFilter;

#[derive(Parser)]
#[command(
    name = "deltagres",
    version,
    about = "PostgreSQL-wire SQL server on DataFusion, every table a Delta table"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (reads ./config.toml when present; DELTAGRES_<SECTION>_<KEY> overrides).
    Serve {
        /// Config file (default: ./config.toml if it exists, else built-in defaults).
        #[arg(long)]
        config: Option<PathBuf>,
        /// HOST:PORT to listen on (overrides server.listen).
        #[arg(long)]
        listen: Option<String>,
        /// Data directory (overrides storage.data_dir).
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
    /// Compare the physical plans of SQL scripts with committed snapshots (exit 1 on a change).
    PlanCheck {
        /// SQL scripts whose queries are explained.
        #[arg(required = true)]
        scripts: Vec<PathBuf>,
        /// Directory of the snapshots (`<script>.plan`).
        #[arg(long)]
        snapshots: PathBuf,
        /// Rewrite the snapshots instead of comparing.
        #[arg(long)]
        update: bool,
        /// A running server to plan on (postgres://user@host:port/db); default: an embedded engine.
        #[arg(long)]
        url: Option<String>,
        /// Config file for the embedded engine.
        #[arg(long)]
        config: Option<PathBuf>,
        /// Value of a `${name}` parameter in the scripts (repeatable).
        #[arg(long = "param", value_name = "NAME=VALUE", value_parser = parse_param)]
        params: Vec<(String, String)>,
        /// target_partitions used for planning, fixed so plans do not depend on the machine.
        #[arg(long, default_value_t = 8)]
        partitions: usize,
    },
}

/// `name=value` for `--param`.
fn parse_param(text: &str) -> Result<(String, String), String> {
    text.split_once('=')
        .map(|(k, v)| (k.trim().to_string(), v.to_string()))
        .filter(|(k, _)| !k.is_empty())
        .ok_or_else(|| format!("expected NAME=VALUE, got {text:?}"))
}

fn load_config(path: Option<&std::path::Path>) -> Result<Config, ExitCode> {
    Config::load(path, std::env::vars()).map_err(|e| {
        eprintln!("deltagres: {e}");
        ExitCode::from(2)
    })
}

fn plan_check(
    options: deltagres::plancheck::PlanCheckOptions,
    url: Option<String>,
    config: Option<PathBuf>,
) -> ExitCode {
    use deltagres::plancheck::ScriptOutcome;
    let config = match load_config(config.as_deref()) {
        Ok(c) => c,
        Err(code) => return code,
    };
    init_logging(&config.log.level);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let result = runtime.block_on(async {
        let mut runner = match &url {
            Some(url) => deltagres::client::SqlRunner::connect(url).await?,
            None => deltagres::client::SqlRunner::embedded(config)?,
        };
        deltagres::plancheck::run(&mut runner, &options).await
    });
    match result {
        Ok(outcomes) => {
            let mut changed = 0;
            for (script, outcome) in outcomes {
                match outcome {
                    ScriptOutcome::Unchanged => println!("ok       {}", script.display()),
                    ScriptOutcome::Written => println!("written  {}", script.display()),
                    ScriptOutcome::Changed(diff) => {
                        changed += 1;
                        println!("CHANGED  {}\n{diff}", script.display());
                    }
                }
            }
            if changed > 0 {
                eprintln!(
                    "deltagres: {changed} script(s) changed plan; review the diff, then rerun with --update to accept"
                );
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(e) => {
            eprintln!("deltagres: {}", e.message);
            if let Some(hint) = &e.hint {
                eprintln!("hint: {hint}");
            }
            ExitCode::from(2)
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve {
            config,
            listen,
            data_dir,
        } => {
            let mut config = match load_config(config.as_deref()) {
                Ok(c) => c,
                Err(code) => return code,
            };
            if let Some(listen) = listen {
                config.server.listen = listen;
            }
            if let Some(dir) = data_dir {
                config.storage.data_dir = dir;
            }
            init_logging(&config.log.level);
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .expect("tokio runtime");
            let result = runtime.block_on(async {
                let server = Server::bind(config).await?;
                server.run(shutdown_signal()).await
            });
            match result {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    tracing::error!(error = %e.message, "server failed");
                    eprintln!("deltagres: {}", e.message);
                    ExitCode::FAILURE
                }
            }
        }
        Command::PlanCheck {
            scripts,
            snapshots,
            update,
            url,
            config,
            params,
            partitions,
        } => plan_check(
            deltagres::plancheck::PlanCheckOptions {
                scripts,
                snapshots,
                update,
                params: params.into_iter().collect(),
                partitions,
            },
            url,
            config,
        ),
    }
}

/// Logs to stderr. A bare level (`debug`) applies to deltagres itself, other crates stay at
/// `warn`; a full directive (`deltagres=debug,datafusion=info`) is used as given; `RUST_LOG` wins.
fn init_logging(level: &str) {
    let directive = if level.contains('=') || level.contains(',') {
        level.to_string()
    } else {
        format!("warn,deltagres={level}")
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(directive));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
}
