//! A Lambda execution environment for one release bootstrap: the Runtime API (the HTTP
//! interface a custom runtime polls, `/2018-06-01/runtime/...`) served on a free port, and
//! the binary started with exactly the environment Lambda would give it.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::Value;
use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::{Mutex, mpsc, oneshot};

/// What one invocation ended with: the function's response, or the error it reported.
pub type Outcome = Result<Value, String>;

struct Invocation {
    id: String,
    event: Value,
    deadline_ms: u64,
    reply: oneshot::Sender<Outcome>,
}

struct RuntimeState {
    function_arn: String,
    next: Mutex<mpsc::Receiver<Invocation>>,
    pending: Mutex<HashMap<String, (oneshot::Sender<Outcome>, std::time::Instant)>>,
    init_error: Mutex<Option<String>>,
    /// How long each invocation ran, from the hand-over to its answer: what Lambda bills.
    durations: std::sync::Mutex<Vec<Duration>>,
}

/// One function, running as Lambda runs it: a process that polls for invocations.
pub struct LambdaFunction {
    pub logical_id: String,
    pub name: String,
    pub arn: String,
    pub timeout: Duration,
    pub log: PathBuf,
    /// The template's environment and the credentials Lambda adds, as the process got them
    /// (without the Runtime API's own variables): what an operator runs the same binary with.
    pub environment: HashMap<String, String>,
    pub bootstrap: PathBuf,
    queue: mpsc::Sender<Invocation>,
    state: Arc<RuntimeState>,
    child: std::sync::Mutex<Child>,
    server: tokio::task::JoinHandle<()>,
    next_id: AtomicU64,
}

impl Drop for LambdaFunction {
    fn drop(&mut self) {
        if let Ok(mut child) = self.child.lock() {
            let _ = child.kill();
            let _ = child.wait();
        }
        self.server.abort();
    }
}

/// How to start a function.
pub struct Launch<'a> {
    pub logical_id: &'a str,
    pub name: &'a str,
    pub arn: &'a str,
    pub bootstrap: &'a Path,
    /// Where Lambda sends its logs (`LoggingConfig.LogGroup`, or `/aws/lambda/<name>`).
    pub log_group: &'a str,
    pub timeout: Duration,
    pub memory_mb: u64,
    /// The environment the template gives the function, plus the Lambda-provided variables
    /// the rehearsal adds (credentials, region, endpoint): nothing of the test process's own.
    pub environment: HashMap<String, String>,
    pub log_dir: &'a Path,
}

