//! postloan-host's SQLite, key-value and variables interfaces, through the state fixture
//! component (tests/fixtures/state) over HTTP.

use std::path::Path;
use std::process::Command;

use postloan_tests::{
    Host, fixture_wasm, get_text, host_binary, put_text, temp_dir, write_manifest,
};

/// A manifest serving the state fixture on `/...`, granted the `default` database and
/// store only, with `variables` and `component_variables` tables.
fn state_manifest(variables: &str, component_variables: &str) -> String {
    format!(
        "spin_manifest_version = 2\n\
         [application]\nname = \"state-test\"\n\
         [variables]\n{variables}\n\
         [[trigger.http]]\nroute = \"/...\"\ncomponent = \"state\"\n\
         [component.state]\nsource = {:?}\n\
         sqlite_databases = [\"default\"]\nkey_value_stores = [\"default\"]\n\
         [component.state.variables]\n{component_variables}\n",
        fixture_wasm("state_fixture").display().to_string()
    )
}

fn start(manifest: &Path, state_dir: &Path) -> Host {
    let state_dir = state_dir.to_str().expect("utf-8 path");
    Host::start_with(manifest, &["--state-dir", state_dir])
}

#[test]
fn sqlite_and_key_value_data_survive_a_host_restart() {
    let manifest = write_manifest("state-restart", &state_manifest("", ""));
    let state_dir = temp_dir("state-restart-data");
    {
        let host = start(&manifest, &state_dir);
        assert_eq!(put_text(&host.url("/sqlite/default/loan"), "L-1001").0, 204);
        assert_eq!(put_text(&host.url("/kv/default/cursor"), "42").0, 204);
    }
    let host = start(&manifest, &state_dir);
    assert_eq!(
        get_text(&host.url("/sqlite/default/loan")),
        (200, "L-1001".to_owned())
    );
    assert_eq!(
        get_text(&host.url("/kv/default/cursor")),
        (200, "42".to_owned())
    );
    assert_eq!(get_text(&host.url("/kv/default/nothing")).0, 404);
    assert!(state_dir.join("sqlite/default.db").exists());
    assert!(state_dir.join("key_value/default.db").exists());
}

#[test]
fn labels_not_granted_in_the_manifest_are_denied() {
    let manifest = write_manifest("state-denied", &state_manifest("", ""));
    let host = start(&manifest, &temp_dir("state-denied-data"));
    let denied = (409, "access-denied".to_owned());
    assert_eq!(get_text(&host.url("/sqlite/audit/x")), denied);
    assert_eq!(put_text(&host.url("/sqlite/audit/x"), "v"), denied);
    assert_eq!(get_text(&host.url("/kv/cache/x")), denied);
}

#[test]
fn variables_come_from_the_environment_then_the_runtime_config_then_defaults() {
    let manifest = write_manifest(
        "state-variables",
        &state_manifest(
            "region = { default = \"cn-north\" }\n\
             token = { required = true, secret = true }\n\
             tier = { default = \"standard\" }",
            "endpoint = \"https://{{ region }}.example/{{ tier }}\"\ntoken = \"{{ token }}\"",
        ),
    );
    let config = temp_dir("state-variables-config").join("runtime-config.toml");
    std::fs::write(
        &config,
        "[[variables_provider]]\ntype = \"static\"\nvalues = { token = \"from-file\", tier = \"from-file\" }\n",
    )
    .expect("runtime config written");
    let host = Host::start_with_env(
        &manifest,
        &[
            "--runtime-config-file",
            config.to_str().expect("utf-8 path"),
            "--state-dir",
            temp_dir("state-variables-data")
                .to_str()
                .expect("utf-8 path"),
        ],
        &[("SPIN_VARIABLE_TIER", "gold")],
    );
    assert_eq!(
        get_text(&host.url("/variables/endpoint")),
        (200, "https://cn-north.example/gold".to_owned())
    );
    assert_eq!(
        get_text(&host.url("/variables/token")),
        (200, "from-file".to_owned())
    );
    assert_eq!(get_text(&host.url("/variables/region")).0, 404);
}

#[test]
fn a_required_variable_without_a_value_stops_the_host() {
    let manifest = write_manifest(
        "state-required",
        &state_manifest(
            "api_token = { required = true }",
            "token = \"{{ api_token }}\"",
        ),
    );
    let out = Command::new(host_binary())
        .args(["up", "--listen", "127.0.0.1:0", "--from"])
        .arg(&manifest)
        .env_remove("SPIN_VARIABLE_API_TOKEN")
        .output()
        .expect("postloan-host runs");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("`api_token`") && stderr.contains("SPIN_VARIABLE_API_TOKEN"),
        "{stderr}"
    );
}
