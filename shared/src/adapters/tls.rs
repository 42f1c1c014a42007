//! The HTTPS clients (Unipile's API, CloudFormation's ResponseURL, and the AWS SDK's) trust
//! Mozilla's root certificates compiled into the binary, set up once per process. reqwest's default
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

/// The AWS SDK's HTTPS client on the same built-in roots. The SDK's default reads the
/// system's roots once per process, which is most of what a cold start costs beyond the
/// runtime itself (BENCHMARKS.md); its TLS set-up takes roots as PEM only, so the compiled-in
/// certificates are handed over in that form.
pub fn sdk_http_client() -> aws_smithy_runtime_api::client::http::SharedHttpClient {
    use aws_smithy_http_client::tls::{self, TlsContext, TrustStore};
    let mut store = TrustStore::empty().with_native_roots(false);
    store.add_pem_certificate(built_in_roots_pem());
    let builder = aws_smithy_http_client::Builder::new().tls_provider(tls::Provider::Rustls(
        tls::rustls_provider::CryptoMode::AwsLc,
    ));
    match TlsContext::builder().with_trust_store(store).build() {
        Ok(context) => builder.tls_context(context).build_https(),
        // Cannot happen with a trust store alone; the SDK's default is the safe fallback.
        Err(_) => builder.build_https(),
    }
}

/// Mozilla's root certificates (webpki-root-certs) as one PEM bundle.
fn built_in_roots_pem() -> Vec<u8> {
    use base64::Engine;
    let mut pem = Vec::with_capacity(webpki_root_certs::TLS_SERVER_ROOT_CERTS.len() * 2048);
    for certificate in webpki_root_certs::TLS_SERVER_ROOT_CERTS {
        pem.extend_from_slice(b"-----BEGIN CERTIFICATE-----\n");
        let text = base64::engine::general_purpose::STANDARD.encode(certificate.as_ref());
        for line in text.as_bytes().chunks(64) {
            pem.extend_from_slice(line);
            pem.push(b'\n');
        }
        pem.extend_from_slice(b"-----END CERTIFICATE-----\n");
    }
    pem
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sdk_gets_every_built_in_root_as_pem() {
        let pem = String::from_utf8(built_in_roots_pem()).expect("PEM is text");
        assert_eq!(
            pem.matches("-----BEGIN CERTIFICATE-----").count(),
            webpki_root_certs::TLS_SERVER_ROOT_CERTS.len()
        );
        assert!(pem.lines().all(|line| line.len() <= 64));
        // Built without touching the system's roots; the SDK parses them when a client uses it.
        let _ = sdk_http_client();
    }

    #[test]
    fn the_built_in_roots_make_a_client() {
        assert!(webpki_roots::TLS_SERVER_ROOTS.len() > 100);
        assert!(client_builder().build().is_ok());
        // A second client reuses the same set-up.
        assert!(client_builder().build().is_ok());
    }
}
