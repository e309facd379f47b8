//! The SpinKube deployment (`deploy/spinkube/`): every Kubernetes manifest document is
//! checked against the real `SpinApp` / `SpinAppExecutor` CRD schemas of spin-operator,
//! strictly (an unknown field is an error, as `kubectl apply`'s strict field validation
//! makes it), the manifests' references to each other hold, `deploy/spinkube/spin.toml`
//! stays the repository's app but for the differences SpinKube needs, and the CronJob's
//! close-of-business script closes yesterday on a real host.
//!
//! The CRDs are read from `../shared/data/spinkube/` beside the repository (its README asks
//! that they not be copied into the project), or from `POSTLOAN_SPINKUBE_CRDS`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use postloan_tests::{Book, RedisServer, map_strings, root, spin_toml, temp_dir};
use serde::Deserialize;
use serde_json::{Value, json};

/// Where spin-operator's CRDs are: `POSTLOAN_SPINKUBE_CRDS`, else `shared/data/spinkube`
/// beside the repository, or beside the repository it was cloned from (a clean clone in a
/// temporary folder, as CI makes, has no `shared` beside it).
fn crd_dir() -> PathBuf {
    const FILE: &str = "core.spinkube.dev_spinapps.yaml";
    let beside = |repository: &Path| repository.join("../shared/data/spinkube");
    let origin = Command::new("git")
        .args(["config", "--get", "remote.origin.url"])
        .current_dir(root())
        .output()
        .ok()
        .map(|out| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
        .filter(|url| url.is_dir());
    let candidates: Vec<PathBuf> = match std::env::var_os("POSTLOAN_SPINKUBE_CRDS") {
        Some(dir) => vec![PathBuf::from(dir)],
        None => std::iter::once(beside(&root()))
            .chain(origin.as_deref().map(beside))
            .collect(),
    };
    let found = candidates.iter().find(|dir| dir.join(FILE).exists());
    assert!(
        found.is_some(),
        "none of {candidates:?} has SpinKube CRDs: set POSTLOAN_SPINKUBE_CRDS to a folder with \
         {FILE} and core.spinkube.dev_spinappexecutors.yaml (spin-operator's config/crd/bases)",
    );
    found.cloned().unwrap_or_default()
}

/// Every YAML document of `text`, as JSON; documents holding only comments are skipped.
fn documents(text: &str) -> Vec<Value> {
    serde_norway::Deserializer::from_str(text)
        .map(|document| Value::deserialize(document).expect("a YAML document"))
        .filter(|document| !document.is_null())
        .collect()
}

/// The manifests of `deploy/spinkube/` under `folder` (one level), by file name.
fn manifests(folder: &str) -> Vec<(String, Value)> {
    let dir = root().join("deploy/spinkube").join(folder);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("deploy/spinkube")
        .map(|entry| entry.expect("an entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "yaml"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{} has manifests", dir.display());
    files
        .iter()
        .flat_map(|path| {
            let name = path
                .strip_prefix(root())
                .expect("in the repository")
                .display()
                .to_string();
            let text = std::fs::read_to_string(path).expect("a manifest");
            documents(&text)
                .into_iter()
                .map(move |document| (name.clone(), document))
        })
        .collect()
}

/// A CRD's schema for one `apiVersion` and `kind`, made strict: every object that lists
/// its properties and neither allows others nor preserves unknown fields rejects
/// the rest, as the API server's strict field validation does.
struct Crd {
    api_version: String,
    kind: String,
    validator: jsonschema::Validator,
}

impl Crd {
    fn load(file: &str) -> Self {
        let text = std::fs::read_to_string(crd_dir().join(file)).expect("a CRD");
        let crd = documents(&text).remove(0);
        assert_eq!(crd["kind"], "CustomResourceDefinition", "{file}");
        let group = crd["spec"]["group"].as_str().expect("a group");
        let version = &crd["spec"]["versions"][0];
        let mut schema = version["schema"]["openAPIV3Schema"].clone();
        assert!(schema.is_object(), "{file} has an openAPIV3Schema");
        strict(&mut schema);
        Self {
            api_version: format!("{group}/{}", version["name"].as_str().expect("a version")),
            kind: crd["spec"]["names"]["kind"]
                .as_str()
                .expect("a kind")
                .to_owned(),
            validator: jsonschema::validator_for(&schema).expect("the CRD schema compiles"),
        }
    }

    /// The schema's complaints about `document`, each as `path: message`.
    fn errors(&self, document: &Value) -> Vec<String> {
        self.validator
            .iter_errors(document)
            .map(|error| format!("{}: {error}", error.instance_path()))
            .collect()
    }
}

fn strict(schema: &mut Value) {
    match schema {
        Value::Object(object) => {
            let open = object.contains_key("additionalProperties")
                || object.get("x-kubernetes-preserve-unknown-fields") == Some(&json!(true));
            if object.contains_key("properties") && !open {
                object.insert("additionalProperties".into(), json!(false));
            }
            object.values_mut().for_each(strict);
        }
        Value::Array(items) => items.iter_mut().for_each(strict),
        _ => {}
    }
}

fn crds() -> [Crd; 2] {
    [
        Crd::load("core.spinkube.dev_spinapps.yaml"),
        Crd::load("core.spinkube.dev_spinappexecutors.yaml"),
    ]
}

/// The kinds without a CRD that the deployment uses, with their `apiVersion`.
const CORE_KINDS: [(&str, &str); 3] = [
    ("v1", "Secret"),
    ("v1", "PersistentVolumeClaim"),
    ("batch/v1", "CronJob"),
];

/// Checks every document of `folder`; returns the documents.
fn check_folder(folder: &str) -> Vec<Value> {
    let crds = crds();
    let documents = manifests(folder);
    for (file, document) in &documents {
        let kind = document["kind"].as_str().unwrap_or_default();
        let api_version = document["apiVersion"].as_str().unwrap_or_default();
        assert!(
            document["metadata"]["name"]
                .as_str()
                .is_some_and(|name| !name.is_empty()),
            "{file}: a {kind} without a name"
        );
        match crds.iter().find(|crd| crd.kind == kind) {
            Some(crd) => {
                assert_eq!(api_version, crd.api_version, "{file}: {kind}");
                let errors = crd.errors(document);
                assert!(errors.is_empty(), "{file}: {kind}:\n{}", errors.join("\n"));
            }
            None => assert!(
                CORE_KINDS.contains(&(api_version, kind)),
                "{file}: unexpected {api_version} {kind}"
            ),
        }
    }
    documents
        .into_iter()
        .map(|(_, document)| document)
        .collect()
}

fn named<'a>(documents: &'a [Value], kind: &str, name: &str) -> &'a Value {
    documents
        .iter()
        .find(|d| d["kind"] == kind && d["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind} named {name}"))
}

