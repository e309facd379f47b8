//! Plugging a component's `[component.ID.dependencies]` into it, the way
//! Spin 3's `spin-compose` crate does, using `wac-graph` as a library.
//!
//! The main component and each dependency are registered as packages and
//! instantiated; every import of the main component that a dependency key
//! matches is satisfied by the dependency's export of the same name (or the
//! `export` named in the manifest); the main component's exports are
//! re-exported and the graph is encoded into one self-contained component.
//!
//! `postloan-host up` does not run the composition: it runs each dependency
//! as its own instance ([`crate::dependencies`]), plugged in by the same
//! [`plan`], so that a dependency that fails is named and gets no
//! capabilities. `postloan-host compose` writes the composition for hosts
//! that compose (Spin 3, `wasmtime serve`).

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{Context, Result, anyhow, bail};
use wac_graph::types::{Package, SubtypeChecker};
use wac_graph::{CompositionGraph, EncodeOptions, NodeId};

use crate::manifest::{Component, DependencyName};

/// A dependency whose bytes are already loaded.
#[derive(Debug, Clone)]
pub struct LoadedDependency {
    /// The manifest key.
    pub name: DependencyName,
    /// Where its bytes came from, for messages.
    pub path: PathBuf,
    /// The dependency component's bytes.
    pub bytes: Vec<u8>,
    /// Export to use instead of the matched import name.
    pub export: Option<String>,
}

/// One import of the main component and the dependency export that satisfies it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plug {
    /// The main component's import, e.g. `postloan:core/scoring@0.1.0`.
    pub import: String,
    /// Index of the dependency in the list given to [`plan`].
    pub dependency: usize,
    /// The dependency's export plugged into it.
    pub export: String,
}

/// Reads a manifest component's source and its dependencies from disk.
pub fn load_component(component: &Component) -> Result<(Vec<u8>, Vec<LoadedDependency>)> {
    let bytes = std::fs::read(&component.source).with_context(|| {
        format!(
            "component `{}`: cannot read source {} (did you run `postloan-host build`?)",
            component.id,
            component.source.display()
        )
    })?;
    let mut deps = Vec::new();
    for dep in &component.dependencies {
        let bytes = std::fs::read(&dep.path).with_context(|| {
            format!(
                "component `{}`: cannot read dependency `{}` from {}",
                component.id,
                dep.name,
                dep.path.display()
            )
        })?;
        deps.push(LoadedDependency {
            name: dep.name.clone(),
            path: dep.path.clone(),
            bytes,
            export: dep.export.clone(),
        });
    }
    Ok((bytes, deps))
}

/// Reads a manifest component and its dependencies from disk and composes
/// them. A component without dependencies is returned unchanged.
pub fn compose_component(component: &Component) -> Result<Vec<u8>> {
    let (bytes, deps) = load_component(component)?;
    compose(&component.id, bytes, &deps)
}

/// Composes the component `main` (named `id` in errors) with `deps`.
pub fn compose(id: &str, main: Vec<u8>, deps: &[LoadedDependency]) -> Result<Vec<u8>> {
    if deps.is_empty() {
        return Ok(main);
    }
    let (graph, _) = build_graph(id, main, deps)?;
    graph
        .encode(EncodeOptions::default())
        .with_context(|| format!("component `{id}`: cannot encode the composition"))
}

/// Which dependency export satisfies which import of the component `main`
/// (named `id` in errors), checked as [`compose`] checks it: every dependency
/// matches an import, no import is matched twice, the export exists and its
/// type is a subtype of the import's.
pub fn plan(id: &str, main: &[u8], deps: &[LoadedDependency]) -> Result<Vec<Plug>> {
    if deps.is_empty() {
        return Ok(Vec::new());
    }
    Ok(build_graph(id, main.to_vec(), deps)?.1)
}

