//! `GET /v1/portfolio`, `GET /v1/portfolio/flows` and `GET /v1/portfolio/trend`: the
//! measures of `postloan_domain::portfolio` over the snapshots the close-of-business runs
//! stored, as JSON or, with `format=csv`, CSV.

use postloan_domain::portfolio::{self, Flows, Losses, PromiseOutcome, Snapshot};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use spin_sdk::http::Response;

use super::auth::Caller;
use super::db::{Db, get_int, get_optional, get_text, int, text};
use super::loans::query_value;
use super::{csv_field, csv_response, parse_date, store, tenants};
use crate::problem::Problem;

/// The business date named `name` in the query.
fn date_param(query: &str, name: &str) -> Result<chrono::NaiveDate, Problem> {
    let value = query_value(query, name)
        .ok_or_else(|| Problem::invalid_field(name.to_owned(), "is required (YYYY-MM-DD)"))?;
    parse_date(name, &value)
}

fn wants_csv(query: &str) -> Result<bool, Problem> {
    match query_value(query, "format").as_deref() {
        None | Some("json") => Ok(false),
        Some("csv") => Ok(true),
        Some(_) => Err(Problem::invalid_field(
            "format".into(),
            "is not json or csv",
        )),
    }
}

/// The snapshots of `date`; a date no run has closed is a 404.
fn snapshots(db: &Db, tenant: &str, date: chrono::NaiveDate) -> Result<Vec<Snapshot>, Problem> {
    let day = date.to_string();
    let closed = db
        .row(
            "SELECT 1 AS one FROM job_runs WHERE tenant_id = ? AND business_date = ? AND status = 'completed'",
            &[text(tenant), text(&day)],
            |_| (),
        )?
        .is_some();
    if !closed {
        return Err(Problem::no_such(
            "completed close-of-business run for",
            &day,
        ));
    }
    snapshots_of(db, tenant, date)
}

/// The snapshots stored for `date`, whether or not its run has completed.
fn snapshots_of(db: &Db, tenant: &str, date: chrono::NaiveDate) -> Result<Vec<Snapshot>, Problem> {
    let day = date.to_string();
    db.rows(
        "SELECT loan_id, dpd, bucket, classification, outstanding_principal, overdue_amount
         FROM loan_snapshots WHERE tenant_id = ? AND business_date = ? ORDER BY loan_id",
        &[text(tenant), text(&day)],
        |row| {
            // The pipeline stores amounts the overdue component wrote: always decimals.
            let amount = |column| get_text(row, column).parse::<Decimal>().unwrap_or_default();
            Snapshot {
                loan_id: get_text(row, "loan_id"),
                dpd: u32::try_from(get_int(row, "dpd")).unwrap_or_default(),
                bucket: get_text(row, "bucket"),
                classification: get_text(row, "classification"),
                outstanding_principal: amount("outstanding_principal"),
                overdue_amount: amount("overdue_amount"),
            }
        },
    )
}

fn ratio(value: Option<Decimal>) -> Value {
    value.map_or(Value::Null, |v| Value::String(v.to_string()))
}

fn bucket_names(db: &Db, tenant: &str) -> Result<Vec<String>, Problem> {
    Ok(tenants::settings(db, tenant)?.policy()?.bucket_names())
}

/// The fields of a date's headline, in the order the trend's CSV has them.
const HEADLINE: [&str; 8] = [
    "business_date",
    "loans",
    "outstanding_principal",
    "overdue_amount",
    "par30",
    "par90",
    "npl_ratio",
    "overdue_rate",
];

/// The headline of the close of `date`: the book's size and its ratios.
fn headline(date: chrono::NaiveDate, book: &[Snapshot]) -> Value {
    let totals = portfolio::aging(book, &[]).totals;
    let ratios = portfolio::ratios(book);
    json!({
        "business_date": date.to_string(),
        "loans": totals.loans,
        "outstanding_principal": totals.outstanding_principal.to_string(),
        "overdue_amount": totals.overdue_amount.to_string(),
        "par30": ratio(ratios.par30),
        "par90": ratio(ratios.par90),
        "npl_ratio": ratio(ratios.npl_ratio),
        "overdue_rate": ratio(ratios.overdue_rate),
    })
}

/// Stores the headline of the close of `date` on its run `job`, as the run completes, so
/// that the trend reads one row per date instead of every loan's snapshot.
pub fn keep_headline(
    db: &Db,
    tenant: &str,
    job: i64,
    date: chrono::NaiveDate,
) -> Result<(), Problem> {
    let book = snapshots_of(db, tenant, date)?;
    db.run(
        "UPDATE job_runs SET headline = ? WHERE id = ?",
        &[text(headline(date, &book).to_string()), int(job)],
    )
}

