//! Prometheus metrics: requests by route, model and status, a latency histogram, rows, models loaded, in flight.

use std::collections::HashMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::repository::ModelSet;

/// Response extension: the model a request was for (a loaded one, so the label set stays bounded).
#[derive(Debug, Clone)]
pub struct ModelLabel(pub Arc<str>);

/// Response extension: the rows a request predicted.
#[derive(Debug, Clone, Copy)]
pub struct Rows(pub usize);

/// Upper bounds of the latency buckets, in seconds: from a cached single row (tens of microseconds) to a
/// large batch.
const BUCKETS: [f64; 16] =
    [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

#[derive(Default)]
struct Counts {
    requests: HashMap<(&'static str, Option<Arc<str>>, u16), u64>,
    latency: HashMap<&'static str, Histogram>,
    rows: HashMap<Arc<str>, u64>,
}

#[derive(Default)]
pub struct Metrics {
    counts: Mutex<Counts>,
    in_flight: AtomicI64,
    reloads_ok: AtomicU64,
    reloads_failed: AtomicU64,
}

/// Counts a request as in flight until dropped (also when the client goes away mid-request).
pub struct InFlight<'m>(&'m Metrics);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Metrics {
    pub fn start(&self) -> InFlight<'_> {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight(self)
    }

    pub fn record(&self, route: &'static str, model: Option<&Arc<str>>, status: u16, took: Duration, rows: usize) {
        let secs = took.as_secs_f64();
        let mut c = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        *c.requests.entry((route, model.cloned(), status)).or_insert(0) += 1;
        let h = c.latency.entry(route).or_default();
        if let Some(b) = BUCKETS.iter().position(|&le| secs <= le) {
            h.counts[b] += 1;
        }
        h.count += 1;
        h.sum += secs;
        if let (Some(m), true) = (model, rows > 0) {
            *c.rows.entry(Arc::clone(m)).or_insert(0) += rows as u64;
        }
    }

    pub fn reloaded(&self, ok: bool) {
        let counter = if ok { &self.reloads_ok } else { &self.reloads_failed };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// The text exposition format.
    pub fn render(&self, models: &ModelSet) -> String {
        let mut out = String::with_capacity(4096);
        let c = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        head(&mut out, "fastpredict_requests_total", "counter", "HTTP requests by route, model and status.");
        let mut requests: Vec<_> = c.requests.iter().collect();
        requests.sort_by(|a, b| a.0.cmp(b.0));
        for ((route, model, status), n) in requests {
            let model = model.as_deref().unwrap_or("");
            let _ = writeln!(
                out,
                "fastpredict_requests_total{{route=\"{}\",model=\"{}\",status=\"{status}\"}} {n}",
                esc(route),
                esc(model)
            );
        }
        head(&mut out, "fastpredict_request_duration_seconds", "histogram", "Time from request to answer, by route.");
        let mut routes: Vec<_> = c.latency.iter().collect();
        routes.sort_by_key(|(r, _)| **r);
        for (route, h) in routes {
            let route = esc(route);
            let mut cumulative = 0;
            for (le, n) in BUCKETS.iter().zip(h.counts) {
                cumulative += n;
                let _ = writeln!(
                    out,
                    "fastpredict_request_duration_seconds_bucket{{route=\"{route}\",le=\"{le}\"}} {cumulative}"
                );
            }
            let _ = writeln!(
                out,
                "fastpredict_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(out, "fastpredict_request_duration_seconds_sum{{route=\"{route}\"}} {}", h.sum);
            let _ = writeln!(out, "fastpredict_request_duration_seconds_count{{route=\"{route}\"}} {}", h.count);
        }
        head(&mut out, "fastpredict_rows_predicted_total", "counter", "Rows predicted, by model.");
        let mut rows: Vec<_> = c.rows.iter().collect();
        rows.sort();
        for (model, n) in rows {
            let _ = writeln!(out, "fastpredict_rows_predicted_total{{model=\"{}\"}} {n}", esc(model));
        }
        drop(c);
        head(&mut out, "fastpredict_requests_in_flight", "gauge", "Requests being answered.");
        let _ = writeln!(out, "fastpredict_requests_in_flight {}", self.in_flight.load(Ordering::Relaxed));
        head(&mut out, "fastpredict_models_loaded", "gauge", "Models being served.");
        let _ = writeln!(out, "fastpredict_models_loaded {}", models.models.len());
        head(
            &mut out,
            "fastpredict_model_info",
            "gauge",
            "A model being served: its file, format version, content hash (of what it predicts) and file hash.",
        );
        for (name, s) in &models.models {
            let _ = writeln!(
                out,
                "fastpredict_model_info{{model=\"{}\",file=\"{}\",format_version=\"{}\",content_hash=\"{}\",sha256=\"{}\",\
                 version=\"{}\"}} 1",
                esc(name),
                esc(&s.file.display().to_string()),
                esc(&s.model.info().format_version),
                esc(&s.content_hash),
                s.sha256,
                s.version
            );
        }
        head(
            &mut out,
            "fastpredict_model_load_failed",
            "gauge",
            "A model file that failed to load at the last reload (its model, if any, is the previous version).",
        );
        for (file, why) in &models.failures {
            let _ = writeln!(out, "fastpredict_model_load_failed{{file=\"{}\",error=\"{}\"}} 1", esc(file), esc(why));
        }
        head(
            &mut out,
            "fastpredict_reloads_total",
            "counter",
            "Reloads of the model directory, by whether every file loaded.",
        );
        let _ = writeln!(out, "fastpredict_reloads_total{{result=\"ok\"}} {}", self.reloads_ok.load(Ordering::Relaxed));
        let _ = writeln!(
            out,
            "fastpredict_reloads_total{{result=\"failed\"}} {}",
            self.reloads_failed.load(Ordering::Relaxed)
        );
        out
    }
}

fn head(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

/// A label value escaped as the exposition format wants.
fn esc(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}
