//! `check-scorer PATH.wasm`: the scorer conformance kit. Checks that a component is a
//! postloan scorer an integrator can ship: it exports exactly the `scorer` world, `describe`
//! is well formed, the same input always gives the same answer, scores stay in the declared
//! range, reason codes are at most 4 and come from what `describe` declared, and edge inputs
//! give a score or an `error`, never a trap. Exits 0 when every check passes, 1 otherwise.

mod checks;
mod inputs;
mod sandbox;

use std::process::ExitCode;

fn main() -> ExitCode {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: check-scorer PATH.wasm");
        return ExitCode::from(2);
    };
    match checks::run(std::path::Path::new(&path)) {
        Ok(report) => {
            report.print(&path);
            if report.passed() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(error) => {
            eprintln!("check-scorer: FAIL {path}: {error:#}");
            ExitCode::FAILURE
        }
    }
}
