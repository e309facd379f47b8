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

use anyhow::{Context, Result, bail};
use wac_graph::types::{Package, SubtypeChecker, WorldId};
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
    /// The main component's import, e.g. `postloan:scoring/scoring@0.1.0`.
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

/// The error Spin's composer wraps every failure to prepare dependencies in.
const PREPARE_ERROR: &str = "an error occurred when preparing dependencies";

fn build_graph(
    id: &str,
    main: Vec<u8>,
    deps: &[LoadedDependency],
) -> Result<(CompositionGraph, Vec<Plug>)> {
    compose_as_spin(id, main, deps)
        .with_context(|| format!("failed to resolve dependencies for component {id:?}"))
}

/// Builds the composition graph under Spin's rules (`spin-compose`, `Composer::compose`),
/// so that postloan-host refuses what Spin refuses, with Spin's messages:
///
/// - the main component is registered under its id, and each dependency, in Spin's order
///   of dependency names, under the **package** of its name (`postloan:scoring/scoring`
///   registers `postloan:scoring`); a second registration of one package fails with
///   wac's "package `…` has already been registered in the graph";
/// - a dependency that matches no import fails before it is registered;
/// - an import matched by several dependencies is a conflict;
/// - the export named like the import (or the dependency's `export`) must exist and its
///   type must be a subtype of the import's.
fn compose_as_spin(
    id: &str,
    main: Vec<u8>,
    deps: &[LoadedDependency],
) -> Result<(CompositionGraph, Vec<Plug>)> {
    let mut graph = CompositionGraph::new();
    let (main_world, main_inst) = register(&mut graph, id, main).context(PREPARE_ERROR)?;
    let import_names: Vec<String> = graph.types()[main_world].imports.keys().cloned().collect();

    let mut order: Vec<usize> = (0..deps.len()).collect();
    order.sort_by(|&a, &b| deps[a].name.spin_order(&deps[b].name));
    let mut assignments: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    let mut nodes: BTreeMap<usize, (WorldId, NodeId)> = BTreeMap::new();
    for i in order {
        let dep = &deps[i];
        let matched: Vec<&String> = import_names
            .iter()
            .filter(|import| dep.name.matches_import(import))
            .collect();
        if matched.is_empty() {
            bail!(
                "dependency '{}' doesn't match any imports of component '{id}' (its imports: {})",
                dep.name,
                import_names.join(", ")
            );
        }
        let node = register(&mut graph, dep.name.package_name(), dep.bytes.clone())
            .context(PREPARE_ERROR)?;
        nodes.insert(i, node);
        for import in matched {
            assignments.entry(import.clone()).or_default().push(i);
        }
    }
    let conflicts: Vec<String> = assignments
        .iter()
        .filter(|(_, d)| d.len() > 1)
        .map(|(import, d)| {
            let names: Vec<String> = d.iter().map(|&i| deps[i].name.to_string()).collect();
            format!(
                "import '{import}' satisfied by dependencies: '{}'",
                names.join(", ")
            )
        })
        .collect();
    if !conflicts.is_empty() {
        bail!(
            "component '{id}' has dependency conflicts: {}",
            conflicts.join("; ")
        );
    }

    let mut cache = Default::default();
    let mut checker = SubtypeChecker::new(&mut cache);
    let mut plugs = Vec::new();
    for (import, dep_indexes) in &assignments {
        let i = dep_indexes[0];
        let dep = &deps[i];
        let (world, inst) = nodes[&i];
        let export_name = dep.export.clone().unwrap_or_else(|| import.clone());
        let Some(export_ty) = graph.types()[world].exports.get(&export_name).copied() else {
            let exports: Vec<&str> = graph.types()[world]
                .exports
                .keys()
                .map(|s| s.as_str())
                .collect();
            bail!(
                "dependency '{}' doesn't export '{export_name}' to satisfy import '{import}' (it exports: {})",
                dep.name,
                exports.join(", ")
            );
        };
        let import_ty = graph.types()[main_world].imports[import];
        checker
            .is_subtype(export_ty, graph.types(), import_ty, graph.types())
            .with_context(|| {
                format!(
                    "dependency '{}' exports '{export_name}' which is not compatible with import '{import}'",
                    dep.name
                )
            })
            .context(PREPARE_ERROR)?;
        let alias = graph
            .alias_instance_export(inst, &export_name)
            .context(PREPARE_ERROR)?;
        graph
            .set_instantiation_argument(main_inst, import, alias)
            .context(PREPARE_ERROR)?;
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
            .context(PREPARE_ERROR)?;
        graph.export(alias, &name).context(PREPARE_ERROR)?;
    }

    Ok((graph, plugs))
}

