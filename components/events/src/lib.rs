//! postloan's event consumer as a Spin Redis component: a shell over `postloan-service`.

use bytes::Bytes;
use spin_sdk::redis_component;

/// Applies one event envelope. An envelope that cannot be applied is logged by the host and
/// skipped, so one bad message does not stop the channel.
#[redis_component]
fn on_message(message: Bytes) -> anyhow::Result<()> {
    postloan_service::book::events::on_message(&message).map_err(|problem| {
        anyhow::anyhow!(
            "event not applied ({}): {}",
            problem.status(),
            problem.detail()
        )
    })
}