impl LambdaFunction {
    pub async fn start(launch: Launch<'_>) -> Result<Self, String> {
        let (queue, next) = mpsc::channel(16);
        let state = Arc::new(RuntimeState {
            function_arn: launch.arn.to_owned(),
            next: Mutex::new(next),
            pending: Mutex::new(HashMap::new()),
            init_error: Mutex::new(None),
            durations: std::sync::Mutex::new(Vec::new()),
        });
        let router = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next_invocation))
            .route(
                "/2018-06-01/runtime/invocation/{id}/response",
                post(invocation_response),
            )
            .route(
                "/2018-06-01/runtime/invocation/{id}/error",
                post(invocation_error),
            )
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| e.to_string())?;
        let address = listener.local_addr().map_err(|e| e.to_string())?;
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });

        std::fs::create_dir_all(launch.log_dir).map_err(|e| e.to_string())?;
        let log = launch.log_dir.join(format!("{}.log", launch.logical_id));
        let out = File::create(&log).map_err(|e| e.to_string())?;
        let err = out.try_clone().map_err(|e| e.to_string())?;
        let given = launch.environment.clone();
        let mut environment = launch.environment;
        let lambda_vars = [
            ("AWS_LAMBDA_RUNTIME_API", address.to_string()),
            ("AWS_LAMBDA_FUNCTION_NAME", launch.name.to_owned()),
            ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".to_owned()),
            (
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
                launch.memory_mb.to_string(),
            ),
            ("AWS_LAMBDA_LOG_GROUP_NAME", launch.log_group.to_owned()),
            ("AWS_LAMBDA_LOG_STREAM_NAME", "rehearsal".to_owned()),
            ("AWS_EXECUTION_ENV", "AWS_Lambda_provided.al2023".to_owned()),
            ("_HANDLER", "bootstrap".to_owned()),
            ("LAMBDA_TASK_ROOT", "/var/task".to_owned()),
            ("TZ", ":UTC".to_owned()),
        ];
        for (key, value) in lambda_vars {
            environment.insert(key.to_owned(), value);
        }
        let child = Command::new(launch.bootstrap)
            .env_clear()
            .envs(&environment)
            .stdin(Stdio::null())
            .stdout(Stdio::from(out))
            .stderr(Stdio::from(err))
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", launch.bootstrap.display()))?;
        Ok(Self {
            logical_id: launch.logical_id.to_owned(),
            name: launch.name.to_owned(),
            arn: launch.arn.to_owned(),
            timeout: launch.timeout,
            log,
            environment: given,
            bootstrap: launch.bootstrap.to_owned(),
            queue,
            state,
            child: std::sync::Mutex::new(child),
            server,
            next_id: AtomicU64::new(1),
        })
    }

    /// Invokes the function with `event` and waits for its answer, as long as its timeout
    /// allows (and a little more, to tell a slow function from a dead one).
    pub async fn invoke(&self, event: Value) -> Outcome {
        let id = format!(
            "{}-{}",
            self.logical_id,
            self.next_id.fetch_add(1, Ordering::Relaxed)
        );
        let deadline_ms = now_ms() + self.timeout.as_millis() as u64;
        let (reply, answer) = oneshot::channel();
        self.queue
            .send(Invocation {
                id: id.clone(),
                event,
                deadline_ms,
                reply,
            })
            .await
            .map_err(|_| "the runtime is gone".to_owned())?;
        let give_up = tokio::time::Instant::now() + self.timeout + Duration::from_secs(5);
        let mut answer = answer;
        loop {
            tokio::select! {
                outcome = &mut answer => {
                    return outcome.unwrap_or_else(|_| Err("no answer".to_owned()));
                }
                _ = tokio::time::sleep(Duration::from_millis(100)) => {
                    if let Some(problem) = self.died().await {
                        return Err(problem);
                    }
                    if tokio::time::Instant::now() > give_up {
                        return Err(format!(
                            "{} did not answer within its {:?} timeout; log: {}",
                            self.logical_id, self.timeout, self.log.display()
                        ));
                    }
                }
            }
        }
    }

    /// How long each invocation so far ran (hand-over to answer), in order.
    pub fn durations(&self) -> Vec<Duration> {
        self.state
            .durations
            .lock()
            .map(|d| d.clone())
            .unwrap_or_default()
    }

    /// Why the function is not running any more, if it is not.
    async fn died(&self) -> Option<String> {
        let init = self.state.init_error.lock().await.clone();
        let exited = self
            .child
            .lock()
            .ok()
            .and_then(|mut c| c.try_wait().ok().flatten());
        if init.is_none() && exited.is_none() {
            return None;
        }
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        let tail: String = log
            .lines()
            .rev()
            .take(15)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect::<Vec<_>>()
            .join("\n");
        Some(format!(
            "{} stopped (init error: {:?}, exit: {:?}):\n{tail}",
            self.logical_id, init, exited
        ))
    }

    /// Everything the process printed so far.
    pub fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or_default()
}

async fn next_invocation(State(state): State<Arc<RuntimeState>>) -> Response {
    let invocation = state.next.lock().await.recv().await;
    let Some(invocation) = invocation else {
        return StatusCode::GONE.into_response();
    };
    state.pending.lock().await.insert(
        invocation.id.clone(),
        (invocation.reply, std::time::Instant::now()),
    );
    let mut headers = HeaderMap::new();
    let pairs = [
        ("lambda-runtime-aws-request-id", invocation.id),
        (
            "lambda-runtime-deadline-ms",
            invocation.deadline_ms.to_string(),
        ),
        (
            "lambda-runtime-invoked-function-arn",
            state.function_arn.clone(),
        ),
        (
            "lambda-runtime-trace-id",
            "Root=1-00000000-000000000000000000000000;Sampled=0".to_owned(),
        ),
        ("content-type", "application/json".to_owned()),
    ];
    for (name, value) in pairs {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    }
    (StatusCode::OK, headers, invocation.event.to_string()).into_response()
}

async fn complete(state: &RuntimeState, id: &str, outcome: Outcome) -> StatusCode {
    match state.pending.lock().await.remove(id) {
        Some((reply, started)) => {
            if let Ok(mut durations) = state.durations.lock() {
                durations.push(started.elapsed());
            }
            let _ = reply.send(outcome);
            StatusCode::ACCEPTED
        }
        None => StatusCode::BAD_REQUEST,
    }
}

async fn invocation_response(
    State(state): State<Arc<RuntimeState>>,
    UrlPath(id): UrlPath<String>,
    body: Bytes,
) -> StatusCode {
    let value = serde_json::from_slice(&body)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into_owned()));
    complete(&state, &id, Ok(value)).await
}

async fn invocation_error(
    State(state): State<Arc<RuntimeState>>,
    UrlPath(id): UrlPath<String>,
    body: Bytes,
) -> StatusCode {
    complete(
        &state,
        &id,
        Err(String::from_utf8_lossy(&body).into_owned()),
    )
    .await
}

async fn init_error(State(state): State<Arc<RuntimeState>>, body: Bytes) -> StatusCode {
    *state.init_error.lock().await = Some(String::from_utf8_lossy(&body).into_owned());
    StatusCode::ACCEPTED
}
