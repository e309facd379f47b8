//! Application variables for `fermyon:spin/variables@2.0.0`.
//!
//! `spin.toml` declares application variables (`[variables]`, each with a
//! `default` or `required = true`, optionally `secret = true`) and gives each
//! component its own variables as templates over them
//! (`[component.ID.variables] api_url = "https://{{ host }}/v1"`). Values
//! come, highest priority first, from the environment (`SPIN_VARIABLE_<NAME>`,
//! as Spin reads them), then the runtime config's providers, then the
//! default. Everything is resolved when the app loads, so a missing required
//! value stops the host before it serves anything.

use std::collections::BTreeMap;

use anyhow::{Result, bail};

/// The environment prefix Spin reads variable values from.
pub const ENV_PREFIX: &str = "SPIN_VARIABLE_";

/// One `[variables]` entry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VariableDefinition {
    /// The value used when no provider has one.
    pub default: Option<String>,
    /// Whether the app refuses to start without a value.
    pub required: bool,
    /// Whether the value must never be logged.
    pub secret: bool,
}

/// Whether `name` is a valid variable name as Spin accepts it: lowercase
/// ASCII letters, digits and single underscores, starting with a letter.
pub fn is_valid_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_lowercase())
        && !name.ends_with('_')
        && !name.contains("__")
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// One piece of a component variable template.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Literal(String),
    Variable(String),
}

/// A component variable's template: literal text and `{{ name }}` references.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    parts: Vec<Part>,
}

impl Template {
    /// Parses `text`; fails on an unclosed `{{` or an invalid name inside one.
    pub fn parse(text: &str) -> Result<Self> {
        let mut parts = Vec::new();
        let mut rest = text;
        while let Some(open) = rest.find("{{") {
            if open > 0 {
                parts.push(Part::Literal(rest[..open].to_owned()));
            }
            let after = &rest[open + 2..];
            let Some(close) = after.find("}}") else {
                bail!("unclosed `{{{{` in `{text}`");
            };
            let name = after[..close].trim();
            if !is_valid_name(name) {
                bail!(
                    "`{name}` in `{text}` is not a valid variable name (lowercase letters, digits and `_`, starting with a letter)"
                );
            }
            parts.push(Part::Variable(name.to_owned()));
            rest = &after[close + 2..];
        }
        if !rest.is_empty() {
            parts.push(Part::Literal(rest.to_owned()));
        }
        Ok(Self { parts })
    }

    /// The application variables the template refers to.
    pub fn references(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|part| match part {
            Part::Variable(name) => Some(name.as_str()),
            Part::Literal(_) => None,
        })
    }

    fn render(&self, values: &BTreeMap<String, String>) -> Option<String> {
        self.parts
            .iter()
            .map(|part| match part {
                Part::Literal(text) => Some(text.as_str()),
                Part::Variable(name) => values.get(name).map(String::as_str),
            })
            .collect()
    }
}

/// Where values come from, besides defaults: the environment and the
/// runtime config's static values.
#[derive(Debug, Clone)]
pub struct Providers {
    /// Values from the runtime config file, by variable name.
    pub configured: BTreeMap<String, String>,
    /// Environment prefixes to read, in priority order (Spin's is [`ENV_PREFIX`]).
    pub env_prefixes: Vec<String>,
}

/// Without a runtime config, values still come from the environment, as on Spin.
impl Default for Providers {
    fn default() -> Self {
        Self::new(BTreeMap::new())
    }
}

impl Providers {
    /// The environment provider with Spin's prefix, and `configured` values.
    pub fn new(configured: BTreeMap<String, String>) -> Self {
        Self {
            configured,
            env_prefixes: vec![ENV_PREFIX.to_owned()],
        }
    }

    fn lookup(&self, name: &str, env: &dyn Fn(&str) -> Option<String>) -> Option<String> {
        self.env_prefixes
            .iter()
            .find_map(|prefix| env(&format!("{prefix}{}", name.to_ascii_uppercase())))
            .or_else(|| self.configured.get(name).cloned())
    }
}

/// Resolves every application variable: provider value, else default; a
/// required variable without a value is an error naming it.
pub fn resolve_application(
    definitions: &BTreeMap<String, VariableDefinition>,
    providers: &Providers,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<BTreeMap<String, String>> {
    let mut values = BTreeMap::new();
    for (name, definition) in definitions {
        match providers
            .lookup(name, env)
            .or_else(|| definition.default.clone())
        {
            Some(value) => {
                values.insert(name.clone(), value);
            }
            None if definition.required => bail!(
                "application variable `{name}` is required but has no value: set {ENV_PREFIX}{} or give it in the runtime config",
                name.to_ascii_uppercase()
            ),
            None => {}
        }
    }
    Ok(values)
}

/// Why the guest could not read a variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VariableError {
    /// Not a valid variable name.
    InvalidName(String),
    /// The component has no such variable.
    Undefined(String),
}

/// One component's variables, rendered.
#[derive(Debug, Clone, Default)]
pub struct ComponentVariables {
    values: BTreeMap<String, String>,
}

