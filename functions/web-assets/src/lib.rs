//! `GET /web/v{N}/{file}`: the web component's files, embedded from `web/` at build time, so
//! that a team can load the component from its own stack without hosting anything. The
//! landing page names the browser extension it lends the user's session to: the deployment
//! says which (`EXTENSION_ID`), the local stack names the development build.

use lambda_http::{Body, Error, Request, Response};
use std::borrow::Cow;
use unipile_connect::config::{self, ConfigError, EnvSource};
use unipile_connect::http::Problem;
use unipile_connect::web::{self, ExtensionId};

/// A file of `web/` as the build embedded it.
#[derive(Debug)]
pub struct EmbeddedFile {
    /// Its path under `web/`, `/`-separated.
    pub name: &'static str,
    pub bytes: &'static [u8],
    /// A strong ETag from the file's SHA-256, computed by the build.
    pub etag: &'static str,
}

include!(concat!(env!("OUT_DIR"), "/files.rs"));

/// The files this build embedded from `web/` (served when their kind has a content type).
pub fn embedded_files() -> &'static [EmbeddedFile] {
    FILES
}

/// The ID of the development build of the extension, as `extension/extension-id.txt` gives it
/// (from the `key` in `extension/manifest.json`): the one the local stack's landing page names.
pub const DEVELOPMENT_EXTENSION_ID: &str =
    include_str!("../../../extension/extension-id.txt").trim_ascii();

/// What `web/index.html` holds where the page names its extension: empty, so that the page as
/// committed (or served by any other host) offers no extension a session.
const EXTENSION_ID_SLOT: &str = "data-extension-id=\"\"";

/// What is served for a file: its bytes and its strong ETag, both the embedded file's unless
/// the landing page names an extension.
pub struct Served<'a> {
    pub bytes: Cow<'a, [u8]>,
    pub etag: Cow<'a, str>,
}

/// How long browsers may keep what is served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caching {
    /// The deployed stack: a versioned file never changes, the landing page briefly.
    Versioned,
    /// The local stack, where `web/` is being edited: always revalidate (the ETag keeps it
    /// cheap).
    Revalidate,
}

/// A page with the extension's ID filled in, built once with the function's dependencies.
struct NamedPage {
    name: &'static str,
    bytes: Vec<u8>,
    etag: String,
}

pub struct WebAssets {
    caching: Caching,
    files: &'static [EmbeddedFile],
    /// The extension the landing page lends the session to; none: the page offers none.
    extension_id: Option<ExtensionId>,
    /// The pages of `files` that name `extension_id` (none without one).
    pages: Vec<NamedPage>,
}

impl WebAssets {
    /// Serves `files`, its pages naming `extension_id`: each such page and its ETag are built
    /// here, once, not at each request.
    pub fn new(
        caching: Caching,
        files: &'static [EmbeddedFile],
        extension_id: Option<ExtensionId>,
    ) -> Self {
        let pages = extension_id
            .as_ref()
            .map(|id| {
                files
                    .iter()
                    .filter_map(|file| named_page(file, id))
                    .collect()
            })
            .unwrap_or_default();
        Self {
            caching,
            files,
            extension_id,
            pages,
        }
    }

    pub fn deployed(extension_id: Option<ExtensionId>) -> Self {
        Self::new(Caching::Versioned, FILES, extension_id)
    }

    /// The deployed stack, with the extension `EXTENSION_ID` names (the template's
    /// `ExtensionId`; unset or empty: none).
    pub fn from_env(env: &dyn EnvSource) -> Result<Self, ConfigError> {
        Ok(Self::deployed(config::extension_id(env)?))
    }

    /// The local stack: the development build of the extension.
    pub fn local() -> Self {
        Self::new(
            Caching::Revalidate,
            FILES,
            ExtensionId::parse(DEVELOPMENT_EXTENSION_ID).ok(),
        )
    }

    pub fn caching(&self) -> Caching {
        self.caching
    }

