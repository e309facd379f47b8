//! The `postloan-host` command line.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};

use postloan_host::manifest::Manifest;
use postloan_host::runtime::{DEFAULT_MAX_INSTANCES, DEFAULT_MAX_MEMORY, RuntimeConfig};
use postloan_host::server::{HttpLimits, RequestLog, UpOptions};
use postloan_host::{builder, compose, server};

/// Run a Spin (manifest version 2) application on wasmtime: HTTP, Redis and cron triggers.
#[derive(Parser)]
#[command(name = "postloan-host", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Load the manifest, compose and pre-instantiate its components, and run its
    /// HTTP routes, Redis channels and cron schedules.
    ///
    /// Components get Spin's SQLite, key-value, variables and outbound Redis
    /// interfaces, as `spin.toml` grants them. Components need local `source` paths
    /// and `{ path = ... }` dependencies; see docs/host.md for what else of Spin is
    /// not implemented.
    Up(UpArgs),
    /// Run each component's `[component.ID.build] command`, like `spin build`.
    Build {
        /// Path of the Spin manifest.
        #[arg(long = "from", short = 'f', default_value = "spin.toml")]
        from: PathBuf,
        /// Build only this component.
        #[arg(long)]
        component: Option<String>,
    },
    /// Write a component with its dependencies plugged in, as one self-contained .wasm
    /// (runnable with `wasmtime serve`).
    Compose {
        /// Path of the Spin manifest.
        #[arg(long = "from", short = 'f', default_value = "spin.toml")]
        from: PathBuf,
        /// Id of the component to compose.
        #[arg(long)]
        component: String,
        /// Output path.
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(clap::Args)]
struct UpArgs {
    /// Path of the Spin manifest.
    #[arg(long = "from", short = 'f', default_value = "spin.toml")]
    from: PathBuf,
    /// Address to listen on (port 0 picks a free port; the real one is printed).
    #[arg(long, default_value = "127.0.0.1:3000")]
    listen: SocketAddr,
    /// Per-request deadline for guest execution, e.g. `10s`, `500ms`.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    request_timeout: Duration,
    /// Linear-memory limit per request, in MiB.
    #[arg(long, default_value_t = (DEFAULT_MAX_MEMORY / (1024 * 1024)) as u64)]
    max_memory_mib: u64,
    /// Maximum number of concurrently live component instances.
    #[arg(long, default_value_t = DEFAULT_MAX_INSTANCES)]
    max_instances: u32,
    /// Linear memory all the guests running at once may hold together, e.g. `160MiB`; a
    /// request that finds no room for its share is answered 503 (docs/host.md).
    #[arg(long, env = "POSTLOAN_MEMORY_BUDGET", default_value = "160MiB", value_parser = parse_size)]
    memory_budget: usize,
    /// How long a request waits for a free instance before it is answered 503.
    #[arg(long, default_value = "1s", value_parser = parse_duration)]
    queue_timeout: Duration,
    /// Largest request body (413 above), e.g. `1MiB`, `512KiB`, `65536`.
    #[arg(long, default_value = "1MiB", value_parser = parse_size)]
    max_body_size: usize,
    /// Longest request target, path and query (414 above).
    #[arg(long, default_value = "8KiB", value_parser = parse_size)]
    max_uri_length: usize,
    /// Largest request head, start line and header fields (431 above).
    #[arg(long, default_value = "64KiB", value_parser = parse_size)]
    max_header_size: usize,
    /// Time a client has to send a request head; then the connection is closed.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    header_read_timeout: Duration,
    /// Time a client has to send a request body once its head arrived (408 after).
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    body_read_timeout: Duration,
    /// Runtime config file in Spin's TOML format (database paths, variable providers).
    #[arg(long)]
    runtime_config_file: Option<PathBuf>,
    /// Folder for SQLite and key-value files [default: .postloan/ next to the manifest].
    #[arg(long)]
    state_dir: Option<PathBuf>,
    /// Write /tmp/perf-PID.map so that `perf` names the guests' compiled functions.
    #[arg(long, env = "POSTLOAN_PERFMAP")]
    perfmap: bool,
    /// Compose each component with its dependencies, as Spin does, instead of running each
    /// dependency as an instance of its own: faster calls between them, but a dependency
    /// then shares its parent's WASI and its failures are reported as the parent's.
    #[arg(long, env = "POSTLOAN_COMPOSE_DEPENDENCIES")]
    compose_dependencies: bool,
    /// Compile every component each time instead of keeping the compiled code in wasmtime's
    /// cache folder (`~/.cache/wasmtime`) and loading it from there on the next start.
    #[arg(long, env = "POSTLOAN_NO_COMPILATION_CACHE")]
    no_compilation_cache: bool,
    /// Which requests get a line on stderr: `errors` (answered 5xx) or `all`.
    #[arg(long, env = "POSTLOAN_LOG_REQUESTS", value_enum, default_value_t = RequestLog::Errors)]
    log_requests: RequestLog,
}

