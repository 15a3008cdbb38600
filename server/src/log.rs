//! Logs: one JSON object per line on standard output, written by a background thread in batches.

use std::io::BufWriter;

use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// Install the logger; keep the guard until exit so that every line is written.
pub fn init(format: LogFormat, level: &str) -> Result<WorkerGuard, String> {
    let filter = EnvFilter::try_new(level).map_err(|e| format!("bad --log-level '{level}': {e}"))?;
    // the worker flushes whenever its queue is empty: batches under load, each line at once when idle
    let (writer, guard) = tracing_appender::non_blocking(BufWriter::new(std::io::stdout()));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(writer).with_target(false);
    let installed = match format {
        LogFormat::Json => builder.json().flatten_event(true).with_current_span(false).with_span_list(false).try_init(),
        LogFormat::Text => builder.try_init(),
    };
    installed.map_err(|e| format!("cannot install the logger: {e}"))?;
    Ok(guard)
}
