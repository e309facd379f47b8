//! Parsing of Spin application manifests (`spin.toml`, `spin_manifest_version = 2`).
//!
//! Only the subset postloan-host implements is modelled: HTTP, Redis and cron
//! triggers, application and component variables, and the SQLite databases
//! and key-value stores each component is granted. Keys that Spin
//! understands but this host does not implement (`environment`, `files`,
//! other trigger types, ...) are ignored so that the same manifest runs
//! unchanged on Spin.
//! Every error names the manifest file and, where the TOML parser or a span
//! gives one, the line and column.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::Deserialize;
use toml::Spanned;

use crate::cron::Schedule;
use crate::variables::{Template, VariableDefinition, is_valid_name};

/// A loaded and validated Spin manifest.
#[derive(Debug, Clone)]
pub struct Manifest {
    /// Path of the manifest file, as given.
    pub path: PathBuf,
    /// Directory that relative paths in the manifest are resolved against.
    pub dir: PathBuf,
    /// The `[application]` table.
    pub application: Application,
    /// The `[variables]` table: the application variables.
    pub variables: BTreeMap<String, VariableDefinition>,
    /// The `[[trigger.http]]` entries, in manifest order.
    pub http_triggers: Vec<HttpTrigger>,
    /// The `[[trigger.redis]]` entries, in manifest order.
    pub redis_triggers: Vec<RedisTrigger>,
    /// The `[[trigger.cron]]` entries, in manifest order.
    pub cron_triggers: Vec<CronTrigger>,
    /// The `[component.ID]` tables, keyed by component id.
    pub components: BTreeMap<String, Component>,
}

/// The `[application]` table.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Application {
    /// Application name.
    pub name: String,
    /// Application version, if given.
    #[serde(default)]
    pub version: Option<String>,
    /// Application description, if given.
    #[serde(default)]
    pub description: Option<String>,
    /// Application-level trigger settings (`[application.trigger.redis]`).
    #[serde(default)]
    pub trigger: ApplicationTriggers,
}

/// The `[application.trigger]` table.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ApplicationTriggers {
    /// `[application.trigger.redis]`.
    #[serde(default)]
    pub redis: Option<ApplicationRedis>,
}

/// The `[application.trigger.redis]` table.
#[derive(Debug, Clone, Deserialize)]
pub struct ApplicationRedis {
    /// Default Redis URL of the `[[trigger.redis]]` entries, e.g. `redis://localhost:6379`.
    pub address: String,
}

/// One `[[trigger.redis]]` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisTrigger {
    /// The channel to subscribe to.
    pub channel: String,
    /// Id of the component each message goes to.
    pub component: String,
    /// The Redis URL: the entry's own `address`, else the application's.
    pub address: String,
}

/// One `[[trigger.cron]]` entry.
#[derive(Debug, Clone)]
pub struct CronTrigger {
    /// Id of the component the schedule runs.
    pub component: String,
    /// The parsed `cron_expression`.
    pub schedule: Schedule,
}

/// One `[[trigger.http]]` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpTrigger {
    /// The route pattern, e.g. `/v1/...` or `/health`.
    pub route: String,
    /// Id of the component handling the route.
    pub component: String,
}

/// One `[component.ID]` table.
#[derive(Debug, Clone)]
pub struct Component {
    /// The component id (the table key).
    pub id: String,
    /// Absolute (manifest-dir-joined) path of the component's Wasm file.
    pub source: PathBuf,
    /// Hosts the component may make outbound requests to.
    pub allowed_outbound_hosts: Vec<String>,
    /// The `[component.ID.build]` table, if any.
    pub build: Option<BuildConfig>,
    /// The `[component.ID.dependencies]` table.
    pub dependencies: Vec<Dependency>,
    /// SQLite database labels the component may open (`sqlite_databases`).
    pub sqlite_databases: Vec<String>,
    /// Key-value store labels the component may open (`key_value_stores`).
    pub key_value_stores: Vec<String>,
    /// The `[component.ID.variables]` templates.
    pub variables: BTreeMap<String, Template>,
}