fn build_graph(
    id: &str,
    main: Vec<u8>,
    deps: &[LoadedDependency],
) -> Result<(CompositionGraph, Vec<Plug>)> {
    let mut graph = CompositionGraph::new();
    let main_pkg = Package::from_bytes(&package_name(id, 0), None, main, graph.types_mut())
        .with_context(|| format!("component `{id}` is not a valid Wasm component"))?;
    let main_world = main_pkg.ty();
    let main_pkg = graph
        .register_package(main_pkg)
        .with_context(|| format!("component `{id}`: cannot register package"))?;
    let main_inst = graph.instantiate(main_pkg);

    let import_names: Vec<String> = graph.types()[main_world].imports.keys().cloned().collect();

    // import name -> index into `deps`
    let mut assignments: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, dep) in deps.iter().enumerate() {
        let matched: Vec<&String> = import_names
            .iter()
            .filter(|import| dep.name.matches_import(import))
            .collect();
        if matched.is_empty() {
            bail!(
                "component `{id}`: dependency `{}` doesn't match any import of the component (imports: {})",
                dep.name,
                import_names.join(", ")
            );
        }
        for import in matched {
            assignments.entry(import.clone()).or_default().push(i);
        }
    }
    if let Some((import, conflicting)) = assignments.iter().find(|(_, d)| d.len() > 1) {
        let names: Vec<String> = conflicting
            .iter()
            .map(|&i| deps[i].name.to_string())
            .collect();
        bail!(
            "component `{id}`: import `{import}` is satisfied by several dependencies: {}",
            names.join(", ")
        );
    }

    // Register and instantiate each dependency that matched something.
    let mut dep_nodes: BTreeMap<usize, (wac_graph::types::WorldId, NodeId)> = BTreeMap::new();
    for (i, dep) in deps.iter().enumerate() {
        let pkg = Package::from_bytes(
            &package_name(dep.name.package_name(), i + 1),
            None,
            dep.bytes.clone(),
            graph.types_mut(),
        )
        .with_context(|| {
            format!(
                "component `{id}`: dependency `{}` is not a valid Wasm component",
                dep.name
            )
        })?;
        let world = pkg.ty();
        let pkg = graph.register_package(pkg).with_context(|| {
            format!(
                "component `{id}`: cannot register dependency `{}`",
                dep.name
            )
        })?;
        dep_nodes.insert(i, (world, graph.instantiate(pkg)));
    }

    let mut cache = Default::default();
    let mut checker = SubtypeChecker::new(&mut cache);
    let mut plugs = Vec::new();
    for (import, dep_indexes) in &assignments {
        let i = dep_indexes[0];
        let dep = &deps[i];
        let (world, inst) = dep_nodes[&i];
        let export_name = dep.export.clone().unwrap_or_else(|| import.clone());
        let Some(export_ty) = graph.types()[world].exports.get(&export_name).copied() else {
            let exports: Vec<&String> = graph.types()[world].exports.keys().collect();
            bail!(
                "component `{id}`: dependency `{}` does not export `{export_name}` needed for import `{import}` (it exports: {})",
                dep.name,
                exports
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        };
        let import_ty = graph.types()[main_world]
            .imports
            .get(import)
            .copied()
            .ok_or_else(|| anyhow!("component `{id}`: import `{import}` vanished"))?;
        checker
            .is_subtype(export_ty, graph.types(), import_ty, graph.types())
            .with_context(|| {
                format!(
                    "component `{id}`: dependency `{}` exports `{export_name}` with a type incompatible with import `{import}`",
                    dep.name
                )
            })?;
        let alias = graph
            .alias_instance_export(inst, &export_name)
            .with_context(|| format!("component `{id}`: cannot alias `{export_name}`"))?;
        graph
            .set_instantiation_argument(main_inst, import, alias)
            .with_context(|| format!("component `{id}`: cannot plug import `{import}`"))?;
        plugs.push(Plug {
            import: import.clone(),
            dependency: i,
            export: export_name,
        });
    }

    let export_names: Vec<String> = graph.types()[main_world].exports.keys().cloned().collect();
    for name in export_names {
        let alias = graph
            .alias_instance_export(main_inst, &name)
            .with_context(|| format!("component `{id}`: cannot alias export `{name}`"))?;
        graph
            .export(alias, &name)
            .with_context(|| format!("component `{id}`: cannot export `{name}`"))?;
    }

    Ok((graph, plugs))
}

