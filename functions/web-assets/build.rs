//! Embeds every file of the top-level `web/` folder (hidden ones aside) with its strong ETag,
//! so that a file added there is served without a change of code. Cargo reruns this when
//! anything in the folder changes.

// Which files are pages is the rule the stack serves them by (`unipile_connect::web`): the
// file itself is compiled here too (it uses std only), so that the two cannot disagree. A
// build script cannot depend on its own crate, and the shared crate as a build dependency
// would compile it, AWS SDK and all, a second time for the build machine.
#[allow(dead_code)]
#[path = "../../shared/src/web.rs"]
mod web;

use sha2::{Digest, Sha256};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn main() {
    let manifest_dir =
        PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let folder = manifest_dir.join("../../web");
    println!("cargo:rerun-if-changed={}", folder.display());
    println!(
        "cargo:rerun-if-changed={}",
        manifest_dir.join("../../shared/src/web.rs").display()
    );
    let mut files = Vec::new();
    collect(&folder, &folder, &mut files);
    files.sort();
    let mut table = String::from("pub static FILES: &[EmbeddedFile] = &[\n");
    // What the folder holds that browsers keep a year (names and contents): a version serves
    // one fixed set of those. Pages (.html) are revalidated within minutes, so a page may
    // change under the same version.
    let mut whole = Sha256::new();
    for (name, path) in &files {
        let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        if !web::is_html(name) {
            whole.update((name.len() as u64).to_be_bytes());
            whole.update(name.as_bytes());
            whole.update((bytes.len() as u64).to_be_bytes());
            whole.update(&bytes);
        }
        let digest = Sha256::digest(&bytes);
        let hex: String = digest[..16].iter().fold(String::new(), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        });
        let absolute = path
            .canonicalize()
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let _ = writeln!(
            table,
            "    EmbeddedFile {{ name: {name:?}, bytes: include_bytes!({:?}), etag: \"\\\"{hex}\\\"\" }},",
            absolute.display().to_string()
        );
    }
    table.push_str("];\n");
    let whole: String = whole.finalize()[..16]
        .iter()
        .fold(String::new(), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        });
    let _ = writeln!(table, "pub const FILES_DIGEST: &str = {whole:?};");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets it")).join("files.rs");
    std::fs::write(&out, table).unwrap_or_else(|e| panic!("{}: {e}", out.display()));
}

/// Files under `dir`, named by their path from `root` with `/` separators; hidden entries
/// (`.keep`, `.DS_Store`, editors' swap files) are left out.
fn collect(root: &Path, dir: &Path, found: &mut Vec<(String, PathBuf)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        let path = entry.path();
        if path.is_dir() {
            collect(root, &path, found);
        } else if let Ok(relative) = path.strip_prefix(root) {
            let parts: Vec<String> = relative
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            found.push((parts.join("/"), path));
        }
    }
}