/// The `[component.ID.build]` table.
#[derive(Debug, Clone, Deserialize)]
pub struct BuildConfig {
    /// Shell command to run.
    pub command: String,
    /// Working directory, relative to the manifest directory.
    #[serde(default)]
    pub workdir: Option<String>,
    /// Globs `spin watch` watches; kept for completeness.
    #[serde(default)]
    pub watch: Vec<String>,
}

/// One entry of `[component.ID.dependencies]`.
#[derive(Debug, Clone)]
pub struct Dependency {
    /// The parsed key, e.g. `postloan:overdue/overdue`.
    pub name: DependencyName,
    /// Absolute path of the dependency's Wasm file.
    pub path: PathBuf,
    /// Export of the dependency to use instead of the matched import name.
    pub export: Option<String>,
}

/// A dependency key as Spin 3 accepts it.
///
/// * `foo-bar` — a plain (kebab) import name;
/// * `ns:pkg/iface`, `ns:pkg/iface@1.2.3` — one interface;
/// * `ns:pkg`, `ns:pkg@1.2.3` — every import of that package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DependencyName {
    /// A plain kebab-case import name.
    Plain(String),
    /// A package (optionally interface) name, optionally versioned.
    Package {
        /// `namespace:name`.
        package: String,
        /// Interface name, if the key names one.
        interface: Option<String>,
        /// Exact version, if the key names one.
        version: Option<String>,
    },
}

impl DependencyName {
    /// Parses a dependency key.
    pub fn parse(key: &str) -> Result<Self> {
        if !key.contains(':') {
            if key.contains(['/', '@']) || !is_kebab(key) {
                bail!(
                    "invalid dependency name `{key}`: expected `ns:pkg/iface[@x.y.z]`, `ns:pkg[@x.y.z]` or a kebab-case name"
                );
            }
            return Ok(Self::Plain(key.to_owned()));
        }
        let (rest, version) = match key.split_once('@') {
            Some((rest, version)) => {
                if !is_version(version) {
                    bail!("invalid version `{version}` in dependency name `{key}`");
                }
                (rest, Some(version.to_owned()))
            }
            None => (key, None),
        };
        let (package, interface) = match rest.split_once('/') {
            Some((package, interface)) => (package, Some(interface.to_owned())),
            None => (rest, None),
        };
        let valid_package = package
            .split_once(':')
            .is_some_and(|(ns, name)| is_kebab(ns) && is_kebab(name));
        if !valid_package || interface.as_deref().is_some_and(|i| !is_kebab(i)) {
            bail!(
                "invalid dependency name `{key}`: expected `ns:pkg/iface[@x.y.z]` or `ns:pkg[@x.y.z]`"
            );
        }
        Ok(Self::Package {
            package: package.to_owned(),
            interface,
            version,
        })
    }

    /// Whether this dependency satisfies the component import called `import_name`
    /// (e.g. `postloan:overdue/overdue@0.1.0`), following Spin's rules: the package
    /// must be equal; an interface in the key must be equal; a version in the key
    /// must be equal (a key without version matches any version).
    pub fn matches_import(&self, import_name: &str) -> bool {
        match self {
            Self::Plain(name) => name == import_name,
            Self::Package {
                package,
                interface,
                version,
            } => {
                let Some((import_package, rest)) = import_name.split_once('/') else {
                    return false;
                };
                let (import_interface, import_version) = match rest.split_once('@') {
                    Some((i, v)) => (i, Some(v)),
                    None => (rest, None),
                };
                import_package == package
                    && interface.as_deref().is_none_or(|i| i == import_interface)
                    && version.as_deref().is_none_or(|v| Some(v) == import_version)
            }
        }
    }

    /// The order in which Spin composes dependencies: its locked app keeps them in a
    /// `BTreeMap` of dependency names, plain names first, then by package, version and
    /// interface.
    pub fn spin_order(&self, other: &Self) -> std::cmp::Ordering {
        let key = |name: &Self| match name {
            Self::Plain(plain) => (false, plain.clone(), None, None),
            Self::Package {
                package,
                interface,
                version,
            } => (true, package.clone(), version.clone(), interface.clone()),
        };
        key(self).cmp(&key(other))
    }

    /// The name Spin registers this dependency under in its composition graph: the
    /// package alone (no interface, no version), or the plain name.
    pub fn package_name(&self) -> &str {
        match self {
            Self::Plain(name) => name,
            Self::Package { package, .. } => package,
        }
    }
}

