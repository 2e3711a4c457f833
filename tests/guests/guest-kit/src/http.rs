//! A blocking `GET` over the `wasi:http/outgoing-handler` import.

use crate::wasi::http::outgoing_handler;
use crate::wasi::http::types::{Fields, Method, OutgoingRequest, Scheme};
use crate::wasi::io::streams::StreamError;

/// Largest chunk asked of the response body stream at a time.
const READ_CHUNK_BYTES: u64 = 64 * 1024;

/// `GET url` with `extra_headers` added; returns the status and the whole
/// body.
///
/// Every failure comes back as text, the `Debug` form of the WASI error where
/// there is one (`ErrorCode::HttpRequestDenied` when the host refuses the
/// destination), so tests can match on it.
pub fn http_get(url: &str, extra_headers: &[(&str, &str)]) -> Result<(u16, Vec<u8>), String> {
    http_get_once(url, extra_headers).map(|(status, _, body)| (status, body))
}

/// Like [`http_get`], but follows up to `max_hops` redirects itself, the way
/// an HTTP client library would: each hop is a new request the host checks.
pub fn http_get_following(
    url: &str,
    extra_headers: &[(&str, &str)],
    max_hops: usize,
) -> Result<(u16, Vec<u8>), String> {
    let mut url = url.to_owned();
    for _ in 0..=max_hops {
        let (status, location, body) = http_get_once(&url, extra_headers)?;
        match location {
            Some(next) if (300..400).contains(&status) => url = next,
            _ => return Ok((status, body)),
        }
    }
    Err(format!("more than {max_hops} redirects"))
}

fn http_get_once(
    url: &str,
    extra_headers: &[(&str, &str)],
) -> Result<(u16, Option<String>, Vec<u8>), String> {
    let (scheme, authority, path) = split_url(url)?;

    let entries: Vec<(String, Vec<u8>)> = extra_headers
        .iter()
        .map(|(name, value)| ((*name).to_owned(), value.as_bytes().to_vec()))
        .collect();
    let headers = Fields::from_list(&entries).map_err(|e| format!("{e:?}"))?;

    let request = OutgoingRequest::new(headers);
    let scheme = match scheme {
        "http" => Scheme::Http,
        "https" => Scheme::Https,
        other => Scheme::Other(other.to_owned()),
    };
    request
        .set_method(&Method::Get)
        .and_then(|()| request.set_scheme(Some(&scheme)))
        .and_then(|()| request.set_authority(Some(authority)))
        .and_then(|()| request.set_path_with_query(Some(path)))
        .map_err(|()| format!("the host rejected the request line of {url}"))?;

    let pending = outgoing_handler::handle(request, None).map_err(|e| format!("{e:?}"))?;
    pending.subscribe().block();
    let response = match pending.get() {
        Some(Ok(Ok(response))) => response,
        Some(Ok(Err(code))) => return Err(format!("{code:?}")),
        Some(Err(())) => return Err("the response was already taken".to_owned()),
        None => return Err("the response is not ready after waiting".to_owned()),
    };

    let status = response.status();
    let location = {
        let headers = response.headers();
        let values = headers.get(&"location".to_owned());
        values
            .first()
            .map(|v| String::from_utf8_lossy(v).into_owned())
    };
    let body = response
        .consume()
        .map_err(|()| "the response body was already taken".to_owned())?;
    let stream = body
        .stream()
        .map_err(|()| "the response body stream was already taken".to_owned())?;
    let mut bytes = Vec::new();
    loop {
        match stream.blocking_read(READ_CHUNK_BYTES) {
            Ok(chunk) => bytes.extend_from_slice(&chunk),
            Err(StreamError::Closed) => break,
            Err(StreamError::LastOperationFailed(e)) => return Err(e.to_debug_string()),
        }
    }
    // A child resource goes before its parent.
    drop(stream);
    drop(body);
    Ok((status, location, bytes))
}

/// `scheme://authority/path?query` into its three parts; the path defaults
/// to `/`.
fn split_url(url: &str) -> Result<(&str, &str, &str), String> {
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| format!("`{url}` has no scheme (e.g. `https://`)"))?;
    let (authority, path) = match rest.find(['/', '?']) {
        Some(at) if rest[at..].starts_with('/') => (&rest[..at], &rest[at..]),
        Some(_) => return Err(format!("`{url}` has a query but no path")),
        None => (rest, "/"),
    };
    if authority.is_empty() {
        return Err(format!("`{url}` has no host"));
    }
    Ok((scheme, authority, path))
}

/// [`http_get_following`] (up to 5 hops) as the test guests report it: `status=<code> body=<body>`
/// (the body as lossy UTF-8), or `permanent("http error: <error>")`.
pub fn http_get_summary(
    url: &str,
    extra_headers: &[(&str, &str)],
) -> Result<String, crate::silta::connector::types::PluginError> {
    match http_get_following(url, extra_headers, 5) {
        Ok((status, body)) => Ok(format!(
            "status={status} body={}",
            String::from_utf8_lossy(&body)
        )),
        Err(error) => Err(crate::silta::connector::types::PluginError::Permanent(
            format!("http error: {error}"),
        )),
    }
}
