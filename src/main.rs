//! The `deltagres` command line: `deltagres serve` runs the server.

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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve {
            config,
            listen,
            data_dir,
        } => {
            let mut config = match Config::load(config.as_deref(), std::env::vars()) {
                Ok(c) => c,
                Err(e) => {
                    eprintln!("deltagres: {e}");
                    return ExitCode::from(2);
                }
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
