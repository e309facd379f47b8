//! Every name in postloan's WIT (wit/) has kebab-case segments that each start with a
//! letter. Newer component parsers accept a segment starting with a digit (`max-dpd-3m`),
//! older ones do not: Spin 3.x and the released `trigger-cron` plugin (wasmparser 0.239)
//! refuse such a component with "record field name `max-dpd-3m` is not in kebab case".

use std::path::Path;

use wit_parser::{Resolve, TypeDefKind};

/// The names in the WIT at `dir` that an older parser refuses, each with where it is.
fn refused_names(dir: &Path) -> Vec<String> {
    let mut resolve = Resolve::default();
    resolve.push_dir(dir).expect("the WIT parses");
    let mut names: Vec<(String, String)> = Vec::new();
    let mut add = |place: String, name: &str| names.push((place, name.to_owned()));
    for (_, package) in &resolve.packages {
        add("package".into(), &package.name.namespace);
        add("package".into(), &package.name.name);
    }
    for (_, interface) in &resolve.interfaces {
        let Some(name) = &interface.name else {
            continue;
        };
        add("interface".into(), name);
        for (func_name, func) in &interface.functions {
            add(format!("{name} function"), func_name);
            for param in &func.params {
                add(format!("{name}.{func_name} parameter"), &param.name);
            }
        }
    }
    for (_, world) in &resolve.worlds {
        add("world".into(), &world.name);
    }
    for (_, ty) in &resolve.types {
        let Some(name) = &ty.name else { continue };
        add("type".into(), name);
        let members: Vec<&str> = match &ty.kind {
            TypeDefKind::Record(r) => r.fields.iter().map(|f| f.name.as_str()).collect(),
            TypeDefKind::Variant(v) => v.cases.iter().map(|c| c.name.as_str()).collect(),
            TypeDefKind::Enum(e) => e.cases.iter().map(|c| c.name.as_str()).collect(),
            TypeDefKind::Flags(f) => f.flags.iter().map(|f| f.name.as_str()).collect(),
            _ => Vec::new(),
        };
        for member in members {
            add(format!("member of {name}"), member);
        }
    }
    names
        .into_iter()
        .filter(|(_, name)| !segments_start_with_letters(name))
        .map(|(place, name)| format!("{place} `{name}`"))
        .collect()
}

/// Whether each `-`-separated segment of `name` starts with an ASCII letter.
fn segments_start_with_letters(name: &str) -> bool {
    name.split('-').all(|segment| {
        segment
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic())
    })
}

#[test]
fn every_wit_name_segment_starts_with_a_letter() {
    let wit = Path::new(env!("CARGO_MANIFEST_DIR")).join("../wit");
    assert_eq!(refused_names(&wit), Vec::<String>::new());
}

#[test]
fn the_check_finds_the_names_old_parsers_refuse() {
    assert!(segments_start_with_letters("max-dpd-m3"));
    assert!(segments_start_with_letters("thirty360"));
    for refused in ["max-dpd-3m", "actual-365", "cn-2025", "per-7-days"] {
        assert!(!segments_start_with_letters(refused), "{refused}");
    }
    let dir = std::env::temp_dir().join(format!("postloan-wit-names-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("a.wit"),
        "package a:b;\ninterface i {\n  record r { max-dpd-3m: u32 }\n  enum e { actual-365 }\n}\n",
    )
    .unwrap();
    let found = refused_names(&dir);
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(
        found,
        ["member of r `max-dpd-3m`", "member of e `actual-365`"]
    );
}
