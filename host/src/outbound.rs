//! Enforcement of a component's `allowed_outbound_hosts` for outgoing
//! `wasi:http` requests and Redis and PostgreSQL connections, following Spin's
//! pattern syntax for the common cases: `scheme://host[:port]`, with `*` for
//! any scheme, host or port, and `*.example.com` for subdomains. A missing port
//! means the scheme's default. Anything not allowed (including everything when
//! the list is empty, as in Spin) is refused: an HTTP request with
//! `HTTP-request-denied`.

use std::sync::Arc;

use wasmtime_wasi_http::{Error, RequestOptions, WasiBody, WasiHttpHooks};

/// The outbound policy of one component.
#[derive(Debug, Clone, Default)]
pub struct OutboundPolicy {
    allowed: Arc<[String]>,
}

impl OutboundPolicy {
    /// A policy allowing the given `allowed_outbound_hosts` patterns.
    pub fn new(allowed: &[String]) -> Self {
        Self {
            allowed: allowed.into(),
        }
    }

    /// Whether a request to `scheme://host:port` is allowed.
    pub fn allows(&self, scheme: &str, host: &str, port: Option<u16>) -> bool {
        let port = port.or(default_port(scheme));
        self.allowed
            .iter()
            .any(|pattern| pattern_allows(pattern, scheme, host, port))
    }
}

/// The port a URL of `scheme` means when it names none.
fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" => Some(80),
        "https" => Some(443),
        "redis" | "rediss" => Some(6379),
        "postgres" => Some(5432),
        _ => None,
    }
}

fn pattern_allows(pattern: &str, scheme: &str, host: &str, port: Option<u16>) -> bool {
    let Some((p_scheme, rest)) = pattern.split_once("://") else {
        return false;
    };
    let rest = rest.trim_end_matches('/');
    let (p_host, p_port) = match rest.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (rest, None),
    };
    let scheme_ok = p_scheme == "*" || p_scheme.eq_ignore_ascii_case(scheme);
    let host = host.to_ascii_lowercase();
    let p_host = p_host.to_ascii_lowercase();
    let host_ok = p_host == "*"
        || p_host == host
        || p_host
            .strip_prefix("*.")
            .is_some_and(|suffix| host.ends_with(&format!(".{suffix}")));
    let port_ok = match p_port {
        Some("*") => true,
        Some(p) => p.parse::<u16>().ok().is_some_and(|p| Some(p) == port),
        None => default_port(p_scheme).is_some_and(|d| Some(d) == port),
    };
    scheme_ok && host_ok && port_ok
}

impl WasiHttpHooks for OutboundPolicy {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        fut: Box<dyn Future<Output = Result<(), Error>> + Send>,
    ) -> Box<
        dyn Future<
                Output = Result<
                    (
                        http::Response<WasiBody>,
                        Box<dyn Future<Output = Result<(), Error>> + Send>,
                    ),
                    Error,
                >,
            > + Send,
    > {
        _ = fut;
        let uri = request.uri();
        let scheme = uri.scheme_str().unwrap_or("https").to_owned();
        let host = uri.host().unwrap_or_default().to_owned();
        let allowed = self.allows(&scheme, &host, uri.port_u16());
        Box::new(async move {
            if !allowed {
                eprintln!(
                    "postloan-host: outbound request to {scheme}://{host} denied (not in allowed_outbound_hosts)"
                );
                return Err(Error::HttpRequestDenied);
            }
            use http_body_util::BodyExt;
            let (res, io) = wasmtime_wasi_http::default_send_request(request, options).await?;
            Ok((
                res.map(BodyExt::boxed_unsync),
                Box::new(io) as Box<dyn Future<Output = _> + Send>,
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(p: &[&str]) -> OutboundPolicy {
        OutboundPolicy::new(&p.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn empty_denies_everything() {
        assert!(!policy(&[]).allows("https", "example.com", None));
    }

    #[test]
    fn patterns() {
        let p = policy(&[
            "https://example.com",
            "http://localhost:3000",
            "https://*.acme.io",
            "*://any.org:*",
        ]);
        assert!(p.allows("https", "example.com", None));
        assert!(p.allows("https", "example.com", Some(443)));
        assert!(!p.allows("https", "example.com", Some(8443)));
        assert!(!p.allows("http", "example.com", None));
        assert!(p.allows("http", "localhost", Some(3000)));
        assert!(!p.allows("http", "localhost", Some(3001)));
        assert!(p.allows("https", "api.acme.io", None));
        assert!(!p.allows("https", "acme.io.evil.com", None));
        assert!(p.allows("http", "any.org", Some(8080)));
        assert!(!p.allows("https", "other.org", None));
    }

    #[test]
    fn redis_addresses_default_to_port_6379() {
        let p = policy(&["redis://127.0.0.1"]);
        assert!(p.allows("redis", "127.0.0.1", Some(6379)));
        assert!(p.allows("redis", "127.0.0.1", None));
        assert!(!p.allows("redis", "127.0.0.1", Some(6380)));
    }

    #[test]
    fn postgres_addresses_default_to_port_5432() {
        let p = policy(&["postgres://db.internal"]);
        assert!(p.allows("postgres", "db.internal", Some(5432)));
        assert!(!p.allows("postgres", "db.internal", Some(5433)));
        assert!(!p.allows("redis", "db.internal", Some(5432)));
    }
}
