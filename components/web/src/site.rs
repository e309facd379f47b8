//! Which file answers a request, in which encoding, with which headers: pure, so that it
//! is tested natively against a table of its own.

/// One file of the built front end.
#[derive(Debug)]
pub struct Asset {
    /// Its path from the site's root, such as `/assets/index-3f2a.js`.
    pub path: &'static str,
    /// Its media type.
    pub content_type: &'static str,
    /// A strong entity tag: a hash of its bytes, quoted.
    pub etag: &'static str,
    /// Its bytes.
    pub body: &'static [u8],
    /// Its bytes gzipped, where that is smaller.
    pub gzip: Option<&'static [u8]>,
}

/// What the component answers.
#[derive(Debug, PartialEq, Eq)]
pub struct Reply {
    /// The HTTP status.
    pub status: u16,
    /// Header names and values.
    pub headers: Vec<(&'static str, String)>,
    /// The body, empty for `HEAD` and `304`.
    pub body: Vec<u8>,
}

/// A request as far as the site cares.
pub struct Asked<'a> {
    /// The method, upper case.
    pub method: &'a str,
    /// The path without its query.
    pub path: &'a str,
    /// The `Accept-Encoding` header, if sent.
    pub accept_encoding: Option<&'a str>,
    /// The `If-None-Match` header, if sent.
    pub if_none_match: Option<&'a str>,
}

/// Files under this prefix carry a hash of their content in their name, so a browser may
/// keep them for a year; every other file is revalidated by its entity tag.
const IMMUTABLE_PREFIX: &str = "/assets/";

/// The page may load only what the site itself serves and talk only to its own origin (the
/// api under `/v1`); it may not be framed.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; img-src 'self' data:; style-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// Answers `asked` from `assets`.
pub fn answer(assets: &[Asset], asked: &Asked<'_>) -> Reply {
    let head = match asked.method {
        "GET" => false,
        "HEAD" => true,
        other => {
            let mut reply = problem(
                405,
                "Method not allowed",
                &format!(
                    "{other} is not allowed here: the workbench's files are read with GET or HEAD"
                ),
            );
            reply.headers.push(("allow", "GET, HEAD".to_owned()));
            return reply;
        }
    };
    let path = if asked.path == "/" {
        "/index.html"
    } else {
        asked.path
    };
    let Some(asset) = assets.iter().find(|a| a.path == path) else {
        let mut reply = problem(
            404,
            "Not found",
            &format!(
                "{} is not a file of the workbench; the api is under /v1",
                asked.path
            ),
        );
        if head {
            reply.body.clear();
        }
        return reply;
    };
    let zipped = asset.gzip.filter(|_| accepts_gzip(asked.accept_encoding));
    // A strong validator names one representation (RFC 9110 §8.8.3): the gzip one its own.
    let etag = match zipped {
        Some(_) => format!("{}-gzip\"", asset.etag.trim_end_matches('"')),
        None => asset.etag.to_owned(),
    };
    let mut headers = vec![
        ("content-type", asset.content_type.to_owned()),
        ("etag", etag.clone()),
        ("cache-control", cache_control(asset.path).to_owned()),
        ("x-content-type-options", "nosniff".to_owned()),
        ("referrer-policy", "no-referrer".to_owned()),
        (
            "content-security-policy",
            CONTENT_SECURITY_POLICY.to_owned(),
        ),
    ];
    if asset.gzip.is_some() {
        headers.push(("vary", "accept-encoding".to_owned()));
    }
    if asked
        .if_none_match
        .is_some_and(|tags| matches_etag(tags, &etag))
    {
        return Reply {
            status: 304,
            headers,
            body: Vec::new(),
        };
    }
    let body = match zipped {
        Some(zipped) => {
            headers.push(("content-encoding", "gzip".to_owned()));
            zipped
        }
        None => asset.body,
    };
    if head {
        // No body follows, so no length that promises one.
        return Reply {
            status: 200,
            headers,
            body: Vec::new(),
        };
    }
    headers.push(("content-length", body.len().to_string()));
    Reply {
        status: 200,
        headers,
        body: body.to_vec(),
    }
}

fn cache_control(path: &str) -> &'static str {
    if path.starts_with(IMMUTABLE_PREFIX) {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    }
}

/// Whether an `If-None-Match` list names `etag` (or is `*`); weak tags compare by their
/// opaque part, as RFC 9110 §13.1.2's weak comparison says.
fn matches_etag(tags: &str, etag: &str) -> bool {
    tags.split(',')
        .map(|t| t.trim().trim_start_matches("W/"))
        .any(|t| t == "*" || t == etag)
}

/// Whether `Accept-Encoding` allows gzip: named (or `*`) with a quality above zero
/// (RFC 9110 §12.5.3).
fn accepts_gzip(accept_encoding: Option<&str>) -> bool {
    let Some(header) = accept_encoding else {
        return false;
    };
    let quality = |coding: &str| {
        header.split(',').find_map(|item| {
            let mut parts = item.split(';');
            let name = parts.next()?.trim();
            name.eq_ignore_ascii_case(coding).then(|| {
                // A quality is 0 to 1 with up to three decimals: above zero when any
                // digit is not 0.
                parts
                    .find_map(|p| {
                        let (name, value) = p.split_once('=')?;
                        name.trim().eq_ignore_ascii_case("q").then_some(value)
                    })
                    .is_none_or(|q| q.trim().bytes().any(|b| (b'1'..=b'9').contains(&b)))
            })
        })
    };
    quality("gzip").or_else(|| quality("*")).unwrap_or(false)
}

/// An RFC 9457 problem body, as the api answers its errors.
fn problem(status: u16, title: &str, detail: &str) -> Reply {
    let body = serde_json::json!({
        "type": "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
    });
    Reply {
        status,
        headers: vec![("content-type", "application/problem+json".to_owned())],
        body: body.to_string().into_bytes(),
    }
}

#[cfg(test)]
mod tests;
