//! `postloan-host`: a generic wasmtime embedding that reads a Spin manifest
//! (`spin.toml`, manifest version 2) and serves its `[[trigger.http]]` routes,
//! so the same manifest runs here and, unchanged, on Spin.
//!
//! The host knows nothing about the application it runs: it loads the
//! manifest ([`manifest`]), plugs each component's declared dependencies in
//! ([`compose`]), pre-instantiates every component once ([`runtime`]) and
//! dispatches HTTP requests to them by route ([`routes`], [`server`]).
//! [`outbound`] enforces `allowed_outbound_hosts`; [`builder`] runs the
//! components' build commands.
#![deny(missing_docs)]

pub mod builder;
pub mod compose;
pub mod manifest;
pub mod outbound;
pub mod routes;
pub mod runtime;
pub mod server;