impl fmt::Display for DependencyName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Plain(name) => f.write_str(name),
            Self::Package {
                package,
                interface,
                version,
            } => {
                f.write_str(package)?;
                if let Some(i) = interface {
                    write!(f, "/{i}")?;
                }
                if let Some(v) = version {
                    write!(f, "@{v}")?;
                }
                Ok(())
            }
        }
    }
}

fn is_kebab(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with('-')
        && !s.ends_with('-')
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

fn is_version(s: &str) -> bool {
    let core = s.split(['-', '+']).next().unwrap_or_default();
    let parts: Vec<&str> = core.split('.').collect();
    parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
}

// ---- raw serde model -------------------------------------------------------

#[derive(Deserialize)]
struct RawManifest {
    spin_manifest_version: Spanned<toml::Value>,
    #[serde(default)]
    application: Option<Application>,
    #[serde(default)]
    variables: BTreeMap<String, Spanned<RawVariable>>,
    #[serde(default)]
    trigger: RawTriggers,
    #[serde(default)]
    component: BTreeMap<String, Spanned<RawComponent>>,
}

#[derive(Deserialize, Default)]
struct RawTriggers {
    #[serde(default)]
    http: Vec<Spanned<RawHttpTrigger>>,
    #[serde(default)]
    redis: Vec<Spanned<RawRedisTrigger>>,
    #[serde(default)]
    cron: Vec<Spanned<RawCronTrigger>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawVariable {
    #[serde(default)]
    default: Option<String>,
    #[serde(default)]
    required: bool,
    #[serde(default)]
    secret: bool,
}

#[derive(Deserialize)]
struct RawRedisTrigger {
    channel: String,
    component: Spanned<String>,
    #[serde(default)]
    address: Option<String>,
}

#[derive(Deserialize)]
struct RawCronTrigger {
    component: Spanned<String>,
    cron_expression: Spanned<String>,
}

#[derive(Deserialize)]
struct RawHttpTrigger {
    route: Spanned<toml::Value>,
    component: Spanned<toml::Value>,
}

#[derive(Deserialize)]
struct RawComponent {
    source: Spanned<toml::Value>,
    #[serde(default)]
    allowed_outbound_hosts: Vec<String>,
    #[serde(default)]
    build: Option<BuildConfig>,
    #[serde(default)]
    dependencies: BTreeMap<String, Spanned<toml::Value>>,
    #[serde(default)]
    sqlite_databases: Vec<String>,
    #[serde(default)]
    key_value_stores: Vec<String>,
    #[serde(default)]
    variables: BTreeMap<String, Spanned<String>>,
    // Read only to refuse, as Spin does, a component with them used as a dependency.
    #[serde(default)]
    environment: BTreeMap<String, String>,
    #[serde(default)]
    files: Vec<toml::Value>,
    #[serde(default)]
    ai_models: Vec<String>,
    #[serde(default)]
    allowed_http_hosts: Vec<String>,
}

impl RawComponent {
    /// What a component used as a dependency (`{ component = "ID" }`) may not have, in the
    /// order of Spin's message (`spin-manifest`, `ensure_is_acceptable_dependency`): a
    /// dependency runs with no resources or permissions of its own.
    fn resources(&self) -> Vec<&'static str> {
        [
            ("ai_models", !self.ai_models.is_empty()),
            ("allowed_http_hosts", !self.allowed_http_hosts.is_empty()),
            (
                "allowed_outbound_hosts",
                !self.allowed_outbound_hosts.is_empty(),
            ),
            ("dependencies", !self.dependencies.is_empty()),
            ("environment", !self.environment.is_empty()),
            ("files", !self.files.is_empty()),
            ("key_value_stores", !self.key_value_stores.is_empty()),
            ("sqlite_databases", !self.sqlite_databases.is_empty()),
            ("variables", !self.variables.is_empty()),
        ]
        .into_iter()
        .filter_map(|(name, present)| present.then_some(name))
        .collect()
    }
}

/// What `{ component = "ID" }` dependencies may refer to: each component's local source
/// path, or the resources that keep it from being a dependency (`None`: no local source).
type DependencySources = BTreeMap<String, Result<PathBuf, Option<Vec<&'static str>>>>;

/// Error helper that renders `file:line:col: message`.
struct Located<'a> {
    path: &'a Path,
    text: &'a str,
}

