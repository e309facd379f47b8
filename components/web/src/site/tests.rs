use super::*;

const INDEX: &[u8] = b"<!doctype html><title>postloan</title>";
const SCRIPT: &[u8] = b"console.log('workbench')";
const SCRIPT_GZ: &[u8] = b"\x1f\x8b pretend-gzip";

fn site() -> [Asset; 2] {
    [
        Asset {
            path: "/index.html",
            content_type: "text/html; charset=utf-8",
            etag: "\"aaa\"",
            body: INDEX,
            gzip: None,
        },
        Asset {
            path: "/assets/index-1a2b.js",
            content_type: "text/javascript; charset=utf-8",
            etag: "\"bbb\"",
            body: SCRIPT,
            gzip: Some(SCRIPT_GZ),
        },
    ]
}

fn get(path: &str) -> Asked<'_> {
    Asked {
        method: "GET",
        path,
        accept_encoding: None,
        if_none_match: None,
    }
}

fn header<'a>(reply: &'a Reply, name: &str) -> Option<&'a str> {
    reply
        .headers
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.as_str())
}

#[test]
fn the_root_is_the_index_page_revalidated_each_time() {
    let reply = answer(&site(), &get("/"));
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body, INDEX);
    assert_eq!(
        header(&reply, "content-type"),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(header(&reply, "cache-control"), Some("no-cache"));
    assert_eq!(header(&reply, "etag"), Some("\"aaa\""));
    assert_eq!(header(&reply, "content-length"), Some("38"));
    assert_eq!(header(&reply, "x-content-type-options"), Some("nosniff"));
    assert!(
        header(&reply, "content-security-policy")
            .is_some_and(|c| c.contains("frame-ancestors 'none'"))
    );
}

#[test]
fn hashed_assets_are_kept_a_year_and_sent_gzipped_to_who_accepts_it() {
    let mut asked = get("/assets/index-1a2b.js");
    asked.accept_encoding = Some("br;q=1.0, gzip;q=0.8");
    let reply = answer(&site(), &asked);
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body, SCRIPT_GZ);
    assert_eq!(header(&reply, "content-encoding"), Some("gzip"));
    assert_eq!(header(&reply, "etag"), Some("\"bbb-gzip\""), "its own tag");
    assert_eq!(header(&reply, "vary"), Some("accept-encoding"));
    assert_eq!(
        header(&reply, "content-length"),
        Some(SCRIPT_GZ.len().to_string().as_str())
    );
    assert_eq!(
        header(&reply, "cache-control"),
        Some("public, max-age=31536000, immutable")
    );
}

#[test]
fn gzip_refused_with_q_zero_or_not_named_sends_the_plain_file() {
    for accept in [
        None,
        Some("gzip;q=0"),
        Some("gzip; q=0.000"),
        Some("gzip;Q=0"),
        Some("br, deflate"),
        Some("*;q=0"),
        Some("identity"),
    ] {
        let mut asked = get("/assets/index-1a2b.js");
        asked.accept_encoding = accept;
        let reply = answer(&site(), &asked);
        assert_eq!(reply.body, SCRIPT, "Accept-Encoding {accept:?}");
        assert_eq!(header(&reply, "content-encoding"), None);
    }
    for accept in ["*", "GZIP;q=0.001", "deflate, gzip;q=1.0"] {
        let mut asked = get("/assets/index-1a2b.js");
        asked.accept_encoding = Some(accept);
        assert_eq!(
            answer(&site(), &asked).body,
            SCRIPT_GZ,
            "{accept} allows gzip"
        );
    }
}

#[test]
fn a_matching_entity_tag_is_answered_304_without_a_body() {
    for tags in ["\"aaa\"", "\"zzz\", W/\"aaa\"", "*"] {
        let mut asked = get("/index.html");
        asked.if_none_match = Some(tags);
        let reply = answer(&site(), &asked);
        assert_eq!(reply.status, 304, "If-None-Match {tags}");
        assert!(reply.body.is_empty());
        assert_eq!(header(&reply, "etag"), Some("\"aaa\""));
    }
    let mut asked = get("/index.html");
    asked.if_none_match = Some("\"old\"");
    assert_eq!(answer(&site(), &asked).status, 200);
    // Each encoding is revalidated by its own tag.
    let mut asked = get("/assets/index-1a2b.js");
    asked.accept_encoding = Some("gzip");
    asked.if_none_match = Some("\"bbb-gzip\"");
    assert_eq!(answer(&site(), &asked).status, 304);
    asked.if_none_match = Some("\"bbb\"");
    assert_eq!(answer(&site(), &asked).status, 200);
}

#[test]
fn head_sends_the_headers_and_no_body() {
    let mut asked = get("/");
    asked.method = "HEAD";
    let reply = answer(&site(), &asked);
    assert_eq!(reply.status, 200);
    assert!(reply.body.is_empty());
    assert_eq!(
        header(&reply, "content-type"),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(header(&reply, "content-length"), None, "no body follows");
    asked.path = "/nope";
    let reply = answer(&site(), &asked);
    assert_eq!((reply.status, reply.body.len()), (404, 0));
}

#[test]
fn an_unknown_path_is_a_404_problem_naming_it() {
    for path in [
        "/nope",
        "/assets/../index.html",
        "/index.html/",
        "//index.html",
    ] {
        let reply = answer(&site(), &get(path));
        assert_eq!(reply.status, 404, "{path}");
        assert_eq!(
            header(&reply, "content-type"),
            Some("application/problem+json")
        );
        let body: serde_json::Value = serde_json::from_slice(&reply.body).unwrap();
        assert_eq!(body["status"], 404);
        assert!(body["detail"].as_str().unwrap().starts_with(path), "{body}");
    }
}

#[test]
fn writing_methods_are_refused_with_405_and_allow() {
    let mut asked = get("/");
    asked.method = "POST";
    let reply = answer(&site(), &asked);
    assert_eq!(reply.status, 405);
    assert_eq!(header(&reply, "allow"), Some("GET, HEAD"));
    let body: serde_json::Value = serde_json::from_slice(&reply.body).unwrap();
    assert_eq!(
        body["detail"].as_str().unwrap().split(' ').next(),
        Some("POST")
    );
}
