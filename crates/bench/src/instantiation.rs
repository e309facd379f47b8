//! The cost of one request with the pooling allocator: a fresh instance of the hello-world
//! fixture from its pre-instantiated form, its handler called, the response taken — through
//! postloan-host's own runtime. The handler does almost nothing, so this bounds the
//! per-request instantiation cost from above.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Result, anyhow};
use bytes::Bytes;
use http_body_util::Empty;
use postloan_host::runtime::{ComponentServices, Runtime, RuntimeConfig, TriggerKind};

/// Microseconds per request over `requests` sequential requests, after as many to warm up.
pub fn per_request(component: &Path, requests: usize) -> Result<f64> {
    let runtime = Runtime::new(RuntimeConfig::default())?;
    let bytes = std::fs::read(component)?;
    let hello = runtime.prepare(
        "hello",
        &bytes,
        ComponentServices::default(),
        TriggerKind::Http,
    )?;
    let executor = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    executor.block_on(async {
        let call = || async {
            let request =
                hyper::Request::get("http://localhost/hello").body(Empty::<Bytes>::new())?;
            let slot = runtime
                .instance_slot(Duration::from_secs(1))
                .await
                .ok_or_else(|| anyhow!("no instance slot"))?;
            runtime
                .handle(slot, &hello, request)
                .await
                .map_err(|e| anyhow!("hello failed: {e}"))?;
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
