//! The built components keep their contract: the overdue component exports
//! `postloan:overdue/overdue` and imports nothing of Spin's, and the pre-composed api component
//! carries the overdue component inside it and runs on its own; the web component needs
//! nothing but WASI and serves the workbench on its own.

use postloan_tests::{Host, artifact, post, single_component_manifest, write_manifest};
use serde_json::json;
use wasmparser::{Parser, Payload};

/// The top-level import and export names of a component.
fn interface_names(path: &str) -> (Vec<String>, Vec<String>) {
    let bytes = std::fs::read(artifact(path)).expect("readable");
    let (mut imports, mut exports, mut depth) = (Vec::new(), Vec::new(), 0);
    for payload in Parser::new(0).parse_all(&bytes) {
        match payload.expect("a valid component") {
            Payload::ModuleSection { .. } | Payload::ComponentSection { .. } => depth += 1,
            Payload::End(_) => depth -= 1,
            Payload::ComponentImportSection(section) if depth == 0 => {
                imports.extend(
                    section
                        .into_iter()
                        .map(|i| i.expect("import").name.name.to_owned()),
                );
            }
            Payload::ComponentExportSection(section) if depth == 0 => {
                exports.extend(
                    section
                        .into_iter()
                        .map(|e| e.expect("export").name.name.to_owned()),
                );
            }
            _ => {}
        }
    }
    (imports, exports)
}

#[test]
fn the_overdue_component_exports_overdue_and_imports_no_host_capabilities() {
    let (imports, exports) = interface_names("target/wasm32-wasip2/release/postloan_overdue.wasm");
    assert_eq!(exports, ["postloan:overdue/overdue@0.1.0"]);
    // Only what Rust's standard library links (wasi:cli, wasi:io, wasi:random's seed) and
    // the shared types: no Spin interface, no network, no files, no clocks.
    for import in &imports {
        let allowed = import.starts_with("postloan:core/types@")
            || import.starts_with("wasi:cli/")
            || import.starts_with("wasi:io/")
            || import.starts_with("wasi:random/insecure-seed@");
        assert!(allowed, "unexpected import {import} in {imports:?}");
    }
}

#[test]
fn the_composed_api_component_has_the_overdue_engine_plugged_in() {
    let (imports, exports) = interface_names("target/composed/postloan-api.wasm");
    assert!(
        exports
            .iter()
            .any(|e| e.starts_with("wasi:http/incoming-handler@0.2")),
        "{exports:?}"
    );
    assert!(
        !imports
            .iter()
            .any(|i| i.starts_with("postloan:overdue/overdue")),
        "{imports:?}"
    );
    // Nothing but WASI and types-only postloan interfaces: it runs on `wasmtime serve`.
    for import in &imports {
        let plain = import.starts_with("wasi:")
            || ["postloan:core/types@", "postloan:core/contact@"]
                .iter()
                .any(|p| import.starts_with(p));
        assert!(
            plain,
            "the composed api imports {import}, which wasmtime serve lacks"
        );
    }
    let (plain_imports, _) = interface_names("target/wasm32-wasip2/release/postloan_api.wasm");
    assert!(
        plain_imports
            .iter()
            .any(|i| i == "postloan:overdue/overdue@0.1.0"),
        "{plain_imports:?}"
    );
}

#[test]
fn the_composed_api_component_serves_without_any_composition() {
    let composed = artifact("target/composed/postloan-api.wasm");
    let manifest = write_manifest("composed", &single_component_manifest("/...", &composed));
    let host = Host::start(&manifest);
    // One installment of 100.00 due 2026-01-31, unpaid on 2026-02-02: 2 days past due.
    let request = json!({
        "as_of": "2026-02-02",
        "loan": {
            "id": "L-9", "currency": "CNY",
            "installments": [{ "seq": 1, "due_date": "2026-01-31", "principal": "90.00", "interest": "10.00", "fees": "0" }],
            "payments": []
        }
    });
    let (status, _, assessment) = post(&host.url("/v1/assess"), request.to_string());
    assert_eq!(status, 200, "{assessment}");
    assert_eq!(assessment["dpd"], 2);
    assert_eq!(assessment["overdue"]["total"], "100.00");
}

#[test]
fn the_web_component_needs_nothing_but_wasi_and_serves_on_its_own() {
    let path = "target/wasm32-wasip2/release/postloan_web.wasm";
    let (imports, exports) = interface_names(path);
    assert!(
        exports
            .iter()
            .any(|e| e.starts_with("wasi:http/incoming-handler@0.2")),
        "{exports:?}"
    );
    // No Spin interface and no postloan one: it runs on `wasmtime serve` as it is.
    for import in &imports {
        assert!(
            import.starts_with("wasi:"),
            "the web component imports {import}"
        );
    }
    let manifest = write_manifest(
        "web-alone",
        &single_component_manifest("/...", &artifact(path)),
    );
    let host = Host::start(&manifest);
    let page = reqwest::blocking::get(host.url("/")).expect("the host answers");
    assert_eq!(page.status().as_u16(), 200);
    assert_eq!(page.headers()["content-type"], "text/html; charset=utf-8");
    let built = std::fs::read_to_string(artifact("web/dist/index.html")).expect("web/dist");
    assert_eq!(page.text().expect("a page"), built);
}
