//! postloan-host's Redis trigger and outbound Redis, against a real redis-server, with the
//! redis-echo fixture (tests/fixtures/redis-echo): each message on `messages` is echoed by
//! the component as `echo:MESSAGE` on `echoes` and stored under `last-message`.

use std::time::Duration;

use postloan_tests::{
    Host, RedisServer, eventually, fixture_wasm, get_text, temp_dir, write_manifest,
};

/// The echo component on `messages`, allowed to reach `allowed`, plus hello on HTTP.
fn echo_manifest(redis: &RedisServer, allowed: &str) -> String {
    format!(
        "spin_manifest_version = 2\n\
         [application]\nname = \"redis-test\"\n\
         [application.trigger.redis]\naddress = {url:?}\n\
         [variables]\nredis_address = {{ default = {url:?} }}\n\
         [[trigger.redis]]\nchannel = \"messages\"\ncomponent = \"echo\"\n\
         [[trigger.http]]\nroute = \"/...\"\ncomponent = \"hello\"\n\
         [component.echo]\nsource = {echo:?}\nallowed_outbound_hosts = [{allowed:?}]\n\
         [component.echo.variables]\nredis_address = \"{{{{ redis_address }}}}\"\n\
         [component.hello]\nsource = {hello:?}\n",
        url = redis.url(),
        echo = fixture_wasm("redis_echo_fixture").display().to_string(),
        hello = fixture_wasm("hello_fixture").display().to_string(),
    )
}

fn start_host(name: &str, manifest: &str) -> Host {
    let manifest = write_manifest(name, manifest);
    let state_dir = temp_dir(&format!("{name}-data"));
    Host::start_with(
        &manifest,
        &["--state-dir", state_dir.to_str().expect("utf-8 path")],
    )
}

fn subscribe<'a>(connection: &'a mut redis::Connection, channel: &str) -> redis::PubSub<'a> {
    let mut pubsub = connection.as_pubsub();
    pubsub.subscribe(channel).expect("SUBSCRIBE works");
    pubsub
        .set_read_timeout(Some(Duration::from_secs(15)))
        .expect("read timeout set");
    pubsub
}

fn next_message(pubsub: &mut redis::PubSub<'_>) -> String {
    let message = pubsub.get_message().expect("a message within 15 s");
    message.get_payload().expect("a text payload")
}

fn last_message(redis: &RedisServer) -> Option<String> {
    redis::cmd("GET")
        .arg("last-message")
        .query(&mut redis.connection())
        .expect("GET works")
}

#[test]
fn a_published_message_reaches_the_component_and_its_publish_reaches_a_subscriber() {
    let redis = RedisServer::start();
    let _host = start_host("redis-echo", &echo_manifest(&redis, &redis.url()));
    let mut connection = redis.connection();
    let mut echoes = subscribe(&mut connection, "echoes");
    redis.publish_when_subscribed("messages", "loan L-1001 repaid");
    assert_eq!(next_message(&mut echoes), "echo:loan L-1001 repaid");
    assert_eq!(last_message(&redis).as_deref(), Some("loan L-1001 repaid"));
}

#[test]
fn a_trapping_or_failing_handler_leaves_the_subscription_and_the_host_running() {
    let redis = RedisServer::start();
    let host = start_host("redis-trap", &echo_manifest(&redis, &redis.url()));
    let mut connection = redis.connection();
    let mut echoes = subscribe(&mut connection, "echoes");
    redis.publish_when_subscribed("messages", "trap");
    redis.publish_when_subscribed("messages", "fail");
    redis.publish_when_subscribed("messages", "still here");
    assert_eq!(next_message(&mut echoes), "echo:still here");
    assert_eq!(get_text(&host.url("/hello")), (200, "hello".to_owned()));
}

#[test]
fn outbound_redis_to_an_address_not_allowed_is_refused() {
    let redis = RedisServer::start();
    let _host = start_host(
        "redis-denied",
        &echo_manifest(&redis, "redis://127.0.0.1:1"),
    );
    redis.publish_when_subscribed("messages", "should not be stored");
    // The trigger delivers it (someone subscribed), but the component may not connect back.
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(last_message(&redis), None);
}

#[test]
fn the_subscription_comes_back_after_redis_restarts_on_the_same_port() {
    let redis = RedisServer::start();
    let _host = start_host("redis-reconnect", &echo_manifest(&redis, &redis.url()));
    redis.publish_when_subscribed("messages", "before");
    eventually(Duration::from_secs(10), "the first echo", || {
        (last_message(&redis).as_deref() == Some("before")).then_some(())
    });
    let restarted = redis.restart();
    restarted.publish_when_subscribed("messages", "after");
    eventually(
        Duration::from_secs(10),
        "the echo after the restart",
        || (last_message(&restarted).as_deref() == Some("after")).then_some(()),
    );
}
