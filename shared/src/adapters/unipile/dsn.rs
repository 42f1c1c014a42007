use url::Url;

/// Where a Unipile tenant lives. The dashboard shows `api8.unipile.com:13443` (meaning https);
/// a full `http(s)://` base URL is accepted too, for the simulator and for proxies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnipileDsn {
    base: Url,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct DsnError(String);

impl UnipileDsn {
    pub fn parse(raw: &str) -> Result<Self, DsnError> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err(DsnError("is empty".into()));
        }
        let with_scheme = if raw.contains("://") {
            raw.to_owned()
        } else {
            format!("https://{raw}")
        };
        let mut base = Url::parse(&with_scheme).map_err(|e| DsnError(format!("{raw:?}: {e}")))?;
        if !matches!(base.scheme(), "http" | "https") || base.host().is_none() {
            return Err(DsnError(format!(
                "{raw:?} is not host:port or an http(s) URL"
            )));
        }
        if base.query().is_some() || base.fragment().is_some() {
            return Err(DsnError(format!(
                "{raw:?} must not carry a query or fragment"
            )));
        }
        // The API lives under /api/v1 of the DSN; a path given in the DSN is a prefix (proxy).
        let path = base.path().trim_end_matches('/').to_owned();
        base.set_path(&path);
        Ok(Self { base })
    }

    /// `https://{subdomain}.unipile.com:{port}`: what the hosted-auth link wants as `api_url`.
    pub fn api_url(&self) -> String {
        self.base.origin().ascii_serialization()
    }

    /// The URL of `/api/v1/<segments...>`, each segment percent-encoded.
    pub fn endpoint(&self, segments: &[&str]) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().push("api").push("v1").extend(segments);
        }
        url
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_and_port_mean_https() {
        let dsn = UnipileDsn::parse("api8.unipile.com:13443").expect("valid");
        assert_eq!(dsn.api_url(), "https://api8.unipile.com:13443");
        assert_eq!(
            dsn.endpoint(&["hosted", "accounts", "link"]).as_str(),
            "https://api8.unipile.com:13443/api/v1/hosted/accounts/link"
        );
    }

    #[test]
    fn full_urls_are_kept_and_ids_are_encoded() {
        let dsn = UnipileDsn::parse("http://127.0.0.1:8787/").expect("valid");
        assert_eq!(dsn.api_url(), "http://127.0.0.1:8787");
        assert_eq!(
            dsn.endpoint(&["accounts", "a/b?c"]).as_str(),
            "http://127.0.0.1:8787/api/v1/accounts/a%2Fb%3Fc"
        );
    }

    #[test]
    fn nonsense_is_refused() {
        assert!(UnipileDsn::parse("").is_err());
        assert!(UnipileDsn::parse("ftp://x:1").is_err());
        assert!(UnipileDsn::parse("https://x:1/?a=b").is_err());
    }
}