impl ComponentVariables {
    /// Renders each of the component's `templates` over the application's `values`.
    pub fn render(
        component: &str,
        templates: &BTreeMap<String, Template>,
        values: &BTreeMap<String, String>,
    ) -> Result<Self> {
        let mut rendered = BTreeMap::new();
        for (name, template) in templates {
            let Some(value) = template.render(values) else {
                bail!(
                    "component `{component}` variable `{name}` refers to an application variable without a value"
                );
            };
            rendered.insert(name.clone(), value);
        }
        Ok(Self { values: rendered })
    }

    /// The value of `name`, as the guest's `variables.get` returns it.
    pub fn get(&self, name: &str) -> Result<String, VariableError> {
        if !is_valid_name(name) {
            return Err(VariableError::InvalidName(name.to_owned()));
        }
        self.values
            .get(name)
            .cloned()
            .ok_or_else(|| VariableError::Undefined(name.to_owned()))
    }
}

/// The adapter between [`ComponentVariables`] and the generated `fermyon:spin/variables` traits.
pub mod binding {
    use wasmtime::component::{HasData, Linker};

    use super::{ComponentVariables, VariableError};
    use crate::bindings::services::fermyon::spin2_0_0::variables::{self, Error};

    /// What a store lends the variables binding for one call.
    pub struct VariablesView<'a> {
        /// The component's variables.
        pub variables: &'a ComponentVariables,
    }

    struct Binding;

    impl HasData for Binding {
        type Data<'a> = VariablesView<'a>;
    }

    /// Adds `fermyon:spin/variables@2.0.0` to `linker`.
    pub fn add_to_linker<T: Send + 'static>(
        linker: &mut Linker<T>,
        view: fn(&mut T) -> VariablesView<'_>,
    ) -> wasmtime::Result<()> {
        variables::add_to_linker::<T, Binding>(linker, view)
    }

    impl variables::Host for VariablesView<'_> {
        async fn get(&mut self, name: String) -> wasmtime::Result<Result<String, Error>> {
            Ok(self.variables.get(&name).map_err(|e| match e {
                VariableError::InvalidName(name) => Error::InvalidName(name),
                VariableError::Undefined(name) => Error::Undefined(name),
            }))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn definition(default: Option<&str>, required: bool) -> VariableDefinition {
        VariableDefinition {
            default: default.map(str::to_owned),
            required,
            secret: false,
        }
    }

    #[test]
    fn names_follow_spin_rules() {
        for good in ["a", "api_url", "x2"] {
            assert!(is_valid_name(good), "{good}");
        }
        for bad in ["", "A", "2x", "_a", "a_", "a__b", "a-b"] {
            assert!(!is_valid_name(bad), "{bad}");
        }
    }

    #[test]
    fn environment_beats_runtime_config_beats_default() {
        let definitions = BTreeMap::from([
            (
                "host".to_owned(),
                definition(Some("default.example"), false),
            ),
            ("port".to_owned(), definition(Some("80"), false)),
            ("token".to_owned(), definition(None, true)),
            ("optional".to_owned(), definition(None, false)),
        ]);
        let providers = Providers::new(BTreeMap::from([
            ("port".to_owned(), "8080".to_owned()),
            ("token".to_owned(), "from-file".to_owned()),
        ]));
        let env = |key: &str| (key == "SPIN_VARIABLE_TOKEN").then(|| "from-env".to_owned());
        let values = resolve_application(&definitions, &providers, &env).unwrap();
        assert_eq!(values["host"], "default.example");
        assert_eq!(values["port"], "8080");
        assert_eq!(values["token"], "from-env");
        assert!(!values.contains_key("optional"));
    }

    #[test]
    fn without_a_runtime_config_the_environment_still_provides() {
        let definitions = BTreeMap::from([("scorecard".to_owned(), definition(Some(""), false))]);
        let env = |key: &str| (key == "SPIN_VARIABLE_SCORECARD").then(|| "{}".to_owned());
        let values = resolve_application(&definitions, &Providers::default(), &env).unwrap();
        assert_eq!(values["scorecard"], "{}");
    }

    #[test]
    fn a_required_variable_without_value_names_it() {
        let definitions = BTreeMap::from([("token".to_owned(), definition(None, true))]);
        let err = resolve_application(&definitions, &Providers::default(), &|_| None)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("`token`") && err.contains("SPIN_VARIABLE_TOKEN"),
            "{err}"
        );
    }

    #[test]
    fn templates_render_literals_and_references() {
        let template = Template::parse("https://{{ host }}:{{port}}/v1").unwrap();
        assert_eq!(template.references().collect::<Vec<_>>(), ["host", "port"]);
        let values = BTreeMap::from([
            ("host".to_owned(), "api.example".to_owned()),
            ("port".to_owned(), "8443".to_owned()),
        ]);
        let templates = BTreeMap::from([("url".to_owned(), template)]);
        let variables = ComponentVariables::render("api", &templates, &values).unwrap();
        assert_eq!(variables.get("url").unwrap(), "https://api.example:8443/v1");
        assert_eq!(
            variables.get("nope"),
            Err(VariableError::Undefined("nope".into()))
        );
        assert_eq!(
            variables.get("Bad"),
            Err(VariableError::InvalidName("Bad".into()))
        );
    }

    #[test]
    fn bad_templates_are_refused() {
        assert!(Template::parse("{{ host").is_err());
        assert!(Template::parse("{{ Host }}").is_err());
    }
}