/// Registers the component `bytes` in `graph` as the package `name` and instantiates it.
fn register(graph: &mut CompositionGraph, name: &str, bytes: Vec<u8>) -> Result<(WorldId, NodeId)> {
    let package = Package::from_bytes(name, None, bytes, graph.types_mut())
        .with_context(|| format!("`{name}` is not a valid Wasm component"))?;
    let world = package.ty();
    let package = graph.register_package(package)?;
    Ok((world, graph.instantiate(package)))
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

    /// The whole error chain, as Spin prints it under `Caused by:`.
    fn chain(err: anyhow::Error) -> Vec<String> {
        err.chain().map(|e| e.to_string()).collect()
    }

    #[test]
    fn unmatched_dependency_is_refused_as_spin_refuses_it() {
        let main = wat::parse_str(MAIN).unwrap();
        let err = compose("api", main, &[dep("test:other/numbers", DEP)]).unwrap_err();
        let chain = chain(err);
        assert_eq!(
            chain[0],
            r#"failed to resolve dependencies for component "api""#
        );
        assert!(
            chain[1].starts_with(
                "dependency 'test:other/numbers' doesn't match any imports of component 'api'"
            ),
            "{chain:?}"
        );
    }

    #[test]
    fn dependency_missing_the_export_is_refused_as_spin_refuses_it() {
        let main = wat::parse_str(MAIN).unwrap();
        let err = compose("api", main, &[dep("test:dep/numbers", "(component)")]).unwrap_err();
        let chain = chain(err);
        assert!(
            chain[1].starts_with(
                "dependency 'test:dep/numbers' doesn't export 'test:dep/numbers@0.1.0' to satisfy import 'test:dep/numbers@0.1.0'"
            ),
            "{chain:?}"
        );
    }

    /// A main component importing two interfaces of one package, `x:core/one` and
    /// `x:core/two`, each with `get: func() -> u32`.
    const MAIN_OF_ONE_PACKAGE: &str = r#"(component
        (import "x:core/one@0.1.0" (instance (export "get" (func (result u32)))))
        (import "x:core/two@0.1.0" (instance (export "get" (func (result u32)))))
    )"#;

    /// A dependency exporting `x:core/NAME@0.1.0`.
    fn exporting(name: &str) -> String {
        DEP.replace("test:dep/numbers@0.1.0", &format!("x:core/{name}@0.1.0"))
    }

    /// The shape Spin 4.0.2 refused in postloan's first spin.toml: two dependencies whose
    /// names are interfaces of one package are both registered under that package.
    #[test]
    fn two_dependencies_of_one_package_are_refused_with_spins_error() {
        let main = wat::parse_str(MAIN_OF_ONE_PACKAGE).unwrap();
        let deps = [
            dep("x:core/one", &exporting("one")),
            dep("x:core/two", &exporting("two")),
        ];
        let chain = chain(compose("api", main.clone(), &deps).unwrap_err());
        assert_eq!(
            chain,
            [
                r#"failed to resolve dependencies for component "api""#,
                "an error occurred when preparing dependencies",
                "package `x:core` has already been registered in the graph",
            ]
        );
        // `plan`, which `postloan-host up` links by, refuses it too.
        assert!(plan("api", &main, &deps).is_err());
    }

    #[test]
    fn one_dependency_naming_the_package_plugs_every_interface_of_it() {
        let main = wat::parse_str(MAIN_OF_ONE_PACKAGE).unwrap();
        let both = r#"(component
            (core module $m (func (export "get") (result i32) i32.const 7))
            (core instance $i (instantiate $m))
            (func $get (result u32) (canon lift (core func $i "get")))
            (instance $one (export "get" (func $get)))
            (instance $two (export "get" (func $get)))
            (export "x:core/one@0.1.0" (instance $one))
            (export "x:core/two@0.1.0" (instance $two))
        )"#;
        let plugs = plan("api", &main, &[dep("x:core", both)]).unwrap();
        let imports: Vec<&str> = plugs.iter().map(|p| p.import.as_str()).collect();
        assert_eq!(imports, ["x:core/one@0.1.0", "x:core/two@0.1.0"]);
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
        assert!(
            err.starts_with(r#"failed to resolve dependencies for component "api""#)
                && err.contains("`api` is not a valid Wasm component"),
            "{err}"
        );
    }
}