fn spin_app(documents: &[Value]) -> &Value {
    let apps: Vec<&Value> = documents
        .iter()
        .filter(|d| d["kind"] == "SpinApp")
        .collect();
    assert_eq!(apps.len(), 1, "one SpinApp");
    apps[0]
}

/// The variables `deploy/spinkube/spin.toml` declares.
fn declared_variables() -> BTreeSet<String> {
    let manifest = spin_toml("deploy/spinkube/spin.toml");
    manifest["variables"]
        .as_table()
        .expect("[variables]")
        .keys()
        .cloned()
        .collect()
}

/// What every SpinApp of the deployment must say, whatever its store: the executor that
/// exists, health checks on /v1/health, resources, the Secrets it reads (which exist, with
/// the key it reads), variables the app declares.
fn check_spin_app(app: &Value, documents: &[Value], executors: &[Value]) -> Value {
    let spec = &app["spec"];
    let executor = spec["executor"].as_str().expect("an executor");
    assert!(
        executors.iter().any(|e| e["metadata"]["name"] == executor),
        "executor {executor} is executor.yaml's"
    );
    // spin-operator's admission webhook (internal/webhook/spinapp_validating.go,
    // validateReplicas): without autoscaling, at least one replica.
    assert!(spec["replicas"].as_i64().is_some_and(|n| n >= 1), "{spec}");
    for probe in ["liveness", "readiness"] {
        assert_eq!(spec["checks"][probe]["httpGet"]["path"], "/v1/health");
    }
    for bound in ["requests", "limits"] {
        for resource in ["cpu", "memory"] {
            assert!(
                !spec["resources"][bound][resource].is_null(),
                "{bound}.{resource}"
            );
        }
    }
    let declared = declared_variables();
    for variable in spec["variables"].as_array().expect("variables") {
        let name = variable["name"].as_str().expect("a name");
        assert!(declared.contains(name), "spin.toml declares `{name}`");
        if let Some(reference) = variable["valueFrom"]["secretKeyRef"].as_object() {
            let secret = named(
                documents,
                "Secret",
                reference["name"].as_str().expect("name"),
            );
            let key = reference["key"].as_str().expect("a key");
            assert!(!secret["stringData"][key].is_null(), "{name}: {key}");
        }
    }
    assert!(
        spec["variables"]
            .as_array()
            .expect("variables")
            .iter()
            .any(|v| v["name"] == "platform_token" && !v["valueFrom"]["secretKeyRef"].is_null()),
        "platform_token comes from a Secret"
    );
    let secret = named(
        documents,
        "Secret",
        spec["runtimeConfig"]["loadFromSecret"]
            .as_str()
            .expect("the runtime config from a Secret"),
    );
    let runtime_config = secret["stringData"]["runtime-config.toml"]
        .as_str()
        .expect("spin-operator reads the key runtime-config.toml");
    let runtime_config: toml::Table = runtime_config.parse().expect("the runtime config is TOML");
    toml_to_json(runtime_config)
}

