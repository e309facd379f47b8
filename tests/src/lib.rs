//! Shared helpers for the end-to-end tests: where the built artifacts are, and a running
//! `postloan-host` on an ephemeral loopback port.
//!
//! The tests run what `scripts/build` produced; run `scripts/test` (or `scripts/build` first).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// The repository's root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ sits in the repository root")
        .to_path_buf()
}

/// A built artifact, relative to the root; panics with how to build it when it is missing.
pub fn artifact(relative: &str) -> PathBuf {
    let path = root().join(relative);
    assert!(
        path.exists(),
        "{} is missing: run scripts/build (scripts/test does) before cargo test",
        path.display()
    );
    path
}

/// The release `postloan-host` binary that scripts/build wrote.
pub fn host_binary() -> PathBuf {
    artifact("target/release/postloan-host")
}

/// Writes `manifest` as `spin.toml` in a fresh temporary folder named after `name`.
pub fn write_manifest(name: &str, manifest: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("postloan-test-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temporary folder");
    let path = dir.join("spin.toml");
    std::fs::write(&path, manifest).expect("manifest written");
    path
}

/// A manifest serving one component from `source` on `route`.
pub fn single_component_manifest(route: &str, source: &Path) -> String {
    format!(
        "spin_manifest_version = 2\n\
         [application]\nname = \"test\"\n\
         [[trigger.http]]\nroute = {route:?}\ncomponent = \"main\"\n\
         [component.main]\nsource = {:?}\n",
        source.display().to_string()
    )
}

/// A `postloan-host up` process serving a manifest; killed when dropped.
pub struct Host {
    child: Child,
    base_url: String,
}

impl Host {
    /// Starts the release host on `manifest` at 127.0.0.1 on a free port, and waits until it listens.
    pub fn start(manifest: &Path) -> Self {
        Self::start_with(manifest, &[])
    }

    /// Like [`Host::start`], with more `postloan-host up` options.
    pub fn start_with(manifest: &Path, options: &[&str]) -> Self {
        let mut child = Command::new(host_binary())
            .args(["up", "--from"])
            .arg(manifest)
            .args(["--listen", "127.0.0.1:0"])
            .args(options)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("postloan-host starts");
        let stdout = child.stdout.take().expect("stdout is piped");
        let mut lines = BufReader::new(stdout).lines();
        let base_url = lines
            .by_ref()
            .map_while(Result::ok)
            .find_map(|line| {
                line.strip_prefix("postloan-host listening on ")
                    .map(str::to_owned)
            })
            .expect("postloan-host prints the address it listens on");
        // Keep draining stdout so the host never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        Self { child, base_url }
    }

    /// The URL of `path` on this host.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The status, content type and JSON body of a POST of `body` to `url`.
pub fn post(
    url: &str,
    body: impl Into<reqwest::blocking::Body>,
) -> (u16, String, serde_json::Value) {
    let response = reqwest::blocking::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .expect("the host answers");
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let json = response.json().expect("the body is JSON");
    (status, content_type, json)
}