/// The longest span the trend covers, in days: a year, leap or not.
const MAX_TREND_DAYS: i64 = 366;

/// `GET /v1/portfolio/trend?from=D1&to=D2`: the headline of each completed close from D1
/// to D2, oldest first.
pub fn trend(db: &Db, caller: &Caller, query: &str) -> Result<Response, Problem> {
    let from = date_param(query, "from")?;
    let to = date_param(query, "to")?;
    if to < from {
        return Err(Problem::invalid_field("to".into(), "is before from"));
    }
    if (to - from).num_days() > MAX_TREND_DAYS {
        return Err(Problem::invalid_field(
            "to".into(),
            &format!("is more than {MAX_TREND_DAYS} days after from"),
        ));
    }
    let csv = wants_csv(query)?;
    let runs = db.rows(
        "SELECT business_date, headline FROM job_runs
         WHERE tenant_id = ? AND status = 'completed' AND business_date >= ? AND business_date <= ?
         ORDER BY business_date",
        &[
            text(&caller.tenant),
            text(from.to_string()),
            text(to.to_string()),
        ],
        |row| {
            (
                get_text(row, "business_date"),
                get_optional(row, "headline"),
            )
        },
    )?;
    let mut points = Vec::with_capacity(runs.len());
    for (day, kept) in runs {
        let point = match kept.and_then(|k| serde_json::from_str::<Value>(&k).ok()) {
            Some(point) => point,
            // A run completed before headlines were kept.
            None => {
                let date = parse_date("business_date", &day)?;
                headline(date, &snapshots_of(db, &caller.tenant, date)?)
            }
        };
        points.push(point);
    }
    if csv {
        let mut out = HEADLINE.join(",");
        out.push('\n');
        for point in &points {
            let cells: Vec<String> = HEADLINE
                .iter()
                .map(|field| match &point[*field] {
                    Value::String(s) => csv_field(s),
                    Value::Null => String::new(),
                    other => other.to_string(),
                })
                .collect();
            out.push_str(&cells.join(","));
            out.push('\n');
        }
        return Ok(csv_response(out));
    }
    Ok(crate::json(
        200,
        &json!({ "from": from.to_string(), "to": to.to_string(), "points": points }),
    ))
}

/// `GET /v1/portfolio?date=D`: aging by bucket and the headline ratios at the close of D.
pub fn summary(db: &Db, caller: &Caller, query: &str) -> Result<Response, Problem> {
    let date = date_param(query, "date")?;
    let csv = wants_csv(query)?;
    let book = snapshots(db, &caller.tenant, date)?;
    let aging = portfolio::aging(&book, &bucket_names(db, &caller.tenant)?);
    if csv {
        let mut out = String::from("bucket,loans,outstanding_principal,share\n");
        for row in &aging.rows {
            out.push_str(&format!(
                "{},{},{},{}\n",
                csv_field(&row.bucket),
                row.loans,
                row.outstanding_principal,
                row.share.map(|s| s.to_string()).unwrap_or_default()
            ));
        }
        return Ok(csv_response(out));
    }
    let ratios = portfolio::ratios(&book);
    let write_offs = store::write_offs(db, &caller.tenant, None)?;
    let written_off = write_offs.iter().filter(|w| w.on <= date).count();
    let (restructured, re_aged) = store::rescheduled_loans(db, &caller.tenant, &date.to_string())?;
    // Everything up to the date: the period from the first business date on.
    let losses = portfolio::losses(
        Decimal::ZERO,
        &write_offs,
        &store::recoveries(db, &caller.tenant, None)?,
        chrono::NaiveDate::MIN,
        date,
    );
    Ok(crate::json(
        200,
        &json!({
            "business_date": date.to_string(),
            "written_off": {
                "loans": written_off,
                "charged_off_principal": losses.charged_off_principal.to_string(),
                "recovered": losses.recovered.to_string(),
                "recovery_rate": ratio(losses.recovery_rate),
            },
            "restructured": { "loans": restructured },
            "re_aged": { "loans": re_aged },
            "aging": aging.rows.iter().map(|r| json!({
                "bucket": r.bucket,
                "loans": r.loans,
                "outstanding_principal": r.outstanding_principal.to_string(),
                "share": ratio(r.share),
            })).collect::<Vec<_>>(),
            "totals": {
                "loans": aging.totals.loans,
                "outstanding_principal": aging.totals.outstanding_principal.to_string(),
                "overdue_amount": aging.totals.overdue_amount.to_string(),
            },
            "par30": ratio(ratios.par30),
            "par90": ratio(ratios.par90),
            "npl_ratio": ratio(ratios.npl_ratio),
            "overdue_rate": ratio(ratios.overdue_rate),
            "overdue_rate_by_count": ratio(ratios.overdue_rate_by_count),
        }),
    ))
}