/// A unique, valid wac package name (`ns:name`) for graph node `n`.
fn package_name(name: &str, n: usize) -> String {
    let kebab: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let kebab = kebab.trim_matches('-');
    let kebab = if kebab.is_empty() { "component" } else { kebab };
    format!("postloan-compose:{kebab}-{n}")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A dependency exporting `test:dep/numbers@0.1.0` with `get: func() -> u32` (42).
    const DEP: &str = r#"(component
        (core module $m (func (export "get") (result i32) i32.const 42))
        (core instance $i (instantiate $m))
        (func $get (result u32) (canon lift (core func $i "get")))
        (instance $numbers (export "get" (func $get)))
        (export "test:dep/numbers@0.1.0" (instance $numbers))
    )"#;

    /// A main component importing `test:dep/numbers@0.1.0` and exporting
    /// `test:main/run` with `run: func() -> u32` (the dependency's value + 1).
    const MAIN: &str = r#"(component
        (import "test:dep/numbers@0.1.0" (instance $dep (export "get" (func (result u32)))))
        (alias export $dep "get" (func $get))
        (core func $get_core (canon lower (func $get)))
        (core module $m
            (import "dep" "get" (func $get (result i32)))
            (func (export "run") (result i32) call $get i32.const 1 i32.add))
        (core instance $deps (export "get" (func $get_core)))
        (core instance $i (instantiate $m (with "dep" (instance $deps))))
        (func $run (result u32) (canon lift (core func $i "run")))
        (instance $out (export "run" (func $run)))
        (export "test:main/run" (instance $out))
    )"#;

    fn dep(key: &str, wat_text: &str) -> LoadedDependency {
        LoadedDependency {
            name: DependencyName::parse(key).unwrap(),
            path: PathBuf::from("dep.wasm"),
            bytes: wat::parse_str(wat_text).unwrap(),
            export: None,
        }
    }

    fn run_composed(bytes: &[u8]) -> u32 {
        use wasmtime::component::{Component, Linker};
        let engine = wasmtime::Engine::default();
        let component = Component::new(&engine, bytes).unwrap();
        // No host imports: the composition must be self-contained.
        let linker = Linker::<()>::new(&engine);
        let mut store = wasmtime::Store::new(&engine, ());
        let instance = linker.instantiate(&mut store, &component).unwrap();
        let run_iface = instance
            .get_export_index(&mut store, None, "test:main/run")
            .unwrap();
        let run_idx = instance
            .get_export_index(&mut store, Some(&run_iface), "run")
            .unwrap();
        let run = instance
            .get_typed_func::<(), (u32,)>(&mut store, run_idx)
            .unwrap();
        run.call(&mut store, ()).unwrap().0
    }

    #[test]
    fn plugs_dependency_by_interface_with_or_without_version() {
        let main = wat::parse_str(MAIN).unwrap();
        for key in [
            "test:dep/numbers",
            "test:dep/numbers@0.1.0",
            "test:dep",
            "test:dep@0.1.0",
        ] {
            let composed = compose("main", main.clone(), &[dep(key, DEP)]).unwrap();
            assert_eq!(run_composed(&composed), 43, "key {key}");
        }
    }

    #[test]
    fn unmatched_dependency_is_an_error() {
        let main = wat::parse_str(MAIN).unwrap();
        let err = compose("api", main, &[dep("test:other/numbers", DEP)]).unwrap_err();
        let err = format!("{err:#}");
        assert!(
            err.contains("component `api`") && err.contains("test:other/numbers"),
            "{err}"
        );
    }

    #[test]
    fn dependency_missing_the_export_is_an_error() {
        let main = wat::parse_str(MAIN).unwrap();
        let empty = "(component)";
        let err = compose("api", main, &[dep("test:dep/numbers", empty)]).unwrap_err();
        let err = format!("{err:#}");
        assert!(
            err.contains("component `api`")
                && err.contains("does not export")
                && err.contains("test:dep/numbers@0.1.0"),
            "{err}"
        );
    }

    #[test]
    fn package_names_are_unique_and_valid() {
        assert_eq!(
            package_name("postloan:core", 1),
            "postloan-compose:postloan-core-1"
        );
        assert_eq!(package_name("api", 0), "postloan-compose:api-0");
        assert_eq!(package_name("--", 3), "postloan-compose:component-3");
    }

    #[test]
    fn no_dependencies_returns_input() {
        assert_eq!(compose("x", vec![1, 2, 3], &[]).unwrap(), vec![1, 2, 3]);
    }

    #[test]
    fn garbage_main_is_a_clear_error() {
        let dep = LoadedDependency {
            name: DependencyName::parse("a:b/c").unwrap(),
            path: PathBuf::from("c.wasm"),
            bytes: vec![],
            export: None,
        };
        let err = format!("{:#}", compose("api", vec![0, 1], &[dep]).unwrap_err());
        assert!(err.contains("component `api`"), "{err}");
    }
}
