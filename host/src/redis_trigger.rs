//! The Redis trigger: each `[[trigger.redis]]` entry subscribes to its
//! channel and hands every message to the component's
//! `fermyon:spin/inbound-redis.handle-message`, in the order they arrive.
//!
//! A handler that fails or traps is logged and the subscription goes on.
//! When Redis goes away the subscription reconnects with exponential
//! backoff (100 ms doubling to 5 s), reset once it is subscribed again.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use futures_util::StreamExt;

use crate::runtime::{PreparedComponent, Runtime, log_invocation};

/// The first wait after a lost or refused connection.
const FIRST_RETRY: Duration = Duration::from_millis(100);
/// The longest wait between reconnection attempts.
const MAX_RETRY: Duration = Duration::from_secs(5);

/// One channel subscription feeding one component.
#[derive(Clone)]
pub struct Subscription {
    /// The Redis URL.
    pub address: String,
    /// The channel.
    pub channel: String,
    /// The component each message goes to.
    pub component: PreparedComponent,
}

/// Exponential backoff between reconnection attempts.
#[derive(Debug)]
struct Backoff {
    next: Duration,
}

impl Backoff {
    fn new() -> Self {
        Self { next: FIRST_RETRY }
    }

    fn reset(&mut self) {
        self.next = FIRST_RETRY;
    }

    fn wait(&mut self) -> Duration {
        let wait = self.next;
        self.next = (self.next * 2).min(MAX_RETRY);
        wait
    }
}

/// Keeps `subscription` alive for as long as the task runs.
pub async fn run_subscription(runtime: Arc<Runtime>, subscription: Subscription) {
    let mut backoff = Backoff::new();
    loop {
        match receive(&runtime, &subscription, &mut backoff).await {
            Ok(()) => eprintln!(
                "postloan-host: redis {} channel `{}`: connection closed",
                subscription.address, subscription.channel
            ),
            Err(e) => eprintln!(
                "postloan-host: redis {} channel `{}`: {e:#}",
                subscription.address, subscription.channel
            ),
        }
        let wait = backoff.wait();
        eprintln!("postloan-host: redis: reconnecting in {wait:?}");
        tokio::time::sleep(wait).await;
    }
}

/// Subscribes and delivers messages until the connection ends.
async fn receive(
    runtime: &Runtime,
    subscription: &Subscription,
    backoff: &mut Backoff,
) -> Result<()> {
    let client =
        redis::Client::open(subscription.address.as_str()).context("invalid Redis address")?;
    let mut pubsub = client.get_async_pubsub().await.context("cannot connect")?;
    pubsub
        .subscribe(&subscription.channel)
        .await
        .context("cannot subscribe")?;
    backoff.reset();
    eprintln!(
        "postloan-host: redis {} channel `{}` -> component `{}`",
        subscription.address,
        subscription.channel,
        subscription.component.id()
    );
    let mut messages = pubsub.into_on_message();
    while let Some(message) = messages.next().await {
        deliver(runtime, subscription, message.get_payload_bytes().to_vec()).await;
    }
    Ok(())
}

async fn deliver(runtime: &Runtime, subscription: &Subscription, payload: Vec<u8>) {
    let started = Instant::now();
    let detail = format!("channel={} bytes={}", subscription.channel, payload.len());
    let outcome = runtime
        .handle_redis_message(&subscription.component, payload)
        .await;
    log_invocation("redis", &subscription.component, &detail, started, &outcome);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap_and_resets() {
        let mut backoff = Backoff::new();
        let waits: Vec<u128> = (0..8).map(|_| backoff.wait().as_millis()).collect();
        assert_eq!(waits, [100, 200, 400, 800, 1600, 3200, 5000, 5000]);
        backoff.reset();
        assert_eq!(backoff.wait(), FIRST_RETRY);
    }
}