impl Located<'_> {
    fn err(&self, span: Range<usize>, msg: impl fmt::Display) -> anyhow::Error {
        let (line, col) = line_col(self.text, span.start);
        anyhow::anyhow!(
            "invalid manifest {}: line {line}, column {col}: {msg}",
            self.path.display()
        )
    }
}

/// 1-based line and column of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

impl Manifest {
    /// Reads and validates the manifest at `path`.
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read manifest {}", path.display()))?;
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        Self::parse(&text, path, &dir)
    }

    /// Parses manifest `text`; `path` is used in error messages and `dir` to
    /// resolve relative paths.
    pub fn parse(text: &str, path: &Path, dir: &Path) -> Result<Self> {
        let loc = Located { path, text };
        let raw: RawManifest = toml::from_str(text).map_err(|e| {
            let msg = e.message().to_owned();
            match e.span() {
                Some(span) => loc.err(span, msg),
                None => anyhow::anyhow!("invalid manifest {}: {msg}", path.display()),
            }
        })?;

        let version = &raw.spin_manifest_version;
        if version.get_ref().as_integer() != Some(2) {
            return Err(loc.err(
                version.span(),
                format!(
                    "spin_manifest_version must be 2 (postloan-host supports only manifest version 2), found {}",
                    version.get_ref()
                ),
            ));
        }

        let variables = Self::variables(&loc, raw.variables)?;
        let sources = Self::dependency_sources(dir, &raw.component);
        let mut components = BTreeMap::new();
        for (id, raw_component) in raw.component {
            let span = raw_component.span();
            let component = Self::component(
                &loc,
                dir,
                &id,
                &variables,
                &sources,
                raw_component.into_inner(),
            )
            .map_err(|e| match e.downcast::<LocatedError>() {
                Ok(located) => located.0,
                Err(e) => loc.err(span.clone(), format!("component `{id}`: {e:#}")),
            })?;
            components.insert(id, component);
        }

        let mut http_triggers = Vec::new();
        for trigger in raw.trigger.http {
            let trigger = trigger.into_inner();
            let route = match trigger.route.get_ref() {
                toml::Value::String(route) => route.clone(),
                toml::Value::Table(t) if t.get("private").is_some() => {
                    return Err(loc.err(
                        trigger.route.span(),
                        "private routes (`route = { private = true }`) are not supported by postloan-host",
                    ));
                }
                other => {
                    return Err(loc.err(
                        trigger.route.span(),
                        format!("route must be a string such as \"/api/...\", found {other}"),
                    ));
                }
            };
            let component = match trigger.component.get_ref() {
                toml::Value::String(id) => id.clone(),
                toml::Value::Table(_) => {
                    return Err(loc.err(
                        trigger.component.span(),
                        "inline component tables in [[trigger.http]] are not supported by postloan-host; declare a [component.ID] table and reference it by id",
                    ));
                }
                other => {
                    return Err(loc.err(
                        trigger.component.span(),
                        format!("component must be a component id string, found {other}"),
                    ));
                }
            };
            if !components.contains_key(&component) {
                return Err(loc.err(
                    trigger.component.span(),
                    format!(
                        "trigger for route `{route}` references unknown component `{component}`"
                    ),
                ));
            }
            http_triggers.push(HttpTrigger { route, component });
        }

        let application = raw.application.unwrap_or_default();
        let default_address = application
            .trigger
            .redis
            .as_ref()
            .map(|r| r.address.clone());
        let redis_triggers =
            Self::redis_triggers(&loc, raw.trigger.redis, default_address, &components)?;
        let cron_triggers = Self::cron_triggers(&loc, raw.trigger.cron, &components)?;
        Ok(Self {
            path: path.to_path_buf(),
            dir: dir.to_path_buf(),
            application,
            variables,
            http_triggers,
            redis_triggers,
            cron_triggers,
            components,
        })
    }

    fn variables(
        loc: &Located<'_>,
        raw: BTreeMap<String, Spanned<RawVariable>>,
    ) -> Result<BTreeMap<String, VariableDefinition>> {
        let mut variables = BTreeMap::new();
        for (name, raw) in raw {
            let span = raw.span();
            let raw = raw.into_inner();
            if !is_valid_name(&name) {
                return Err(loc.err(span, format!("variable `{name}`: names are lowercase letters, digits and single `_`, starting with a letter")));
            }
            if raw.required == raw.default.is_some() {
                return Err(loc.err(
                    span,
                    format!("variable `{name}` must have either a `default` or `required = true`"),
                ));
            }
            let definition = VariableDefinition {
                default: raw.default,
                required: raw.required,
                secret: raw.secret,
            };
            variables.insert(name, definition);
        }
        Ok(variables)
    }

    fn known_component(
        loc: &Located<'_>,
        components: &BTreeMap<String, Component>,
        id: &Spanned<String>,
        trigger: &str,
    ) -> Result<String> {
        if components.contains_key(id.get_ref()) {
            return Ok(id.get_ref().clone());
        }
        Err(loc.err(
            id.span(),
            format!("{trigger} references unknown component `{}`", id.get_ref()),
        ))
    }

    fn redis_triggers(
        loc: &Located<'_>,
        raw: Vec<Spanned<RawRedisTrigger>>,
        default_address: Option<String>,
        components: &BTreeMap<String, Component>,
    ) -> Result<Vec<RedisTrigger>> {
        let mut triggers = Vec::new();
        for trigger in raw {
            let span = trigger.span();
            let trigger = trigger.into_inner();
            let what = format!("[[trigger.redis]] for channel `{}`", trigger.channel);
            let component = Self::known_component(loc, components, &trigger.component, &what)?;
            let Some(address) = trigger.address.or_else(|| default_address.clone()) else {
                return Err(loc.err(span, format!("{what} has no `address` and there is no [application.trigger.redis] address")));
            };
            triggers.push(RedisTrigger {
                channel: trigger.channel,
                component,
                address,
            });
        }
        Ok(triggers)
    }

    fn cron_triggers(
        loc: &Located<'_>,
        raw: Vec<Spanned<RawCronTrigger>>,
        components: &BTreeMap<String, Component>,
    ) -> Result<Vec<CronTrigger>> {
        let mut triggers = Vec::new();
        for trigger in raw {
            let trigger = trigger.into_inner();
            let component =
                Self::known_component(loc, components, &trigger.component, "[[trigger.cron]]")?;
            let expression = &trigger.cron_expression;
            let schedule = Schedule::parse(expression.get_ref())
                .map_err(|e| loc.err(expression.span(), format!("{e:#}")))?;
            triggers.push(CronTrigger {
                component,
                schedule,
            });
        }
        Ok(triggers)
    }

    /// The source of the component `other` that the component `id` names as a dependency
    /// (`{ component = "other" }`), refused as Spin refuses it (`spin-manifest`'s
    /// `normalize_dependency_component_refs`) when it does not exist or has resources.
    fn component_dependency(id: &str, other: &str, sources: &DependencySources) -> Result<PathBuf> {
        match sources.get(other) {
            None => bail!("dependency ID {other} does not exist"),
            Some(Err(Some(resources))) => bail!(
                "Dependencies may not have their own resources or permissions. Component {other} cannot be used as a dependency of {id} because it specifies: {}",
                resources.join(", ")
            ),
            Some(Err(None)) => bail!(
                "component {other} has no local `source`: as a dependency, not supported by postloan-host"
            ),
            Some(Ok(path)) => Ok(path.clone()),
        }
    }

    fn component_variables(
        loc: &Located<'_>,
        id: &str,
        app_variables: &BTreeMap<String, VariableDefinition>,
        raw: BTreeMap<String, Spanned<String>>,
    ) -> Result<BTreeMap<String, Template>> {
        let mut templates = BTreeMap::new();
        for (name, text) in raw {
            let located = |msg: String| -> anyhow::Error {
                LocatedError(loc.err(
                    text.span(),
                    format!("component `{id}` variable `{name}`: {msg}"),
                ))
                .into()
            };
            if !is_valid_name(&name) {
                return Err(located("not a valid variable name".into()));
            }
            let template =
                Template::parse(text.get_ref()).map_err(|e| located(format!("{e:#}")))?;
            if let Some(unknown) = template
                .references()
                .find(|r| !app_variables.contains_key(*r))
            {
                return Err(located(format!(
                    "refers to `{unknown}`, which is not in [variables]"
                )));
            }
            templates.insert(name, template);
        }
        Ok(templates)
    }

    /// Each component's source, for `{ component = "ID" }` dependencies, or Spin's reason
    /// for refusing it as one.
    fn dependency_sources(
        dir: &Path,
        raw: &BTreeMap<String, Spanned<RawComponent>>,
    ) -> DependencySources {
        raw.iter()
            .map(|(id, component)| {
                let component = component.get_ref();
                let resources = component.resources();
                let source = match component.source.get_ref() {
                    _ if !resources.is_empty() => Err(Some(resources)),
                    toml::Value::String(path) => Ok(dir.join(path)),
                    _ => Err(None),
                };
                (id.clone(), source)
            })
            .collect()
    }

    fn component(
        loc: &Located<'_>,
        dir: &Path,
        id: &str,
        app_variables: &BTreeMap<String, VariableDefinition>,
        sources: &DependencySources,
        raw: RawComponent,
    ) -> Result<Component> {
        let source = match raw.source.get_ref() {
            toml::Value::String(p) => dir.join(p),
            toml::Value::Table(t) if t.contains_key("url") => {
                return Err(LocatedError(loc.err(
                    raw.source.span(),
                    format!("component `{id}`: `source = {{ url, digest }}` is not supported by postloan-host; build or download the Wasm file and use a path"),
                ))
                .into());
            }
            other => {
                return Err(LocatedError(loc.err(
                    raw.source.span(),
                    format!("component `{id}`: `source` must be a path to a .wasm file, found {other} (not supported by postloan-host)"),
                ))
                .into());
            }
        };

        let mut dependencies = Vec::new();
        for (key, value) in raw.dependencies {
            let span = value.span();
            let name = DependencyName::parse(&key).map_err(|e| {
                LocatedError(loc.err(span.clone(), format!("component `{id}`: {e:#}")))
            })?;
            let not_supported = |what: &str| {
                LocatedError(loc.err(
                    span.clone(),
                    format!("component `{id}`: dependency `{key}`: {what} is not supported by postloan-host; use `{{ path = \"...\" }}`"),
                ))
            };
            let table = match value.get_ref() {
                toml::Value::Table(t) => t,
                toml::Value::String(_) => return Err(not_supported("a registry version").into()),
                _ => return Err(not_supported("this kind of dependency").into()),
            };
            let path = match (table.get("path"), table.get("component")) {
                (Some(toml::Value::String(path)), None) => dir.join(path),
                (None, Some(toml::Value::String(other))) => {
                    Self::component_dependency(id, other, sources).map_err(|e| {
                        LocatedError(loc.err(span.clone(), format!("component `{id}`: {e}")))
                    })?
                }
                (Some(_), _) => return Err(not_supported("a non-string `path`").into()),
                (None, Some(_)) => return Err(not_supported("a non-string `component`").into()),
                (None, None) if table.contains_key("url") => {
                    return Err(not_supported("a `url` source").into());
                }
                (None, None) => return Err(not_supported("a registry package").into()),
            };
            let export = match table.get("export") {
                None => None,
                Some(toml::Value::String(e)) => Some(e.clone()),
                Some(_) => return Err(not_supported("a non-string `export`").into()),
            };
            dependencies.push(Dependency { name, path, export });
        }

        let variables = Self::component_variables(loc, id, app_variables, raw.variables)?;
        Ok(Component {
            id: id.to_owned(),
            source,
            allowed_outbound_hosts: raw.allowed_outbound_hosts,
            build: raw.build,
            dependencies,
            sqlite_databases: raw.sqlite_databases,
            key_value_stores: raw.key_value_stores,
            variables,
        })
    }

    /// Looks up a component by id, with an error listing the known ids.
    pub fn component_by_id(&self, id: &str) -> Result<&Component> {
        self.components.get(id).with_context(|| {
            let known: Vec<&str> = self.components.keys().map(String::as_str).collect();
            format!(
                "manifest {} has no component `{id}` (components: {})",
                self.path.display(),
                known.join(", ")
            )
        })
    }
}