/// `GET /v1/portfolio/flows?from=D1&to=D2`: roll rates and cure rate between the closes of
/// D1 and D2, and the promise-to-pay kept rate of promises due after D1 up to D2.
pub fn flows(db: &Db, caller: &Caller, query: &str) -> Result<Response, Problem> {
    let from = date_param(query, "from")?;
    let to = date_param(query, "to")?;
    if to <= from {
        return Err(Problem::invalid_field("to".into(), "is not after from"));
    }
    let csv = wants_csv(query)?;
    let earlier = snapshots(db, &caller.tenant, from)?;
    let write_offs = store::write_offs(db, &caller.tenant, None)?;
    let written_off_by_then: Vec<String> = write_offs
        .iter()
        .filter(|w| w.on <= to)
        .map(|w| w.loan_id.clone())
        .collect();
    let rolls = portfolio::roll_rates(
        &earlier,
        &snapshots(db, &caller.tenant, to)?,
        &written_off_by_then,
        &bucket_names(db, &caller.tenant)?,
    );
    if csv {
        let mut out = String::from(
            "bucket,loans,balance,to_next,worse,same,better,closed,written_off,unranked\n",
        );
        for row in &rolls.rows {
            let rates = row.rates.unwrap_or_default();
            out.push_str(&format!(
                "{},{},{},{},{},{},{},{},{},{}\n",
                csv_field(&row.bucket),
                row.loans,
                row.balance,
                rates.to_next,
                rates.worse,
                rates.same,
                rates.better,
                rates.closed,
                rates.written_off,
                rates.unranked
            ));
        }
        return Ok(csv_response(out));
    }
    let promises = db.rows(
        "SELECT due_date, status FROM promises WHERE tenant_id = ?",
        &[text(&caller.tenant)],
        |row| (get_text(row, "due_date"), get_text(row, "status")),
    )?;
    let outcomes: Vec<PromiseOutcome> = promises
        .iter()
        .filter_map(|(due, status)| {
            Some(PromiseOutcome {
                due: chrono::NaiveDate::parse_from_str(due, "%Y-%m-%d").ok()?,
                kept: match status.as_str() {
                    "kept" => Some(true),
                    "broken" => Some(false),
                    _ => None,
                },
            })
        })
        .collect();
    Ok(crate::json(
        200,
        &json!({
            "from": from.to_string(),
            "to": to.to_string(),
            "roll_rates": rolls.rows.iter().map(|r| json!({
                "bucket": r.bucket,
                "loans": r.loans,
                "balance": r.balance.to_string(),
                "amounts": flows_json(&r.amounts),
                "rates": r.rates.as_ref().map(flows_json),
            })).collect::<Vec<_>>(),
            "delinquent_balance": rolls.delinquent_balance.to_string(),
            "cured_balance": rolls.cured_balance.to_string(),
            "cure_rate": ratio(rolls.cure_rate),
            "promise_kept_rate": ratio(portfolio::promise_kept_rate(&outcomes, from, to)),
            "losses": losses_json(&portfolio::losses(
                earlier.iter().map(|s| s.outstanding_principal).sum(),
                &write_offs,
                &store::recoveries(db, &caller.tenant, None)?,
                from,
                to,
            )),
        }),
    ))
}

fn losses_json(l: &Losses) -> Value {
    json!({
        "charged_off_principal": l.charged_off_principal.to_string(),
        "recovered": l.recovered.to_string(),
        "gross_charge_off_rate": ratio(l.gross_charge_off_rate),
        "net_charge_off_rate": ratio(l.net_charge_off_rate),
        "recovery_rate": ratio(l.recovery_rate),
    })
}

fn flows_json(f: &Flows) -> Value {
    json!({
        "to_next": f.to_next.to_string(),
        "worse": f.worse.to_string(),
        "same": f.same.to_string(),
        "better": f.better.to_string(),
        "closed": f.closed.to_string(),
        "written_off": f.written_off.to_string(),
        "unranked": f.unranked.to_string(),
    })
}
