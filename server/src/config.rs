//! Command-line flags, each with an environment variable as its fallback (and KServe's names as aliases).

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use fastpredict_engine::Limits;

/// Where KServe's storage initializer puts a model.
pub const KSERVE_MODEL_DIR: &str = "/mnt/models";

#[derive(Debug, Parser)]
#[command(
    name = "fastpredict-server",
    version,
    about = "Serves fastpredict model files over HTTP, with no R: the Open Inference Protocol (KServe V2 REST) and \
             vetiver's /predict.",
    after_help = "API keys: set FASTPREDICT_API_KEY (one key, or several separated by commas) or give \
                  --api-key-file; clients send `Authorization: Bearer <key>`, `Authorization: Key <key>` or \
                  `X-API-Key: <key>`. Health probes (/v2/health/*, /ping, /v2/models/*/ready) stay open.\n\
                  Signals: SIGHUP reloads the model directory; SIGTERM and SIGINT stop accepting, finish the \
                  requests in flight and exit 0.",
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub serve: ServeArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Probe a local server's /v2/health/ready and exit 0 if it is ready (a container health check).
    Health(HealthArgs),
}

#[derive(Debug, Args)]
pub struct HealthArgs {
    /// Address of the server to probe.
    #[arg(long, env = "FASTPREDICT_HEALTH_HOST", default_value = "127.0.0.1")]
    pub host: String,
    /// Port of the server to probe.
    #[arg(long, alias = "http_port", env = "FASTPREDICT_PORT", default_value_t = 8080)]
    pub port: u16,
    /// Seconds to wait for the answer.
    #[arg(long, env = "FASTPREDICT_HEALTH_TIMEOUT", default_value_t = 2.0, value_parser = seconds)]
    pub timeout: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Json,
    Text,
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Directory of models: each `NAME.json` or `NAME.json.gz` file is served as NAME [default: /mnt/models if it
    /// exists, else ./models]
    #[arg(long, alias = "model_dir", env = "FASTPREDICT_MODELS", value_name = "DIR")]
    pub models: Option<PathBuf>,
    /// Serve the directory's only model under this name (KServe passes the InferenceService's name)
    #[arg(long, alias = "model_name", env = "FASTPREDICT_MODEL_NAME", value_name = "NAME")]
    pub model_name: Option<String>,
    /// Model served by /predict, /metadata and /prototype when the directory holds several [default: the only one]
    #[arg(long, env = "FASTPREDICT_DEFAULT_MODEL", value_name = "NAME")]
    pub default_model: Option<String>,
    /// Address to listen on
    #[arg(long, env = "FASTPREDICT_HOST", default_value = "0.0.0.0")]
    pub host: String,
    /// Port to listen on (0 picks a free one, which the "listening" log line gives)
    #[arg(long, alias = "http_port", env = "FASTPREDICT_PORT", default_value_t = 8080)]
    pub port: u16,
    /// File of API keys, one per line (blank lines and lines starting with # are skipped)
    #[arg(long, env = "FASTPREDICT_API_KEY_FILE", value_name = "FILE")]
    pub api_key_file: Option<PathBuf>,
    /// Largest request body (bytes; k, M, G, KiB, MiB, GiB suffixes), else 413
    #[arg(long, env = "FASTPREDICT_MAX_BODY", default_value = "16MiB", value_parser = bytes)]
    pub max_body: usize,
    /// Most rows per request, else 413
    #[arg(long, env = "FASTPREDICT_MAX_ROWS", default_value_t = 100_000)]
    pub max_rows: usize,
    /// Most predictions in flight; beyond it requests are refused at once with 503
    #[arg(long, env = "FASTPREDICT_MAX_CONCURRENCY", default_value_t = 256)]
    pub max_concurrency: usize,
    /// Seconds a request may take, body and prediction together (408 while reading the body, 503 predicting)
    #[arg(long, env = "FASTPREDICT_TIMEOUT", default_value_t = 30.0, value_parser = seconds)]
    pub timeout: f64,
    /// Requests per second per client (per API key, or per IP address without keys); 0 is no limit
    #[arg(long, env = "FASTPREDICT_RATE_LIMIT", default_value_t = 0.0, value_parser = seconds)]
    pub rate_limit: f64,
    /// Requests a client may send at once before the rate applies [default: one second's worth, at least 1]
    #[arg(long, env = "FASTPREDICT_RATE_BURST", value_parser = seconds)]
    pub rate_burst: Option<f64>,
    /// Threads for large predictions [default: every core]
    #[arg(long, env = "FASTPREDICT_THREADS")]
    pub threads: Option<usize>,
    /// Threads for HTTP [default: every core]
    #[arg(long, env = "FASTPREDICT_WORKERS")]
    pub workers: Option<usize>,
    /// Reload when the model directory changes (SIGHUP always reloads)
    #[arg(long, env = "FASTPREDICT_WATCH", default_value_t = true, action = clap::ArgAction::Set)]
    pub watch: bool,
    /// Seconds to finish the requests in flight after SIGTERM before giving up (exit 1)
    #[arg(long, env = "FASTPREDICT_SHUTDOWN_TIMEOUT", default_value_t = 30.0, value_parser = seconds)]
    pub shutdown_timeout: f64,
    /// Log format: one JSON object per line, or text
    #[arg(long, env = "FASTPREDICT_LOG_FORMAT", value_enum, default_value_t = LogFormat::Json)]
    pub log_format: LogFormat,
    /// Log level or filter (error, warn, info, debug; info logs one line per request)
    #[arg(long, env = "FASTPREDICT_LOG_LEVEL", default_value = "info")]
    pub log_level: String,
    #[command(flatten)]
    pub load_limits: LoadLimitArgs,
}

/// The engine's load limits, one flag each; the defaults are the engine's (and R's `fp_limits()`).
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Load limits (a model file that declares more is refused, naming the limit)")]
pub struct LoadLimitArgs {
    /// Bytes of a model file as stored, compressed or not (k, M, G, KiB, MiB, GiB suffixes)
    #[arg(long = "limit-file-bytes", env = "FASTPREDICT_LIMIT_FILE_BYTES", value_name = "BYTES",
          default_value_t = Limits::default().file_bytes, value_parser = bytes_u64)]
    pub file_bytes: u64,
    /// Bytes of a model's JSON text once decompressed (suffixes as above)
    #[arg(long = "limit-json-bytes", env = "FASTPREDICT_LIMIT_JSON_BYTES", value_name = "BYTES",
          default_value_t = Limits::default().json_bytes, value_parser = bytes_u64)]
    pub json_bytes: u64,
    /// Input columns of a model
    #[arg(long = "limit-inputs", env = "FASTPREDICT_LIMIT_INPUTS", value_name = "N",
          default_value_t = Limits::default().inputs)]
    pub inputs: usize,
    /// Levels of one factor
    #[arg(long = "limit-levels", env = "FASTPREDICT_LIMIT_LEVELS", value_name = "N",
          default_value_t = Limits::default().levels)]
    pub levels: usize,
    /// Features of a tree model
    #[arg(long = "limit-features", env = "FASTPREDICT_LIMIT_FEATURES", value_name = "N",
          default_value_t = Limits::default().features)]
    pub features: usize,
    /// Trees of an ensemble
    #[arg(long = "limit-trees", env = "FASTPREDICT_LIMIT_TREES", value_name = "N",
          default_value_t = Limits::default().trees)]
    pub trees: usize,
    /// Nodes of all the trees of a model together
    #[arg(long = "limit-nodes", env = "FASTPREDICT_LIMIT_NODES", value_name = "N",
          default_value_t = Limits::default().nodes)]
    pub nodes: usize,
    /// Terms of a linear model
    #[arg(long = "limit-terms", env = "FASTPREDICT_LIMIT_TERMS", value_name = "N",
          default_value_t = Limits::default().terms)]
    pub terms: usize,
    /// Entries of a linear model's design (coefficients and the lookup tables of its terms)
    #[arg(long = "limit-design", env = "FASTPREDICT_LIMIT_DESIGN", value_name = "N",
          default_value_t = Limits::default().design)]
    pub design: usize,
    /// Degree of a polynomial, and columns of a spline basis
    #[arg(long = "limit-basis", env = "FASTPREDICT_LIMIT_BASIS", value_name = "N",
          default_value_t = Limits::default().basis)]
    pub basis: usize,
}

