//! HTTP throughput and latency with wrk at fixed concurrency: `POST /v1/assess` against the
//! app, and the hello-world fixture component on the same host, so their ratio holds
//! whatever the machine; and `POST /v1/loans` on the book, on SQLite or PostgreSQL.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};
use postloan_tests::{Book, Host, root};

/// One wrk run's figures.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct Load {
    /// Requests per second.
    pub requests_per_second: f64,
    /// Median latency, milliseconds.
    pub p50_ms: f64,
    /// 99th-percentile latency, milliseconds.
    pub p99_ms: f64,
}

/// Runs wrk against `path` on a host serving `manifest`, POSTing `body` when given.
pub fn load(
    manifest: &Path,
    path: &str,
    body: Option<&str>,
    seconds: u32,
    connections: u32,
) -> Result<Load> {
    let host = Host::start(manifest);
    let lua = match body {
        Some(body) => format!(
            "wrk.method = \"POST\"\nwrk.headers[\"Content-Type\"] = \"application/json\"\nwrk.body = [==[{body}]==]\n"
        ),
        None => String::new(),
    };
    wrk(&host.url(path), &lua, seconds, connections)
}

/// `POST /v1/loans` on `book` with tenant key `key`: each request books a new loan of one
/// installment, its id unique across wrk's threads and requests.
pub fn booking(book: &Book, key: &str, seconds: u32, connections: u32) -> Result<Load> {
    let lua = format!(
        r#"local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("prefix", "W" .. threads)
end
local count = 0
function request()
  count = count + 1
  local id = prefix .. "-" .. count
  local body = '{{"id":"' .. id .. '","borrower":{{"id":"B' .. id .. '","profile":{{"name":"Borrower","language":"en","time_zone":"Asia/Shanghai","contact_points":[{{"channel":"sms","address":"+8613800138000"}}]}}}},"currency":"CNY","disbursed_on":"2026-01-01","installments":[{{"seq":1,"due_date":"2026-02-01","principal":"1000.00","interest":"10.00"}}]}}'
  return wrk.format("POST", nil, {{["Content-Type"] = "application/json", ["Authorization"] = "Bearer {key}"}}, body)
end
"#
    );
    wrk(&book.host.url("/v1/loans"), &lua, seconds, connections)
}

/// wrk with two threads and `connections` connections for `seconds` against `url`, running
/// the Lua script `lua`; any answer other than 2xx fails the run.
fn wrk(url: &str, lua: &str, seconds: u32, connections: u32) -> Result<Load> {
    let script = root().join("target/bench/request.lua");
    std::fs::create_dir_all(script.parent().context("target/bench")?)?;
    std::fs::write(&script, lua)?;
    let output = Command::new("wrk")
        .args([
            "--latency",
            "-t2",
            &format!("-c{connections}"),
            &format!("-d{seconds}s"),
            "-s",
        ])
        .arg(&script)
        .arg(url)
        .output()
        .context("wrk did not run (scripts/bench installs it)")?;
    let text = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() || text.contains("Non-2xx") {
        bail!("wrk against {url} failed or saw errors:\n{text}");
    }
    parse(&text).with_context(|| format!("unexpected wrk output:\n{text}"))
}

fn parse(text: &str) -> Option<Load> {
    let field = |prefix: &str| {
        text.lines()
            .map(str::trim)
            .find_map(|line| line.strip_prefix(prefix))
            .map(str::trim)
    };
    Some(Load {
        requests_per_second: field("Requests/sec:")?.parse().ok()?,
        p50_ms: millis(field("50%")?)?,
        p99_ms: millis(field("99%")?)?,
    })
}

/// wrk's durations: `850.00us`, `1.23ms`, `2.00s`.
fn millis(text: &str) -> Option<f64> {
    let (number, scale) = if let Some(n) = text.strip_suffix("us") {
        (n, 1e-3)
    } else if let Some(n) = text.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = text.strip_suffix('s') {
        (n, 1e3)
    } else {
        return None;
    };
    number.parse::<f64>().ok().map(|n| n * scale)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_wrk_latency_and_throughput() {
        let sample = "Running 1s test @ http://127.0.0.1:1/v1/assess\n  Latency Distribution\n     50%  850.00us\n     \
                      75%    1.10ms\n     90%    1.50ms\n     99%    2.00s\n  100 requests in 1.00s, 10KB read\n\
                      Requests/sec:    1234.50\nTransfer/sec:     10.00KB\n";
        let load = parse(sample).unwrap();
        assert_eq!(load.requests_per_second, 1234.5);
        assert!((load.p50_ms - 0.85).abs() < 1e-9);
        assert_eq!(load.p99_ms, 2000.0);
    }
}
