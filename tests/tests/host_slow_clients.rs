//! Slow, oversized and too many requests against postloan-host serving spin.toml (issue
//! #17): clients that drip a body or never finish their headers hold no instance, so
//! `/v1/health` and `/v1/assess` are still answered while 200 of them wait; they get `408`
//! with a problem body at the configured timeouts, the body's or the head's; an oversized
//! body is `413`, an
//! over-long target `414` and an oversized head `431`, each with a problem body; and a
//! request finding every instance slot busy is `503` with `Retry-After`.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use postloan_tests::{
    Host, artifact, readme_request, root, single_component_manifest, temp_dir, write_manifest,
};
use serde_json::{Value, json};

/// The app of spin.toml with `options`, its state in a fresh folder named after `name`.
fn app(name: &str, options: &[&str]) -> Host {
    let state = temp_dir(name).display().to_string();
    let mut all = vec!["--state-dir", &state];
    all.extend_from_slice(options);
    Host::start_with(&root().join("spin.toml"), &all)
}

fn connect(host: &Host) -> TcpStream {
    let url = host.url("");
    let addr = url.strip_prefix("http://").expect("an http URL");
    let stream = TcpStream::connect(addr).expect("the host accepts connections");
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .expect("a read timeout");
    stream
}

/// An answer read off a connection the host closes after it.
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Answer {
    fn read(stream: &mut TcpStream) -> Self {
        let mut bytes = Vec::new();
        stream.read_to_end(&mut bytes).expect("the host answers");
        let text = String::from_utf8(bytes).expect("a UTF-8 answer");
        let (head, body) = text.split_once("\r\n\r\n").expect("a head and a body");
        let mut lines = head.split("\r\n");
        let status = lines
            .next()
            .and_then(|line| line.split(' ').nth(1))
            .and_then(|code| code.parse().ok())
            .expect("a status line");
        let headers: Vec<(String, String)> = lines
            .filter_map(|line| line.split_once(": "))
            .map(|(name, value)| (name.to_ascii_lowercase(), value.to_owned()))
            .collect();
        let chunked = headers
            .iter()
            .any(|(name, value)| name == "transfer-encoding" && value == "chunked");
        let body = if chunked {
            dechunk(body)
        } else {
            body.to_owned()
        };
        Self {
            status,
            headers,
            body,
        }
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The problem body, after checking its content type and its status member.
    fn problem(&self) -> Value {
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json"),
            "{}: {}",
            self.status,
            self.body
        );
        let problem: Value = serde_json::from_str(&self.body).expect("problem JSON");
        assert_eq!(problem["status"], self.status);
        problem
    }
}

/// The data of a chunked body.
fn dechunk(mut chunked: &str) -> String {
    let mut data = String::new();
    loop {
        let (size, rest) = chunked.split_once("\r\n").expect("a chunk size line");
        let size = usize::from_str_radix(size, 16).expect("a hexadecimal chunk size");
        if size == 0 {
            return data;
        }
        data.push_str(&rest[..size]);
        chunked = rest[size..].strip_prefix("\r\n").expect("a chunk's end");
    }
}

/// Sends `request` whole on a fresh connection and reads the answer.
fn exchange(host: &Host, request: &[u8]) -> Answer {
    let mut stream = connect(host);
    stream.write_all(request).expect("the request is sent");
    Answer::read(&mut stream)
}

fn get(target: &str, headers: &str) -> Vec<u8> {
    format!("GET {target} HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n{headers}\r\n")
        .into_bytes()
}

