//! postloan's workbench as a Spin HTTP component: the front end built from `web/` is served
//! at `/` beside the api's `/v1`. It imports nothing but WASI, so it runs on Spin,
//! postloan-host and `wasmtime serve` alike.

mod site;

use spin_sdk::http::{Request, Response};
use spin_sdk::http_component;

use site::{Asked, Asset, answer};

/// The files of `web/dist`, embedded by build.rs.
static SITE: &[Asset] = include!(concat!(env!("OUT_DIR"), "/site.rs"));

#[http_component]
fn handle(request: Request) -> Response {
    let header = |name| request.header(name).and_then(|v| v.as_str());
    let method = request.method().to_string();
    let reply = answer(
        SITE,
        &Asked {
            method: &method,
            path: request.path(),
            accept_encoding: header("accept-encoding"),
            if_none_match: header("if-none-match"),
        },
    );
    let mut response = Response::builder();
    response.status(reply.status);
    for (name, value) in reply.headers {
        response.header(name, value);
    }
    response.body(reply.body).build()
}
