//! Running a component's `[component.ID.dependencies]` beside it instead of
//! composed into it.
//!
//! Each dependency is compiled once and instantiated, at most once per
//! request, in the request's own store, the first time the component calls
//! it. The component's import that the dependency satisfies (as
//! [`crate::compose::plan`] matched them) is defined in the component's
//! linker by host functions that forward every call to the dependency's
//! export, values as they are. So:
//!
//! - a dependency that traps, runs past the deadline or exhausts its memory
//!   fails its forwarded call with a [`DependencyFailed`] context naming it,
//!   which the host reports instead of a bare trap of the component;
//! - a dependency is linked against a WASI of its own that grants nothing
//!   ([`capability_less_wasi`]): no files, environment, arguments, network or
//!   stdin; clocks frozen at the Unix epoch and a fixed random sequence. Its
//!   stderr is the host's log (a panic message is seen there). It cannot
//!   import Spin's interfaces or `wasi:http` at all.
//!
//! The store's deadline (epoch) and memory limit bound the dependency as they
//! bound the component: it runs on the request's clock, in the request's store.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use wasmtime::component::types::ComponentItem;
use wasmtime::component::{Component, ComponentExportIndex, InstancePre, Linker, Val};
use wasmtime::{Engine, StoreContextMut};
use wasmtime_wasi::{Deterministic, HostMonotonicClock, HostWallClock, WasiCtx};

use crate::compose::{LoadedDependency, Plug};
use crate::runtime::HostState;

/// The context added to the error of a call into a dependency that failed:
/// which dependency, and where it was loaded from.
#[derive(Debug, Clone)]
pub struct DependencyFailed {
    /// The manifest key, e.g. `postloan:scoring/scoring`.
    pub name: String,
    /// The dependency's `.wasm` file.
    pub path: PathBuf,
}

impl std::fmt::Display for DependencyFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "dependency `{}` ({})", self.name, self.path.display())
    }
}

/// One dependency, compiled and pre-instantiated against the capability-less WASI.
pub(crate) struct PreparedDependency {
    failed: DependencyFailed,
    pre: InstancePre<HostState>,
}

/// The dependencies of one component, in a request's store: which are instantiated.
#[derive(Default)]
pub(crate) struct DependencyInstances {
    instances: Vec<Option<wasmtime::component::Instance>>,
}

/// Compiles `deps` and defines, in `linker` (a copy of the host's linker for
/// the component `id`), the component's imports that `plugs` say they
/// satisfy. `dep_linker` is the capability-less linker for dependencies.
pub(crate) fn link(
    id: &str,
    engine: &Engine,
    main: &Component,
    linker: &mut Linker<HostState>,
    dep_linker: &DependencyLinker,
    deps: &[LoadedDependency],
    plugs: &[Plug],
) -> Result<()> {
    let mut prepared = Vec::new();
    let mut compiled = Vec::new();
    for dep in deps {
        let failed = DependencyFailed {
            name: dep.name.to_string(),
            path: dep.path.clone(),
        };
        let component = compiled_once(engine, dep_linker, &dep.bytes)
            .with_context(|| format!("component `{id}`: cannot compile its {failed}"))?;
        let linker_for_it = with_type_only_imports(engine, &component, &dep_linker.linker)?;
        let pre = linker_for_it.instantiate_pre(&component).map_err(|e| {
            let imports: Vec<String> = component
                .component_type()
                .imports(engine)
                .map(|(name, _)| name.to_owned())
                .collect();
            anyhow::Error::from(e).context(format!(
                "component `{id}`: its {failed} imports what a dependency is not given (only WASI, without files, environment, network or clocks; it imports: {})",
                imports.join(", ")
            ))
        })?;
        prepared.push(Arc::new(PreparedDependency { failed, pre }));
        compiled.push(component);
    }

    linker.allow_shadowing(true);
    let main_type = main.component_type();
    for plug in plugs {
        let dep = &prepared[plug.dependency];
        let Some(import) = main_type.get_import(engine, &plug.import) else {
            bail!("component `{id}`: import `{}` vanished", plug.import);
        };
        let ComponentItem::ComponentInstance(import_ty) = import.ty else {
            bail!(
                "component `{id}`: import `{}` is not an interface; postloan-host plugs only interfaces into a component",
                plug.import
            );
        };
        let dep_component = &compiled[plug.dependency];
        let export_instance = dep_component
            .get_export_index(None, &plug.export)
            .with_context(|| {
                format!(
                    "component `{id}`: its {} does not export `{}`",
                    dep.failed, plug.export
                )
            })?;
        let mut instance = linker
            .instance(&plug.import)
            .map_err(anyhow::Error::from)
            .with_context(|| format!("component `{id}`: cannot define `{}`", plug.import))?;
        for (name, item) in import_ty.exports(engine) {
            match item.ty {
                ComponentItem::ComponentFunc(_) => {}
                // Records, variants and the like need nothing at run time.
                ComponentItem::Type(_) => continue,
                _ => bail!(
                    "component `{id}`: `{}` of import `{}` is not a function or a plain type; postloan-host forwards only functions to a dependency",
                    name,
                    plug.import
                ),
            }
            let func = dep_component
                .get_export_index(Some(&export_instance), name)
                .with_context(|| {
                    format!(
                        "component `{id}`: its {} does not export `{}` in `{}`",
                        dep.failed, name, plug.export
                    )
                })?;
            let forward = Forward {
                index: plug.dependency,
                dep: dep.clone(),
                func,
                count: prepared.len(),
            };
            instance
                .func_new_async(name, move |store, _ty, params, results| {
                    let forward = forward.clone();
                    Box::new(async move { forward.call(store, params, results).await })
                })
                .map_err(anyhow::Error::from)
                .with_context(|| {
                    format!(
                        "component `{id}`: cannot define `{name}` of `{}`",
                        plug.import
                    )
                })?;
        }
    }
    Ok(())
}

