//! postloan-host refuses what Spin refuses when it plugs in dependencies, with Spin's own
//! words (Spin 4.0.2: `spin-compose` and `spin-manifest`), so that a manifest that starts
//! here starts on Spin too. The Spin CLI cannot be installed on these machines; this is
//! what keeps the two in step (docs/host.md, "Dependencies as Spin composes them").

use std::path::Path;
use std::process::Command;

use postloan_tests::{host_binary, temp_dir};

/// A component importing `x:core/one@0.1.0` and `x:core/two@0.1.0`: two interfaces of one
/// package, as postloan's api imported `postloan:core/overdue`, `/scoring`, ... once.
const MAIN: &str = r#"(component
    (import "x:core/one@0.1.0" (instance (export "get" (func (result u32)))))
    (import "x:core/two@0.1.0" (instance (export "get" (func (result u32)))))
)"#;

/// A component exporting `x:core/NAME@0.1.0` with `get: func() -> u32`.
fn exporting(name: &str) -> String {
    format!(
        r#"(component
        (core module $m (func (export "get") (result i32) i32.const 1))
        (core instance $i (instantiate $m))
        (func $get (result u32) (canon lift (core func $i "get")))
        (instance $out (export "get" (func $get)))
        (export "x:core/{name}@0.1.0" (instance $out))
    )"#
    )
}

/// Writes `main.wasm`, `one.wasm` and `two.wasm` and the manifest whose `api` component
/// and further tables are `tables`, in a folder named after `name`; returns the manifest.
fn app(name: &str, tables: &str) -> std::path::PathBuf {
    let dir = temp_dir(name);
    let write = |file: &str, text: &str| {
        std::fs::write(dir.join(file), wat::parse_str(text).expect("valid WAT")).unwrap()
    };
    write("main.wasm", MAIN);
    write("one.wasm", &exporting("one"));
    write("two.wasm", &exporting("two"));
    let manifest = format!(
        "spin_manifest_version = 2\n[application]\nname = \"{name}\"\n\n\
         [[trigger.http]]\nroute = \"/...\"\ncomponent = \"api\"\n\n\
         [component.api]\nsource = \"main.wasm\"\n\n{tables}"
    );
    let path = dir.join("spin.toml");
    std::fs::write(&path, manifest).unwrap();
    path
}

/// What `postloan-host COMMAND --from manifest` says on stderr; it must fail.
fn refusal(command: &str, manifest: &Path) -> String {
    let mut host = Command::new(host_binary());
    host.args([command, "--from"]).arg(manifest);
    match command {
        "up" => host.args(["--listen", "127.0.0.1:0"]),
        _ => host
            .args(["--component", "api", "--out"])
            .arg(manifest.with_extension("wasm")),
    };
    let out = host.output().expect("postloan-host runs");
    assert!(
        !out.status.success(),
        "{command} accepted {}",
        manifest.display()
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn two_dependencies_of_one_package_are_refused_with_spins_error() {
    let manifest = app(
        "one-package",
        "[component.api.dependencies]\n\
         \"x:core/one\" = { path = \"one.wasm\" }\n\
         \"x:core/two\" = { path = \"two.wasm\" }\n",
    );
    // Spin 4.0.2 said, of postloan's first spin.toml: failed to resolve dependencies for
    // component "api"; an error occurred when preparing dependencies; package
    // `postloan:core` has already been registered in the graph.
    let expected = "failed to resolve dependencies for component \"api\": \
                    an error occurred when preparing dependencies: \
                    package `x:core` has already been registered in the graph";
    for command in ["up", "compose"] {
        let stderr = refusal(command, &manifest);
        assert!(stderr.contains(expected), "{command}: {stderr}");
    }
}

#[test]
fn a_dependency_matching_no_import_is_refused_with_spins_error() {
    let manifest = app(
        "unmatched",
        "[component.api.dependencies]\n\"x:other/one\" = { path = \"one.wasm\" }\n",
    );
    let stderr = refusal("up", &manifest);
    assert!(
        stderr.contains("dependency 'x:other/one' doesn't match any imports of component 'api'"),
        "{stderr}"
    );
}

#[test]
fn a_component_dependency_must_exist_and_have_no_resources() {
    let unknown = app(
        "unknown-ref",
        "[component.api.dependencies]\n\"x:core/one\" = { component = \"nope\" }\n",
    );
    assert!(refusal("up", &unknown).contains("dependency ID nope does not exist"));

    let with_resources = app(
        "resourceful-ref",
        "[component.api.dependencies]\n\"x:core/one\" = { component = \"one\" }\n\n\
         [component.one]\nsource = \"one.wasm\"\nsqlite_databases = [\"default\"]\n\
         allowed_outbound_hosts = [\"redis://127.0.0.1:6379\"]\n",
    );
    let stderr = refusal("up", &with_resources);
    assert!(
        stderr.contains(
            "Dependencies may not have their own resources or permissions. Component one cannot \
             be used as a dependency of api because it specifies: allowed_outbound_hosts, \
             sqlite_databases"
        ),
        "{stderr}"
    );
}

#[test]
fn components_referenced_as_dependencies_are_plugged_in() {
    let manifest = app(
        "component-refs",
        "[component.api.dependencies]\n\
         \"x:core/one\" = { component = \"one\" }\n\
         \"x:core/two\" = { component = \"one\" }\n\n\
         [component.one]\nsource = \"one.wasm\"\n",
    );
    // Both keys name the package `x:core`: refused, whatever the source.
    assert!(refusal("compose", &manifest).contains("package `x:core` has already been registered"));

    let manifest = app(
        "component-ref",
        "[component.api.dependencies]\n\"x:core\" = { component = \"both\" }\n\n\
         [component.both]\nsource = \"one.wasm\"\n",
    );
    // `x:core` matches both imports; the component exports only `one`, so Spin's
    // missing-export error names `two`: the reference was followed to one.wasm.
    let stderr = refusal("compose", &manifest);
    assert!(
        stderr.contains(
            "dependency 'x:core' doesn't export 'x:core/two@0.1.0' to satisfy import 'x:core/two@0.1.0'"
        ),
        "{stderr}"
    );
}