    pub fn files(&self) -> &'static [EmbeddedFile] {
        self.files
    }

    pub fn extension_id(&self) -> Option<&ExtensionId> {
        self.extension_id.as_ref()
    }

    /// The file served under `name`: an embedded one whose kind has a content type.
    pub fn file(&self, name: &str) -> Option<&'static EmbeddedFile> {
        self.files
            .iter()
            .find(|f| f.name == name && web::content_type_of(f.name).is_some())
    }

    /// What is served for `file`: the page built for the extension when it is one, or the
    /// file as embedded.
    pub fn served(&self, file: &'static EmbeddedFile) -> Served<'_> {
        match self.pages.iter().find(|page| page.name == file.name) {
            Some(page) => Served {
                bytes: Cow::Borrowed(&page.bytes),
                etag: Cow::Borrowed(&page.etag),
            },
            None => Served {
                bytes: Cow::Borrowed(file.bytes),
                etag: Cow::Borrowed(file.etag),
            },
        }
    }
}

/// `file` with the extension's ID in its empty `data-extension-id`, under an ETag of its own
/// (the file's hex digits, then the ID's, so that it changes with either and stays hex); none
/// for a file that is not a page.
fn named_page(file: &'static EmbeddedFile, id: &ExtensionId) -> Option<NamedPage> {
    if !web::is_html(file.name) {
        return None;
    }
    let page = std::str::from_utf8(file.bytes).ok()?;
    Some(NamedPage {
        name: file.name,
        bytes: page
            .replacen(
                EXTENSION_ID_SLOT,
                &format!("data-extension-id=\"{}\"", id.as_str()),
                1,
            )
            .into_bytes(),
        etag: format!("\"{}{}\"", file.etag.trim_matches('"'), id.as_hex()),
    })
}

pub async fn handler(app: &WebAssets, request: Request) -> Result<Response<Body>, Error> {
    let mut response = handle(app, &request).unwrap_or_else(Problem::into_response);
    // HEAD answers what GET would, without any body: a problem's included.
    if request.method() == http::Method::HEAD {
        *response.body_mut() = Body::Empty;
    }
    Ok(response)
}

