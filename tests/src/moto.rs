//! moto server, the AWS emulator: found, started once per test process on a free port, and
//! stopped when the process exits (its stdin is a pipe from us; EOF kills it).

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

struct Moto {
    endpoint: String,
    _child: Mutex<Child>,
}

static MOTO: OnceLock<Result<Moto, String>> = OnceLock::new();

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// `MOTO_SERVER`, else `.venv/bin/moto_server` in the workspace, else `moto_server` on PATH.
fn find_moto() -> Result<PathBuf, String> {
    if let Ok(path) = std::env::var("MOTO_SERVER") {
        return Ok(PathBuf::from(path));
    }
    let venv = workspace_root().join(".venv/bin/moto_server");
    if venv.is_file() {
        return Ok(venv);
    }
    std::env::var_os("PATH")
        .and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|p| p.join("moto_server"))
                .find(|p| p.is_file())
        })
        .ok_or_else(|| {
            "moto_server not found: run ./scripts/test.sh (it installs moto into .venv), \
             or `python3 -m venv .venv && .venv/bin/pip install 'moto[server]'`, or set MOTO_SERVER"
                .to_owned()
        })
}

/// The Python of moto's virtualenv (the test tools' one, where `standardwebhooks` is too).
pub fn venv_python() -> Result<PathBuf, String> {
    let moto = find_moto()?;
    let python = moto.with_file_name("python");
    if python.is_file() {
        Ok(python)
    } else {
        Err(format!(
            "no python beside {}: run ./scripts/test.sh (it installs the test tools into .venv)",
            moto.display()
        ))
    }
}

fn free_port() -> Result<u16, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| e.to_string())
}

fn start() -> Result<Moto, String> {
    let moto = find_moto()?;
    let port = free_port()?;
    let log = std::env::temp_dir().join(format!("moto-{port}.log"));
    // The shell waits on our pipe: when this test process ends, however it ends, `cat` sees
    // EOF and moto is killed, so no emulator outlives its tests.
    let script = format!(
        "\"$0\" -H 127.0.0.1 -p {port} >\"$1\" 2>&1 & pid=$!; cat >/dev/null; kill $pid 2>/dev/null"
    );
    let child = Command::new("sh")
        .arg("-c")
        .arg(script)
        .arg(&moto)
        .arg(&log)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", moto.display()))?;
    let endpoint = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) {
            let _ = stream.write_all(b"GET /moto-api/ HTTP/1.0\r\n\r\n");
            return Ok(Moto {
                endpoint,
                _child: Mutex::new(child),
            });
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Err(format!(
        "moto_server did not listen on port {port} within 60 s; see {}",
        log.display()
    ))
}

/// The endpoint of this process's moto server, starting it on first use.
pub fn endpoint() -> String {
    match MOTO.get_or_init(start) {
        Ok(moto) => moto.endpoint.clone(),
        Err(error) => panic!("{error}"),
    }
}

/// The emails moto's SES accepted for `to`, as `{"source","destinations","subject","body"}`
/// (moto keeps the HTML part when both are sent).
pub async fn sent_emails(to: &str) -> Vec<serde_json::Value> {
    let data = moto_data().await;
    data["ses"]["Message"]
        .as_array()
        .map(|messages| {
            messages
                .iter()
                .filter(|m| {
                    m["destinations"]["ToAddresses"]
                        .as_array()
                        .is_some_and(|a| a.iter().any(|d| d == to))
                })
                .cloned()
                .collect()
        })
        .unwrap_or_default()
}

/// moto's whole state. moto builds it by walking every backend while other tests' requests
/// change them, and answers 500 when one changed under it: asked again then.
async fn moto_data() -> serde_json::Value {
    let url = format!("{}/moto-api/data.json", endpoint());
    let mut last = String::new();
    for attempt in 0..10u64 {
        match reqwest::get(&url).await {
            Ok(answer) if answer.status().is_success() => match answer.json().await {
                Ok(data) => return data,
                Err(error) => last = error.to_string(),
            },
            Ok(answer) => last = format!("status {}", answer.status()),
            Err(error) => last = error.to_string(),
        }
        tokio::time::sleep(std::time::Duration::from_millis(50 * (attempt + 1))).await;
    }
    panic!("moto's data could not be read: {last}")
}
