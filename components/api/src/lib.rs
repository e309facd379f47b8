//! postloan's HTTP API as a Spin HTTP component: a shell over `postloan-service`.

use spin_sdk::http::{Request, Response};
use spin_sdk::http_component;

#[http_component]
fn handle(request: Request) -> Response {
    postloan_service::handle(request)
}
