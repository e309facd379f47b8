//! Loading a whole application: the manifest's components, each granted what
//! its `spin.toml` table asks for, prepared for every trigger that runs it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result};

use crate::compose::{compose, load_component};
use crate::cron::Schedule;
use crate::key_value::KeyValueAccess;
use crate::manifest::{Component, Manifest};
use crate::outbound::OutboundPolicy;
use crate::postgres::{PostgresAccess, PostgresPools};
use crate::redis::{RedisAccess, RedisConnections};
use crate::redis_trigger::Subscription;
use crate::runtime::{ComponentServices, PreparedComponent, Runtime, RuntimeConfig, TriggerKind};
use crate::runtime_config::RuntimeConfigFile;
use crate::sqlite::{DatabaseFiles, LabelAccess, SqliteAccess};
use crate::variables::{ComponentVariables, resolve_application};

/// Default state directory, like Spin's `.spin/`, relative to the manifest.
pub const DEFAULT_STATE_DIR: &str = ".postloan";

/// How to load an application.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// Runtime tunables.
    pub runtime: RuntimeConfig,
    /// Where SQLite and key-value files live unless the runtime config says otherwise.
    pub state_dir: PathBuf,
    /// The runtime config file, if one was given.
    pub runtime_config: RuntimeConfigFile,
}

/// An application ready to run: every triggered component prepared.
pub struct LoadedApp {
    /// The shared runtime.
    pub runtime: Arc<Runtime>,
    /// Components of `[[trigger.http]]` routes, by id.
    pub http_components: BTreeMap<String, PreparedComponent>,
    /// One per `[[trigger.redis]]`.
    pub subscriptions: Vec<Subscription>,
    /// One per `[[trigger.cron]]`.
    pub schedules: Vec<(PreparedComponent, Schedule)>,
}

impl LoadedApp {
    /// Loads every component a trigger of `manifest` runs.
    pub fn load(manifest: &Manifest, options: &LoadOptions) -> Result<Self> {
        let services = ServiceFactory::new(manifest, options)?;
        let runtime = Arc::new(Runtime::new(options.runtime.clone())?);
        let mut prepared = Preparer {
            manifest,
            services: &services,
            runtime: &runtime,
            done: BTreeMap::new(),
        };
        let mut http_components = BTreeMap::new();
        for trigger in &manifest.http_triggers {
            let component = prepared.get(&trigger.component, TriggerKind::Http)?;
            http_components.insert(trigger.component.clone(), component);
        }
        let mut subscriptions = Vec::new();
        for trigger in &manifest.redis_triggers {
            subscriptions.push(Subscription {
                address: trigger.address.clone(),
                channel: trigger.channel.clone(),
                component: prepared.get(&trigger.component, TriggerKind::Redis)?,
            });
        }
        let mut schedules = Vec::new();
        for trigger in &manifest.cron_triggers {
            let component = prepared.get(&trigger.component, TriggerKind::Cron)?;
            schedules.push((component, trigger.schedule.clone()));
        }
        Ok(Self {
            runtime,
            http_components,
            subscriptions,
            schedules,
        })
    }
}

/// Prepares each (component, trigger kind) pair once.
struct Preparer<'a> {
    manifest: &'a Manifest,
    services: &'a ServiceFactory,
    runtime: &'a Runtime,
    done: BTreeMap<(String, TriggerKind), PreparedComponent>,
}

impl Preparer<'_> {
    fn get(&mut self, id: &str, kind: TriggerKind) -> Result<PreparedComponent> {
        let key = (id.to_owned(), kind);
        if let Some(prepared) = self.done.get(&key) {
            return Ok(prepared.clone());
        }
        let component = self.manifest.component_by_id(id)?;
        let (mut bytes, mut deps) = load_component(component)?;
        if self.runtime.config().compose_dependencies {
            bytes = compose(id, bytes, &deps)?;
            deps.clear();
        }
        let services = self.services.for_component(component)?;
        let prepared = self
            .runtime
            .prepare_with_dependencies(id, &bytes, &deps, services, kind)?;
        self.done.insert(key, prepared.clone());
        Ok(prepared)
    }
}

/// Builds each component's [`ComponentServices`] from what the whole app shares.
struct ServiceFactory {
    sqlite: Arc<DatabaseFiles>,
    key_value: Arc<DatabaseFiles>,
    redis: Arc<RedisConnections>,
    postgres: Arc<PostgresPools>,
    variables: BTreeMap<String, String>,
}

impl ServiceFactory {
    fn new(manifest: &Manifest, options: &LoadOptions) -> Result<Self> {
        let config = &options.runtime_config;
        let variables = resolve_application(&manifest.variables, &config.variables, &|key| {
            std::env::var(key).ok()
        })
        .with_context(|| format!("cannot load {}", manifest.path.display()))?;
        let sqlite = labelled_files(
            manifest,
            |c| &c.sqlite_databases,
            &config.sqlite_databases,
            &options.state_dir,
            "sqlite",
        )?;
        let key_value = labelled_files(
            manifest,
            |c| &c.key_value_stores,
            &config.key_value_stores,
            &options.state_dir,
            "key_value",
        )?;
        Ok(Self {
            sqlite: Arc::new(sqlite),
            key_value: Arc::new(key_value),
            redis: Arc::new(RedisConnections::default()),
            postgres: Arc::new(PostgresPools::default()),
            variables,
        })
    }

    fn for_component(&self, component: &Component) -> Result<ComponentServices> {
        let variables =
            ComponentVariables::render(&component.id, &component.variables, &self.variables)?;
        let outbound = OutboundPolicy::new(&component.allowed_outbound_hosts);
        Ok(ComponentServices {
            sqlite: SqliteAccess::new(LabelAccess::new(
                &component.sqlite_databases,
                self.sqlite.clone(),
            )),
            key_value: KeyValueAccess::new(LabelAccess::new(
                &component.key_value_stores,
                self.key_value.clone(),
            )),
            variables: Arc::new(variables),
            redis: RedisAccess::new(outbound.clone(), self.redis.clone()),
            postgres: PostgresAccess::new(outbound.clone(), self.postgres.clone()),
            outbound,
        })
    }
}

/// The files of every label some component is granted, opened once to fail early.
fn labelled_files(
    manifest: &Manifest,
    granted: impl Fn(&Component) -> &Vec<String>,
    configured: &BTreeMap<String, PathBuf>,
    state_dir: &Path,
    kind: &str,
) -> Result<DatabaseFiles> {
    let labels: std::collections::BTreeSet<&str> = manifest
        .components
        .values()
        .flat_map(|c| granted(c).iter().map(String::as_str))
        .collect();
    for label in labels
        .iter()
        .filter(|l| **l != "default" && !configured.contains_key(**l))
    {
        eprintln!(
            "postloan-host: {kind} label `{label}` is not in the runtime config; using a file under {} (Spin needs it declared in its runtime config)",
            state_dir.display()
        );
    }
    let files = DatabaseFiles::new(labels, configured, state_dir, kind);
    files.check(kind)?;
    Ok(files)
}
