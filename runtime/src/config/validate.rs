//! OTLP endpoint URLs and headers are checked where they are configured
//! (variable, config file, code), so that a typo is reported once, at
//! `init`, naming the setting and the fix, instead of failing every export
//! later.

use super::shown;

/// What is wrong with an OTLP header (sent as an HTTP header or as gRPC
/// metadata), if anything.
pub(crate) fn header(name: &str, value: &str) -> Result<(), String> {
    if http::HeaderName::from_bytes(name.as_bytes()).is_err() {
        return Err(format!("`{}` is not a valid header name", shown(name)));
    }
    if http::HeaderValue::from_str(value).is_err() {
        return Err(format!(
            "the value of `{}` holds characters a header cannot carry",
            shown(name)
        ));
    }
    Ok(())
}

/// What is wrong with `url` as an OTLP endpoint, with the likely fix.
pub(crate) fn endpoint(url: &str) -> Result<(), String> {
    let url = url.trim();
    let Some((scheme, rest)) = url.split_once("://") else {
        return Err(if looks_like_host(url) {
            format!("no scheme; did you mean http://{}?", shown(url))
        } else {
            "not a URL; expected http://host:port or https://host:port".to_string()
        });
    };
    if !matches!(scheme, "http" | "https") {
        return Err(format!(
            "unsupported scheme `{}`; use http:// or https://",
            shown(scheme)
        ));
    }
    if rest.is_empty() || rest.starts_with(['/', '?', '#', ':']) {
        return Err(format!("no host; expected {scheme}://host:port"));
    }
    let uri: http::Uri = url
        .parse()
        .map_err(|_| format!("not a valid URL; expected {scheme}://host:port"))?;
    if uri.host().is_none_or(str::is_empty) {
        return Err(format!("no host; expected {scheme}://host:port"));
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = authority.rsplit('@').next().unwrap_or_default();
    let port = match host_port.strip_prefix('[') {
        Some(v6) => v6.split_once("]:").map(|(_, p)| p),
        None => host_port.split_once(':').map(|(_, p)| p),
    };
    if let Some(port) = port.filter(|p| p.parse::<u16>().is_err()) {
        return Err(format!(
            "invalid port `{}`; expected a number from 0 to 65535",
            shown(port)
        ));
    }
    Ok(())
}

/// Whether `s` reads as `host`, `host:port` or `host:port/path` (so that
/// prefixing `http://` is the likely fix).
fn looks_like_host(s: &str) -> bool {
    let authority = s.split('/').next().unwrap_or_default();
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (authority, None),
    };
    !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
        && port.is_none_or(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::{endpoint as check, header};

    #[test]
    fn headers_that_cannot_be_sent_are_named() {
        assert_eq!(header("authorization", "Bearer t"), Ok(()));
        assert_eq!(
            header("my header", "x"),
            Err("`my header` is not a valid header name".to_string())
        );
        assert_eq!(
            header("x", "line\nbreak"),
            Err("the value of `x` holds characters a header cannot carry".to_string())
        );
    }

    #[test]
    fn good_endpoints_pass() {
        for ok in [
            "http://localhost:4318",
            "https://collector.example.com",
            "http://127.0.0.1:4317/",
            "http://[::1]:4318/v1/traces",
            "http://[::1]",
            "http://c:4318/prefix/v1/traces",
        ] {
            assert_eq!(check(ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn bad_endpoints_say_what_is_wrong() {
        let cases = [
            (
                "localhost:4318",
                "no scheme; did you mean http://localhost:4318?",
            ),
            ("not-a-url", "no scheme; did you mean http://not-a-url?"),
            ("collector", "no scheme; did you mean http://collector?"),
            (
                "ftp://localhost:21",
                "unsupported scheme `ftp`; use http:// or https://",
            ),
            (
                "http://localhost:70000",
                "invalid port `70000`; expected a number from 0 to 65535",
            ),
            (
                "http:/localhost",
                "not a URL; expected http://host:port or https://host:port",
            ),
            ("http://", "no host; expected http://host:port"),
        ];
        for (bad, why) in cases {
            let got = check(bad).expect_err(bad);
            assert!(got.starts_with(why), "{bad}: {got}");
        }
        // The suggestion repeats a long value only in part (found by fuzzing).
        let long = "collector".repeat(100);
        let got = check(&long).unwrap_err();
        assert!(
            got.len() < 120 && got.ends_with("... (900 bytes)?"),
            "{got}"
        );
    }
}
