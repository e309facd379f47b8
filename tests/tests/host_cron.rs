//! postloan-host's cron trigger, with the cron-tick fixture (tests/fixtures/cron-tick),
//! which counts its events in the default key-value store; the state fixture reads them.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use postloan_tests::{Host, eventually, fixture_wasm, get_text, temp_dir, write_manifest};

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("the clock is after 1970")
        .as_secs()
}

#[test]
fn a_cron_expression_firing_every_second_calls_the_component_with_the_event_time() {
    let manifest = write_manifest(
        "cron-every-second",
        &format!(
            "spin_manifest_version = 2\n\
             [application]\nname = \"cron-test\"\n\
             [[trigger.cron]]\ncomponent = \"tick\"\ncron_expression = \"* * * * * *\"\n\
             [[trigger.http]]\nroute = \"/...\"\ncomponent = \"state\"\n\
             [component.tick]\nsource = {tick:?}\nkey_value_stores = [\"default\"]\n\
             [component.state]\nsource = {state:?}\nkey_value_stores = [\"default\"]\n",
            tick = fixture_wasm("cron_tick_fixture").display().to_string(),
            state = fixture_wasm("state_fixture").display().to_string(),
        ),
    );
    let state_dir = temp_dir("cron-every-second-data");
    let started = now_secs();
    let host = Host::start_with(
        &manifest,
        &["--state-dir", state_dir.to_str().expect("utf-8")],
    );
    let ticks = eventually(Duration::from_secs(15), "three cron events", || {
        let (status, body) = get_text(&host.url("/kv/default/ticks"));
        let ticks: u64 = body.parse().ok().filter(|_| status == 200)?;
        (ticks >= 3).then_some(ticks)
    });
    assert!(ticks >= 3);
    let (status, last) = get_text(&host.url("/kv/default/last-timestamp"));
    assert_eq!(status, 200);
    let last: u64 = last.parse().expect("a timestamp in seconds");
    assert!(
        (started..=now_secs()).contains(&last),
        "event time {last} is not between {started} and now"
    );
}
