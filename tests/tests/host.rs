//! postloan-host as a runtime, on the hello fixture component (tests/fixtures): routing,
//! Spin's request headers, and a guest that traps, runs away or exhausts its memory being
//! answered 500 while the host keeps serving.

use std::process::Command;
use std::time::{Duration, Instant};

use postloan_tests::{Host, artifact, host_binary, single_component_manifest, write_manifest};
use reqwest::blocking::{Client, Response};
use serde_json::Value;

fn fixture() -> std::path::PathBuf {
    artifact("tests/fixtures/target/wasm32-wasip2/release/hello_fixture.wasm")
}

fn get(host: &Host, path: &str) -> Response {
    Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client")
        .get(host.url(path))
        .send()
        .expect("the host answers")
}

fn assert_hello(host: &Host) {
    let response = get(host, "/hello?x=1");
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(response.text().expect("body"), "hello");
}

fn assert_component_failed(host: &Host, path: &str, expected_in_detail: &str) {
    let response = get(host, path);
    assert_eq!(response.status().as_u16(), 500, "{path}");
    let content_type = response.headers()["content-type"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert_eq!(content_type, "application/problem+json");
    let problem: Value = response.json().expect("problem JSON");
    assert_eq!(problem["type"], "urn:postloan:problem:component-failed");
    assert_eq!(problem["status"], 500);
    assert_eq!(problem["component"], "main");
    let detail = problem["detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains("component `main`") && detail.contains(expected_in_detail),
        "{path}: {detail}"
    );
}

fn hello_host(options: &[&str]) -> Host {
    let manifest = write_manifest(
        &format!("hello{}", options.join("")),
        &single_component_manifest("/...", &fixture()),
    );
    Host::start_with(&manifest, options)
}

#[test]
fn a_trapping_guest_is_a_500_and_the_host_keeps_serving() {
    let host = hello_host(&[]);
    assert_hello(&host);
    assert_component_failed(&host, "/trap", "trapped");
    assert_hello(&host);
}

/// The lines the hello host logs for a good request and a trapping one, with `options`.
fn request_lines(name: &str, options: &[&str]) -> Vec<String> {
    let manifest = write_manifest(name, &single_component_manifest("/...", &fixture()));
    let log = postloan_tests::temp_dir(&format!("{name}-log")).join("stderr.log");
    let file = std::fs::File::create(&log).expect("a log file");
    let host = Host::start_logging_to(&manifest, options, file);
    assert_hello(&host);
    assert_component_failed(&host, "/trap", "trapped");
    drop(host);
    let text = std::fs::read_to_string(&log).expect("the log");
    text.lines()
        .filter(|line| line.contains(" component=main status="))
        .map(str::to_owned)
        .collect()
}

#[test]
fn only_server_errors_get_a_request_line_unless_every_request_is_asked_for() {
    let default = request_lines("log-default", &[]);
    assert_eq!(default.len(), 1, "{default:?}");
    assert!(
        default[0].contains("GET /trap component=main status=500"),
        "{default:?}"
    );
    let all = request_lines("log-all", &["--log-requests", "all"]);
    assert_eq!(all.len(), 2, "{all:?}");
    assert!(
        all[0].contains("GET /hello?x=1 component=main status=200"),
        "{all:?}"
    );
}

#[test]
fn a_runaway_guest_is_stopped_at_the_deadline() {
    let host = hello_host(&["--request-timeout", "300ms"]);
    let started = Instant::now();
    assert_component_failed(&host, "/spin", "deadline");
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_hello(&host);
}

#[test]
fn a_guest_that_exhausts_its_memory_is_a_500() {
    let host = hello_host(&["--max-memory-mib", "32"]);
    assert_component_failed(&host, "/oom", "trapped");
    assert_hello(&host);
}

#[test]
fn routes_match_as_spin_matches_them() {
    let manifest = write_manifest("routes", &single_component_manifest("/api/...", &fixture()));
    let host = Host::start(&manifest);
    assert_eq!(get(&host, "/elsewhere").status().as_u16(), 404);
    assert_eq!(get(&host, "/api/x").status().as_u16(), 200);
}

#[test]
fn the_guest_sees_the_original_uri_and_spin_headers() {
    let manifest = write_manifest("headers", &single_component_manifest("/v1/...", &fixture()));
    let host = Host::start(&manifest);
    let body = get(&host, "/v1/loans/headers?x=1").text().expect("body");
    let base = host.url("");
    for expected in [
        format!("uri: {base}/v1/loans/headers?x=1"),
        format!("spin-full-url: {base}/v1/loans/headers?x=1"),
        "spin-path-info: /loans/headers".to_owned(),
        "spin-matched-route: /v1/...".to_owned(),
        "spin-component-route: /v1".to_owned(),
        "spin-base-path: /".to_owned(),
        "spin-client-addr: 127.0.0.1:".to_owned(),
    ] {
        assert!(
            body.lines().any(|l| l.starts_with(&expected)),
            "no `{expected}` in:\n{body}"
        );
    }
}

#[test]
fn a_bad_manifest_is_refused_with_its_file_and_line() {
    let manifest = write_manifest(
        "bad",
        "spin_manifest_version = 2\n[application]\nname = \"x\"\n\n[[trigger.http]]\nroute = \"/...\"\ncomponent = = \"hello\"\n",
    );
    let out = Command::new(host_binary())
        .args(["up", "--listen", "127.0.0.1:0", "--from"])
        .arg(&manifest)
        .output()
        .expect("postloan-host runs");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("line 7") && stderr.contains("spin.toml"),
        "{stderr}"
    );
}

