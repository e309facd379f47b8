//! postloan's service: the HTTP API, and with Spin's interfaces the loan book, its events
//! and its nightly run. The api, events and nightly components are shells over this crate;
//! it turns JSON and SQL rows into WIT calls on the other postloan components and their
//! answers back, and holds no domain logic of its own beyond bookkeeping.

mod assess;
#[cfg(feature = "spin")]
pub mod book;
mod contact_plan;
mod input;
mod problem;
mod request;
mod schedules;
mod score;

#[cfg(test)]
mod fuzz;

use spin_sdk::http::{Method, Request, Response};

pub use problem::Problem;

wit_bindgen::generate!({
    world: "service",
    path: "../../wit",
    generate_all,
});

/// The paths of the stateless routes.
const STATELESS: [&str; 6] = [
    "/v1/health",
    "/v1/assess",
    "/v1/assess/borrower",
    "/v1/schedules",
    "/v1/contact-plan",
    "/v1/score",
];

/// Answers one HTTP request.
pub fn handle(request: Request) -> Response {
    let answer = match (request.method(), request.path()) {
        (Method::Get, "/v1/health") => Ok(json(200, &serde_json::json!({ "status": "ok" }))),
        (Method::Post, "/v1/assess") => assess::loan(request.body()),
        (Method::Post, "/v1/assess/borrower") => assess::borrower(request.body()),
        (Method::Post, "/v1/schedules") => schedules::handle(request.body()),
        (Method::Post, "/v1/contact-plan") => contact_plan::handle(request.body()),
        (Method::Post, "/v1/score") => score::handle(request.body()),
        (_, path) if STATELESS.contains(&path) => {
            Err(Problem::method_not_allowed(request.method()))
        }
        _ => stateful(&request),
    };
    answer.unwrap_or_else(Problem::into_response)
}

/// The loan book's routes.
#[cfg(feature = "spin")]
fn stateful(request: &Request) -> Result<Response, Problem> {
    book::http::handle(request)
}

/// Built without Spin's interfaces there is no loan book.
#[cfg(not(feature = "spin"))]
fn stateful(request: &Request) -> Result<Response, Problem> {
    Err(Problem::not_found(request.path()))
}

/// A JSON response with the given status.
fn json(status: u16, body: &impl serde::Serialize) -> Response {
    match serde_json::to_vec_pretty(body) {
        Ok(bytes) => Response::builder()
            .status(status)
            .header("content-type", "application/json")
            .body(bytes)
            .build(),
        Err(error) => {
            Problem::internal(format!("could not write the response: {error}")).into_response()
        }
    }
}
