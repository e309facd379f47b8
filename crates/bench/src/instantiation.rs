//! The cost of one request with the pooling allocator, through postloan-host's own runtime:
//! a fresh instance from its pre-instantiated form, its handler called, the response taken.
//! For the hello-world fixture, whose handler does almost nothing, this bounds the
//! per-request instantiation cost from above; for the api's `GET /v1/health` it bounds the
//! api's (its dependencies are instantiated only when first called, which health does not).

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow};
use bytes::Bytes;
use http_body_util::Empty;
use postloan_host::app::{LoadOptions, LoadedApp};
use postloan_host::manifest::Manifest;
use postloan_host::runtime::{
    ComponentServices, PreparedComponent, Runtime, RuntimeConfig, TriggerKind,
};
use postloan_host::runtime_config::RuntimeConfigFile;

/// Microseconds per request to the hello-world `component` over `requests` sequential
/// requests, after as many to warm up.
pub fn per_request(component: &Path, requests: usize) -> Result<f64> {
    let runtime = Runtime::new(RuntimeConfig::default())?;
    let bytes = std::fs::read(component)?;
    let hello = runtime.prepare(
        "hello",
        &bytes,
        ComponentServices::default(),
        TriggerKind::Http,
    )?;
    timed_requests(&runtime, &hello, "http://localhost/hello", requests)
}

/// Microseconds per `GET /v1/health` to the api of the app in `manifest` (its SQLite files
/// in `state_dir`), over `requests` sequential requests, after as many to warm up.
pub fn api_health(manifest: &Path, state_dir: &Path, requests: usize) -> Result<f64> {
    let manifest = Manifest::load(manifest)?;
    let options = LoadOptions {
        // Loading compiles every component of the app; the host's cache keeps that to once.
        runtime: RuntimeConfig {
            compilation_cache: true,
            ..RuntimeConfig::default()
        },
        state_dir: state_dir.to_path_buf(),
        runtime_config: RuntimeConfigFile::default(),
    };
    let loaded = LoadedApp::load(&manifest, &options)?;
    let api = loaded
        .http_components
        .get("api")
        .context("the manifest has no `api` component")?;
    timed_requests(&loaded.runtime, api, "http://localhost/v1/health", requests)
}

fn timed_requests(
    runtime: &Runtime,
    component: &PreparedComponent,
    uri: &str,
    requests: usize,
) -> Result<f64> {
    let executor = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    executor.block_on(async {
        let call = || async {
            let request = hyper::Request::get(uri).body(Empty::<Bytes>::new())?;
            let slot = runtime
                .instance_slot(Duration::from_secs(1))
                .await
                .ok_or_else(|| anyhow!("no instance slot"))?;
            let response = runtime
                .handle(slot, component, request)
                .await
                .map_err(|e| anyhow!("{uri} failed: {e}"))?;
            anyhow::ensure!(
                response.status().is_success(),
                "{uri} answered {}",
                response.status()
            );
            Ok::<_, anyhow::Error>(())
        };
        for _ in 0..requests {
            call().await?;
        }
        let started = Instant::now();
        for _ in 0..requests {
            call().await?;
        }
        Ok(started.elapsed().as_secs_f64() * 1e6 / requests.max(1) as f64)
    })
}
