//! `narrow-scorer IN.wasm OUT.wasm`: rewrites a scorer so that it exports only
//! `postloan:scoring/scoring`. Some toolchains leave exports of their own behind (componentize-py
//! keeps an `exports` instance with its build-time `init`); a scorer must export exactly the
//! `scorer` world, so the build wraps the component and re-exports just that interface.

use std::process::ExitCode;

use anyhow::{Context, Result};
use wac_graph::types::Package;
use wac_graph::{CompositionGraph, EncodeOptions};

const SCORING_EXPORT: &str = "postloan:scoring/scoring@0.1.0";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [input, output] = args.as_slice() else {
        eprintln!("usage: narrow-scorer IN.wasm OUT.wasm");
        return ExitCode::from(2);
    };
    match narrow(input, output) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("narrow-scorer: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn narrow(input: &str, output: &str) -> Result<()> {
    let bytes = std::fs::read(input).with_context(|| format!("cannot read {input}"))?;
    let mut graph = CompositionGraph::new();
    let package = Package::from_bytes("postloan-narrow:scorer", None, bytes, graph.types_mut())
        .with_context(|| format!("{input} is not a Wasm component"))?;
    let package = graph.register_package(package)?;
    let instance = graph.instantiate(package);
    let scoring = graph
        .alias_instance_export(instance, SCORING_EXPORT)
        .with_context(|| format!("{input} does not export {SCORING_EXPORT}"))?;
    graph.export(scoring, SCORING_EXPORT)?;
    let narrowed = graph.encode(EncodeOptions::default())?;
    std::fs::write(output, narrowed).with_context(|| format!("cannot write {output}"))
}
