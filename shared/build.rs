//! Mozilla's root certificates (webpki-root-certs) as the one PEM bundle the AWS SDK's TLS
//! set-up takes, written at build time: encoding them at each cold start cost about 0.2 ms
//! (`cargo bench --bench cold_start_phases`). `adapters::tls` includes the file.

use base64::Engine;
use std::path::PathBuf;

fn main() {
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
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    std::fs::write(out.join("roots.pem"), pem).expect("OUT_DIR is writable");
    println!("cargo:rerun-if-changed=build.rs");
}
