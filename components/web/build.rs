//! Embeds the built front end (`web/dist`, written by `npm run build` in `web/`) into the
//! component: for each file its path, content type, entity tag and, where it pays, a gzip
//! variant, as `$OUT_DIR/site.rs`.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use flate2::Compression;
use flate2::write::GzEncoder;
use sha2::{Digest, Sha256};

fn main() {
    let dist = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../web/dist");
    println!("cargo:rerun-if-changed={}", dist.display());
    if !dist.join("index.html").is_file() {
        panic!(
            "{} has no index.html: build the front end first (scripts/build-web runs npm ci and npm run build in web/)",
            dist.display()
        );
    }
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let mut files = Vec::new();
    collect(&dist, &mut files);
    files.sort();
    let mut table = String::from("&[\n");
    for file in &files {
        let relative = file.strip_prefix(&dist).expect("collected under dist");
        let path = format!("/{}", relative.to_string_lossy().replace('\\', "/"));
        let body = std::fs::read(file).expect("a file of web/dist is readable");
        let etag: String = Sha256::digest(&body)[..12]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let content_type = content_type(&path);
        let gzip = gzip_variant(&body, content_type).map(|zipped| {
            let name = out.join(format!("{etag}.gz"));
            std::fs::write(&name, zipped).expect("OUT_DIR is writable");
            name
        });
        writeln!(
            table,
            "    Asset {{ path: {path:?}, content_type: {content_type:?}, etag: \"\\\"{etag}\\\"\", body: include_bytes!({file:?}), gzip: {} }},",
            match gzip {
                Some(name) => format!("Some(include_bytes!({name:?}))"),
                None => "None".to_owned(),
            },
            file = file.display().to_string(),
        )
        .expect("writing to a String");
    }
    table.push(']');
    std::fs::write(out.join("site.rs"), table).expect("OUT_DIR is writable");
}

fn collect(dir: &Path, files: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("web/dist is readable") {
        let path = entry.expect("web/dist is readable").path();
        if path.is_dir() {
            collect(&path, files);
        } else {
            files.push(path);
        }
    }
}

/// The media type a browser needs for `path`, by its extension.
fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("json" | "map") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("woff2") => "font/woff2",
        Some("txt") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// The gzip of a text file, when it is smaller by a tenth or more; images and fonts are
/// compressed already.
fn gzip_variant(body: &[u8], content_type: &str) -> Option<Vec<u8>> {
    let text = content_type.starts_with("text/")
        || content_type.starts_with("application/json")
        || content_type == "image/svg+xml";
    if !text {
        return None;
    }
    let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
    encoder.write_all(body).expect("gzip into memory");
    let zipped = encoder.finish().expect("gzip into memory");
    (zipped.len() * 10 <= body.len() * 9).then_some(zipped)
}
