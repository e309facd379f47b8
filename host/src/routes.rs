//! HTTP route matching with Spin's semantics.
//!
//! Routes are either exact (`/a/b`) or trailing wildcards (`/a/...`, also
//! written `/a/*`); segments may be named captures (`/loans/:id`). When several
//! routes match, exact routes win over wildcards, then the route with more
//! literal segments wins, then the one with fewer captures.

use anyhow::{Result, bail};

/// A route table built from `[[trigger.http]]` entries.
#[derive(Debug, Clone, Default)]
pub struct Router {
    routes: Vec<Route>,
}

#[derive(Debug, Clone)]
struct Route {
    /// The route as written in the manifest.
    raw: String,
    /// Segments before any trailing wildcard.
    segments: Vec<Segment>,
    wildcard: bool,
    component: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Capture(String),
}

/// The result of matching a request path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteMatch {
    /// Id of the component handling the request.
    pub component: String,
    /// The route as written in the manifest (`spin-matched-route`).
    pub raw_route: String,
    /// The route without its trailing `/...` (`spin-component-route`).
    pub component_route: String,
    /// The part of the path matched by the trailing wildcard (`spin-path-info`).
    pub path_info: String,
    /// Named captures, e.g. `("id", "42")` for `/loans/:id`.
    pub captures: Vec<(String, String)>,
}

impl Router {
    /// Builds a router from `(route, component id)` pairs. A later duplicate of
    /// the same route replaces the earlier one, as in Spin.
    pub fn build<'a>(routes: impl IntoIterator<Item = (&'a str, &'a str)>) -> Result<Self> {
        let mut out: Vec<Route> = Vec::new();
        for (raw, component) in routes {
            let route = parse_route(raw, component)?;
            match out.iter_mut().find(|r| r.raw == route.raw) {
                Some(existing) => *existing = route,
                None => out.push(route),
            }
        }
        Ok(Self { routes: out })
    }

    /// Number of routes.
    pub fn len(&self) -> usize {
        self.routes.len()
    }

    /// Whether the router has no routes.
    pub fn is_empty(&self) -> bool {
        self.routes.is_empty()
    }

    /// Finds the most specific route for `path` (without query), if any.
    pub fn route(&self, path: &str) -> Option<RouteMatch> {
        let path_segments: Vec<&str> = split(path);
        self.routes
            .iter()
            .filter_map(|r| r.matches(path, &path_segments).map(|m| (r.rank(), m)))
            .max_by(|a, b| a.0.cmp(&b.0))
            .map(|(_, m)| m)
    }
}

fn split(path: &str) -> Vec<&str> {
    path.split('/').filter(|s| !s.is_empty()).collect()
}

fn parse_route(raw: &str, component: &str) -> Result<Route> {
    let absolute = if raw.starts_with('/') {
        raw.to_owned()
    } else {
        format!("/{raw}")
    };
    let (prefix, wildcard) = if let Some(p) = absolute.strip_suffix("/...") {
        (p, true)
    } else if let Some(p) = absolute.strip_suffix("/*") {
        (p, true)
    } else {
        (absolute.as_str(), false)
    };
    let mut segments = Vec::new();
    for seg in split(prefix) {
        if seg == "..." || seg == "*" {
            bail!(
                "route `{raw}` of component `{component}`: a wildcard is only allowed at the end"
            );
        }
        match seg.strip_prefix(':') {
            Some("") => bail!("route `{raw}` of component `{component}`: empty capture name"),
            Some(name) => segments.push(Segment::Capture(name.to_owned())),
            None => segments.push(Segment::Literal(seg.to_owned())),
        }
    }
    Ok(Route {
        raw: raw.to_owned(),
        segments,
        wildcard,
        component: component.to_owned(),
    })
}

impl Route {
    /// Ordering key: larger is more specific.
    fn rank(&self) -> (bool, usize, usize, std::cmp::Reverse<usize>) {
        let literals = self
            .segments
            .iter()
            .filter(|s| matches!(s, Segment::Literal(_)))
            .count();
        let captures = self.segments.len() - literals;
        (
            !self.wildcard,
            self.segments.len(),
            literals,
            std::cmp::Reverse(captures),
        )
    }