impl UpArgs {
    fn http_limits(&self) -> HttpLimits {
        HttpLimits {
            max_body: self.max_body_size,
            max_uri: self.max_uri_length,
            max_header: self.max_header_size,
            header_read_timeout: self.header_read_timeout,
            body_read_timeout: self.body_read_timeout,
            queue_timeout: self.queue_timeout,
        }
    }
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (number, unit) = match s.find(|c: char| !(c.is_ascii_digit() || c == '.')) {
        Some(i) => s.split_at(i),
        None => (s, "s"),
    };
    let value: f64 = number
        .parse()
        .map_err(|_| format!("invalid duration `{s}` (use e.g. `10s` or `500ms`)"))?;
    let secs = match unit {
        "ms" => value / 1000.0,
        "s" => value,
        "m" => value * 60.0,
        _ => return Err(format!("invalid duration unit in `{s}` (use ms, s or m)")),
    };
    if !(secs > 0.0 && secs.is_finite()) {
        return Err(format!("duration `{s}` must be positive"));
    }
    Ok(Duration::from_secs_f64(secs))
}

fn parse_size(s: &str) -> Result<usize, String> {
    let s = s.trim();
    let (number, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let scale = match unit.trim() {
        "" | "B" => 1,
        "KiB" => 1024,
        "MiB" => 1024 * 1024,
        _ => return Err(format!("invalid size unit in `{s}` (use B, KiB or MiB)")),
    };
    number
        .parse::<usize>()
        .ok()
        .and_then(|n| n.checked_mul(scale))
        .filter(|&n| n > 0)
        .ok_or_else(|| format!("invalid size `{s}` (use e.g. `1MiB`, `64KiB` or `8192`)"))
}

fn main() {
    if let Err(e) = run(Cli::parse()) {
        eprintln!("postloan-host: error: {e:#}");
        std::process::exit(1);
    }
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Up(args) => {
            let max_memory = usize::try_from(args.max_memory_mib.saturating_mul(1024 * 1024))
                .context("--max-memory-mib is too large")?;
            let http = args.http_limits();
            let opts = UpOptions {
                manifest: args.from,
                listen: args.listen,
                runtime: RuntimeConfig {
                    request_timeout: args.request_timeout,
                    max_memory,
                    max_instances: args.max_instances,
                    memory_budget: args.memory_budget,
                    perfmap: args.perfmap,
                    compose_dependencies: args.compose_dependencies,
                    compilation_cache: !args.no_compilation_cache,
                },
                http,
                request_log: args.log_requests,
                runtime_config_file: args.runtime_config_file,
                state_dir: args.state_dir,
            };
            tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .context("cannot start the tokio runtime")?
                .block_on(server::up(opts))
        }
        Command::Build { from, component } => {
            let manifest = Manifest::load(&from)?;
            builder::build(&manifest, component.as_deref())
        }
        Command::Compose {
            from,
            component,
            out,
        } => {
            let manifest = Manifest::load(&from)?;
            let bytes = compose::compose_component(manifest.component_by_id(&component)?)?;
            std::fs::write(&out, bytes)
                .with_context(|| format!("cannot write {}", out.display()))?;
            eprintln!(
                "postloan-host: wrote component `{component}` to {}",
                out.display()
            );
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("10s").unwrap(), Duration::from_secs(10));
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("2").unwrap(), Duration::from_secs(2));
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("5h").is_err());
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("1MiB").unwrap(), 1_048_576);
        assert_eq!(parse_size("64KiB").unwrap(), 65_536);
        assert_eq!(parse_size("8192").unwrap(), 8_192);
        assert_eq!(parse_size("100 B").unwrap(), 100);
        assert!(parse_size("0").is_err());
        assert!(parse_size("1MB").is_err());
        assert!(parse_size("KiB").is_err());
    }

    #[test]
    fn the_http_limits_default_as_documented() {
        let Cli {
            command: Command::Up(args),
        } = Cli::parse_from(["postloan-host", "up"])
        else {
            panic!("`up` parses as up");
        };
        assert_eq!(args.http_limits(), HttpLimits::default());
        assert_eq!(
            args.memory_budget,
            postloan_host::runtime::DEFAULT_MEMORY_BUDGET
        );
    }

    #[test]
    fn cli_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
