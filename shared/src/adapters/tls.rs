//! The HTTPS clients of ours (Unipile's API, CloudFormation's ResponseURL) trust Mozilla's
//! root certificates compiled into the binary, set up once per process. reqwest's default
//! reads the system's roots at every client build: about 2.7 ms of each cold start on top of
//! the AWS SDK's own read (BENCHMARKS.md), where the built-in set costs nothing measurable.
//! The roots then follow our releases (webpki-roots), not the Lambda image's.

use std::sync::{Arc, OnceLock};

/// An HTTPS client builder with the shared TLS set-up.
pub fn client_builder() -> reqwest::ClientBuilder {
    static CONFIG: OnceLock<Option<rustls::ClientConfig>> = OnceLock::new();
    let config = CONFIG.get_or_init(|| {
        let roots = rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::aws_lc_rs::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .ok()
        .map(|builder| builder.with_root_certificates(roots).with_no_client_auth())
    });
    match config {
        Some(config) => reqwest::Client::builder().tls_backend_preconfigured(config.clone()),
        // Cannot happen with aws-lc-rs's protocols; reqwest's own set-up is the safe fallback.
        None => reqwest::Client::builder(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_roots_make_a_client() {
        assert!(webpki_roots::TLS_SERVER_ROOTS.len() > 100);
        assert!(client_builder().build().is_ok());
        // A second client reuses the same set-up.
        assert!(client_builder().build().is_ok());
    }
}
