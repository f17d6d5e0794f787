//! `dexcheck watch`: the check on an interval, its metrics on `/metrics` (the `-o prometheus`
//! families plus the watch's own: runs, skipped runs, errors, the time of the last run and of each
//! check's last success) and `/healthz`. A run that overruns the interval is skipped and counted,
//! never stacked. Metrics carry no message and no secret; the log is one line per run.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;

use super::block_on;
use crate::cli::WatchArgs;
use crate::error::RunError;
use crate::plan::predict::Status;
use crate::report::Report;
use crate::report::prometheus::{self, Family};

/// What `/metrics` shows between runs.
#[derive(Default)]
struct Watch {
    /// The last run's families (or its error's).
    last: String,
    /// Per check label set: when it last passed.
    last_success: BTreeMap<String, i64>,
    runs: u64,
    skipped: u64,
    errors: u64,
    last_run: Option<i64>,
    running: bool,
}

type Shared = Arc<Mutex<Watch>>;

fn lock(w: &Shared) -> std::sync::MutexGuard<'_, Watch> {
    w.lock().unwrap_or_else(|e| e.into_inner())
}

pub fn run(args: &WatchArgs) -> i32 {
    let table = crate::cli::OutputFormat::Table;
    super::finish("dexcheck watch", table, block_on(watch(args)))
}

async fn watch(args: &WatchArgs) -> Result<i32, RunError> {
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|e| RunError::Flag(format!("--listen {}: {e}", args.listen)))?;
    let interval = args.check.interval.unwrap_or(Duration::from_secs(60));
    eprintln!(
        "dexcheck watch: serving /metrics and /healthz on http://{}, a check every {} s (Ctrl-C stops)",
        args.listen,
        interval.as_secs_f64()
    );
    let shared: Shared = Arc::default();
    let app = Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(|| async { "ok\n" }))
        .with_state(shared.clone());
    let server = axum::serve(listener, app).with_graceful_shutdown(async {
        let _ = tokio::signal::ctrl_c().await;
    });
    tokio::select! {
        r = server => r.map_err(|e| RunError::Local(format!("the metrics server stopped: {e}")))?,
        _ = schedule(args, interval, shared) => {}
    }
    Ok(crate::error::EXIT_OK)
}

/// Starts a run every `interval`, unless the previous one still runs (then counts a skip).
async fn schedule(args: &WatchArgs, interval: Duration, shared: Shared) {
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tick.tick().await;
        {
            let mut w = lock(&shared);
            if w.running {
                w.skipped += 1;
                eprintln!("dexcheck watch: the previous run is still going; this one is skipped");
                continue;
            }
            w.running = true;
        }
        let (args, shared) = (args.check.clone(), shared.clone());
        tokio::spawn(async move {
            let start = Instant::now();
            let result = super::check::diagnosis_of(&args).await;
            record(&shared, result, start.elapsed());
        });
    }
}

/// Keeps a run's metrics and logs one line about it.
fn record(
    shared: &Shared,
    result: Result<(crate::diagnosis::Diagnosis, &'static str, i32), RunError>,
    took: Duration,
) {
    let now = chrono::Utc::now().timestamp();
    let mut w = lock(shared);
    w.running = false;
    w.runs += 1;
    w.last_run = Some(now);
    match result {
        Ok((d, mode, code)) => {
            let rep = Report::new(&d, mode, code);
            for (labels, status) in prometheus::check_series(&rep) {
                if status == Status::Pass {
                    w.last_success.insert(labels, now);
                }
            }
            w.last = prometheus::report_text(&rep);
            eprintln!(
                "dexcheck watch: run {}: {} ({}) in {} ms",
                w.runs,
                d.verdict.status.as_str(),
                d.verdict
                    .blocking_check
                    .as_deref()
                    .unwrap_or("no blocking check"),
                took.as_millis()
            );
        }
        Err(e) => {
            w.errors += 1;
            // The build info is written once, last, by `/metrics`.
            w.last = String::new();
            for f in prometheus::error_families(e.kind(), e.exit_code(), None)
                .iter()
                .filter(|f| f.name != "dexcheck_build_info")
            {
                f.write(&mut w.last);
            }
            eprintln!("dexcheck watch: run {} failed: {e}", w.runs);
        }
    }
}

async fn metrics(State(shared): State<Shared>) -> impl IntoResponse {
    let w = lock(&shared);
    let mut out = w.last.clone();
    let last_success = w
        .last_success
        .iter()
        .map(|(l, t)| (l.clone(), t.to_string()))
        .collect();
    let families = [
        Family::counter(
            "dexcheck_watch_runs_total",
            "Checks run since the watch started.",
            w.runs,
        ),
        Family::counter(
            "dexcheck_watch_skipped_runs_total",
            "Checks skipped because the previous one still ran.",
            w.skipped,
        ),
        Family::counter(
            "dexcheck_watch_errors_total",
            "Checks that ended in an error (input, cluster) instead of a report.",
            w.errors,
        ),
        Family::gauge(
            "dexcheck_watch_last_run_timestamp_seconds",
            "When the last check ended, in Unix seconds.",
            w.last_run
                .map(|t| vec![(String::new(), t.to_string())])
                .unwrap_or_default(),
        ),
        Family::gauge(
            "dexcheck_check_last_success_timestamp_seconds",
            "When each check last passed, in Unix seconds.",
            last_success,
        ),
        prometheus::build_info(),
    ];
    for f in &families {
        f.write(&mut out);
    }
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        out,
    )
}
