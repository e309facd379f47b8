//! postloan's functional core: money, loans and the overdue assessment, as plain Rust.
//!
//! Components are thin adapters over this crate: they turn WIT records into these types,
//! call a function here, and turn the result back. Everything here is deterministic and
//! free of I/O, so it unit-tests natively and fast.
#![deny(missing_docs)]

pub mod calendar;
pub mod contact;
pub mod date;
pub mod error;
pub mod loan;
pub mod money;
pub mod overdue;
pub mod policy;
pub mod portfolio;
pub mod reschedule;
pub mod schedule;
pub mod scoring;

pub use error::FieldError;
