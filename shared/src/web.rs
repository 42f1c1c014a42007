//! The web component's files as the stack serves them (`GET /web/v{N}/{file}`): which
//! request names which file, and the headers each kind of file is served with. The files
//! themselves are embedded by the `web-assets` function at build time; its build script
//! compiles this file too (to tell pages from the files browsers keep a year), so it uses
//! nothing but std.

/// The version in the assets' path. Versioned files are cached by browsers for a year
/// (`immutable`), so a file changed under the same version would reach nobody who already
/// has it: any change to them ships under a new version. Pages (`.html`) are revalidated
/// within minutes ([`HTML_CACHE_CONTROL`]) and may change under the same version.
pub const ASSET_VERSION: u32 = 5;

/// What `web/` held when [`ASSET_VERSION`] was set (the digest the `web-assets` build computes
/// of every name and contents but the pages'): a test fails when those change and the version
/// does not, naming the digest to set with the next version.
pub const ASSET_DIGEST: &str = "f63afb17b7c71aff5a67920cc9b7b813";

/// The path the stack serves `file` at, e.g. `/web/v5/unipile-accounts.js`.
pub fn asset_path(file: &str) -> String {
    format!("/web/v{ASSET_VERSION}/{file}")
}

/// The page a bare `/web/v{N}/` shows.
pub const INDEX: &str = "index.html";

/// How long the landing page may be reused: it names the versioned files (which do not
/// change) and may change its own handling of the query between versions, so browsers
/// revalidate it often, cheaply, with its ETag.
pub const HTML_CACHE_CONTROL: &str = "public, max-age=300, must-revalidate";
pub const IMMUTABLE_CACHE_CONTROL: &str = "public, max-age=31536000, immutable";
/// While developing (the local stack), every use revalidates: an edited file shows at once.
pub const REVALIDATE_CACHE_CONTROL: &str = "no-cache";

/// The landing page runs only the stack's own files: no inline script, no other origin, no
/// framing. Inline styles stay allowed for the component's shadow-DOM `<style>`.
pub const HTML_CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; \
     base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// A Chrome extension's ID: 32 letters from `a` to `p`, as the Chrome Web Store (or the
/// manifest's `key`) gives it. The landing page names one (`data-extension-id`) to lend it the
/// signed-in user's session, so it is parsed before it goes into a page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtensionId(String);

impl ExtensionId {
    pub fn parse(value: &str) -> Result<Self, String> {
        if value.len() == 32 && value.bytes().all(|b| (b'a'..=b'p').contains(&b)) {
            Ok(Self(value.to_owned()))
        } else {
            Err("a Chrome extension ID is 32 letters from a to p".to_owned())
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The ID as the hex digits it spells (Chrome writes the digits 0 to f as a to p).
    pub fn as_hex(&self) -> String {
        self.0
            .bytes()
            .map(|b| char::from_digit(u32::from(b - b'a'), 16).unwrap_or('0'))
            .collect()
    }
}

/// The kinds of file served, by extension: anything else in `web/` (a README, a test) is
/// not embedded and so never served.
pub fn content_type_of(file: &str) -> Option<&'static str> {
    let extension = file.rsplit_once('.')?.1;
    Some(match extension.to_ascii_lowercase().as_str() {
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "html" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "svg" => "image/svg+xml",
        "json" => "application/json",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        _ => return None,
    })
}

pub fn is_html(file: &str) -> bool {
    content_type_of(file).is_some_and(|t| t.starts_with("text/html"))
}

/// The file a request path names, or `None` for any path that is not plainly
/// `/web/v{ASSET_VERSION}/` followed by file-name segments: other versions, encoded
/// characters (`%2F`, `%2E`), backslashes, empty, `.` or `..` segments and hidden names are
/// all refused before any lookup.
pub fn requested_file(path: &str) -> Option<String> {
    let prefix = format!("/web/v{ASSET_VERSION}/");
    let rest = path.strip_prefix(&prefix)?;
    if rest.is_empty() {
        return Some(INDEX.to_owned());
    }
    let plain = rest.split('/').all(|segment| {
        !segment.is_empty()
            && !segment.starts_with('.')
            && segment
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    });
    plain.then(|| rest.to_owned())
}

/// Whether an `If-None-Match` header names `etag` (weak comparison, as RFC 9110 asks for
/// this header, and `*`).
pub fn none_match_names(header: &str, etag: &str) -> bool {
    let wanted = etag.trim_start_matches("W/");
    header
        .split(',')
        .map(str::trim)
        .any(|candidate| candidate == "*" || candidate.trim_start_matches("W/") == wanted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_names_under_the_current_version_name_a_file() {
        let v = ASSET_VERSION;
        assert_eq!(
            requested_file(&format!("/web/v{v}/unipile-accounts.js")).as_deref(),
            Some("unipile-accounts.js")
        );
        assert_eq!(
            requested_file(&format!("/web/v{v}/icons/plus.svg")).as_deref(),
            Some("icons/plus.svg")
        );
        assert_eq!(
            requested_file(&format!("/web/v{v}/")).as_deref(),
            Some(INDEX)
        );
        for trick in [
            format!("/web/v{}/api.js", v + 1),
            format!("/web/v{v}"),
            format!("/web/v{v}/../v{v}/api.js"),
            format!("/web/v{v}/./api.js"),
            format!("/web/v{v}/..%2Fsecrets"),
            format!("/web/v{v}/%2e%2e/api.js"),
            format!("/web/v{v}/a%2Fb.js"),
            format!("/web/v{v}/..\\api.js"),
            format!("/web/v{v}//etc/passwd"),
            format!("/web/v{v}/.keep"),
            format!("/web/v{v}/icons/"),
            "/etc/passwd".to_owned(),
            format!("//web/v{v}/api.js"),
        ] {
            assert_eq!(requested_file(&trick), None, "{trick}");
        }
    }

    #[test]
    fn an_extension_id_is_32_letters_a_to_p_and_spells_hex_digits() {
        let id = ExtensionId::parse("abcdefghijklmnopabcdefghijklmnop").expect("valid");
        assert_eq!(id.as_hex(), "0123456789abcdef0123456789abcdef");
        for bad in [
            "",
            "cpplpobcokcnipjelcpfpmjbkkpnmn",
            "cpplpobcokcnipjelcpfpmjbkkpnmnmdx",
            "CPPLPOBCOKCNIPJELCPFPMJBKKPNMNMD",
            "zpplpobcokcnipjelcpfpmjbkkpnmnmd",
            "cpplpobcokcnipjelcpfpmjbkkpnmnm\"",
            "\"><script>alert(1)</script>",
        ] {
            assert!(ExtensionId::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn each_kind_of_file_has_its_type_and_unknown_kinds_none() {
        assert_eq!(
            content_type_of("unipile-accounts.js"),
            Some("text/javascript; charset=utf-8")
        );
        assert_eq!(
            content_type_of("index.html"),
            Some("text/html; charset=utf-8")
        );
        assert_eq!(content_type_of("logo.svg"), Some("image/svg+xml"));
        assert_eq!(content_type_of("README.md"), None);
        assert_eq!(content_type_of("Makefile"), None);
    }

    #[test]
    fn if_none_match_compares_weakly_and_takes_lists_and_star() {
        let etag = "\"abc\"";
        assert!(none_match_names("\"abc\"", etag));
        assert!(none_match_names("W/\"abc\"", etag));
        assert!(none_match_names("\"x\", \"abc\"", etag));
        assert!(none_match_names("*", etag));
        assert!(!none_match_names("\"abcd\"", etag));
        assert!(!none_match_names("", etag));
    }
}