fn handle(app: &WebAssets, request: &Request) -> Result<Response<Body>, Problem> {
    match *request.method() {
        http::Method::GET | http::Method::HEAD => {}
        _ => {
            let mut refused = Problem::method_not_allowed("use GET or HEAD").into_response();
            refused.headers_mut().insert(
                http::header::ALLOW,
                http::HeaderValue::from_static("GET, HEAD"),
            );
            return Ok(refused);
        }
    }
    let not_found = || {
        Problem::not_found(format!(
            "no such file; the component is at {}",
            web::asset_path("unipile-accounts.js")
        ))
    };
    let name = web::requested_file(request.uri().path()).ok_or_else(not_found)?;
    let file = app.file(&name).ok_or_else(not_found)?;
    let content_type = web::content_type_of(file.name).ok_or_else(not_found)?;
    let html = web::is_html(file.name);
    let cache_control = match (app.caching, html) {
        (Caching::Revalidate, _) => web::REVALIDATE_CACHE_CONTROL,
        (Caching::Versioned, true) => web::HTML_CACHE_CONTROL,
        (Caching::Versioned, false) => web::IMMUTABLE_CACHE_CONTROL,
    };
    let served = app.served(file);
    let unchanged = request
        .headers()
        .get(http::header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| web::none_match_names(v, &served.etag));
    let (status, body) = if unchanged {
        (http::StatusCode::NOT_MODIFIED, Body::Empty)
    } else {
        let body = match std::str::from_utf8(&served.bytes) {
            Ok(text) => Body::Text(text.to_owned()),
            Err(_) => Body::Binary(served.bytes.to_vec()),
        };
        (http::StatusCode::OK, body)
    };
    let mut response = Response::new(body);
    *response.status_mut() = status;
    let headers = response.headers_mut();
    // Quotes, hex digits, '-' and ID letters only: always a valid header value.
    if let Ok(etag) = http::HeaderValue::from_str(&served.etag) {
        headers.insert(http::header::ETAG, etag);
    }
    let mut set = |name: http::header::HeaderName, value: &'static str| {
        headers.insert(name, http::HeaderValue::from_static(value));
    };
    set(http::header::CACHE_CONTROL, cache_control);
    if !unchanged {
        set(http::header::CONTENT_TYPE, content_type);
    }
    set(http::header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    // A module script from another origin is fetched in CORS mode; the files are public.
    // (Behind the HTTP API, its own CORS configuration answers instead.)
    set(http::header::ACCESS_CONTROL_ALLOW_ORIGIN, "*");
    set(
        http::HeaderName::from_static("cross-origin-resource-policy"),
        "cross-origin",
    );
    if html {
        set(
            http::header::CONTENT_SECURITY_POLICY,
            web::HTML_CONTENT_SECURITY_POLICY,
        );
        set(http::header::REFERRER_POLICY, "no-referrer");
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn request(method: &str, path: &str, if_none_match: Option<&str>) -> Request {
        let mut builder = http::Request::builder().method(method).uri(path);
        if let Some(etag) = if_none_match {
            builder = builder.header("if-none-match", etag);
        }
        builder.body(Body::Empty).expect("request")
    }

    async fn answer(app: &WebAssets, request: Request) -> Response<Body> {
        handler(app, request).await.expect("handled")
    }

    fn header<'a>(response: &'a Response<Body>, name: &str) -> Option<&'a str> {
        response.headers().get(name).and_then(|v| v.to_str().ok())
    }

    /// What `web/` holds on disk, read now: the build must have embedded each of them.
    fn files_on_disk() -> Vec<(String, Vec<u8>)> {
        fn walk(root: &std::path::Path, dir: &std::path::Path, found: &mut Vec<(String, Vec<u8>)>) {
            for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                let path = entry.path();
                let hidden = entry.file_name().to_string_lossy().starts_with('.');
                if hidden {
                    continue;
                }
                if path.is_dir() {
                    walk(root, &path, found);
                } else {
                    let name = path
                        .strip_prefix(root)
                        .expect("under web/")
                        .components()
                        .map(|c| c.as_os_str().to_string_lossy().into_owned())
                        .collect::<Vec<_>>()
                        .join("/");
                    found.push((name, std::fs::read(&path).expect("readable")));
                }
            }
        }
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../web");
        let mut found = Vec::new();
        walk(&root, &root, &mut found);
        found
    }

    #[tokio::test]
    async fn every_file_of_web_is_served_byte_for_byte_with_its_type_or_not_at_all() {
        let app = WebAssets::deployed(None);
        let on_disk = files_on_disk();
        let embedded: Vec<&str> = embedded_files().iter().map(|f| f.name).collect();
        let mut names: Vec<&str> = on_disk.iter().map(|(n, _)| n.as_str()).collect();
        names.sort_unstable();
        assert_eq!(names, embedded, "the build embedded what web/ holds");
        for (name, bytes) in on_disk {
            let response = answer(&app, request("GET", &web::asset_path(&name), None)).await;
            match web::content_type_of(&name) {
                Some(content_type) => {
                    assert_eq!(response.status(), 200, "{name}");
                    assert_eq!(response.body().as_ref(), &bytes[..], "{name}");
                    assert_eq!(header(&response, "content-type"), Some(content_type));
                    assert_eq!(header(&response, "x-content-type-options"), Some("nosniff"));
                    let expected_cache = if web::is_html(&name) {
                        web::HTML_CACHE_CONTROL
                    } else {
                        web::IMMUTABLE_CACHE_CONTROL
                    };
                    assert_eq!(header(&response, "cache-control"), Some(expected_cache));
                    assert_eq!(
                        header(&response, "content-security-policy").is_some(),
                        web::is_html(&name),
                        "{name}"
                    );
                }
                None => assert_eq!(response.status(), 404, "{name} has no web type"),
            }
        }
    }

    /// A build's table of its own, so that the protocol is tested whatever `web/` holds.
    static FIXTURE: &[EmbeddedFile] = &[
        EmbeddedFile {
            name: "fixture.js",
            bytes: b"export const answer = 42;\n",
            etag: "\"5f1d0e\"",
        },
        EmbeddedFile {
            name: "index.html",
            bytes: b"<!doctype html><script type=module src=fixture.js></script>\n",
            etag: "\"9a0b1c\"",
        },
        EmbeddedFile {
            name: "notes.md",
            bytes: b"not a web file\n",
            etag: "\"77aa00\"",
        },
    ];

    fn fixture(caching: Caching) -> WebAssets {
        WebAssets::new(caching, FIXTURE, None)
    }

    #[tokio::test]
    async fn an_unchanged_file_is_a_304_and_a_changed_one_is_sent_again() {
        let app = fixture(Caching::Versioned);
        let path = web::asset_path("fixture.js");
        let first = answer(&app, request("GET", &path, None)).await;
        assert_eq!(first.status(), 200);
        let etag = header(&first, "etag").expect("an etag").to_owned();
        assert_eq!(etag, "\"5f1d0e\"");

        let again = answer(&app, request("GET", &path, Some(&etag))).await;
        assert_eq!(again.status(), 304);
        assert!(again.body().as_ref().is_empty());
        assert_eq!(header(&again, "etag"), Some(etag.as_str()));
        assert_eq!(
            header(&again, "cache-control"),
            Some(web::IMMUTABLE_CACHE_CONTROL)
        );

        let weak = answer(&app, request("GET", &path, Some(&format!("W/{etag}")))).await;
        assert_eq!(weak.status(), 304);

        let stale = answer(&app, request("GET", &path, Some("\"0000\""))).await;
        assert_eq!(stale.status(), 200);
        assert_eq!(stale.body().as_ref(), b"export const answer = 42;\n");
    }

    #[tokio::test]
    async fn head_answers_the_headers_of_get_without_the_body() {
        let app = fixture(Caching::Versioned);
        for file in ["fixture.js", "index.html"] {
            let path = web::asset_path(file);
            let get = answer(&app, request("GET", &path, None)).await;
            let head = answer(&app, request("HEAD", &path, None)).await;
            assert_eq!(head.status(), 200);
            assert!(head.body().as_ref().is_empty());
            assert!(!get.body().as_ref().is_empty());
            for name in [
                "content-type",
                "etag",
                "cache-control",
                "x-content-type-options",
                "content-security-policy",
            ] {
                assert_eq!(header(&head, name), header(&get, name), "{file} {name}");
            }
        }
    }

    #[tokio::test]
    async fn the_landing_page_is_short_lived_and_locked_down() {
        let app = fixture(Caching::Versioned);
        for path in [web::asset_path("index.html"), web::asset_path("")] {
            let page = answer(&app, request("GET", &path, None)).await;
            assert_eq!(page.status(), 200, "{path}");
            assert_eq!(
                header(&page, "content-type"),
                Some("text/html; charset=utf-8")
            );
            assert_eq!(
                header(&page, "cache-control"),
                Some(web::HTML_CACHE_CONTROL)
            );
            let policy = header(&page, "content-security-policy").expect("a CSP");
            assert!(policy.contains("script-src 'self'"), "{policy}");
            assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
            assert!(!policy.contains("unsafe-eval"), "{policy}");
        }
        let script = answer(&app, request("GET", &web::asset_path("fixture.js"), None)).await;
        assert_eq!(
            header(&script, "content-type"),
            Some("text/javascript; charset=utf-8")
        );
        assert_eq!(header(&script, "content-security-policy"), None);
        let unknown_kind = answer(&app, request("GET", &web::asset_path("notes.md"), None)).await;
        assert_eq!(unknown_kind.status(), 404);
    }

    #[tokio::test]
    async fn the_local_stack_always_revalidates() {
        let app = fixture(Caching::Revalidate);
        for file in ["fixture.js", "index.html"] {
            let response = answer(&app, request("GET", &web::asset_path(file), None)).await;
            assert_eq!(
                header(&response, "cache-control"),
                Some("no-cache"),
                "{file}"
            );
            assert!(header(&response, "etag").is_some(), "{file}");
        }
    }

    const TEAM_EXTENSION: &str = "abcdefghijklmnopabcdefghijklmnop";

    fn deployed_with(extension_id: &str) -> WebAssets {
        let env = HashMap::from([("EXTENSION_ID".to_owned(), extension_id.to_owned())]);
        WebAssets::from_env(&env).expect("a valid extension id")
    }

    async fn landing_page(app: &WebAssets) -> (String, String) {
        let page = answer(app, request("GET", &web::asset_path("index.html"), None)).await;
        assert_eq!(page.status(), 200);
        let etag = header(&page, "etag").expect("an etag").to_owned();
        let body = std::str::from_utf8(page.body().as_ref())
            .expect("UTF-8")
            .to_owned();
        (body, etag)
    }

    #[tokio::test]
    async fn the_deployed_landing_page_names_the_configured_extension_and_never_the_development_one()
     {
        let (page, _) = landing_page(&deployed_with(TEAM_EXTENSION)).await;
        assert!(
            page.contains(&format!("data-extension-id=\"{TEAM_EXTENSION}\"")),
            "{page}"
        );
        assert!(!page.contains(DEVELOPMENT_EXTENSION_ID), "{page}");
    }

    #[tokio::test]
    async fn without_an_extension_id_the_deployed_page_offers_no_extension_a_session() {
        for app in [
            WebAssets::deployed(None),
            WebAssets::from_env(&HashMap::new()).expect("unset is none"),
            deployed_with(""),
        ] {
            let (page, _) = landing_page(&app).await;
            assert!(page.contains("data-extension-id=\"\""), "{page}");
            assert!(!page.contains(DEVELOPMENT_EXTENSION_ID), "{page}");
        }
    }

    #[tokio::test]
    async fn the_local_stack_names_the_development_build_whose_id_the_extension_folder_gives() {
        let local = WebAssets::local();
        assert_eq!(
            local.extension_id().map(ExtensionId::as_str),
            Some(DEVELOPMENT_EXTENSION_ID),
            "extension/extension-id.txt holds an extension ID"
        );
        let (page, _) = landing_page(&local).await;
        assert!(
            page.contains(&format!("data-extension-id=\"{DEVELOPMENT_EXTENSION_ID}\"")),
            "{page}"
        );
    }

    #[test]
    fn a_page_naming_the_extension_is_built_once_not_at_each_request() {
        let app = WebAssets::deployed(Some(ExtensionId::parse(TEAM_EXTENSION).expect("valid")));
        let page = app.file("index.html").expect("embedded");
        let (first, again) = (app.served(page), app.served(page));
        for served in [&first, &again] {
            assert!(
                matches!(served.bytes, Cow::Borrowed(_)),
                "kept, not rebuilt"
            );
            assert!(matches!(served.etag, Cow::Borrowed(_)), "kept, not rebuilt");
        }
        assert!(std::ptr::eq(first.bytes.as_ptr(), again.bytes.as_ptr()));
        assert!(std::ptr::eq(first.etag.as_ptr(), again.etag.as_ptr()));
        assert!(
            std::str::from_utf8(&first.bytes)
                .expect("UTF-8")
                .contains(TEAM_EXTENSION)
        );
        let script = app.file("landing.js").expect("embedded");
        assert!(std::ptr::eq(
            app.served(script).bytes.as_ptr(),
            script.bytes.as_ptr()
        ));
    }

    #[tokio::test]
    async fn the_etag_of_the_page_changes_with_the_extension_and_a_revalidation_follows_it() {
        let bare = WebAssets::deployed(None);
        let team = deployed_with(TEAM_EXTENSION);
        let other = deployed_with("ponmlkjihgfedcbaponmlkjihgfedcba");
        let (bare_page, bare_etag) = landing_page(&bare).await;
        let (team_page, team_etag) = landing_page(&team).await;
        let (_, other_etag) = landing_page(&other).await;
        assert_ne!(bare_page, team_page);
        let etags = [&bare_etag, &team_etag, &other_etag];
        for (i, a) in etags.iter().enumerate() {
            for b in &etags[i + 1..] {
                assert_ne!(a, b, "other bytes, other ETag");
            }
        }
        let embedded = bare.file("index.html").expect("embedded").etag;
        assert_eq!(bare_etag, embedded, "the file as embedded keeps its own");
        let path = web::asset_path("index.html");
        let cached = answer(&team, request("GET", &path, Some(&team_etag))).await;
        assert_eq!(cached.status(), 304);
        assert_eq!(header(&cached, "etag"), Some(team_etag.as_str()));
        for stale in [&bare_etag, &other_etag] {
            let again = answer(&team, request("GET", &path, Some(stale))).await;
            assert_eq!(
                again.status(),
                200,
                "a page cached before the setting changed"
            );
            assert_eq!(
                std::str::from_utf8(again.body().as_ref()),
                Ok(team_page.as_str())
            );
        }
        // Scripts are served as embedded, whatever the setting.
        let script = web::asset_path("landing.js");
        let (plain, named) = (
            answer(&bare, request("GET", &script, None)).await,
            answer(&team, request("GET", &script, None)).await,
        );
        assert_eq!(header(&plain, "etag"), header(&named, "etag"));
        assert_eq!(plain.body().as_ref(), named.body().as_ref());
    }

    #[test]
    fn a_malformed_extension_id_stops_the_cold_start_naming_the_variable() {
        for bad in [
            "cpplpobcokcnipjelcpfpmjbkkpnmn",
            "cpplpobcokcnipjelcpfpmjbkkpnmnmdx",
            "CPPLPOBCOKCNIPJELCPFPMJBKKPNMNMD",
            "zpplpobcokcnipjelcpfpmjbkkpnmnmd",
            "cpplpobcokcnipjelcpfpmjbkkpnmnm\"",
            "\"><script>alert(1)</script>",
        ] {
            let env = HashMap::from([("EXTENSION_ID".to_owned(), bad.to_owned())]);
            let error = WebAssets::from_env(&env)
                .err()
                .unwrap_or_else(|| panic!("{bad} accepted"));
            assert!(error.to_string().contains("EXTENSION_ID"), "{error}");
        }
    }

    /// A value the template accepts but the code refuses would deploy a page function that
    /// never starts: the parameter's pattern is the code's rule, and it reaches the function.
    #[test]
    fn the_templates_extension_id_parameter_is_the_codes_rule() {
        let template = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../infra/template.yaml"),
        )
        .expect("infra/template.yaml");
        let pattern = template
            .split("\n  ExtensionId:\n")
            .nth(1)
            .expect("the template has an ExtensionId parameter")
            .lines()
            .take_while(|line| line.starts_with("    "))
            .find_map(|line| line.trim().strip_prefix("AllowedPattern: "))
            .expect("ExtensionId has an AllowedPattern");
        assert_eq!(pattern, r#""^$|^[a-p]{32}$""#);
        assert!(template.contains("EXTENSION_ID: !Ref ExtensionId"));
    }

    #[test]
    fn a_change_to_web_ships_under_a_new_version() {
        assert_eq!(
            FILES_DIGEST,
            web::ASSET_DIGEST,
            "web/ changed since version {}: browsers keep /web/v{}/ files but pages a year, so \
             bump ASSET_VERSION in shared/src/web.rs and set ASSET_DIGEST to {FILES_DIGEST:?}",
            web::ASSET_VERSION,
            web::ASSET_VERSION,
        );
    }

    #[tokio::test]
    async fn path_tricks_and_unknown_files_are_404_problems() {
        let app = fixture(Caching::Versioned);
        let v = web::ASSET_VERSION;
        for path in [
            format!("/web/v{v}/no-such-file.js"),
            format!("/web/v{v}/fixture.js/"),
            format!("/web/v{v}/./fixture.js"),
            format!("/web/v{v}/x/../fixture.js"),
            format!("/web/v{v}/fixture%2Ejs"),
            format!("/web/v{v}/../../Cargo.toml"),
            format!("/web/v{v}/..%2F..%2FCargo.toml"),
            format!("/web/v{v}/%2e%2e/Cargo.toml"),
            format!("/web/v{v}/..\\Cargo.toml"),
            format!("/web/v{v}//etc/passwd"),
            format!("/web/v{v}/.keep"),
            format!("/web/v{}/fixture.js", v + 1),
            "/web/unipile-accounts.js".to_owned(),
            "/etc/passwd".to_owned(),
        ] {
            let response = answer(&app, request("GET", &path, None)).await;
            assert_eq!(response.status(), 404, "{path}");
            assert_eq!(
                header(&response, "content-type"),
                Some("application/problem+json"),
                "{path}"
            );
        }
    }

    #[tokio::test]
    async fn other_methods_are_405_and_say_what_is_allowed() {
        let app = fixture(Caching::Versioned);
        for method in ["POST", "PUT", "DELETE", "PATCH"] {
            let response =
                answer(&app, request(method, &web::asset_path("fixture.js"), None)).await;
            assert_eq!(response.status(), 405, "{method}");
            assert_eq!(header(&response, "allow"), Some("GET, HEAD"));
        }
    }
}
