//! Captures everything the code logs (every level) in the whole test process, to check that
//! no secret ever reaches a log line. One global subscriber: per-thread ones miss events
//! whose callsites another test thread registered first.
//!
//! With `TEST_LOG_DIR` set (`scripts/test.sh` sets it), every line also goes to a file there,
//! one per test process, which `scripts/scan-test-logs.py` reads once the whole run is over.

use std::fs::File;
use std::io::Write;
use std::sync::{Arc, Mutex};
use tracing_subscriber::fmt::MakeWriter;

#[derive(Clone, Default)]
pub struct CapturedLogs {
    lines: Arc<Mutex<Vec<u8>>>,
    file: Option<Arc<Mutex<File>>>,
}

/// This process's log file in `TEST_LOG_DIR`, if the run keeps one.
fn run_log_file() -> Option<Arc<Mutex<File>>> {
    let dir = std::path::PathBuf::from(std::env::var_os("TEST_LOG_DIR")?);
    std::fs::create_dir_all(&dir).ok()?;
    let program = std::env::current_exe()
        .ok()
        .and_then(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "tests".to_owned());
    let path = dir.join(format!("{program}-{}.jsonl", std::process::id()));
    let file = File::options().create(true).append(true).open(path).ok()?;
    Some(Arc::new(Mutex::new(file)))
}

impl CapturedLogs {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.lines.lock().unwrap_or_else(|p| p.into_inner())).into_owned()
    }
}

static GLOBAL: std::sync::OnceLock<CapturedLogs> = std::sync::OnceLock::new();

/// Every log line of this test process so far, at every level. The first call installs the
/// capture; the harness calls it before any function runs.
pub fn captured() -> &'static CapturedLogs {
    GLOBAL.get_or_init(|| {
        let logs = CapturedLogs {
            lines: Arc::default(),
            file: run_log_file(),
        };
        let subscriber = tracing_subscriber::fmt()
            .json()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(logs.clone())
            .finish();
        // Another global subscriber would only mean a test set one up on purpose.
        let _ = tracing::subscriber::set_global_default(subscriber);
        logs
    })
}

impl Write for CapturedLogs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.lines
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(buf);
        if let Some(file) = &self.file {
            // The fmt layer writes each event in one call: lines from threads do not mix.
            file.lock()
                .unwrap_or_else(|p| p.into_inner())
                .write_all(buf)?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for CapturedLogs {
    type Writer = CapturedLogs;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}
