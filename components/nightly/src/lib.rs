//! postloan's nightly run as a cron component (`fermyon:spin-cron/spin-cron@2.0.0`, the WIT
//! of Spin's cron trigger plugin, whose SDK is not on crates.io): a shell over
//! `postloan-service`.

mod bindings {
    wit_bindgen::generate!({
        world: "fermyon:spin-cron/spin-cron@2.0.0",
        path: "../../host/wit",
    });
}

use bindings::fermyon::spin_cron::cron_types::{Error, Metadata};

struct Nightly;

impl bindings::Guest for Nightly {
    /// Closes the business day that ended before the event, for every tenant, catching up
    /// days missed and resuming a run left unfinished.
    fn handle_cron_event(metadata: Metadata) -> Result<(), Error> {
        postloan_service::book::jobs::on_cron(metadata.timestamp)
            .map_err(|problem| Error::Other(problem.detail().to_owned()))
    }
}

bindings::export!(Nightly with_types_in bindings);
