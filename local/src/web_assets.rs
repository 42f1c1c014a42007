//! The drop-in accounts component and the default landing page (`web/` at the workspace
//! root), compiled into the binary: the landing page at `/`, and every file at
//! `/web/v1/<file>`, the versioned path the deployed stack serves them under, so a page
//! written against the local stack works unchanged in AWS.

use axum::Router;
use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

/// Where the files are served; `index.html` refers to its modules by it.
pub const VERSIONED_PATH: &str = "/web/v1/";

/// One file of `web/`, as served.
#[derive(Debug, Clone, Copy)]
pub struct WebFile {
    pub name: &'static str,
    pub content_type: &'static str,
    pub body: &'static str,
}

macro_rules! web_file {
    ($name:literal, $content_type:expr) => {
        WebFile {
            name: $name,
            content_type: $content_type,
            body: include_str!(concat!("../../web/", $name)),
        }
    };
}

const JS: &str = "text/javascript; charset=utf-8";

/// Every file of `web/` a browser loads (a test checks none is missing).
pub const FILES: &[WebFile] = &[
    web_file!("index.html", "text/html; charset=utf-8"),
    web_file!("landing.js", JS),
    web_file!("unipile-accounts.js", JS),
    web_file!("api.js", JS),
    web_file!("providers.js", JS),
    web_file!("status-words.js", JS),
    web_file!("time-words.js", JS),
    web_file!("redirect-outcome.js", JS),
    web_file!("styles.js", JS),
];

pub fn find(name: &str) -> Option<&'static WebFile> {
    FILES.iter().find(|file| file.name == name)
}

fn serve(file: &WebFile) -> Response {
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, file.content_type),
            // Local edits to web/ show up after a rebuild without a stale cached module.
            (header::CACHE_CONTROL, "no-cache"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        file.body,
    )
        .into_response()
}

async fn landing_page() -> Response {
    find("index.html").map_or_else(|| StatusCode::NOT_FOUND.into_response(), serve)
}

async fn web_file(Path(name): Path<String>) -> Response {
    find(&name).map_or_else(|| StatusCode::NOT_FOUND.into_response(), serve)
}

/// `GET /` and `GET /web/v1/{file}`.
pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/", get(landing_page))
        .route(&format!("{VERSIONED_PATH}{{file}}"), get(web_file))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_of_web_is_served_with_its_type() {
        let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../web");
        let mut on_disk: Vec<String> = std::fs::read_dir(&folder)
            .expect("web/ exists")
            .map(|entry| {
                entry
                    .expect("entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            // Documentation for teams, not an asset a page loads.
            .filter(|name| name != "README.md")
            .collect();
        on_disk.sort();
        let mut served: Vec<String> = FILES.iter().map(|f| f.name.to_owned()).collect();
        served.sort();
        assert_eq!(served, on_disk);
        for file in FILES {
            let expected = if file.name.ends_with(".js") {
                JS
            } else {
                "text/html; charset=utf-8"
            };
            assert_eq!(file.content_type, expected, "{}", file.name);
        }
    }

    #[test]
    fn modules_import_each_other_relatively_so_any_static_host_serves_them() {
        for file in FILES.iter().filter(|f| f.name.ends_with(".js")) {
            for line in file.body.lines() {
                let line = line.trim_start();
                let is_import = line.starts_with("import ") || line.starts_with("} from ");
                if is_import && let Some(target) = line.split('"').nth(1) {
                    let name = target.strip_prefix("./").unwrap_or_else(|| {
                        panic!("{} imports {target:?}, not a relative path", file.name)
                    });
                    assert!(
                        find(name).is_some(),
                        "{} imports {name}, not served",
                        file.name
                    );
                }
            }
        }
    }
}