/// An error that already carries its location.
#[derive(Debug)]
struct LocatedError(anyhow::Error);

impl fmt::Display for LocatedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#}", self.0)
    }
}

impl std::error::Error for LocatedError {}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Manifest> {
        Manifest::parse(text, Path::new("spin.toml"), Path::new("/app"))
    }

    const GOOD: &str = r#"
spin_manifest_version = 2

[application]
name = "demo"
version = "0.1.0"

[application.trigger.redis]
address = "redis://localhost:6379"

[variables]
token = { required = true, secret = true }
host = { default = "example.com" }

[[trigger.http]]
route = "/v1/..."
component = "api"

[[trigger.redis]]
channel = "x"
component = "api"

[[trigger.redis]]
channel = "y"
component = "api"
address = "redis://other:6380"

[[trigger.cron]]
component = "api"
cron_expression = "*/5 * * * * *"

[[trigger.mqtt]]
component = "api"

[component.api]
source = "target/api.wasm"
allowed_outbound_hosts = ["https://example.com"]
key_value_stores = ["default"]
sqlite_databases = ["default", "audit"]
environment = { A = "b" }

[component.api.variables]
url = "https://{{ host }}/v1"

[component.api.build]
command = "cargo build"
watch = ["src/**/*.rs"]

[component.api.dependencies]
"postloan:overdue/overdue" = { path = "target/overdue.wasm" }
"postloan:util@1.0.0" = { path = "target/util.wasm", export = "x:y/z" }
"#;

    #[test]
    fn parses_supported_subset_and_ignores_the_rest() {
        let m = parse(GOOD).unwrap();
        assert_eq!(m.application.name, "demo");
        assert_eq!(
            m.http_triggers,
            vec![HttpTrigger {
                route: "/v1/...".into(),
                component: "api".into()
            }]
        );
        let api = m.component_by_id("api").unwrap();
        assert_eq!(api.source, Path::new("/app/target/api.wasm"));
        assert_eq!(api.allowed_outbound_hosts, vec!["https://example.com"]);
        assert_eq!(api.build.as_ref().unwrap().command, "cargo build");
        assert_eq!(api.dependencies.len(), 2);
        assert_eq!(
            api.dependencies[0].name.to_string(),
            "postloan:overdue/overdue"
        );
        assert_eq!(api.dependencies[1].export.as_deref(), Some("x:y/z"));
        assert_eq!(api.sqlite_databases, ["default", "audit"]);
        assert_eq!(api.key_value_stores, ["default"]);
        assert_eq!(
            api.variables["url"].references().collect::<Vec<_>>(),
            ["host"]
        );
        assert!(m.variables["token"].required && m.variables["token"].secret);
        assert_eq!(m.variables["host"].default.as_deref(), Some("example.com"));
        let addresses: Vec<(&str, &str)> = m
            .redis_triggers
            .iter()
            .map(|t| (t.channel.as_str(), t.address.as_str()))
            .collect();
        assert_eq!(
            addresses,
            [("x", "redis://localhost:6379"), ("y", "redis://other:6380")]
        );
        assert_eq!(m.cron_triggers.len(), 1);
        assert_eq!(m.cron_triggers[0].component, "api");
    }

    #[test]
    fn a_bad_cron_expression_names_its_line() {
        let text = "spin_manifest_version = 2\n[component.a]\nsource = \"a.wasm\"\n[[trigger.cron]]\ncomponent = \"a\"\ncron_expression = \"61 * * * * *\"\n";
        let err = format!("{:#}", parse(text).unwrap_err());
        assert!(err.contains("line 6") && err.contains("cron"), "{err}");
    }

    #[test]
    fn a_redis_trigger_needs_an_address() {
        let text = "spin_manifest_version = 2\n[component.a]\nsource = \"a.wasm\"\n[[trigger.redis]]\nchannel = \"c\"\ncomponent = \"a\"\n";
        let err = format!("{:#}", parse(text).unwrap_err());
        assert!(err.contains("line 4") && err.contains("address"), "{err}");
    }

    #[test]
    fn variables_are_checked_with_their_line() {
        let text =
            "spin_manifest_version = 2\n[variables]\nhost = { default = \"h\", required = true }\n";
        let err = format!("{:#}", parse(text).unwrap_err());
        assert!(err.contains("line 3") && err.contains("either"), "{err}");

        let text = "spin_manifest_version = 2\n[component.a]\nsource = \"a.wasm\"\n[component.a.variables]\nurl = \"{{ nope }}\"\n";
        let err = format!("{:#}", parse(text).unwrap_err());
        assert!(err.contains("line 5") && err.contains("`nope`"), "{err}");
    }

    #[test]
    fn syntax_error_names_file_and_line() {
        let text = "spin_manifest_version = 2\n[application]\nname = \"x\"\nversion = \n";
        let err = format!("{:#}", parse(text).unwrap_err());
        assert!(err.contains("spin.toml"), "{err}");
        assert!(err.contains("line 4"), "{err}");
    }

    #[test]
    fn wrong_type_names_line() {
        let text = "spin_manifest_version = 2\n\n[[trigger.http]]\nroute = 5\ncomponent = \"a\"\n";
        let err = format!("{:#}", parse(text).unwrap_err());
        assert!(err.contains("line 4"), "{err}");
    }

    #[test]
    fn version_must_be_two() {
        let err = format!("{:#}", parse("spin_manifest_version = 1\n").unwrap_err());
        assert!(err.contains("line 1") && err.contains("must be 2"), "{err}");
    }

    #[test]
    fn unknown_component_and_inline_component_are_errors() {
        let text =
            "spin_manifest_version = 2\n[[trigger.http]]\nroute = \"/\"\ncomponent = \"nope\"\n";
        let err = format!("{:#}", parse(text).unwrap_err());
        assert!(
            err.contains("unknown component `nope`") && err.contains("line 4"),
            "{err}"
        );

        let text = "spin_manifest_version = 2\n[[trigger.http]]\nroute = \"/\"\ncomponent = { source = \"a.wasm\" }\n";
        let err = format!("{:#}", parse(text).unwrap_err());
        assert!(err.contains("inline component"), "{err}");
    }

    #[test]
    fn url_source_is_not_supported() {
        let text = "spin_manifest_version = 2\n[component.a]\nsource = { url = \"https://x/a.wasm\", digest = \"sha256:00\" }\n";
        let err = format!("{:#}", parse(text).unwrap_err());
        assert!(
            err.contains("not supported by postloan-host") && err.contains("line 3"),
            "{err}"
        );
    }

    #[test]
    fn bad_dependency_key_is_an_error() {
        let text = "spin_manifest_version = 2\n[component.a]\nsource = \"a.wasm\"\n[component.a.dependencies]\n\"Not Valid/\" = { path = \"b.wasm\" }\n";
        let err = format!("{:#}", parse(text).unwrap_err());
        assert!(
            err.contains("invalid dependency name") && err.contains("line 5"),
            "{err}"
        );
    }

    #[test]
    fn dependency_key_matching() {
        let cases = [
            ("foo:bar/baz@0.1.0", "foo:bar/baz@0.1.0", true),
            ("foo:bar/baz", "foo:bar/baz@0.1.0", true),
            ("foo:bar/baz", "foo:bar/baz", true),
            ("foo:bar", "foo:bar/baz@0.1.0", true),
            ("foo:bar", "foo:bar/baz", true),
            ("foo:bar@0.1.0", "foo:bar/baz@0.1.0", true),
            ("foo-bar", "foo-bar", true),
            ("foo:bar/baz@0.1.0", "foo:bar/baz", false),
            ("foo:bar/baz", "foo:bar/bub", false),
            ("foo:bar/baz", "foo:bar/bub@0.1.0", false),
            ("foo:bar", "foo:bub/bib", false),
            ("foo:bar@0.1.0", "foo:bar/baz", false),
            ("foo:bar/baz", "foo:bar/baz-bub", false),
            ("foo:bar/baz", "foo-bar", false),
        ];
        for (key, import, expected) in cases {
            let name = DependencyName::parse(key).unwrap();
            assert_eq!(name.matches_import(import), expected, "{key} vs {import}");
        }
    }

    #[test]
    fn line_col_is_one_based() {
        assert_eq!(line_col("ab\ncd", 0), (1, 1));
        assert_eq!(line_col("ab\ncd", 4), (2, 2));
    }
}
