//! Starting and stopping: load the models, watch for reloads (SIGHUP, directory changes), listen, drain on SIGTERM.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use axum::serve::ListenerExt;
use notify::{EventKind, RecursiveMode, Watcher};
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::mpsc;

use crate::auth::Keys;
use crate::config::ServeArgs;
use crate::limits::{Concurrency, RateLimiter};
use crate::metrics::Metrics;
use crate::repository::{Report, Repository};
use crate::routes::{self, App, RequestIds, Settings};

/// Changes that come close together (a ConfigMap update touches several entries) make one reload.
const SETTLE: Duration = Duration::from_millis(250);

fn log_report(report: &Report, metrics: &Metrics) {
    for name in &report.loaded {
        tracing::info!(model = %name, "model loaded");
    }
    for name in &report.removed {
        tracing::info!(model = %name, "model removed (its file is gone)");
    }
    for (file, error) in &report.failed {
        tracing::error!(file = %file, error = %error, "model file failed to load; any previous version keeps serving");
    }
    metrics.reloaded(report.failed.is_empty());
}

/// Reload whenever asked (debounced), off the HTTP threads.
fn spawn_reloader(app: Arc<App>, mut asks: mpsc::Receiver<&'static str>) {
    tokio::spawn(async move {
        while let Some(why) = asks.recv().await {
            tokio::time::sleep(SETTLE).await;
            while asks.try_recv().is_ok() {}
            let repo = Arc::clone(&app.repo);
            match tokio::task::spawn_blocking(move || repo.reload()).await {
                Ok(report) => {
                    tracing::info!(
                        trigger = why,
                        loaded = report.loaded.len(),
                        unchanged = report.unchanged,
                        failed = report.failed.len(),
                        "reloaded the model directory"
                    );
                    log_report(&report, &app.metrics);
                }
                Err(e) => tracing::error!(error = %e, "the reload panicked; the previous models keep serving"),
            }
        }
    });
}

/// Watch the directory itself, not its files: Kubernetes updates a ConfigMap by swapping a symlink.
fn watch(dir: &std::path::Path, asks: mpsc::Sender<&'static str>) -> notify::Result<notify::RecommendedWatcher> {
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        // reading the files on reload makes access events: they must not trigger another
        if let Ok(e) = event {
            if matches!(e.kind, EventKind::Create(_) | EventKind::Modify(_) | EventKind::Remove(_) | EventKind::Any) {
                let _ = asks.try_send("directory changed");
            }
        }
    })?;
    watcher.watch(dir, RecursiveMode::NonRecursive)?;
    Ok(watcher)
}

async fn terminated() {
    let (Ok(mut term), Ok(mut int)) = (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) else {
        tracing::error!("cannot listen for SIGTERM/SIGINT");
        return std::future::pending().await;
    };
    let which = tokio::select! {
        _ = term.recv() => "SIGTERM",
        _ = int.recv() => "SIGINT",
    };
    tracing::info!(signal = which, "shutting down: no new connections; finishing the requests in flight");
}

pub async fn run(args: ServeArgs) -> ExitCode {
    if let Some(t) = args.threads {
        fastpredict_engine::set_default_threads(t);
    }
    fastpredict_engine::set_limits(args.load_limits.limits());
    let keys = match Keys::load(std::env::var("FASTPREDICT_API_KEY").ok(), args.api_key_file.as_deref()) {
        Ok(k) => k,
        Err(e) => {
            tracing::error!(error = %e, "cannot start");
            return ExitCode::from(2);
        }
    };
    let dir = args.model_dir();
    let started = {
        let (dir, name, default) = (dir.clone(), args.model_name.clone(), args.default_model.clone());
        tokio::task::spawn_blocking(move || Repository::open(dir, name, default)).await
    };
    let (repo, report) = match started {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => {
            tracing::error!(error = %e, "cannot start");
            return ExitCode::from(2);
        }
        Err(e) => {
            tracing::error!(error = %e, "loading the models panicked");
            return ExitCode::from(2);
        }
    };
    if let Some(d) = repo.missing_default() {
        tracing::warn!(model = %d, "the --default-model is not loaded; /predict answers 404 until it is");
    }
    let app = Arc::new(App {
        repo: Arc::new(repo),
        metrics: Metrics::default(),
        limiter: RateLimiter::new(args.rate_limit, args.burst()),
        concurrency: Concurrency::new(args.max_concurrency),
        settings: Settings {
            max_body: args.max_body,
            timeout: args.timeout(),
            threads: fastpredict_engine::default_threads(),
            limits: fastpredict_engine::wire::WireLimits { max_rows: args.max_rows },
            rate: args.rate_limit,
        },
        ids: RequestIds::new(),
        keys,
    });
    log_report(&report, &app.metrics);

    let (asks, asked) = mpsc::channel(1);
    spawn_reloader(Arc::clone(&app), asked);
    match signal(SignalKind::hangup()) {
        Ok(mut hup) => {
            let asks = asks.clone();
            tokio::spawn(async move {
                while hup.recv().await.is_some() {
                    let _ = asks.send("SIGHUP").await;
                }
            });
        }
        Err(e) => tracing::error!(error = %e, "cannot listen for SIGHUP"),
    }
    // kept until exit: dropping the watcher stops it
    let _watcher = if args.watch {
        match watch(&dir, asks) {
            Ok(w) => Some(w),
            Err(e) => {
                tracing::warn!(error = %e, dir = %dir.display(), "cannot watch the model directory; reload with SIGHUP");
                None
            }
        }
    } else {
        None
    };

    let listener = match tokio::net::TcpListener::bind((args.host.as_str(), args.port)).await {
        Ok(l) => l,
        Err(e) => {
            tracing::error!(error = %e, host = %args.host, port = args.port, "cannot listen");
            return ExitCode::from(2);
        }
    };
    let address = listener.local_addr().map_or_else(|_| String::new(), |a| a.to_string());
    tracing::info!(address = %address, models = app.repo.current().models.len(), keys = app.keys.is_some(), "listening");
    let service = routes::router(Arc::clone(&app)).into_make_service_with_connect_info::<SocketAddr>();
    let (stopping, mut stop) = tokio::sync::watch::channel(false);
    let server = axum::serve(
        listener.tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        }),
        service,
    )
    .with_graceful_shutdown(async move {
        terminated().await;
        let _ = stopping.send(true);
    });
    let grace = Duration::from_secs_f64(args.shutdown_timeout);
    let overdue = async move {
        let _ = stop.wait_for(|s| *s).await;
        tokio::time::sleep(grace).await;
    };
    tokio::select! {
        served = server => match served {
            Ok(()) => {
                tracing::info!("stopped");
                ExitCode::SUCCESS
            }
            Err(e) => {
                tracing::error!(error = %e, "the server failed");
                ExitCode::FAILURE
            }
        },
        _ = overdue => {
            tracing::error!(seconds = args.shutdown_timeout, "requests still in flight after the shutdown timeout; exiting");
            ExitCode::FAILURE
        }
    }
}
