//! postloan's HTTP API: a Spin HTTP component that turns JSON into WIT calls on the other
//! postloan components and their answers back into JSON. It holds no domain logic.

mod assess;
mod contact_plan;
mod input;
mod problem;
mod request;
mod schedules;
mod score;

use spin_sdk::http::{Method, Request, Response};
use spin_sdk::http_component;

use problem::Problem;

wit_bindgen::generate!({
    world: "api",
    path: "../../wit",
});

#[http_component]
fn handle(request: Request) -> Response {
    let answer = match (request.method(), request.path()) {
        (Method::Get, "/v1/health") => Ok(json(200, &serde_json::json!({ "status": "ok" }))),
        (Method::Post, "/v1/assess") => assess::loan(request.body()),
        (Method::Post, "/v1/assess/borrower") => assess::borrower(request.body()),
        (Method::Post, "/v1/schedules") => schedules::handle(request.body()),
        (Method::Post, "/v1/contact-plan") => contact_plan::handle(request.body()),
        (Method::Post, "/v1/score") => score::handle(request.body()),
        (
            _,
            "/v1/health"
            | "/v1/assess"
            | "/v1/assess/borrower"
            | "/v1/schedules"
            | "/v1/contact-plan"
            | "/v1/score",
        ) => Err(Problem::method_not_allowed(request.method())),
        (_, path) => Err(Problem::not_found(path)),
    };
    answer.unwrap_or_else(Problem::into_response)
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