    fn matches(&self, path: &str, path_segments: &[&str]) -> Option<RouteMatch> {
        let n = self.segments.len();
        if path_segments.len() < n || (!self.wildcard && path_segments.len() != n) {
            return None;
        }
        let mut captures = Vec::new();
        for (seg, actual) in self.segments.iter().zip(path_segments) {
            match seg {
                Segment::Literal(l) if l == actual => {}
                Segment::Literal(_) => return None,
                Segment::Capture(name) => captures.push((name.clone(), (*actual).to_owned())),
            }
        }
        let rest = &path_segments[n..];
        let path_info = if !self.wildcard {
            String::new()
        } else {
            // Spin keeps a trailing slash in the path info.
            match (rest.is_empty(), path.ends_with('/')) {
                (true, false) => String::new(),
                (true, true) => "/".to_owned(),
                (false, false) => format!("/{}", rest.join("/")),
                (false, true) => format!("/{}/", rest.join("/")),
            }
        };
        let component_route = self
            .raw
            .strip_suffix("/...")
            .unwrap_or(&self.raw)
            .to_owned();
        Some(RouteMatch {
            component: self.component.clone(),
            raw_route: self.raw.clone(),
            component_route,
            path_info,
            captures,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn router() -> Router {
        Router::build([
            ("/...", "fallback"),
            ("/v1/...", "api"),
            ("/v1/loans/...", "loans"),
            ("/v1/loans/special", "special"),
            ("/v1/loans/:id", "by-id"),
            ("/health", "health"),
        ])
        .unwrap()
    }

    fn component(path: &str) -> Option<String> {
        router().route(path).map(|m| m.component)
    }

    #[test]
    fn most_specific_wins() {
        assert_eq!(component("/health").as_deref(), Some("health"));
        assert_eq!(component("/health/x").as_deref(), Some("fallback"));
        assert_eq!(component("/v1").as_deref(), Some("api"));
        assert_eq!(component("/v1/other").as_deref(), Some("api"));
        assert_eq!(component("/v1/loans").as_deref(), Some("loans"));
        assert_eq!(component("/v1/loans/special").as_deref(), Some("special"));
        assert_eq!(component("/v1/loans/42").as_deref(), Some("by-id"));
        assert_eq!(component("/v1/loans/42/x").as_deref(), Some("loans"));
        assert_eq!(component("/").as_deref(), Some("fallback"));
    }

    #[test]
    fn no_match_is_none() {
        let r = Router::build([("/v1/...", "api"), ("/exact", "e")]).unwrap();
        assert!(r.route("/v2").is_none());
        assert!(r.route("/exact/more").is_none());
        assert!(r.route("/v10").is_none());
    }

    #[test]
    fn path_info_and_component_route() {
        let r = Router::build([("/v1/...", "api")]).unwrap();
        let m = r.route("/v1/loans/7").unwrap();
        assert_eq!(m.path_info, "/loans/7");
        assert_eq!(m.raw_route, "/v1/...");
        assert_eq!(m.component_route, "/v1");
        assert_eq!(r.route("/v1").unwrap().path_info, "");
        assert_eq!(r.route("/v1/").unwrap().path_info, "/");
        assert_eq!(r.route("/v1/a/").unwrap().path_info, "/a/");
    }

    #[test]
    fn captures_are_reported() {
        let m = router().route("/v1/loans/42").unwrap();
        assert_eq!(m.captures, vec![("id".to_owned(), "42".to_owned())]);
    }

    #[test]
    fn later_duplicate_replaces_earlier() {
        let r = Router::build([("/a", "one"), ("/a", "two")]).unwrap();
        assert_eq!(r.len(), 1);
        assert_eq!(r.route("/a").unwrap().component, "two");
    }

    #[test]
    fn misplaced_wildcard_is_an_error() {
        assert!(Router::build([("/a/.../b", "x")]).is_err());
    }
}
