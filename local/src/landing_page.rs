//! `GET /`: the default landing page (`web/index.html`), the same embedded file the deployed
//! stack serves at `/web/v{N}/index.html`, naming the development build of the extension; its
//! modules load from that versioned path, served by the `web-assets` handler itself (see
//! `stack.rs`).

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use unipile_connect::web::{HTML_CONTENT_SECURITY_POLICY, INDEX, REVALIDATE_CACHE_CONTROL};

/// The web component's files as the local stack serves them, built once (the page naming the
/// development extension and its ETag are made when it is).
pub(crate) fn web_assets() -> &'static web_assets::WebAssets {
    static ASSETS: std::sync::OnceLock<web_assets::WebAssets> = std::sync::OnceLock::new();
    ASSETS.get_or_init(web_assets::WebAssets::local)
}

pub async fn landing_page() -> Response {
    let assets = web_assets();
    let Some(page) = assets.file(INDEX).map(|file| assets.served(file)) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, REVALIDATE_CACHE_CONTROL),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (
                header::CONTENT_SECURITY_POLICY,
                HTML_CONTENT_SECURITY_POLICY,
            ),
        ],
        page.bytes.into_owned(),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use unipile_connect::web::content_type_of;

    fn served(name: &str) -> bool {
        web_assets::embedded_files().iter().any(|f| f.name == name)
    }

    #[test]
    fn every_file_a_page_loads_from_web_is_served() {
        let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../web");
        for entry in std::fs::read_dir(&folder).expect("web/ exists") {
            let name = entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .into_owned();
            if content_type_of(&name).is_some() && !name.starts_with('.') {
                assert!(served(&name), "{name} is in web/ but not served");
            }
        }
        assert!(served("index.html") && served("unipile-accounts.js"));
    }

    #[test]
    fn modules_import_each_other_relatively_so_any_static_host_serves_them() {
        for file in web_assets::embedded_files()
            .iter()
            .filter(|f| f.name.ends_with(".js"))
        {
            let body = std::str::from_utf8(file.bytes).expect("UTF-8 module");
            for line in body.lines() {
                let line = line.trim_start();
                let is_import = line.starts_with("import ") || line.starts_with("} from ");
                if is_import && let Some(target) = line.split('"').nth(1) {
                    let name = target.strip_prefix("./").unwrap_or_else(|| {
                        panic!("{} imports {target:?}, not a relative path", file.name)
                    });
                    assert!(served(name), "{} imports {name}, not served", file.name);
                }
            }
        }
    }
}