/// What all dependencies are linked against (WASI alone, the capability-less
/// context being the store's business), and the dependencies compiled so far
/// by their bytes: the same scorer plugged into several components is
/// compiled once.
pub(crate) struct DependencyLinker {
    linker: Linker<HostState>,
    by_bytes: Mutex<HashMap<Vec<u8>, Component>>,
}

impl DependencyLinker {
    /// WASI 0.2 and nothing else.
    pub(crate) fn new(engine: &Engine) -> Result<Self> {
        let mut linker = Linker::new(engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)
            .map_err(anyhow::Error::from)
            .context("cannot add WASI to the dependencies' linker")?;
        Ok(Self {
            linker,
            by_bytes: Mutex::default(),
        })
    }
}

fn compiled_once(engine: &Engine, cache: &DependencyLinker, bytes: &[u8]) -> Result<Component> {
    let mut by_bytes = cache
        .by_bytes
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(component) = by_bytes.get(bytes) {
        return Ok(component.clone());
    }
    let component = Component::new(engine, bytes).map_err(anyhow::Error::from)?;
    by_bytes.insert(bytes.to_vec(), component.clone());
    Ok(component)
}

/// `dep_linker`, plus an empty instance for each import of `component` that
/// holds only types (such as `postloan:core/types`): they need nothing at run
/// time, and a dependency may import them to name its types.
fn with_type_only_imports(
    engine: &Engine,
    component: &Component,
    dep_linker: &Linker<HostState>,
) -> Result<Linker<HostState>> {
    let mut linker = dep_linker.clone();
    linker.allow_shadowing(true);
    for (name, import) in component.component_type().imports(engine) {
        let ComponentItem::ComponentInstance(ty) = import.ty else {
            continue;
        };
        let only_types = ty
            .exports(engine)
            .all(|(_, item)| matches!(item.ty, ComponentItem::Type(_)));
        if only_types && !name.starts_with("wasi:") {
            linker.instance(name).map_err(anyhow::Error::from)?;
        }
    }
    Ok(linker)
}

/// One function of a dependency, called for the component that imports it.
#[derive(Clone)]
struct Forward {
    /// The dependency's index among the component's dependencies.
    index: usize,
    /// How many dependencies the component has.
    count: usize,
    dep: Arc<PreparedDependency>,
    func: ComponentExportIndex,
}

impl Forward {
    async fn call(
        &self,
        mut store: StoreContextMut<'_, HostState>,
        params: &[Val],
        results: &mut [Val],
    ) -> wasmtime::Result<()> {
        let outcome = self.call_inner(&mut store, params, results).await;
        outcome.map_err(|e| e.context(self.dep.failed.clone()))
    }

