//! Turns the embedded `scorecard.json` into Rust that builds the same scorecard
//! (`$OUT_DIR/built_in_scorecard.rs`): a scorer instance lives for one request, and building
//! the scorecard from data costs less than parsing its JSON each time. A scorecard.json that
//! does not check fails the build, naming the field.

#[path = "src/scorecard_json.rs"]
mod scorecard_json;
#[path = "src/scorecard_rust.rs"]
mod scorecard_rust;

fn main() {
    for watched in [
        "scorecard.json",
        "src/scorecard_json.rs",
        "src/scorecard_rust.rs",
    ] {
        println!("cargo::rerun-if-changed={watched}");
    }
    let text = std::fs::read_to_string("scorecard.json").expect("scorecard.json is readable");
    let card = scorecard_json::parse(&text).unwrap_or_else(|e| panic!("scorecard.json: {e}"));
    let out = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    let path = std::path::Path::new(&out).join("built_in_scorecard.rs");
    std::fs::write(path, scorecard_rust::rust_source(&card)).expect("OUT_DIR is writable");
}
