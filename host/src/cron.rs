//! The cron trigger: `[[trigger.cron]]` entries, read as the
//! `spin-trigger-cron` plugin reads them, calling the component's
//! `handle-cron-event` (`fermyon:spin-cron/spin-cron@2.0.0`).
//!
//! Expressions are seconds-first with an optional year (`sec min hour
//! day-of-month month day-of-week [year]`, 6 or 7 fields, weekdays 0–6 from
//! Sunday), evaluated in UTC, and parsed by the `croner` crate, the parser
//! behind the plugin's scheduler, with its `0/15`-style steps allowed.
//! Each event runs in its own task, so a slow handler never delays the next
//! event; the timestamp the guest receives is the second the event was due.

use std::sync::Arc;
use std::time::Instant;

use anyhow::{Result, anyhow};
use chrono::{DateTime, Utc};
use croner::Cron;
use croner::parser::{CronParser, Seconds, Year};

use crate::runtime::{PreparedComponent, Runtime, log_invocation};

/// A parsed `cron_expression`.
#[derive(Debug, Clone)]
pub struct Schedule {
    expression: String,
    cron: Cron,
}

impl Schedule {
    /// Parses a seconds-first, 6- or 7-field expression.
    pub fn parse(expression: &str) -> Result<Self> {
        let parser = CronParser::builder()
            .seconds(Seconds::Required)
            .year(Year::Optional)
            .sloppy_ranges(true)
            .build();
        let cron = parser.parse(expression).map_err(|e| {
            anyhow!("invalid cron_expression `{expression}` (expected `sec min hour day-of-month month day-of-week [year]`, UTC): {e}")
        })?;
        Ok(Self {
            expression: expression.to_owned(),
            cron,
        })
    }

    /// The expression as written.
    pub fn expression(&self) -> &str {
        &self.expression
    }

    /// The first time strictly after `after` that the schedule fires, if any.
    pub fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.cron.find_next_occurrence(&after, false).ok()
    }
}

/// Runs `component` on `schedule` until the schedule has no more events
/// (or the task is dropped).
pub async fn run_schedule(runtime: Arc<Runtime>, component: PreparedComponent, schedule: Schedule) {
    let mut last = Utc::now();
    loop {
        let Some(due) = schedule.next_after(last.max(Utc::now())) else {
            eprintln!(
                "postloan-host: cron `{}` for component `{}` has no more events",
                schedule.expression(),
                component.id()
            );
            return;
        };
        let wait = (due - Utc::now()).to_std().unwrap_or_default();
        tokio::time::sleep(wait).await;
        last = due;
        let timestamp = u64::try_from(due.timestamp()).unwrap_or_default();
        tokio::spawn(fire(runtime.clone(), component.clone(), timestamp));
    }
}

async fn fire(runtime: Arc<Runtime>, component: PreparedComponent, timestamp: u64) {
    let started = Instant::now();
    let outcome = runtime.handle_cron_event(&component, timestamp).await;
    log_invocation(
        "cron",
        &component,
        &format!("timestamp={timestamp}"),
        started,
        &outcome,
    );
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn at(h: u32, m: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 10, h, m, s).unwrap()
    }

    #[test]
    fn every_second() {
        let schedule = Schedule::parse("* * * * * *").unwrap();
        assert_eq!(schedule.next_after(at(10, 0, 0)), Some(at(10, 0, 1)));
    }

    #[test]
    fn the_plugin_example_fields_are_seconds_first() {
        // The plugin README example: second 0 of minutes 1, 3, 5, ... of hours 11 and 12 on days 5-10,
        // so after 12:59 on 10 March the next event is on 5 April.
        let schedule = Schedule::parse("0 1/2 11,12 5-10 * * *").unwrap();
        assert_eq!(schedule.next_after(at(10, 0, 0)), Some(at(11, 1, 0)));
        assert_eq!(schedule.next_after(at(11, 1, 0)), Some(at(11, 3, 0)));
        assert_eq!(
            schedule.next_after(at(12, 59, 0)),
            Some(Utc.with_ymd_and_hms(2026, 4, 5, 11, 1, 0).unwrap())
        );
    }

    #[test]
    fn weekdays_count_from_sunday_zero() {
        // 2026-03-10 is a Tuesday; the next Sunday is 2026-03-15.
        let schedule = Schedule::parse("0 0 9 * * 0").unwrap();
        assert_eq!(
            schedule.next_after(at(10, 0, 0)),
            Some(Utc.with_ymd_and_hms(2026, 3, 15, 9, 0, 0).unwrap())
        );
    }

    #[test]
    fn a_past_year_never_fires() {
        let schedule = Schedule::parse("0 0 0 1 1 * 2020").unwrap();
        assert_eq!(schedule.next_after(at(0, 0, 0)), None);
    }

    #[test]
    fn five_field_and_malformed_expressions_are_refused() {
        for bad in ["* * * * *", "61 * * * * *", "every second", ""] {
            assert!(Schedule::parse(bad).is_err(), "{bad}");
        }
    }
}
