//! Captures everything the code logs (every level) in the whole test process, to check that
//! no secret ever reaches a log line. One global subscriber: per-thread ones miss events
//! whose callsites another test thread registered first.

use std::io::Write;
use std::sync::{Arc, Mutex};
use tracing_subscriber::fmt::MakeWriter;

#[derive(Clone, Default)]
pub struct CapturedLogs(Arc<Mutex<Vec<u8>>>);

impl CapturedLogs {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(|p| p.into_inner())).into_owned()
    }
}

static GLOBAL: std::sync::OnceLock<CapturedLogs> = std::sync::OnceLock::new();

/// Every log line of this test process so far, at every level. The first call installs the
/// capture; the harness calls it before any function runs.
pub fn captured() -> &'static CapturedLogs {
    GLOBAL.get_or_init(|| {
        let logs = CapturedLogs::default();
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
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(buf);
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