    async fn call_inner(
        &self,
        store: &mut StoreContextMut<'_, HostState>,
        params: &[Val],
        results: &mut [Val],
    ) -> wasmtime::Result<()> {
        let existing = {
            let instances = &mut store.data_mut().dependencies.instances;
            if instances.len() < self.count {
                instances.resize(self.count, None);
            }
            instances[self.index]
        };
        let instance = match existing {
            Some(instance) => instance,
            None => {
                store.data_mut().enter_dependency();
                let instance = self.dep.pre.instantiate_async(&mut *store).await;
                store.data_mut().leave_dependency();
                let instance = instance?;
                store.data_mut().dependencies.instances[self.index] = Some(instance);
                instance
            }
        };
        let Some(func) = instance.get_func(&mut *store, self.func) else {
            wasmtime::bail!("the export vanished from its instance");
        };
        store.data_mut().enter_dependency();
        let outcome = func.call_async(&mut *store, params, results).await;
        store.data_mut().leave_dependency();
        outcome
    }
}

/// The WASI a dependency sees: no preopened directories, no environment or
/// arguments, no stdin or stdout, no network (no TCP, UDP or name lookup),
/// a wall clock and a monotonic clock stopped at zero (the Unix epoch), and
/// the same bytes from every random source in every instance (Rust's
/// standard library seeds its hash maps from them; a dependency must be
/// deterministic anyway). Its stderr goes to the host's log.
pub(crate) fn capability_less_wasi() -> WasiCtx {
    let mut wasi = WasiCtx::builder();
    wasi.inherit_stderr()
        .allow_tcp(false)
        .allow_udp(false)
        .allow_ip_name_lookup(false)
        .wall_clock(StoppedClock)
        .monotonic_clock(StoppedClock)
        .secure_random(Deterministic::new(FIXED_RANDOM.to_vec()))
        .insecure_random(Deterministic::new(FIXED_RANDOM.to_vec()))
        .insecure_random_seed(u128::from_le_bytes(FIXED_RANDOM));
    wasi.build()
}

/// What every random source of a dependency repeats.
const FIXED_RANDOM: [u8; 16] = *b"postloan-no-rand";

/// A clock that never moves from zero.
struct StoppedClock;

impl HostWallClock for StoppedClock {
    fn resolution(&self) -> Duration {
        Duration::from_secs(1)
    }

    fn now(&self) -> Duration {
        Duration::ZERO
    }
}

impl HostMonotonicClock for StoppedClock {
    fn resolution(&self) -> u64 {
        1_000_000_000
    }

    fn now(&self) -> u64 {
        0
    }
}

impl DependencyInstances {
    /// Nothing instantiated yet.
    pub(crate) fn new() -> Self {
        Self::default()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::compose::plan;
    use crate::manifest::DependencyName;
    use crate::runtime::{ComponentServices, GuestFailure, Runtime, RuntimeConfig, classify};

    /// Exports `test:dep/numbers@0.1.0` with `get: func() -> u32`: a counter
    /// that starts at 41 and goes up by one on every call, trapping when told
    /// to (`MODE` 1) or looping forever (`MODE` 2).
    fn dep(mode: u32) -> String {
        format!(
            r#"(component
                (core module $m
                    (global $n (mut i32) (i32.const 41))
                    (func (export "get") (result i32)
                        (if (i32.eq (i32.const {mode}) (i32.const 1)) (then unreachable))
                        (if (i32.eq (i32.const {mode}) (i32.const 2)) (then (loop br 0)))
                        (global.set $n (i32.add (global.get $n) (i32.const 1)))
                        global.get $n))
                (core instance $i (instantiate $m))
                (func $get (result u32) (canon lift (core func $i "get")))
                (instance $numbers (export "get" (func $get)))
                (export "test:dep/numbers@0.1.0" (instance $numbers))
            )"#
        )
    }

