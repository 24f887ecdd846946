//! A minimal Lambda Runtime API on loopback: `/next`, `/response`, `/error`, `/init/error`.
//! One instance serves one function process, so each spawn is timed on its own.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use serde_json::Value;
use tokio::sync::{Notify, mpsc, oneshot};

/// What a function answered.
#[derive(Debug)]
pub enum Outcome {
    Ok(Value),
    Err(Value),
}

type Waiters = Arc<Mutex<HashMap<String, oneshot::Sender<(Outcome, Instant)>>>>;

#[derive(Clone)]
struct Shared {
    events: Arc<tokio::sync::Mutex<mpsc::Receiver<(String, Value)>>>,
    waiters: Waiters,
    first_poll: Arc<Mutex<Option<Instant>>>,
    polled: Arc<Notify>,
    init_error: Arc<Mutex<Option<String>>>,
}

pub struct RuntimeApi {
    addr: SocketAddr,
    tx: mpsc::Sender<(String, Value)>,
    shared: Shared,
    counter: std::sync::atomic::AtomicU64,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn next(State(s): State<Shared>) -> impl IntoResponse {
    {
        let mut first = s.first_poll.lock().unwrap();
        if first.is_none() {
            *first = Some(Instant::now());
            s.polled.notify_waiters();
        }
    }
    let got = s.events.lock().await.recv().await;
    let Some((id, event)) = got else {
        return (StatusCode::GONE, HeaderMap::new(), Bytes::new());
    };
    let mut h = HeaderMap::new();
    let deadline = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() + 10_000)
        .unwrap_or_default();
    h.insert(
        "lambda-runtime-aws-request-id",
        HeaderValue::from_str(&id).unwrap(),
    );
    h.insert(
        "lambda-runtime-deadline-ms",
        HeaderValue::from_str(&deadline.to_string()).unwrap(),
    );
    h.insert(
        "lambda-runtime-invoked-function-arn",
        HeaderValue::from_static("arn:aws:lambda:eu-central-1:123456789012:function:bench"),
    );
    h.insert(
        "lambda-runtime-trace-id",
        HeaderValue::from_static("Root=1-00000000-000000000000000000000000"),
    );
    h.insert("content-type", HeaderValue::from_static("application/json"));
    (
        StatusCode::OK,
        h,
        Bytes::from(serde_json::to_vec(&event).unwrap_or_default()),
    )
}

fn finish(s: &Shared, id: &str, outcome: Outcome) {
    let at = Instant::now();
    if let Some(tx) = s.waiters.lock().unwrap().remove(id) {
        let _ = tx.send((outcome, at));
    }
}

async fn response(State(s): State<Shared>, Path(id): Path<String>, body: Bytes) -> StatusCode {
    finish(
        &s,
        &id,
        Outcome::Ok(serde_json::from_slice(&body).unwrap_or(Value::Null)),
    );
    StatusCode::ACCEPTED
}

async fn error(State(s): State<Shared>, Path(id): Path<String>, body: Bytes) -> StatusCode {
    finish(
        &s,
        &id,
        Outcome::Err(serde_json::from_slice(&body).unwrap_or(Value::Null)),
    );
    StatusCode::ACCEPTED
}

async fn init_error(State(s): State<Shared>, body: Bytes) -> StatusCode {
    *s.init_error.lock().unwrap() = Some(String::from_utf8_lossy(&body).into_owned());
    StatusCode::ACCEPTED
}

impl RuntimeApi {
    pub async fn start() -> std::io::Result<Self> {
        let (tx, rx) = mpsc::channel(1);
        let shared = Shared {
            events: Arc::new(tokio::sync::Mutex::new(rx)),
            waiters: Arc::default(),
            first_poll: Arc::default(),
            polled: Arc::new(Notify::new()),
            init_error: Arc::default(),
        };
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route(
                "/2018-06-01/runtime/invocation/{id}/response",
                post(response),
            )
            .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(RuntimeApi {
            addr,
            tx,
            shared,
            counter: 0.into(),
            server,
        })
    }

    /// `AWS_LAMBDA_RUNTIME_API` for the function.
    pub fn endpoint(&self) -> String {
        self.addr.to_string()
    }

    /// When the function first asked for an event (its init is over), waiting up to `timeout`.
    pub async fn first_poll(&self, timeout: Duration) -> Option<Instant> {
        let deadline = Instant::now() + timeout;
        loop {
            let notified = self.shared.polled.notified();
            if let Some(t) = *self.shared.first_poll.lock().unwrap() {
                return Some(t);
            }
            if let Some(e) = self.shared.init_error.lock().unwrap().as_ref() {
                eprintln!("init error: {e}");
                return None;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero()
                || tokio::time::timeout(left.min(Duration::from_millis(50)), notified)
                    .await
                    .is_err()
                    && Instant::now() >= deadline
            {
                return None;
            }
        }
    }

    /// Hands the function one event and waits for its answer: (answer, when it arrived,
    /// when the event was handed over).
    pub async fn invoke(&self, event: Value) -> Option<(Outcome, Instant, Instant)> {
        let id = format!(
            "req-{}",
            self.counter
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        );
        let (tx, rx) = oneshot::channel();
        self.shared.waiters.lock().unwrap().insert(id.clone(), tx);
        let sent = Instant::now();
        self.tx.send((id, event)).await.ok()?;
        let (outcome, at) = tokio::time::timeout(Duration::from_secs(30), rx)
            .await
            .ok()?
            .ok()?;
        Some((outcome, at, sent))
    }
}
