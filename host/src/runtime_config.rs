//! The runtime config file (`--runtime-config-file`), in Spin's TOML format:
//! where SQLite databases and key-value stores live, and where variable
//! values come from.
//!
//! ```toml
//! [sqlite_database.default]
//! type = "spin"
//! path = "data/app.db"          # relative to this file
//!
//! [key_value_store.default]
//! type = "spin"
//! path = "data/kv.db"
//!
//! [[variables_provider]]        # Spin also reads `[[config_provider]]`
//! type = "env"
//! prefix = "MYAPP"              # reads MYAPP_<NAME>, after SPIN_VARIABLE_<NAME>
//!
//! [[variables_provider]]
//! type = "static"
//! values = { api_host = "api.example.com" }
//! ```
//!
//! Other backend types Spin knows (`libsql`, `redis`, `azure_cosmos`,
//! `vault`, ...) are refused with an error naming them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Deserialize;

use crate::variables::{ENV_PREFIX, Providers};

/// The parts of a runtime config postloan-host uses.
#[derive(Debug, Clone, Default)]
pub struct RuntimeConfigFile {
    /// Database files by SQLite label.
    pub sqlite_databases: BTreeMap<String, PathBuf>,
    /// Database files by key-value store label.
    pub key_value_stores: BTreeMap<String, PathBuf>,
    /// Where variable values come from.
    pub variables: Providers,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    sqlite_database: BTreeMap<String, SpinFile>,
    #[serde(default)]
    key_value_store: BTreeMap<String, SpinFile>,
    #[serde(default)]
    variables_provider: Vec<VariablesProvider>,
    #[serde(default)]
    config_provider: Vec<VariablesProvider>,
}

/// A store kept in a local SQLite file, Spin's `type = "spin"`.
#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
enum SpinFile {
    Spin { path: PathBuf },
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
enum VariablesProvider {
    Env {
        #[serde(default)]
        prefix: Option<String>,
    },
    Static {
        values: BTreeMap<String, String>,
    },
}

impl RuntimeConfigFile {
    /// Reads the runtime config at `path`; relative paths in it are resolved
    /// against its folder.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read runtime config {}", path.display()))?;
        let dir = path.parent().unwrap_or(Path::new("."));
        Self::parse(&text, dir)
            .with_context(|| format!("invalid runtime config {}", path.display()))
    }

    /// Parses runtime config `text`, resolving relative paths against `dir`.
    pub fn parse(text: &str, dir: &Path) -> Result<Self> {
        let raw: RawConfig = toml::from_str(text).context(
            "postloan-host supports `type = \"spin\"` stores and `env`/`static` variable providers",
        )?;
        let files = |stores: BTreeMap<String, SpinFile>| -> BTreeMap<String, PathBuf> {
            stores
                .into_iter()
                .map(|(label, SpinFile::Spin { path })| (label, dir.join(path)))
                .collect()
        };
        let mut variables = Providers::new(BTreeMap::new());
        for provider in raw
            .variables_provider
            .into_iter()
            .chain(raw.config_provider)
        {
            match provider {
                VariablesProvider::Env { prefix } => {
                    let prefix = prefix.map_or_else(|| ENV_PREFIX.to_owned(), |p| format!("{p}_"));
                    if !variables.env_prefixes.contains(&prefix) {
                        variables.env_prefixes.push(prefix);
                    }
                }
                VariablesProvider::Static { values } => {
                    for (name, value) in values {
                        variables.configured.entry(name).or_insert(value);
                    }
                }
            }
        }
        Ok(Self {
            sqlite_databases: files(raw.sqlite_database),
            key_value_stores: files(raw.key_value_store),
            variables,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_paths_and_providers() {
        let config = RuntimeConfigFile::parse(
            r#"
[sqlite_database.default]
type = "spin"
path = "db/app.db"

[key_value_store.cache]
type = "spin"
path = "/var/kv.db"

[[variables_provider]]
type = "env"
prefix = "MYAPP"

[[variables_provider]]
type = "static"
values = { host = "first" }

[[config_provider]]
type = "static"
values = { host = "second", port = "8080" }
"#,
            Path::new("/etc/app"),
        )
        .unwrap();
        assert_eq!(
            config.sqlite_databases["default"],
            Path::new("/etc/app/db/app.db")
        );
        assert_eq!(config.key_value_stores["cache"], Path::new("/var/kv.db"));
        assert_eq!(config.variables.env_prefixes, ["SPIN_VARIABLE_", "MYAPP_"]);
        assert_eq!(config.variables.configured["host"], "first");
        assert_eq!(config.variables.configured["port"], "8080");
    }

    #[test]
    fn unsupported_backends_are_named() {
        let err = RuntimeConfigFile::parse(
            "[key_value_store.default]\ntype = \"redis\"\nurl = \"redis://x\"\n",
            Path::new("."),
        )
        .unwrap_err();
        let err = format!("{err:#}");
        assert!(
            err.contains("unknown variant `redis`") && err.contains("line 2"),
            "{err}"
        );
    }
}
