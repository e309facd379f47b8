//! The audit log and privacy, from outside (issue 16 items 10–12): the chain's end anchored
//! by a head the lender keeps, every decision and contact in the log, and borrowers' names
//! masked for the roles that do not see personal data.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use postloan_tests::{Book, PLATFORM_TOKEN, RedisServer, book_manifest, host_binary};
use serde_json::{Value, json};

/// Every entry of the key's tenant's audit log, oldest first.
fn audit(book: &Book, key: &str) -> Vec<Value> {
    let mut all = Vec::new();
    let mut after = 0;
    loop {
        let (status, body) = book.call("GET", &format!("/v1/audit?after={after}"), key, None);
        assert_eq!(status, 200, "{body}");
        let page = body["entries"].as_array().cloned().unwrap_or_default();
        let Some(last) = page.last() else { break };
        after = last["seq"].as_i64().expect("a seq");
        all.extend(page);
    }
    all
}

/// A new key of `role` for the admin's tenant.
fn key_of(book: &Book, admin: &str, role: &str, label: &str) -> String {
    let (status, body) = book.call(
        "POST",
        "/v1/api-keys",
        admin,
        Some(json!({ "role": role, "label": label })),
    );
    assert_eq!(status, 201, "{body}");
    body["key"].as_str().expect("a key").to_owned()
}

fn verify(book: &Book, key: &str, query: &str) -> Value {
    let (status, body) = book.call("GET", &format!("/v1/audit/verify{query}"), key, None);
    assert_eq!(status, 200, "{body}");
    body
}

#[test]
fn the_chains_end_is_anchored_by_a_head_the_lender_keeps() {
    let redis = RedisServer::start();
    let book = Book::start("book-audit-anchor", &redis);
    let admin = book.create_tenant("anchored", json!({}));
    let auditor = key_of(&book, &admin, "auditor", "aud");
    key_of(&book, &admin, "viewer", "v1");
    key_of(&book, &admin, "viewer", "v2");

    // Four entries: the tenant, then three keys. The head is the last of them as the log
    // lists it.
    let entries = audit(&book, &auditor);
    assert_eq!(entries.len(), 4, "{entries:?}");
    let head = |entry: &Value| {
        (
            entry["seq"].as_i64().unwrap(),
            entry["hash"].as_str().unwrap().to_owned(),
        )
    };
    let (seq4, hash4) = head(&entries[3]);
    let checked = verify(&book, &auditor, "");
    assert_eq!(
        (
            checked["intact"].as_bool(),
            checked["entries"].as_u64(),
            checked["head"]["seq"].as_i64(),
            checked["head"]["hash"].as_str(),
            checked["head"]["at"].as_str(),
        ),
        (
            Some(true),
            Some(4),
            Some(seq4),
            Some(hash4.as_str()),
            entries[3]["at"].as_str()
        ),
        "{checked}"
    );

    // The lender keeps that head; two more entries follow it.
    key_of(&book, &admin, "viewer", "v3");
    key_of(&book, &admin, "viewer", "v4");
    let entries = audit(&book, &auditor);
    assert_eq!(entries.len(), 6);
    let (seq6, hash6) = head(&entries[5]);
    let anchored = verify(&book, &auditor, &format!("?seq={seq4}&hash={hash4}"));
    assert_eq!(
        (
            anchored["intact"].as_bool(),
            anchored["anchor"]["holds"].as_bool(),
            anchored["anchor"]["status"].as_str(),
            anchored["anchor"]["entries_after"].as_u64(),
            anchored["head"]["seq"].as_i64(),
        ),
        (Some(true), Some(true), Some("holds"), Some(2), Some(seq6)),
        "{anchored}"
    );
    // The second entry anchored: four follow it. A hash in capitals is the same hash.
    let (seq2, hash2) = head(&entries[1]);
    let early = verify(
        &book,
        &auditor,
        &format!("?seq={seq2}&hash={}", hash2.to_uppercase()),
    );
    assert_eq!(
        (
            early["intact"].as_bool(),
            early["anchor"]["entries_after"].as_u64()
        ),
        (Some(true), Some(4)),
        "{early}"
    );

    // Someone with the database cuts the two newest entries off.
    let cut = book.database.execute(
        &format!("DELETE FROM audit_log WHERE tenant_id = 'anchored' AND seq > {seq4}"),
        &[],
    );
    assert_eq!(cut, 2);
    // Without an anchor the rest still verifies: what is left is a whole chain, its head
    // now the fourth entry.
    let unanchored = verify(&book, &auditor, "");
    assert_eq!(
        (
            unanchored["intact"].as_bool(),
            unanchored["entries"].as_u64(),
            unanchored["head"]["seq"].as_i64()
        ),
        (Some(true), Some(4), Some(seq4)),
        "{unanchored}"
    );
    // Against the head kept before the cut, it does not.
    let cut_off = verify(&book, &auditor, &format!("?seq={seq6}&hash={hash6}"));
    assert_eq!(
        (
            cut_off["intact"].as_bool(),
            cut_off["anchor"]["holds"].as_bool(),
            cut_off["anchor"]["status"].as_str(),
            &cut_off["anchor"]["entries_after"],
        ),
        (Some(false), Some(false), Some("missing"), &Value::Null),
        "{cut_off}"
    );
    // The fourth entry still holds, with nothing after it now.
    let kept = verify(&book, &auditor, &format!("?seq={seq4}&hash={hash4}"));
    assert_eq!(
        (
            kept["intact"].as_bool(),
            kept["anchor"]["entries_after"].as_u64()
        ),
        (Some(true), Some(0)),
        "{kept}"
    );
    // An anchor whose hash is not the entry's: the entry, or one before it, was changed.
    let other = format!(
        "{}{}",
        if hash4.starts_with('0') { '1' } else { '0' },
        &hash4[1..]
    );
    let changed = verify(&book, &auditor, &format!("?seq={seq4}&hash={other}"));
    assert_eq!(
        (
            changed["intact"].as_bool(),
            changed["anchor"]["status"].as_str()
        ),
        (Some(false), Some("changed")),
        "{changed}"
    );

    // Bad anchors are refused naming the parameter.
    for (query, field) in [
        (format!("?seq=abc&hash={hash4}"), "seq"),
        (format!("?seq=0&hash={hash4}"), "seq"),
        (format!("?hash={hash4}"), "seq"),
        (format!("?seq={seq4}"), "hash"),
        (format!("?seq={seq4}&hash=abc"), "hash"),
        (format!("?seq={seq4}&hash={}", "z".repeat(64)), "hash"),
    ] {
        let (status, body) = book.call("GET", &format!("/v1/audit/verify{query}"), &auditor, None);
        assert_eq!(
            (status, body["field"].as_str()),
            (400, Some(field)),
            "{query}: {body}"
        );
    }
}

