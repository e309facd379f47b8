//! The loan book: loans, payments and contacts in SQLite, kept up to date by the HTTP API,
//! by events from Redis and by the nightly close-of-business run, with the resulting actions
//! in an outbox and every change in a tamper-evident audit log.

mod audit;
mod auth;
mod claims;
mod db;
pub mod events;
pub mod http;
pub mod jobs;
mod loans;
mod outbox;
mod pipeline;
mod portfolio;
mod schema;
mod servicing;
mod store;
mod tenants;

#[cfg(test)]
mod fuzz;

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};

use crate::problem::Problem;

/// The current instant, in RFC 3339 UTC with seconds.
fn now() -> DateTime<Utc> {
    let since_epoch = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    DateTime::from_timestamp(since_epoch.as_secs() as i64, since_epoch.subsec_nanos())
        .unwrap_or_default()
}

/// An instant as the book stores it.
fn instant(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// A business date from `field`, as the domain reads one, or a problem naming it.
fn parse_date(field: &str, value: &str) -> Result<NaiveDate, Problem> {
    postloan_domain::date::parse_date(field, value).map_err(Problem::from)
}

/// A CSV field, quoted when it holds a comma, quote or line break (RFC 4180).
fn csv_field(value: &str) -> String {
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_owned()
    }
}

/// A `text/csv` answer.
fn csv_response(body: String) -> spin_sdk::http::Response {
    spin_sdk::http::Response::builder()
        .status(200)
        .header("content-type", "text/csv; charset=utf-8")
        .body(body)
        .build()
}

/// The `limit` of a paged route: `default` when the query has none, else a number from 1 to
/// `max`.
fn page_limit(query: &str, default: i64, max: i64) -> Result<i64, Problem> {
    match loans::query_value(query, "limit") {
        Some(limit) => limit
            .parse::<i64>()
            .ok()
            .filter(|l| (1..=max).contains(l))
            .ok_or_else(|| {
                Problem::invalid_field("limit".into(), &format!("is not a number from 1 to {max}"))
            }),
        None => Ok(default),
    }
}
