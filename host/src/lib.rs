//! `postloan-host`: a generic wasmtime embedding that reads a Spin manifest
//! (`spin.toml`, manifest version 2) and runs it, so the same manifest runs
//! here and, unchanged, on Spin.
//!
//! The host knows nothing about the application it runs: it loads the
//! manifest ([`manifest`]) and the runtime config ([`runtime_config`]), plugs
//! each component's declared dependencies in, each as an instance of its
//! own with no capabilities ([`dependencies`]; [`compose`] writes them
//! composed for other hosts), pre-instantiates
//! every component once ([`runtime`]) and runs it on its triggers: HTTP
//! ([`routes`], [`server`]; [`hyper_answers`] gives hyper's own answers
//! problem bodies), Redis channels ([`redis_trigger`]) and cron
//! schedules ([`cron`]); [`memory_budget`] bounds the linear memory of all the guests
//! running at once. Components reach the host through Spin's
//! interfaces, each a plain Rust backend with a thin WIT adapter:
//! [`sqlite`], [`key_value`], [`variables`], outbound [`redis`] and
//! [`postgres`]; the generated bindings are in [`bindings`]. [`outbound`] enforces
//! `allowed_outbound_hosts`; [`builder`] runs the components' build commands.
#![deny(missing_docs)]

pub mod app;
pub mod bindings;
pub mod builder;
pub mod compose;
pub mod cron;
pub mod dependencies;
pub mod hyper_answers;
pub mod key_value;
pub mod manifest;
pub mod memory_budget;
pub mod outbound;
pub mod postgres;
pub mod redis;
pub mod redis_trigger;
pub mod routes;
pub mod runtime;
pub mod runtime_config;
pub mod server;
pub mod sqlite;
pub mod variables;