fn event(id: &str, kind: &str, occurred_at: &str, data: Value) -> Value {
    json!({ "id": id, "tenant": "audited", "type": kind, "occurred_at": occurred_at, "data": data })
}

/// Every action of the outbox, pending and acknowledged, by id.
fn all_actions(book: &Book, key: &str) -> Vec<Value> {
    let mut all = Vec::new();
    for status in ["pending", "acknowledged"] {
        let (code, body) = book.call(
            "GET",
            &format!("/v1/actions?status={status}&limit=1000"),
            key,
            None,
        );
        assert_eq!(code, 200, "{body}");
        all.extend(body["items"].as_array().cloned().unwrap_or_default());
    }
    all.sort_by_key(|a| a["id"].as_i64());
    all
}

#[test]
fn every_decision_and_every_contact_is_an_audit_entry() {
    let redis = RedisServer::start();
    let book = Book::start("book-audit-decisions", &redis);
    let settings = json!({ "contact": { "escalation": { "high_risk_tiers": [] } } });
    let admin = book.create_tenant("audited", settings.clone());
    let collector = key_of(&book, &admin, "collector", "desk");
    let auditor = key_of(&book, &admin, "auditor", "aud");

    // The settings the tenant was created with are in its first entry.
    let first = audit(&book, &auditor)[0].clone();
    assert_eq!(
        (
            first["action"].as_str(),
            &first["detail"]["settings"]["contact"]
        ),
        (Some("tenant.created"), &settings["contact"]),
        "{first}"
    );

    // One loan, 1000.00 due 2026-03-05, its borrower reachable by SMS only.
    let post_event = |body: Value| {
        let (status, answer) = book.call("POST", "/v1/events", &admin, Some(body));
        assert_eq!(status, 201, "{answer}");
    };
    post_event(event(
        "a1",
        "loan.created",
        "2026-01-05T02:00:00Z",
        json!({
            "id": "A1",
            "borrower": { "id": "AB1", "profile": {
                "name": "张伟", "language": "zh-CN", "time_zone": "Asia/Shanghai",
                "contact_points": [{ "channel": "sms", "address": "+8613800138000" }]
            } },
            "currency": "CNY",
            "disbursed_on": "2026-01-01",
            "installments": [{ "seq": 1, "due_date": "2026-03-05", "principal": "1000.00", "interest": "0" }]
        }),
    ));

    // The close of 2026-03-01 plans from 2026-03-02T00:00Z, 08:00 on 03-02 in Shanghai:
    // three days before the due date, so the cadence's pre_due_t3 calls for SMS and push.
    // The SMS is planned; the push is held by contact.no-address (no push address).
    book.close(&admin, "2026-03-01");
    let actions = all_actions(&book, &admin);
    assert_eq!(actions.len(), 1, "{actions:?}");
    let sms = &actions[0];
    let decided = |entries: &[Value]| -> Vec<Value> {
        entries
            .iter()
            .filter(|e| e["action"] == "loan.decided" && e["entity"] == "loan:A1")
            .cloned()
            .collect()
    };
    let entries = audit(&book, &auditor);
    let closed = decided(&entries);
    assert_eq!(closed.len(), 1, "one decision with contacts: {entries:?}");
    let detail = &closed[0]["detail"];
    assert_eq!(
        (
            closed[0]["actor"].as_str(),
            detail["business_date"].as_str(),
            &detail["planned"],
            &detail["held"],
        ),
        (
            Some("pipeline"),
            Some("2026-03-01"),
            &json!([{ "action": sms["id"], "kind": "reminder", "channel": "sms", "queue": null, "rule": "pre_due_t3" }]),
            &json!([{ "kind": "push", "rule": "contact.no-address", "detail": "the borrower has no push address" }]),
        ),
        "{}",
        closed[0]
    );

    // A payment on the due date (11:00 in Shanghai) is a change: the due_day rule calls for
    // SMS, push and e-mail; the SMS is planned, push and e-mail held. With 1000.00 due today
    // and nothing overdue the loan moves from current to pre_due (due within 3 days), a
    // stage change in the outbox too. All of it is the change's one entry.
    post_event(event(
        "a2",
        "payment.posted",
        "2026-03-05T03:00:00Z",
        json!({ "loan_id": "A1", "id": "P1", "value_date": "2026-03-05", "amount": "100.00" }),
    ));
    let actions = all_actions(&book, &admin);
    assert_eq!(actions.len(), 3, "{actions:?}");
    let (due_day, stage) = (&actions[1], &actions[2]);
    assert_eq!(
        (
            due_day["rule"].as_str(),
            due_day["channel"].as_str(),
            stage["kind"].as_str(),
            stage["rule"].as_str()
        ),
        (
            Some("due_day"),
            Some("sms"),
            Some("stage_change"),
            Some("escalated")
        )
    );
    let entries = audit(&book, &auditor);
    let after_payment = decided(&entries);
    assert_eq!(after_payment.len(), 2, "{entries:?}");
    let detail = &after_payment[1]["detail"];
    assert_eq!(
        (
            detail["business_date"].as_str(),
            &detail["planned"],
            &detail["stage_changed"],
            detail["held"].as_array().map(|h| h
                .iter()
                .map(|h| (
                    h["kind"].as_str().unwrap_or_default(),
                    h["rule"].as_str().unwrap_or_default()
                ))
                .collect::<Vec<_>>()),
        ),
        (
            Some("2026-03-05"),
            &json!([
                { "action": due_day["id"], "kind": "reminder", "channel": "sms", "queue": null, "rule": "due_day" },
                { "action": stage["id"], "kind": "stage_change", "channel": null, "queue": null, "rule": "escalated" },
            ]),
            &json!({ "from": "current", "to": "pre_due" }),
            Some(vec![
                ("push", "contact.no-address"),
                ("email", "contact.no-address")
            ]),
        ),
        "{}",
        after_payment[1]
    );

    // Every action of the outbox is planned in exactly one entry.
    let mut planned: Vec<i64> = entries
        .iter()
        .filter(|e| e["action"] == "loan.decided")
        .flat_map(|e| {
            e["detail"]["planned"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .filter_map(|p| p["action"].as_i64())
        .collect();
    planned.sort();
    let ids: Vec<i64> = actions.iter().filter_map(|a| a["id"].as_i64()).collect();
    assert_eq!(planned, ids);

    // An acknowledgement is an entry, once however often it is sent.
    for _ in 0..2 {
        let (status, body) = book.call(
            "POST",
            &format!("/v1/actions/{}/ack", sms["id"]),
            &collector,
            None,
        );
        assert_eq!(
            (status, body["status"].as_str()),
            (200, Some("acknowledged")),
            "{body}"
        );
    }
    let entries = audit(&book, &auditor);
    let acks: Vec<&Value> = entries
        .iter()
        .filter(|e| e["action"] == "action.acknowledged")
        .collect();
    assert_eq!(acks.len(), 1, "{entries:?}");
    assert_eq!(
        (
            acks[0]["actor"].as_str(),
            acks[0]["entity"].as_str(),
            acks[0]["detail"]["loan_id"].as_str(),
            acks[0]["detail"]["rule"].as_str(),
            acks[0]["detail"]["channel"].as_str(),
        ),
        (
            Some("key:desk(collector)"),
            Some(format!("action:{}", sms["id"]).as_str()),
            Some("A1"),
            Some("pre_due_t3"),
            Some("sms")
        ),
        "{}",
        acks[0]
    );

    // A settings change is an entry carrying the new settings.
    let changed = json!({ "policy": { "grace_days": 2 }, "contact": settings["contact"] });
    let (status, body) = book.call("PUT", "/v1/tenant/settings", &admin, Some(changed.clone()));
    assert_eq!(status, 200, "{body}");
    let entries = audit(&book, &auditor);
    let last = entries.last().expect("an entry");
    assert_eq!(
        (last["action"].as_str(), &last["detail"]["policy"]),
        (Some("tenant.settings_changed"), &changed["policy"]),
        "{last}"
    );
    // No entry carries the borrower's name, address or identity: the outbox holds the texts.
    let log = Value::Array(entries).to_string();
    assert!(
        !log.contains("张伟") && !log.contains("13800138000"),
        "{log}"
    );
    assert_eq!(verify(&book, &auditor, "")["intact"], true);
}

/// A host serving the loan book like [`Book`], its log (stderr) written to a file; killed
/// when dropped.
struct LoggedHost {
    child: std::process::Child,
    base: String,
    log: std::path::PathBuf,
}

impl LoggedHost {
    fn start(name: &str, redis: &RedisServer) -> Self {
        let manifest = book_manifest(name, &redis.url(), None);
        let dir = manifest.parent().expect("a folder").to_path_buf();
        let log = dir.join("host.log");
        let mut child = Command::new(host_binary())
            .args(["up", "--from"])
            .arg(&manifest)
            .args(["--listen", "127.0.0.1:0", "--state-dir"])
            .arg(dir.join("state"))
            .env("SPIN_VARIABLE_PLATFORM_TOKEN", PLATFORM_TOKEN)
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).expect("a log file"))
            .spawn()
            .expect("postloan-host starts");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let base = lines
            .by_ref()
            .map_while(Result::ok)
            .find_map(|l| {
                l.strip_prefix("postloan-host listening on ")
                    .map(str::to_owned)
            })
            .expect("the host prints its address");
        std::thread::spawn(move || lines.for_each(drop));
        Self { child, base, log }
    }

    fn call(&self, method: &str, path: &str, key: &str, body: Option<Value>) -> (u16, String) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("a method");
        let mut request = reqwest::blocking::Client::new()
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(key);
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body.to_string());
        }
        postloan_tests::send(request)
    }

    fn json(&self, method: &str, path: &str, key: &str, body: Option<Value>) -> Value {
        let (status, text) = self.call(method, path, key, body);
        assert!(
            (200..300).contains(&status),
            "{method} {path}: {status} {text}"
        );
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }
}

