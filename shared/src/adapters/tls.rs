//! The HTTPS clients (Unipile's API, CloudFormation's ResponseURL, and the AWS SDK's) trust
//! Mozilla's root certificates compiled into the binary, set up once per process. reqwest's default
//! reads the system's roots at every client build: about 2.7 ms of each cold start on top of
//! the AWS SDK's own read (BENCHMARKS.md), where the built-in set costs nothing measurable.
//! The roots then follow our releases (webpki-roots), not the Lambda image's.

use aws_sdk_dynamodb::config::ConfigBag;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
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
pub fn sdk_http_client() -> SharedHttpClient {
    use aws_smithy_http_client::tls::{self, TlsContext, TrustStore};
    let mut store = TrustStore::empty().with_native_roots(false);
    store.add_pem_certificate(built_in_roots_pem());
    let builder = aws_smithy_http_client::Builder::new().tls_provider(tls::Provider::Rustls(
        tls::rustls_provider::CryptoMode::AwsLc,
    ));
    let client = match TlsContext::builder().with_trust_store(store).build() {
        Ok(context) => builder.tls_context(context).build_https(),
        // Cannot happen with a trust store alone; the SDK's default is the safe fallback.
        Err(_) => builder.build_https(),
    };
    SharedHttpClient::new(ConnectorOnFirstRequest(client))
}

/// The SDK's HTTPS client, less its check at each SDK client's construction. That check
/// builds a whole TLS connector (every root certificate decoded from PEM and parsed) and
/// throws it away, so that a bad native root store fails early: with built-in roots there is
/// nothing to find, and it cost each client about half a millisecond of the cold start
/// (`cargo bench --bench cold_start_phases`). The connector is built once, on the first
/// request, and shared by every client.
#[derive(Debug)]
struct ConnectorOnFirstRequest(SharedHttpClient);

impl HttpClient for ConnectorOnFirstRequest {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        self.0.http_connector(settings, components)
    }

    fn validate_final_config(
        &self,
        components: &RuntimeComponents,
        cfg: &ConfigBag,
    ) -> Result<(), BoxError> {
        self.0.validate_final_config(components, cfg)
    }

    fn connector_metadata(&self) -> Option<ConnectorMetadata> {
        self.0.connector_metadata()
    }
}

/// Mozilla's root certificates (webpki-root-certs) as one PEM bundle, written by build.rs.
fn built_in_roots_pem() -> &'static [u8] {
    include_bytes!(concat!(env!("OUT_DIR"), "/roots.pem"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sdk_gets_every_built_in_root_as_pem() {
        let pem = std::str::from_utf8(built_in_roots_pem()).expect("PEM is text");
        assert_eq!(
            pem.matches("-----BEGIN CERTIFICATE-----").count(),
            webpki_root_certs::TLS_SERVER_ROOT_CERTS.len()
        );
        assert!(pem.lines().all(|line| line.len() <= 64));
        // Built without touching the system's roots; the SDK parses them when a client uses it.
        let _ = sdk_http_client();
    }

    /// An HTTP client that counts the SDK's construction-time checks.
    #[derive(Debug, Default)]
    struct Counting(Arc<std::sync::atomic::AtomicUsize>);

    impl HttpClient for Counting {
        fn http_connector(
            &self,
            _: &HttpConnectorSettings,
            _: &RuntimeComponents,
        ) -> SharedHttpConnector {
            panic!("no request is made")
        }

        fn validate_base_client_config(
            &self,
            _: &aws_smithy_runtime_api::client::runtime_components::RuntimeComponentsBuilder,
            _: &ConfigBag,
        ) -> Result<(), BoxError> {
            self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Ok(())
        }
    }

    fn checks_while_building_a_client(http: SharedHttpClient) {
        let config = aws_sdk_dynamodb::Config::builder()
            .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
            .region(aws_sdk_dynamodb::config::Region::new("eu-west-1"))
            .http_client(http)
            .build();
        let _ = aws_sdk_dynamodb::Client::from_conf(config);
    }

    #[test]
    fn building_an_sdk_client_builds_no_tls_connector() {
        let checks = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        // The SDK does check its HTTP client when a client is built...
        checks_while_building_a_client(SharedHttpClient::new(Counting(checks.clone())));
        assert_eq!(checks.load(std::sync::atomic::Ordering::SeqCst), 1);
        // ...which ours passes over: the connector waits for the first request.
        let ours = SharedHttpClient::new(ConnectorOnFirstRequest(SharedHttpClient::new(Counting(
            checks.clone(),
        ))));
        checks_while_building_a_client(ours);
        assert_eq!(checks.load(std::sync::atomic::Ordering::SeqCst), 1);
    }

    #[test]
    fn the_built_in_roots_make_a_client() {
        assert!(webpki_roots::TLS_SERVER_ROOTS.len() > 100);
        assert!(client_builder().build().is_ok());
        // A second client reuses the same set-up.
        assert!(client_builder().build().is_ok());
    }
}