fn post(body: &str) -> Vec<u8> {
    format!(
        "POST /v1/assess HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\
         content-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// A client that sent its head and a first byte of a 1000-byte body.
struct Dripper {
    stream: TcpStream,
    head_sent: Instant,
}

/// A client whose head never ends.
struct Staller {
    stream: TcpStream,
    connected: Instant,
}

const BODY_READ_TIMEOUT: Duration = Duration::from_secs(8);
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(8);
/// How long health and assess may take while the slow clients wait: a liveness bound,
/// not a measure of speed (they take milliseconds).
const ANSWERED_WITHIN: Duration = Duration::from_secs(5);

#[test]
fn two_hundred_slow_clients_hold_no_instance_and_are_timed_out() {
    let host = app(
        "slow-clients",
        &["--body-read-timeout", "8s", "--header-read-timeout", "8s"],
    );
    let mut drippers: Vec<Dripper> = (0..150)
        .map(|_| {
            let mut stream = connect(&host);
            stream
                .write_all(
                    b"POST /v1/assess HTTP/1.1\r\nhost: localhost\r\n\
                      content-type: application/json\r\ncontent-length: 1000\r\n\r\n{",
                )
                .expect("a head is sent");
            Dripper {
                stream,
                head_sent: Instant::now(),
            }
        })
        .collect();
    let mut stallers: Vec<Staller> = (0..50)
        .map(|_| {
            let mut stream = connect(&host);
            let connected = Instant::now();
            stream
                .write_all(b"POST /v1/assess HTTP/1.1\r\nhost: localhost\r\n")
                .expect("half a head is sent");
            Staller { stream, connected }
        })
        .collect();

    // The drippers send a byte every 100 ms for 3 s, then stall: far from the 1000 bytes.
    let writers: Vec<TcpStream> = drippers
        .iter()
        .map(|d| d.stream.try_clone().expect("a second handle"))
        .collect();
    let drip = std::thread::spawn(move || {
        let mut writers = writers;
        for _ in 0..30 {
            for writer in &mut writers {
                writer
                    .write_all(b" ")
                    .expect("the host still reads the body");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    });

    // While all 200 wait, health and a normal assessment are answered, at the same time.
    let health_url = host.url("/v1/health");
    let health = std::thread::spawn(move || {
        let started = Instant::now();
        let response = reqwest::blocking::get(health_url).expect("health answers");
        let status = response.status().as_u16();
        let body: Value = response.json().expect("health JSON");
        (status, body, started.elapsed())
    });
    let started = Instant::now();
    let (status, _, assessment) =
        postloan_tests::post(&host.url("/v1/assess"), readme_request().to_string());
    let assess_took = started.elapsed();
    let (health_status, health_body, health_took) = health.join().expect("the health check");
    eprintln!("with 200 slow clients: health {health_took:?}, assess {assess_took:?}");
    assert_eq!((health_status, &health_body["status"]), (200, &json!("ok")));
    assert_eq!(status, 200, "{assessment}");
    assert_eq!(assessment["dpd"], 23);
    assert!(health_took < ANSWERED_WITHIN, "health took {health_took:?}");
    assert!(assess_took < ANSWERED_WITHIN, "assess took {assess_took:?}");

    // None of the slow clients has been answered yet.
    for dripper in &drippers {
        dripper.stream.set_nonblocking(true).expect("non-blocking");
        let mut byte = [0; 1];
        let peeked = dripper.stream.peek(&mut byte);
        assert!(
            matches!(&peeked, Err(e) if e.kind() == ErrorKind::WouldBlock),
            "a dripper was answered early: {peeked:?}"
        );
        dripper.stream.set_nonblocking(false).expect("blocking");
    }
    drip.join().expect("the drip");

    // A dripper is answered 408 once the body timeout has passed since its head.
    for dripper in &mut drippers {
        let answer = Answer::read(&mut dripper.stream);
        let waited = dripper.head_sent.elapsed();
        assert_eq!(answer.status, 408, "{}", answer.body);
        let problem = answer.problem();
        assert_eq!(problem["type"], "urn:postloan:problem:request-timeout");
        assert_eq!(problem["field"], "body");
        assert!(waited >= BODY_READ_TIMEOUT, "answered after {waited:?}");
    }
    // A staller is answered 408 once the header timeout has passed since it connected.
    for staller in &mut stallers {
        let answer = Answer::read(&mut staller.stream);
        let waited = staller.connected.elapsed();
        assert_eq!(answer.status, 408, "{}", answer.body);
        assert_eq!(answer.header("connection"), Some("close"));
        let problem = answer.problem();
        assert_eq!(problem["type"], "urn:postloan:problem:request-timeout");
        assert_eq!(
            problem["detail"],
            format!("the request's head did not arrive within {HEADER_READ_TIMEOUT:?}")
        );
        assert!(waited >= HEADER_READ_TIMEOUT, "answered after {waited:?}");
    }
}

#[test]
fn a_head_cut_off_is_answered_408_and_an_idle_connection_closed_unanswered() {
    let host = app("head-timeout", &["--header-read-timeout", "1s"]);
    // Half a head, then nothing: 408, with a problem body, and the connection closed.
    let mut cut_off = connect(&host);
    cut_off
        .write_all(b"GET /v1/health HTTP/1.1\r\nhost: local")
        .expect("half a head is sent");
    let answer = Answer::read(&mut cut_off);
    assert_eq!(answer.status, 408, "{}", answer.body);
    let problem = answer.problem();
    assert_eq!(problem["type"], "urn:postloan:problem:request-timeout");
    assert_eq!(
        problem["detail"],
        "the request's head did not arrive within 1s"
    );
    assert!(problem.get("field").is_none(), "{problem}");

    // A connection that never sent a byte is closed with nothing written.
    let mut idle = connect(&host);
    let mut rest = Vec::new();
    idle.read_to_end(&mut rest)
        .expect("the host closes the connection");
    assert_eq!(rest, b"", "an idle connection got an answer");

    // Nor does a kept-alive connection, idle after its answer, get a second one.
    let mut kept = connect(&host);
    kept.write_all(b"GET /v1/health HTTP/1.1\r\nhost: localhost\r\n\r\n")
        .expect("a request is sent");
    let mut all = Vec::new();
    kept.read_to_end(&mut all)
        .expect("the host closes the connection");
    let text = String::from_utf8(all).expect("UTF-8");
    assert!(text.starts_with("HTTP/1.1 200 "), "{text}");
    assert_eq!(text.matches("HTTP/1.1 ").count(), 1, "one answer: {text}");
}

#[test]
fn a_body_over_the_limit_is_413_and_one_at_the_limit_is_served() {
    let host = app("body-limit", &["--max-body-size", "64KiB"]);
    const LIMIT: usize = 64 * 1024;
    let request = readme_request().to_string();
    // JSON allows trailing whitespace: the same request, padded to the limit and past it.
    let padded = |len: usize| format!("{request}{}", " ".repeat(len - request.len()));

    let at_limit = exchange(&host, &post(&padded(LIMIT)));
    assert_eq!(at_limit.status, 200, "{}", at_limit.body);
    let assessment: Value = serde_json::from_str(&at_limit.body).expect("JSON");
    assert_eq!(assessment["dpd"], 23);

    let over = exchange(&host, &post(&padded(LIMIT + 1)));
    assert_eq!(over.status, 413, "{}", over.body);
    let problem = over.problem();
    assert_eq!(problem["type"], "urn:postloan:problem:too-large");
    assert_eq!(problem["field"], "body");
    assert_eq!(
        problem["detail"],
        "body: the body is longer than 65536 bytes"
    );

    // A declared length over the limit is answered at once, before any of the body.
    let mut stream = connect(&host);
    stream
        .write_all(
            b"POST /v1/assess HTTP/1.1\r\nhost: localhost\r\n\
              content-type: application/json\r\ncontent-length: 9437184\r\n\r\n",
        )
        .expect("a head is sent");
    let declared = Answer::read(&mut stream);
    assert_eq!(declared.status, 413, "{}", declared.body);
    assert_eq!(declared.problem()["type"], "urn:postloan:problem:too-large");

    // A chunked body of no declared length is cut off at the limit.
    let chunk = padded(LIMIT + 1);
    let chunked = format!(
        "POST /v1/assess HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\
         content-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n\
         {:x}\r\n{chunk}\r\n0\r\n\r\n",
        chunk.len()
    );
    let cut = exchange(&host, chunked.as_bytes());
    assert_eq!(cut.status, 413, "{}", cut.body);
    assert_eq!(cut.problem()["field"], "body");
}

#[test]
fn an_over_long_target_is_414_and_an_oversized_head_431_with_problem_bodies() {
    let host = app("head-limits", &["--max-header-size", "128KiB"]);
    // Over the target limit (8 KiB by default), the host's own check.
    let long = exchange(
        &host,
        &get(&format!("/v1/health?q={}", "a".repeat(9000)), ""),
    );
    assert_eq!(long.status, 414, "{}", long.body);
    let problem = long.problem();
    assert_eq!(problem["type"], "urn:postloan:problem:uri-too-long");
    assert_eq!(
        problem["detail"],
        "the request target is 9013 bytes, longer than 8192 bytes"
    );
    // Longer than the 65,534 bytes hyper's parser holds: hyper's answer, with a body.
    let longer = exchange(
        &host,
        &get(&format!("/v1/health?q={}", "a".repeat(70_000)), ""),
    );
    assert_eq!(longer.status, 414, "{}", longer.body);
    assert_eq!(
        longer.problem()["type"],
        "urn:postloan:problem:uri-too-long"
    );
    // A head over 128 KiB, and one of 101 fields.
    let big = exchange(
        &host,
        &get("/v1/health", &format!("x-big: {}\r\n", "a".repeat(140_000))),
    );
    let many = exchange(
        &host,
        &get(
            "/v1/health",
            &(0..101)
                .map(|i| format!("x-{i}: {i}\r\n"))
                .collect::<String>(),
        ),
    );
    for answer in [big, many] {
        assert_eq!(answer.status, 431, "{}", answer.body);
        let problem = answer.problem();
        assert_eq!(problem["type"], "urn:postloan:problem:headers-too-large");
        assert_eq!(
            problem["detail"],
            "the request's start line and header fields are larger than 131072 bytes, \
             or more than 100 fields"
        );
    }
    // The host goes on serving.
    assert_eq!(exchange(&host, &get("/v1/health", "")).status, 200);
}

fn hello_fixture() -> PathBuf {
    artifact("tests/fixtures/target/wasm32-wasip2/release/hello_fixture.wasm")
}

#[test]
fn a_request_finding_every_instance_busy_is_503_with_retry_after() {
    // One instance slot, held for 4 s by a guest that loops until its deadline.
    let manifest = write_manifest(
        "capacity",
        &single_component_manifest("/...", &hello_fixture()),
    );
    let host = Host::start_with(
        &manifest,
        &[
            "--max-instances",
            "1",
            "--queue-timeout",
            "200ms",
            "--request-timeout",
            "4s",
        ],
    );
    let mut busy = connect(&host);
    busy.write_all(&get("/spin", ""))
        .expect("a request is sent");
    let answer = postloan_tests::eventually(
        Duration::from_secs(4),
        "a 503 while the only slot is busy",
        || {
            let answer = exchange(&host, &get("/hello", ""));
            (answer.status == 503).then_some(answer)
        },
    );
    assert_eq!(answer.header("retry-after"), Some("1"));
    let problem = answer.problem();
    assert_eq!(problem["type"], "urn:postloan:problem:at-capacity");
    assert_eq!(
        problem["detail"],
        "all 1 instance slots stayed busy for 200ms; retry after 1 s"
    );
    // The looping guest is stopped at its deadline, and the slot is free again.
    assert_eq!(Answer::read(&mut busy).status, 500);
    let hello = exchange(&host, &get("/hello", ""));
    assert_eq!((hello.status, hello.body.as_str()), (200, "hello"));
}