impl LoadLimitArgs {
    pub fn limits(&self) -> Limits {
        Limits {
            file_bytes: self.file_bytes,
            json_bytes: self.json_bytes,
            inputs: self.inputs,
            levels: self.levels,
            features: self.features,
            trees: self.trees,
            nodes: self.nodes,
            terms: self.terms,
            design: self.design,
            basis: self.basis,
        }
    }
}

impl ServeArgs {
    /// The model directory: the flag, else /mnt/models if it exists, else ./models.
    pub fn model_dir(&self) -> PathBuf {
        match &self.models {
            Some(d) => d.clone(),
            None if Path::new(KSERVE_MODEL_DIR).is_dir() => PathBuf::from(KSERVE_MODEL_DIR),
            None => PathBuf::from("models"),
        }
    }

    pub fn timeout(&self) -> Duration {
        Duration::from_secs_f64(self.timeout)
    }

    /// The bucket size of the rate limiter.
    pub fn burst(&self) -> f64 {
        self.rate_burst.unwrap_or(self.rate_limit).max(1.0)
    }
}

/// A non-negative finite number (seconds, a rate).
fn seconds(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
        _ => Err(format!("'{s}' is not a non-negative number")),
    }
}

/// A size in bytes, with an optional decimal (k, M, G) or binary (KiB, MiB, GiB) suffix.
fn bytes(s: &str) -> Result<usize, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let scale: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" => 1e3,
        "m" | "mb" => 1e6,
        "g" | "gb" => 1e9,
        "kib" => 1024.0,
        "mib" => 1048576.0,
        "gib" => 1073741824.0,
        _ => return Err(format!("'{s}' is not a size (e.g. 16MiB, 1000000)")),
    };
    match number.parse::<f64>() {
        Ok(v) if v > 0.0 && (v * scale) < usize::MAX as f64 => Ok((v * scale) as usize),
        _ => Err(format!("'{s}' is not a positive size")),
    }
}

