//! The explanation rule ids the docs name are the ones the code writes: every backticked
//! `namespace.rule` of the docs, in a namespace the explanations use, is a string the code
//! holds.

use std::collections::BTreeSet;
use std::path::Path;

use postloan_tests::root;

/// The namespaces of the rule ids that explanations and held-back contacts carry.
const NAMESPACES: [&str; 15] = [
    "allocation",
    "arrears",
    "bucket",
    "cadence",
    "classification",
    "contact",
    "dpd",
    "forbearance",
    "late-fee",
    "penalty",
    "reschedule",
    "sms",
    "stage",
    "template",
    "tolerance",
];

/// Whether `token` looks like a rule id: a known namespace, a dot, and lowercase words with
/// hyphens (settings paths use underscores and are left out).
fn is_rule_id(token: &str) -> bool {
    let Some((namespace, rest)) = token.split_once('.') else {
        return false;
    };
    NAMESPACES.contains(&namespace)
        && !rest.is_empty()
        && rest
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '.'))
}

fn files(dir: &Path, extension: &str, found: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("a folder").flatten() {
        let path = entry.path();
        if path.is_dir() && !path.ends_with("target") {
            files(&path, extension, found);
        } else if path.extension().is_some_and(|e| e == extension) {
            found.push(path);
        }
    }
}

/// Every `"namespace.rule"` string literal of the Rust sources.
fn ids_in_code() -> BTreeSet<String> {
    let mut sources = Vec::new();
    for dir in ["crates", "components"] {
        files(&root().join(dir), "rs", &mut sources);
    }
    let mut ids = BTreeSet::new();
    for source in sources {
        let text = std::fs::read_to_string(&source).expect("a source");
        ids.extend(
            text.split('"')
                .skip(1)
                .step_by(2)
                .filter(|s| is_rule_id(s))
                .map(str::to_owned),
        );
    }
    ids
}

/// Every backticked rule id of the docs, with the file naming it.
fn ids_in_docs() -> Vec<(String, String)> {
    let mut docs = vec![root().join("README.md")];
    files(&root().join("docs"), "md", &mut docs);
    let mut ids = Vec::new();
    for doc in docs {
        let text = std::fs::read_to_string(&doc).expect("a doc");
        let name = doc
            .strip_prefix(root())
            .unwrap_or(&doc)
            .display()
            .to_string();
        for token in text.split('`').skip(1).step_by(2) {
            // `sms.too-long`, or a family written `stage.*` / `contact.…`.
            let token = token.trim_end_matches(['*', '…', '.']);
            if is_rule_id(token) && !token.ends_with('-') {
                ids.push((name.clone(), token.to_owned()));
            }
        }
    }
    ids
}

#[test]
fn every_rule_id_the_docs_name_is_written_by_the_code() {
    let code = ids_in_code();
    assert!(code.contains("arrears.grace-and-pauses"), "{code:?}");
    let documented = ids_in_docs();
    assert!(
        documented.len() > 10,
        "the docs name rule ids: {documented:?}"
    );
    let unknown: Vec<_> = documented
        .iter()
        .filter(|(_, id)| {
            !code.contains(id) && !code.iter().any(|c| c.starts_with(&format!("{id}.")))
        })
        .collect();
    assert!(
        unknown.is_empty(),
        "rule ids the code does not write: {unknown:?}"
    );
}

#[test]
fn the_check_catches_a_rule_id_the_code_does_not_write() {
    assert!(is_rule_id("arrears.grace-days"));
    assert!(!ids_in_code().contains("arrears.grace-days"));
    assert!(!is_rule_id("contact.escalation.promise_grace_days"));
}