#[test]
fn build_runs_each_command_and_names_the_one_that_fails() {
    let manifest = write_manifest(
        "build",
        "spin_manifest_version = 2\n[application]\nname = \"x\"\n\n\
         [component.good]\nsource = \"good.wasm\"\n[component.good.build]\ncommand = \"echo built > built.txt\"\n\n\
         [component.zbad]\nsource = \"bad.wasm\"\n[component.zbad.build]\ncommand = \"exit 3\"\n",
    );
    let out = Command::new(host_binary())
        .args(["build", "--from"])
        .arg(&manifest)
        .output()
        .expect("postloan-host runs");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("component `zbad`"), "{stderr}");
    let dir = manifest.parent().expect("manifest folder");
    assert!(
        dir.join("built.txt").exists(),
        "the good command ran in the manifest's folder"
    );
}

#[test]
fn help_lists_the_commands() {
    let out = Command::new(host_binary())
        .arg("--help")
        .output()
        .expect("postloan-host runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    for command in ["up", "build", "compose"] {
        assert!(stdout.contains(command), "{stdout}");
    }
}

/// How many files a folder holds, in all its subfolders.
fn files_under(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |entries| {
        entries
            .map_while(Result::ok)
            .map(|e| match e.file_type() {
                Ok(t) if t.is_dir() => files_under(&e.path()),
                _ => 1,
            })
            .sum()
    })
}

#[test]
fn compiled_components_are_kept_in_the_cache_unless_told_not_to() {
    let manifest = write_manifest("cache", &single_component_manifest("/...", &fixture()));
    let cached = postloan_tests::temp_dir("cache-home");
    let home = cached.to_str().expect("a UTF-8 path");
    // wasmtime's cache folder follows XDG_CACHE_HOME.
    let host = Host::start_with_env(&manifest, &[], &[("XDG_CACHE_HOME", home)]);
    assert_hello(&host);
    drop(host);
    assert!(
        files_under(&cached) > 0,
        "the compiled fixture is in {home}"
    );

    let uncached = postloan_tests::temp_dir("cache-home-off");
    let home = uncached.to_str().expect("a UTF-8 path");
    let host = Host::start_with_env(
        &manifest,
        &["--no-compilation-cache"],
        &[("XDG_CACHE_HOME", home)],
    );
    assert_hello(&host);
    drop(host);
    assert_eq!(files_under(&uncached), 0, "nothing cached in {home}");
}