fn toml_to_json(table: toml::Table) -> Value {
    serde_json::to_value(table).expect("TOML as JSON")
}

#[test]
fn the_one_replica_manifests_validate_against_spin_operators_crds() {
    let documents = check_folder("");
    let executors: Vec<Value> = documents
        .iter()
        .filter(|d| d["kind"] == "SpinAppExecutor")
        .cloned()
        .collect();
    let app = spin_app(&documents);
    let runtime_config = check_spin_app(app, &documents, &executors);
    assert_eq!(app["spec"]["replicas"], 1, "SQLite: one writer");
    // The book is the SQLite file the runtime config places on the mounted volume, whose
    // claim is in the manifests.
    let path = runtime_config["sqlite_database"]["default"]["path"]
        .as_str()
        .expect("the default SQLite database has a path");
    assert_eq!(runtime_config["sqlite_database"]["default"]["type"], "spin");
    let mount = app["spec"]["volumeMounts"]
        .as_array()
        .expect("volume mounts")
        .iter()
        .find(|m| Path::new(path).starts_with(m["mountPath"].as_str().unwrap_or("-")))
        .unwrap_or_else(|| panic!("{path} is on a mounted volume"));
    let volume = app["spec"]["volumes"]
        .as_array()
        .expect("volumes")
        .iter()
        .find(|v| v["name"] == mount["name"])
        .expect("the mount's volume");
    let claim = volume["persistentVolumeClaim"]["claimName"]
        .as_str()
        .expect("a claim");
    let claim = named(&documents, "PersistentVolumeClaim", claim);
    assert_eq!(claim["spec"]["accessModes"], json!(["ReadWriteOnce"]));
    // The close of business is a CronJob calling the app's Service, named after the app.
    let cron_job = named(&documents, "CronJob", "postloan-close-of-business");
    let container = &cron_job["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0];
    let url = container["env"]
        .as_array()
        .expect("env")
        .iter()
        .find(|e| e["name"] == "POSTLOAN_URL")
        .expect("POSTLOAN_URL");
    assert_eq!(
        url["value"],
        format!(
            "http://{}",
            app["metadata"]["name"].as_str().expect("a name")
        )
    );
}

#[test]
fn the_replicas_variant_validates_against_spin_operators_crds() {
    let executors: Vec<Value> = check_folder("")
        .into_iter()
        .filter(|d| d["kind"] == "SpinAppExecutor")
        .collect();
    let documents = check_folder("replicas");
    let app = spin_app(&documents);
    let runtime_config = check_spin_app(app, &documents, &executors);
    assert!(app["spec"]["replicas"].as_i64().is_some_and(|n| n > 1));
    // No SQLite file and no volume: the book is to be shared on PostgreSQL.
    assert!(runtime_config.get("sqlite_database").is_none());
    assert!(app["spec"].get("volumes").is_none());
    let values = &runtime_config["variables_provider"][0]["values"];
    assert!(
        values["database_url"]
            .as_str()
            .is_some_and(|url| url.starts_with("postgres://"))
    );
    assert!(
        values["redis_address"]
            .as_str()
            .is_some_and(|url| url.starts_with("redis://"))
    );
}

#[test]
fn the_crd_check_rejects_broken_spin_apps() {
    let [spin_apps, _] = crds();
    let documents = manifests("");
    let good = documents
        .iter()
        .map(|(_, d)| d)
        .find(|d| d["kind"] == "SpinApp")
        .expect("a SpinApp")
        .clone();
    assert_eq!(spin_apps.errors(&good), Vec::<String>::new());
    let broken = |change: &dyn Fn(&mut Value)| {
        let mut app = good.clone();
        change(&mut app);
        spin_apps.errors(&app).join("\n")
    };
    // A misspelt field.
    let errors = broken(&|app| {
        let replicas = app["spec"]
            .as_object_mut()
            .expect("spec")
            .remove("replicas")
            .expect("replicas");
        app["spec"]["replica"] = replicas;
    });
    assert_eq!(
        errors,
        "/spec: Additional properties are not allowed ('replica' was unexpected)"
    );
    // A count as a word.
    let errors = broken(&|app| app["spec"]["replicas"] = json!("one"));
    assert_eq!(errors, "/spec/replicas: \"one\" is not of type \"integer\"");
    // No image.
    let errors = broken(&|app| {
        app["spec"].as_object_mut().expect("spec").remove("image");
    });
    assert_eq!(errors, "/spec: \"image\" is a required property");
    // A health check without its path.
    let errors = broken(&|app| {
        app["spec"]["checks"]["liveness"]["httpGet"] = json!({});
    });
    assert_eq!(
        errors,
        "/spec/checks/liveness/httpGet: \"path\" is a required property"
    );
    // A memory limit that is no quantity.
    let errors = broken(&|app| app["spec"]["resources"]["limits"]["memory"] = json!("lots"));
    assert!(
        errors.starts_with("/spec/resources/limits/memory: \"lots\" does not match"),
        "{errors}"
    );
}

#[test]
fn the_spinkube_spin_toml_is_the_apps_but_for_cron_redis_and_paths() {
    let mut expected = toml::Value::Table(spin_toml("spin.toml"));
    let table = expected.as_table_mut().expect("a table");
    // containerd-shim-spin runs no cron trigger: the trigger and its component go.
    table["trigger"]
        .as_table_mut()
        .expect("[trigger]")
        .remove("cron")
        .expect("spin.toml has a cron trigger");
    let components = table["component"].as_table_mut().expect("[component]");
    components.remove("nightly").expect("a nightly component");
    // Built from the repository's root, not by `spin build` from deploy/spinkube/.
    for (_, component) in components.iter_mut() {
        component
            .as_table_mut()
            .expect("a component")
            .remove("build");
    }
    // Redis is the cluster's Service; paths are relative to deploy/spinkube/.
    map_strings(&mut expected, &|text| {
        text.replace("redis://127.0.0.1:6379", "redis://postloan-redis:6379")
            .replacen(
                "target/",
                "../../target/",
                usize::from(text.starts_with("target/")),
            )
    });
    let actual = toml::Value::Table(spin_toml("deploy/spinkube/spin.toml"));
    assert_eq!(actual, expected);
    // Every path it names is there once built.
    let components = actual["component"].as_table().expect("[component]");
    for (id, component) in components {
        let source = component["source"].as_str().expect("a source");
        assert!(
            root().join("deploy/spinkube").join(source).exists(),
            "{id}: {source} (run scripts/build)"
        );
    }
}

/// The shell script of the CronJob's container.
fn close_script() -> String {
    let documents = documents(
        &std::fs::read_to_string(root().join("deploy/spinkube/close-of-business.yaml"))
            .expect("close-of-business.yaml"),
    );
    let cron_job = named(&documents, "CronJob", "postloan-close-of-business");
    let container = &cron_job["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(container["command"], json!(["/bin/sh", "-c"]));
    container["args"][0].as_str().expect("a script").to_owned()
}

#[test]
fn the_cronjobs_script_closes_yesterday_for_each_tenant_through_http() {
    let redis = RedisServer::start();
    let book = Book::start("spinkube-close", &redis);
    let yesterday = chrono::Utc::now().date_naive().pred_opt().expect("a day");
    let mut lines = String::new();
    for tenant in ["east", "west"] {
        let key = book.create_tenant(tenant, json!({}));
        let (status, body) = book.call(
            "POST",
            "/v1/loans",
            &key,
            Some(json!({
                "id": "K1",
                "borrower": { "id": "B1", "profile": { "name": "Zhao Lei", "language": "zh-CN", "time_zone": "Asia/Shanghai" } },
                "currency": "CNY", "disbursed_on": "2025-12-01",
                "installments": [{ "seq": 1, "due_date": "2026-01-05", "principal": "800.00", "interest": "0" }]
            })),
        );
        assert_eq!(status, 201, "{body}");
        lines.push_str(&format!("{tenant} {key}\n"));
    }
    let keys = temp_dir("spinkube-tenant-keys").join("tenant-keys");
    std::fs::write(&keys, format!("# tenant key\n{lines}")).expect("the keys file");
    let output = Command::new("sh")
        .args(["-c", &close_script()])
        .env("POSTLOAN_URL", book.host.url(""))
        .env("TENANT_KEYS", &keys)
        .output()
        .expect("sh runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        stdout,
        format!("east: {yesterday} closed\nwest: {yesterday} closed\n")
    );
    // Each tenant's snapshot of yesterday: its one loan, 800.00 outstanding and overdue.
    for line in lines.lines() {
        let key = line.split_once(' ').expect("tenant and key").1;
        let (status, portfolio) =
            book.call("GET", &format!("/v1/portfolio?date={yesterday}"), key, None);
        assert_eq!(status, 200, "{portfolio}");
        assert_eq!(
            portfolio["totals"],
            json!({ "loans": 1, "outstanding_principal": "800.00", "overdue_amount": "800.00" })
        );
    }
}
