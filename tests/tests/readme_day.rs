//! The README's day in the life of the loan book, run as it is written (bash, curl and
//! redis-cli) against the app on a fresh SQLite file and its own redis-server: it must print
//! exactly what the README says it prints.

use std::process::Command;

use postloan_tests::{Book, RedisServer, root};

/// The fenced block after `marker` in the README.
fn block_after(readme: &str, marker: &str) -> String {
    let start = readme
        .find(marker)
        .unwrap_or_else(|| panic!("the README has {marker}"));
    let fence = readme[start..].find("```").expect("a fenced block") + start;
    let body = readme[fence..].find('\n').expect("a fence line") + fence + 1;
    let end = readme[body..].find("\n```").expect("a closing fence") + body;
    readme[body..end].to_owned()
}

#[test]
fn the_readme_day_in_the_life_prints_what_the_readme_says() {
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README.md");
    let script = block_after(&readme, "<!-- day-in-the-life -->");
    let expected = block_after(&readme, "<!-- day-in-the-life-output -->");
    let redis = RedisServer::start();
    let book = Book::start("readme-day", &redis);
    let port = redis.url().rsplit(':').next().expect("a port").to_owned();
    assert!(
        script.contains("P=http://127.0.0.1:3000\n"),
        "the script names the app's address"
    );
    // The app and redis-server of this test instead of the default ports.
    let script = format!(
        "set -euo pipefail\nredis-cli() {{ command redis-cli -p {port} \"$@\"; }}\n{}",
        script.replace(
            "P=http://127.0.0.1:3000\n",
            &format!("P={}\n", book.host.url(""))
        )
    );
    let output = Command::new("bash")
        .arg("-c")
        .arg(&script)
        .output()
        .expect("bash runs");
    let printed = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "the script failed: {}\n{printed}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(printed.trim_end(), expected.trim_end());
}
