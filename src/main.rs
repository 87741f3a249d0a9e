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
        /// HOST:PORT of the web console and /metrics (overrides http.listen; "" turns it off).
        #[arg(long)]
        http: Option<String>,
        /// HOST:PORT to listen on (overrides server.listen).
        #[arg(long)]
        listen: Option<String>,
        /// Data directory (overrides storage.data_dir).
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
    /// Write a development CA and a server certificate/key for `[tls]` (ca.crt, server.crt, server.key).
    Cert {
        /// Output directory.
        #[arg(long)]
        out: PathBuf,
        /// Host name the certificate is for (what clients connect to with sslmode=verify-full).
        #[arg(long, default_value = "localhost")]
        host: String,
    },
    /// Print the SCRAM-SHA-256 verifier of a password (read from stdin) for `[auth] users`.
    Passwd {
        /// The user name.
        user: String,
    },
    /// Generate a data set as parquet files.
    Gen {
        #[command(subcommand)]
        dataset: Dataset,
    },
    /// Run, check or show a pipeline of SQL scripts (see sql/retail/pipeline.toml).
    Pipeline {
        #[command(subcommand)]
        action: PipelineAction,
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

/// What `deltagres gen` makes.
#[derive(Subcommand)]
enum Dataset {
    /// The retail data set (customers, inventory, orders and daily change feeds) as parquet.
    Retail {
        /// Output directory.
        #[arg(long)]
        out: PathBuf,
        /// Orders in all (1e6, 1e7 and 10000000 all work).
        #[arg(long, default_value = "1e6", value_parser = parse_count)]
        orders: u64,
        /// Customers.
        #[arg(long, default_value = "100000", value_parser = parse_count)]
        customers: u64,
        /// Days of orders, from 2024-01-01.
        #[arg(long, default_value_t = 3)]
        days: u32,
        /// Share of all orders that belong to customer_1.
        #[arg(long, default_value_t = 0.6)]
        skew: f64,
        /// Seed: the same seed gives the same files.
        #[arg(long, default_value_t = 42)]
        seed: u64,
    },
}

/// A count written as an integer or in scientific notation (`1e7`).
fn parse_count(text: &str) -> Result<u64, String> {
    text.parse::<u64>()
        .ok()
        .or_else(|| {
            text.parse::<f64>()
                .ok()
                .filter(|f| *f >= 0.0 && f.fract() == 0.0)
                .map(|f| f as u64)
        })
        .ok_or_else(|| format!("expected a count such as 1000000 or 1e6, got {text:?}"))
}

fn generate(dataset: Dataset) -> ExitCode {
    let Dataset::Retail {
        out,
        orders,
        customers,
        days,
        skew,
        seed,
    } = dataset;
    let options = deltagres::datagen::RetailOptions {
        out: out.clone(),
        orders,
        customers,
        days,
        skew,
        seed,
    };
    let bar = indicatif::ProgressBar::new(orders);
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{elapsed_precise} [{bar:40}] {human_pos}/{human_len} orders ({per_sec})",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    let started = std::time::Instant::now();
    let result = deltagres::datagen::generate(&options, &|done| bar.set_position(done));
    bar.finish_and_clear();
    match result {
        Ok(summary) => {
            println!(
                "wrote {} orders over {} days ({} to {}), {} change rows, {} customers, {} products to {} in {:.1}s",
                summary.orders,
                summary.dates.len(),
                summary
                    .dates
                    .first()
                    .map(|d| d.to_string())
                    .unwrap_or_default(),
                summary
                    .dates
                    .last()
                    .map(|d| d.to_string())
                    .unwrap_or_default(),
                summary.updates,
                customers,
                deltagres::datagen::SKUS,
                out.display(),
                started.elapsed().as_secs_f64()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("deltagres: {}", e.message);
            ExitCode::from(2)
        }
    }
}

/// What `deltagres pipeline` does.
#[derive(Subcommand)]
enum PipelineAction {
    /// Run the DAG: retries, timeouts, hooks; exit 1 when the run failed.
    Run {
        /// The pipeline file.
        file: PathBuf,
        /// Override a parameter (repeatable).
        #[arg(long = "param", value_name = "NAME=VALUE", value_parser = parse_param)]
        params: Vec<(String, String)>,
        /// A running server (postgres://user@host:port/db); default: an embedded engine.
        #[arg(long)]
        url: Option<String>,
        /// Rerun this task and the tasks after it (resume a failed run).
        #[arg(long)]
        from: Option<String>,
        /// Config file for the embedded engine.
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Check the file: task names, dependencies and cycles, SQL files, parameters.
    Validate {
        /// The pipeline file.
        file: PathBuf,
        /// Parameters given at run time (repeatable).
        #[arg(long = "param", value_name = "NAME=VALUE", value_parser = parse_param)]
        params: Vec<(String, String)>,
    },
    /// Print the DAG.
    Show {
        /// The pipeline file.
        file: PathBuf,
    },
}

fn pipeline(action: PipelineAction) -> ExitCode {
    use deltagres::pipeline::{Connector, Pipeline, RunOptions};
    let fail = |message: &str| {
        eprintln!("deltagres: {message}");
        ExitCode::from(2)
    };
    match action {
        PipelineAction::Show { file } => match Pipeline::load(&file).and_then(|p| p.show()) {
            Ok(text) => {
                print!("{text}");
                ExitCode::SUCCESS
            }
            Err(e) => fail(&e.message),
        },
        PipelineAction::Validate { file, params } => {
            let p = match Pipeline::load(&file) {
                Ok(p) => p,
                Err(e) => return fail(&e.message),
            };
            let mut values = p.params.clone();
            values.extend(params);
            let problems = p.problems(&values);
            if problems.is_empty() {
                println!("{}: {} tasks, ok", file.display(), p.tasks.len());
                ExitCode::SUCCESS
            } else {
                for problem in &problems {
                    eprintln!("{problem}");
                }
                ExitCode::from(1)
            }
        }
        PipelineAction::Run {
            file,
            params,
            url,
            from,
            config,
        } => {
            let p = match Pipeline::load(&file) {
                Ok(p) => p,
                Err(e) => return fail(&e.message),
            };
            let config = match load_config(config.as_deref()) {
                Ok(c) => c,
                Err(code) => return code,
            };
            init_logging(&config.log.level);
            let runtime = deltagres::server::build_runtime().expect("tokio runtime");
            let started = std::time::Instant::now();
            let progress: deltagres::pipeline::Progress =
                std::sync::Arc::new(move |line: String| {
                    println!("[{:>7.2}s] {line}", started.elapsed().as_secs_f64());
                });
            let result = runtime.block_on(async {
                let connector = match url {
                    Some(url) => Connector::Remote(url),
                    None => Connector::Embedded(deltagres::engine::Engine::open(config).await?),
                };
                let options = RunOptions {
                    params: params.into_iter().collect(),
                    from,
                };
                deltagres::pipeline::run(&p, connector, &options, progress).await
            });
            match result {
                Ok(report) if report.succeeded() => ExitCode::SUCCESS,
                Ok(report) => {
                    for t in report.tasks.iter().filter(|t| t.status == "failed") {
                        eprintln!(
                            "deltagres: task {} failed: {}",
                            t.name,
                            t.error.as_deref().unwrap_or("")
                        );
                    }
                    eprintln!(
                        "deltagres: run {} failed; fix it and resume with --from <task>",
                        report.run_id
                    );
                    ExitCode::from(1)
                }
                Err(e) => fail(&e.message),
            }
        }
    }
}

/// Writes ca.crt, server.crt and server.key (readable by the owner only) into `out`.
fn cert(out: &std::path::Path, host: &str) -> ExitCode {
    let write = || -> Result<(), String> {
        let (ca, cert, key) =
            deltagres::server::development_certificates(host).map_err(|e| e.message)?;
        std::fs::create_dir_all(out).map_err(|e| format!("{}: {e}", out.display()))?;
        for (name, text) in [("ca.crt", &ca), ("server.crt", &cert), ("server.key", &key)] {
            let path = out.join(name);
            std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let key = out.join("server.key");
            std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600))
                .map_err(|e| format!("{}: {e}", key.display()))?;
        }
        Ok(())
    };
    match write() {
        Ok(()) => {
            println!(
                "wrote {dir}/ca.crt, {dir}/server.crt and {dir}/server.key for {host}\n\
                 [tls]\nmode = \"require\"\ncert = \"{dir}/server.crt\"\nkey = \"{dir}/server.key\"\n\
                 clients: sslmode=verify-full sslrootcert={dir}/ca.crt",
                dir = out.display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("deltagres: {e}");
            ExitCode::from(2)
        }
    }
}

/// Reads a password from stdin and prints the config line with its verifier.
fn passwd(user: &str) -> ExitCode {
    use std::io::{BufRead, IsTerminal, Write};
    if std::io::stdin().is_terminal() {
        eprint!("password for {user} (shown as you type; or pipe it in): ");
        let _ = std::io::stderr().flush();
    }
    let mut line = String::new();
    if std::io::stdin().lock().read_line(&mut line).is_err() {
        eprintln!("deltagres: could not read a password from stdin");
        return ExitCode::from(2);
    }
    let password = line.trim_end_matches(['\r', '\n']);
    if password.is_empty() {
        eprintln!("deltagres: empty password");
        return ExitCode::from(2);
    }
    let verifier =
        deltagres::auth::ScramVerifier::generate(password, deltagres::auth::DEFAULT_ITERATIONS);
    println!("{{ name = {user:?}, verifier = \"{verifier}\" }}");
    ExitCode::SUCCESS
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
    let runtime = deltagres::server::build_runtime().expect("tokio runtime");
    let result = runtime.block_on(async {
        let mut runner = match &url {
            Some(url) => deltagres::client::SqlRunner::connect(url).await?,
            None => deltagres::client::SqlRunner::embedded(config).await?,
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
            http,
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
            if let Some(http) = http {
                config.http.listen = http;
            }
            if let Some(dir) = data_dir {
                config.storage.data_dir = dir;
            }
            init_logging(&config.log.level);
            let runtime = deltagres::server::build_runtime().expect("tokio runtime");
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
        Command::Gen { dataset } => generate(dataset),
        Command::Passwd { user } => passwd(&user),
        Command::Cert { out, host } => cert(&out, &host),
        Command::Pipeline { action } => pipeline(action),
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
/// `warn` (delta-kernel off, delta-rs at `error`); a full directive (`deltagres=debug,datafusion=info`) is used as given; `RUST_LOG` wins.
fn init_logging(level: &str) {
    let directive = if level.contains('=') || level.contains(',') {
        level.to_string()
    } else {
        // delta-kernel logs a failed probe of a not-yet-created table as an ERROR, and delta-rs
        // warns about metrics it derives itself: neither is news to a deltagres operator, whose
        // statements get their own errors.
        format!("warn,buoyant_kernel=off,deltalake_core=error,deltagres={level}")
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(directive));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
}