    /// Imports `test:dep/numbers@0.1.0`; `test:main/run` calls `get` twice and
    /// adds the answers.
    const MAIN: &str = r#"(component
        (import "test:dep/numbers@0.1.0" (instance $dep (export "get" (func (result u32)))))
        (alias export $dep "get" (func $get))
        (core func $get_core (canon lower (func $get)))
        (core module $m
            (import "dep" "get" (func $get (result i32)))
            (func (export "run") (result i32) call $get call $get i32.add))
        (core instance $deps (export "get" (func $get_core)))
        (core instance $i (instantiate $m (with "dep" (instance $deps))))
        (func $run (result u32) (canon lift (core func $i "run")))
        (instance $out (export "run" (func $run)))
        (export "test:main/run" (instance $out))
    )"#;

    /// Runs `test:main/run` of MAIN with the dependency `dep` plugged in, the
    /// way the runtime does it for a request.
    fn run(dep_wat: &str, timeout: Duration) -> Result<u32, GuestFailure> {
        let runtime = Runtime::new(RuntimeConfig {
            max_instances: 4,
            request_timeout: timeout,
            ..RuntimeConfig::default()
        })
        .unwrap();
        let main_bytes = wat::parse_str(MAIN).unwrap();
        let deps = [LoadedDependency {
            name: DependencyName::parse("test:dep/numbers").unwrap(),
            path: PathBuf::from("/deps/numbers.wasm"),
            bytes: wat::parse_str(dep_wat).unwrap(),
            export: None,
        }];
        let plugs = plan("main", &main_bytes, &deps).unwrap();
        let main = Component::new(runtime.engine(), &main_bytes).unwrap();
        let mut linker = runtime.linker.clone();
        link(
            "main",
            runtime.engine(),
            &main,
            &mut linker,
            &runtime.dependency_linker,
            &deps,
            &plugs,
        )
        .unwrap();
        let pre = linker.instantiate_pre(&main).unwrap();
        let mut store = runtime.new_store(ComponentServices::default());
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(async {
                let instance = pre.instantiate_async(&mut store).await?;
                let iface = instance
                    .get_export_index(&mut store, None, "test:main/run")
                    .unwrap();
                let idx = instance
                    .get_export_index(&mut store, Some(&iface), "run")
                    .unwrap();
                let run = instance.get_typed_func::<(), (u32,)>(&mut store, idx)?;
                Ok(run.call_async(&mut store, ()).await?.0)
            })
            .map_err(|e| classify(e, timeout))
    }

    #[test]
    fn forwards_calls_to_one_instance_per_store() {
        // 42 + 43: both calls reach the same instance.
        assert_eq!(run(&dep(0), Duration::from_secs(5)).unwrap(), 85);
    }

    #[test]
    fn a_trapping_dependency_is_named() {
        let failure = run(&dep(1), Duration::from_secs(5)).unwrap_err();
        let text = failure.to_string();
        assert!(
            text.starts_with(
                "failed: its dependency `test:dep/numbers` (/deps/numbers.wasm) trapped: wasm trap:"
            ),
            "{text}"
        );
        assert_eq!(failure.dependency().unwrap().name, "test:dep/numbers");
    }

    #[test]
    fn a_dependency_that_loops_is_stopped_by_the_deadline_and_named() {
        let failure = run(&dep(2), Duration::from_millis(200)).unwrap_err();
        let text = failure.to_string();
        assert!(
            text.starts_with("failed: its dependency `test:dep/numbers` (/deps/numbers.wasm) exceeded the request deadline"),
            "{text}"
        );
    }

    #[test]
    fn a_dependency_importing_more_than_wasi_is_refused_naming_it() {
        let runtime = Runtime::new(RuntimeConfig {
            max_instances: 2,
            ..RuntimeConfig::default()
        })
        .unwrap();
        let spin_user = r#"(component
            (import "fermyon:spin/variables@2.0.0" (instance (export "get" (func))))
            (instance $numbers)
            (export "test:dep/numbers@0.1.0" (instance $numbers))
        )"#;
        let deps = [LoadedDependency {
            name: DependencyName::parse("test:dep/numbers").unwrap(),
            path: PathBuf::from("/deps/numbers.wasm"),
            bytes: wat::parse_str(spin_user).unwrap(),
            export: None,
        }];
        let main = Component::new(runtime.engine(), wat::parse_str(MAIN).unwrap()).unwrap();
        let mut linker = runtime.linker.clone();
        let err = link(
            "api",
            runtime.engine(),
            &main,
            &mut linker,
            &runtime.dependency_linker,
            &deps,
            &[],
        )
        .err()
        .unwrap();
        let err = format!("{err:#}");
        assert!(
            err.contains("component `api`: its dependency `test:dep/numbers`")
                && err.contains("fermyon:spin/variables@2.0.0"),
            "{err}"
        );
    }
}