fn bytes_u64(s: &str) -> Result<u64, String> {
    bytes(s).map(|b| b as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_seconds() {
        assert_eq!(bytes("16MiB"), Ok(16 << 20));
        assert_eq!(bytes("2k"), Ok(2000));
        assert_eq!(bytes("123"), Ok(123));
        assert!(bytes("ten").is_err() && bytes("0").is_err() && bytes("5 parsecs").is_err());
        assert_eq!(seconds("0.5"), Ok(0.5));
        assert!(seconds("-1").is_err() && seconds("inf").is_err());
    }

    #[test]
    fn kserve_flags_are_accepted() {
        let cli = Cli::try_parse_from([
            "fastpredict-server",
            "--model_dir",
            "/m",
            "--http_port",
            "9000",
            "--model_name",
            "x",
        ])
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(cli.serve.models, Some(PathBuf::from("/m")));
        assert_eq!(cli.serve.port, 9000);
        assert_eq!(cli.serve.model_name.as_deref(), Some("x"));
    }

    #[test]
    fn load_limits_default_to_the_engines() {
        let cli = Cli::try_parse_from(["fastpredict-server", "--limit-trees", "10", "--limit-file-bytes", "2MiB"])
            .unwrap_or_else(|e| panic!("{e}"));
        let want = Limits { trees: 10, file_bytes: 2 << 20, ..Limits::default() };
        assert_eq!(cli.serve.load_limits.limits(), want);
    }
}
