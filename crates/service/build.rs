//! Embeds the web app (ui/dist-web, built by `cargo xtask setup` or `npm run
//! build:web` in ui/) in callpark-server, each file with a gzip copy made here, so
//! the binary serves it with nothing else installed. Without a build of the web
//! app the service still builds, and `/` says how to get one.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let ui = manifest.join("../../ui");
    let dist = ui.join("dist-web");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").unwrap_or_default());
    let mut files = Vec::new();
    if dist.is_dir() {
        println!("cargo:rerun-if-changed={}", dist.display());
        collect(&dist, &dist, &mut files);
    } else {
        // Rebuilt once the web app appears in ui/.
        println!("cargo:rerun-if-changed={}", ui.join("index.html").display());
        println!("cargo:rerun-if-changed={}", ui.display());
    }
    files.sort();
    let mut table = String::from("&[\n");
    for (index, (path, file)) in files.iter().enumerate() {
        let bytes = std::fs::read(file).unwrap_or_else(|e| panic!("read {}: {e}", file.display()));
        let gzip = out.join(format!("web-{index}.gz"));
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        encoder.write_all(&bytes).unwrap_or_else(|e| panic!("gzip {path}: {e}"));
        let compressed = encoder.finish().unwrap_or_else(|e| panic!("gzip {path}: {e}"));
        std::fs::write(&gzip, compressed)
            .unwrap_or_else(|e| panic!("write {}: {e}", gzip.display()));
        let _ = writeln!(
            table,
            "    crate::web_app::Asset {{ path: {path:?}, body: include_bytes!({:?}), gzip: include_bytes!({:?}) }},",
            file.display().to_string(),
            gzip.display().to_string(),
        );
    }
    table.push(']');
    let generated = out.join("web_assets.rs");
    std::fs::write(&generated, table)
        .unwrap_or_else(|e| panic!("write {}: {e}", generated.display()));
}

/// Every file under `dir`, as (`/`-rooted path in the site, file on disk).
fn collect(root: &Path, dir: &Path, files: &mut Vec<(String, PathBuf)>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(root, &path, files);
        } else if let Ok(relative) = path.strip_prefix(root) {
            let site: Vec<String> = relative
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            files.push((format!("/{}", site.join("/")), path));
        }
    }
}