impl Drop for LoggedHost {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const NAME: &str = "张伟";

#[test]
fn names_are_masked_for_roles_that_do_not_see_personal_data() {
    let redis = RedisServer::start();
    let host = LoggedHost::start("book-audit-names", &redis);
    let created = host.json(
        "POST",
        "/v1/tenants",
        PLATFORM_TOKEN,
        Some(json!({ "id": "audited", "name": "audited", "settings": { "contact": { "escalation": { "high_risk_tiers": [] } } } })),
    );
    let admin = created["admin_key"].as_str().expect("a key").to_owned();
    let key = |role: &str| {
        host.json(
            "POST",
            "/v1/api-keys",
            &admin,
            Some(json!({ "role": role, "label": role })),
        )["key"]
            .as_str()
            .expect("a key")
            .to_owned()
    };
    let (collector, viewer, auditor) = (key("collector"), key("viewer"), key("auditor"));
    host.json(
        "POST",
        "/v1/events",
        &admin,
        Some(event(
            "n1",
            "loan.created",
            "2026-01-05T02:00:00Z",
            json!({
                "id": "N1",
                "borrower": { "id": "NB1", "id_number": "110101199003071234", "profile": {
                    "name": NAME, "language": "zh-CN", "time_zone": "Asia/Shanghai",
                    "contact_points": [{ "channel": "sms", "address": "+8613800138000" }]
                } },
                "currency": "CNY",
                "disbursed_on": "2026-01-01",
                "installments": [{ "seq": 1, "due_date": "2026-03-05", "principal": "1000.00", "interest": "0" }]
            }),
        )),
    );
    // The close of 2026-03-01 plans the pre-due SMS (as in the test above), whose text
    // greets the borrower by name: the one reminder.
    host.json(
        "POST",
        "/v1/jobs/close-of-business?date=2026-03-01",
        &admin,
        None,
    );
    // An event that cannot be applied, published on Redis: the host logs why.
    redis.publish_when_subscribed(
        "postloan.events",
        &event(
            "n2",
            "loan.created",
            "2026-01-05T02:00:00Z",
            json!({ "id": "N2", "borrower": { "id": "NB2", "profile": {
                "name": NAME, "language": "zh-CN", "time_zone": "Mars/Olympus",
                "contact_points": [{ "channel": "sms", "address": "+8613800138001" }]
            } }, "currency": "CNY", "disbursed_on": "2026-01-01",
            "installments": [{ "seq": 1, "due_date": "2026-03-05", "principal": "1000.00", "interest": "0" }] }),
        )
        .to_string(),
    );

    // "张伟" is two characters: masked, "**".
    let masked = "*".repeat(NAME.chars().count());
    assert_eq!(masked, "**");
    let text_of = |key: &str| -> String {
        let actions = host.json("GET", "/v1/actions", key, None);
        let items = actions["items"].as_array().cloned().unwrap_or_default();
        let reminders: Vec<&Value> = items.iter().filter(|a| a["kind"] == "reminder").collect();
        assert_eq!(reminders.len(), 1, "{actions}");
        reminders[0]["detail"]["text"]
            .as_str()
            .expect("a text")
            .to_owned()
    };
    let sent = text_of(&admin);
    assert!(sent.contains(NAME), "the SMS greets by name: {sent}");
    assert_eq!(text_of(&collector), sent);
    for (role, key) in [("viewer", &viewer), ("auditor", &auditor)] {
        let shown = text_of(key);
        assert_eq!(shown, sent.replace(NAME, &masked), "the {role}'s text");

        let view = host.json("GET", "/v1/loans/N1?as_of=2026-03-01", key, None);
        assert_eq!(
            view["borrower"]["profile"]["name"].as_str(),
            Some(masked.as_str()),
            "the {role}'s loan view: {}",
            view["borrower"]
        );
        for path in [
            "/v1/loans/N1?as_of=2026-03-01",
            "/v1/loans",
            "/v1/loans?format=csv",
            "/v1/actions",
            "/v1/queues/early",
        ] {
            let (status, text) = host.call("GET", path, key, None);
            assert_eq!(status, 200, "{path}: {text}");
            assert!(
                !text.contains(NAME),
                "the {role}'s {path} names the borrower: {text}"
            );
        }
    }
    let admin_view = host.json("GET", "/v1/loans/N1?as_of=2026-03-01", &admin, None);
    assert_eq!(
        admin_view["borrower"]["profile"]["name"].as_str(),
        Some(NAME)
    );

    // The log: the failed event is there, the name is not.
    let logged = postloan_tests::eventually(
        std::time::Duration::from_secs(15),
        "the failed event in the host's log",
        || {
            let log = std::fs::read_to_string(&host.log).unwrap_or_default();
            log.contains("event not applied").then_some(log)
        },
    );
    assert!(
        !logged.contains(NAME),
        "the log names the borrower: {logged}"
    );
}
