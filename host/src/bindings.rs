//! The one place that runs `wasmtime::component::bindgen!`, over the WIT in
//! `host/wit/`: the Spin interfaces postloan-host provides and the trigger
//! worlds it calls into.
//!
//! Every import is `async` (the backends do I/O) and `trappable`: an `Err`
//! from a host function is a trap and means a host bug; everything a guest
//! should see (a missing database, a refused address) is a WIT error value.
#![allow(missing_docs)]

/// The interfaces components import: `fermyon:spin/{sqlite,key-value,variables,redis}@2.0.0`
/// and `spin:postgres/postgres@4.0.0`.
pub mod services {
    wasmtime::component::bindgen!({
        path: "wit",
        world: "postloan:host/host",
        imports: { default: async | trappable },
        // Lets a test compare what a call returned with what it should.
        additional_derives: [PartialEq],
        with: {
            "fermyon:spin/sqlite@2.0.0.connection": crate::sqlite::SqliteConnection,
            "fermyon:spin/key-value@2.0.0.store": crate::key_value::KeyValueStore,
            "fermyon:spin/redis@2.0.0.connection": crate::redis::RedisConnection,
            "spin:postgres/postgres@4.0.0.connection": crate::postgres::PostgresConnection,
        },
    });
}

/// What a `[[trigger.redis]]` component exports: `fermyon:spin/inbound-redis`.
pub mod redis_trigger {
    wasmtime::component::bindgen!({
        path: "wit",
        world: "fermyon:spin/redis-trigger",
        exports: { default: async },
    });
}

/// What a `[[trigger.cron]]` component exports: `handle-cron-event` of the
/// Spin cron trigger's `fermyon:spin-cron/spin-cron@2.0.0` world.
pub mod cron_trigger {
    wasmtime::component::bindgen!({
        path: "wit",
        world: "fermyon:spin-cron/spin-cron",
        exports: { default: async },
    });
}
