//! A service on loopback serves this machine's programs, not the web pages its browser
//! shows. A page can still reach it: by DNS rebinding (its own name made to resolve to
//! 127.0.0.1, so the request's `Host` is the page's name) or by a cross-site request (whose
//! `Origin` is the page's). [`refuse_foreign`] refuses both, before any route runs.

use axum::extract::Request;
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Whether `host` (a `Host` header's or an origin's host, with or without its port) names
/// this machine: `localhost`, an address in 127.0.0.0/8, or `[::1]`.
pub fn is_loopback_host(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or_default(),
        None => host.rsplit_once(':').map_or(host, |(name, _)| name),
    };
    name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Whether the request says its body is JSON (`application/json`, any parameters). A web page
/// can POST a form or `text/plain` to a local service without asking first, but not JSON (that
/// needs a CORS preflight neither the mock nor the proxy grants): a route that changes state
/// or spends a key takes JSON only.
pub fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/json"))
}

/// Why a request to a loopback service is refused, if it is: a `Host` that names another
/// machine, or an `Origin` that is not this machine's.
pub fn foreign(headers: &HeaderMap) -> Option<&'static str> {
    let text = |name| headers.get(name).and_then(|v| v.to_str().ok());
    match text(header::HOST) {
        Some(host) if is_loopback_host(host) => {}
        Some(_) => return Some("its Host names another machine (DNS rebinding?)"),
        // HTTP/1.1 requires a Host; a request without one names nothing foreign.
        None => {}
    }
    if let Some(origin) = headers.get(header::ORIGIN) {
        let host = origin
            .to_str()
            .ok()
            .and_then(|o| o.split_once("://"))
            .map(|(_, rest)| rest.split('/').next().unwrap_or_default());
        if !host.is_some_and(is_loopback_host) {
            return Some("it comes from a web page of another origin");
        }
    }
    None
}

/// Middleware: a request [`foreign`] names is answered 403 with Groq's error shape, and
/// never reaches the route.
pub async fn refuse_foreign(request: Request, next: Next) -> Response {
    match foreign(request.headers()) {
        None => next.run(request).await,
        Some(why) => {
            let body = serde_json::json!({"error": {
                "message": format!("this service listens on loopback for this machine's programs; refused: {why}"),
                "type": "invalid_request_error",
                "code": "foreign_request",
            }});
            (StatusCode::FORBIDDEN, axum::Json(body)).into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            if let Ok(v) = HeaderValue::from_str(value) {
                map.insert(name.clone(), v);
            }
        }
        map
    }

    #[test]
    fn loopback_names_pass_and_other_hosts_and_origins_do_not() {
        for host in [
            "127.0.0.1:8080",
            "localhost",
            "LOCALHOST:1",
            "[::1]:9",
            "127.1.2.3",
        ] {
            assert_eq!(foreign(&headers(&[(header::HOST, host)])), None, "{host}");
        }
        for host in [
            "evil.example",
            "evil.example:8080",
            "10.0.0.7:8080",
            "[2001:db8::1]:80",
        ] {
            assert!(
                foreign(&headers(&[(header::HOST, host)])).is_some(),
                "{host}"
            );
        }
        // A rebinding page: its Host and its Origin both its own name.
        let rebinding = headers(&[
            (header::HOST, "evil.example:8080"),
            (header::ORIGIN, "http://evil.example:8080"),
        ]);
        assert!(foreign(&rebinding).is_some());
        let cross_site = headers(&[
            (header::HOST, "127.0.0.1:8080"),
            (header::ORIGIN, "https://evil.example"),
        ]);
        assert!(foreign(&cross_site).is_some());
        let own_page = headers(&[
            (header::HOST, "127.0.0.1:8080"),
            (header::ORIGIN, "http://127.0.0.1:8080"),
        ]);
        assert_eq!(foreign(&own_page), None);
        assert!(foreign(&headers(&[(header::ORIGIN, "null")])).is_some());
    }
}
