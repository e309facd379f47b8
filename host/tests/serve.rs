//! End-to-end tests: start the `postloan-host` binary on the hello fixture and
//! talk HTTP to it.
//!
//! The fixture is not built here; build it first with
//! `cargo build --manifest-path tests/fixtures/Cargo.toml --target wasm32-wasip2 --release`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn fixture() -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures/target/wasm32-wasip2/release/hello_fixture.wasm");
    assert!(
        path.exists(),
        "fixture component {} is missing; build it with\n  \
         cargo build --manifest-path tests/fixtures/Cargo.toml --target wasm32-wasip2 --release",
        path.display()
    );
    path.canonicalize().expect("canonicalize fixture path")
}

fn temp_dir(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("postloan-host-test-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("create temp dir");
    dir
}

fn write_manifest(name: &str, body: &str) -> PathBuf {
    let path = temp_dir(name).join("spin.toml");
    std::fs::write(&path, body).expect("write manifest");
    path
}

fn hello_manifest(name: &str) -> PathBuf {
    let wasm = fixture();
    write_manifest(
        name,
        &format!(
            r#"spin_manifest_version = 2

[application]
name = "hello"

[[trigger.http]]
route = "/..."
component = "hello"

[[trigger.http]]
route = "/only/exact"
component = "hello"

[component.hello]
source = "{}"
"#,
            wasm.display()
        ),
    )
}

/// A running host, killed on drop.
struct Host {
    child: Child,
    addr: SocketAddr,
}

impl Drop for Host {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(manifest: &Path, extra: &[&str]) -> Host {
    let mut child = Command::new(env!("CARGO_BIN_EXE_postloan-host"))
        .arg("up")
        .arg("--from")
        .arg(manifest)
        .args(["--listen", "127.0.0.1:0"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn postloan-host");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let line = lines
        .next()
        .expect("host exited before printing its address")
        .expect("read stdout");
    let addr = line
        .strip_prefix("postloan-host listening on http://")
        .unwrap_or_else(|| panic!("unexpected first line: {line}"))
        .parse()
        .expect("parse address");
    // Keep draining stdout so the guest cannot block on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    Host { child, addr }
}

struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

fn get(addr: SocketAddr, path: &str) -> Reply {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .expect("write request");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("read response");
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").expect("response head");
    let mut head_lines = head.lines();
    let status = head_lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .expect("status line");
    let headers: Vec<(String, String)> = head_lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let chunked = headers.iter().any(|(n, v)| {
        n.eq_ignore_ascii_case("transfer-encoding") && v.eq_ignore_ascii_case("chunked")
    });
    let body = if chunked {
        dechunk(body)
    } else {
        body.to_owned()
    };
    Reply {
        status,
        headers,
        body,
    }
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 {
            break;
        }
        out.push_str(&rest[..n]);
        s = rest[n..].trim_start_matches("\r\n");
    }
    out
}

fn assert_hello(host: &Host) {
    let r = get(host.addr, "/hello?x=1");
    assert_eq!(r.status, 200, "body: {}", r.body);
    assert_eq!(r.body, "hello");
}

fn assert_component_failed(host: &Host, path: &str, expect_in_detail: &str) {
    let r = get(host.addr, path);
    assert_eq!(r.status, 500, "{path}: body: {}", r.body);
    assert_eq!(r.header("content-type"), Some("application/problem+json"));
    let json: serde_json::Value = serde_json::from_str(&r.body).expect("problem json");
    assert_eq!(json["type"], "urn:postloan:problem:component-failed");
    assert_eq!(json["status"], 500);
    assert_eq!(json["component"], "hello");
    let detail = json["detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains("component `hello`") && detail.contains(expect_in_detail),
        "{path}: detail: {detail}"
    );
}

#[test]
fn serves_hello() {
    let host = start(&hello_manifest("hello"), &[]);
    assert_hello(&host);
    let r = get(host.addr, "/only/exact");
    assert_eq!(r.status, 200);
}

#[test]
fn trap_is_a_500_and_host_survives() {
    let host = start(&hello_manifest("trap"), &[]);
    assert_component_failed(&host, "/trap", "trapped");
    assert_hello(&host);
}

#[test]
fn timeout_is_a_500_and_host_survives() {
    let host = start(&hello_manifest("spin"), &["--request-timeout", "300ms"]);
    let started = Instant::now();
    assert_component_failed(&host, "/spin", "deadline");
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_hello(&host);
}

#[test]
fn oom_is_a_500_and_host_survives() {
    let host = start(&hello_manifest("oom"), &["--max-memory-mib", "32"]);
    assert_component_failed(&host, "/oom", "trapped");
    assert_hello(&host);
}

#[test]
fn unmatched_route_is_404() {
    let wasm = fixture();
    let manifest = write_manifest(
        "404",
        &format!(
            "spin_manifest_version = 2\n[application]\nname = \"x\"\n\n[[trigger.http]]\nroute = \"/api/...\"\ncomponent = \"hello\"\n\n[component.hello]\nsource = \"{}\"\n",
            wasm.display()
        ),
    );
    let host = start(&manifest, &[]);
    assert_eq!(get(host.addr, "/elsewhere").status, 404);
    assert_eq!(get(host.addr, "/api/x").status, 200);
}

#[test]
fn bad_manifest_fails_with_line_number() {
    let manifest = write_manifest(
        "bad",
        "spin_manifest_version = 2\n[application]\nname = \"x\"\n\n[[trigger.http]]\nroute = \"/...\"\ncomponent = = \"hello\"\n",
    );
    let out = Command::new(env!("CARGO_BIN_EXE_postloan-host"))
        .args(["up", "--listen", "127.0.0.1:0", "--from"])
        .arg(&manifest)
        .output()
        .expect("run postloan-host");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("line 7"), "stderr: {stderr}");
    assert!(stderr.contains("spin.toml"), "stderr: {stderr}");
}

#[test]
fn help_lists_commands() {
    let out = Command::new(env!("CARGO_BIN_EXE_postloan-host"))
        .arg("--help")
        .output()
        .expect("run postloan-host");
    let stdout = String::from_utf8_lossy(&out.stdout);
    for cmd in ["up", "build", "compose"] {
        assert!(stdout.contains(cmd), "help: {stdout}");
    }
}

#[test]
fn build_runs_commands_and_names_failing_component() {
    let manifest = write_manifest(
        "build",
        "spin_manifest_version = 2\n[application]\nname = \"x\"\n\n[component.good]\nsource = \"good.wasm\"\n[component.good.build]\ncommand = \"echo built > built.txt\"\n\n[component.zbad]\nsource = \"bad.wasm\"\n[component.zbad.build]\ncommand = \"exit 3\"\n",
    );
    let out = Command::new(env!("CARGO_BIN_EXE_postloan-host"))
        .args(["build", "--from"])
        .arg(&manifest)
        .output()
        .expect("run postloan-host");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("component `zbad`"), "stderr: {stderr}");
    let dir = manifest.parent().expect("manifest dir");
    assert!(
        dir.join("built.txt").exists(),
        "good component's command ran in the manifest dir"
    );
}

#[test]
fn passes_original_uri_and_spin_headers() {
    let wasm = fixture();
    let manifest = write_manifest(
        "headers",
        &format!(
            "spin_manifest_version = 2\n[application]\nname = \"x\"\n\n[[trigger.http]]\nroute = \"/v1/...\"\ncomponent = \"hello\"\n\n[component.hello]\nsource = \"{}\"\n",
            wasm.display()
        ),
    );
    let host = start(&manifest, &[]);
    let r = get(host.addr, "/v1/loans/headers?x=1");
    assert_eq!(r.status, 200, "{}", r.body);
    let addr = host.addr;
    for expected in [
        format!("uri: http://{addr}/v1/loans/headers?x=1"),
        format!("spin-full-url: http://{addr}/v1/loans/headers?x=1"),
        "spin-path-info: /loans/headers".to_owned(),
        "spin-matched-route: /v1/...".to_owned(),
        "spin-component-route: /v1".to_owned(),
        "spin-base-path: /".to_owned(),
        "spin-client-addr: 127.0.0.1:".to_owned(),
    ] {
        assert!(
            r.body.lines().any(|l| l.starts_with(&expected)),
            "missing `{expected}` in:\n{}",
            r.body
        );
    }
}
