//! The `wasi:http` side of [`super::Request::send`] (wasm only).

use crate::bindings::base::wasi::http::outgoing_handler;
use crate::bindings::base::wasi::http::types::{
    ErrorCode, Fields, IncomingResponse, Method, OutgoingBody, OutgoingRequest, RequestOptions,
    Scheme,
};
use crate::bindings::base::wasi::io::streams::StreamError;

use super::{HttpError, Request, Response};

/// Largest write `blocking-write-and-flush` takes at once.
const WRITE_CHUNK_BYTES: usize = 4096;
/// Largest read asked of the body stream at once.
const READ_CHUNK_BYTES: u64 = 64 * 1024;

pub(super) fn send(request: &Request) -> Result<Response, HttpError> {
    let url = request.url.as_str();
    let invalid = |reason: String| HttpError::InvalidRequest {
        url: url.to_owned(),
        reason,
    };
    let (scheme, authority, path) = split_url(url).map_err(invalid)?;

    let mut entries: Vec<(String, Vec<u8>)> = request
        .headers
        .iter()
        .map(|(name, value)| (name.to_ascii_lowercase(), value.as_bytes().to_vec()))
        .collect();
    // The body is known in full, so say how long it is; otherwise it goes
    // out chunked, which some APIs refuse.
    if !request.body.is_empty() && !entries.iter().any(|(name, _)| name == "content-length") {
        entries.push((
            "content-length".to_owned(),
            request.body.len().to_string().into_bytes(),
        ));
    }
    let headers = Fields::from_list(&entries)
        .map_err(|error| invalid(format!("a header is invalid or not allowed: {error:?}")))?;
    let outgoing = OutgoingRequest::new(headers);
    outgoing
        .set_method(&method(&request.method))
        .map_err(|()| invalid(format!("method `{}` is not valid", request.method)))?;
    outgoing
        .set_scheme(Some(&scheme))
        .and_then(|()| outgoing.set_authority(Some(authority)))
        .and_then(|()| outgoing.set_path_with_query(Some(&path)))
        .map_err(|()| invalid("the host refused the URL's parts".to_owned()))?;
    let body = outgoing
        .body()
        .map_err(|()| invalid("the request body was already taken".to_owned()))?;

    // The request is handed over before its body is written: the host
    // reads the body as it sends, so writing first could fill its buffer
    // and wait forever.
    let pending = outgoing_handler::handle(outgoing, options(request))
        .map_err(|code| from_code(url, code))?;
    let written = match write_body(&body, &request.body) {
        Ok(()) => OutgoingBody::finish(body, None).map_err(|code| from_code(url, code)),
        Err(detail) => Err(HttpError::Network {
            url: url.to_owned(),
            detail,
        }),
    };

    pending.subscribe().block();
    let response = match pending.get() {
        // A refused request also breaks its body stream; the refusal is
        // the reason to report.
        Some(Ok(Err(code))) => return Err(from_code(url, code)),
        Some(Ok(Ok(response))) => {
            written?;
            response
        }
        Some(Err(())) | None => {
            written?;
            return Err(HttpError::Network {
                url: url.to_owned(),
                detail: "the response was not available after waiting".to_owned(),
            });
        }
    };
    read_response(url, &response, request.max_response_bytes)
}

fn method(name: &str) -> Method {
    match name.to_ascii_uppercase().as_str() {
        "GET" => Method::Get,
        "HEAD" => Method::Head,
        "POST" => Method::Post,
        "PUT" => Method::Put,
        "DELETE" => Method::Delete,
        "CONNECT" => Method::Connect,
        "OPTIONS" => Method::Options,
        "TRACE" => Method::Trace,
        "PATCH" => Method::Patch,
        _ => Method::Other(name.to_owned()),
    }
}

fn options(request: &Request) -> Option<RequestOptions> {
    let timeout = request.timeout?;
    let nanos = u64::try_from(timeout.as_nanos()).unwrap_or(u64::MAX);
    let options = RequestOptions::new();
    // A host that does not support a timeout refuses to set it; its own
    // call deadline still applies, so that is not worth failing over.
    let _ = options.set_connect_timeout(Some(nanos));
    let _ = options.set_first_byte_timeout(Some(nanos));
    let _ = options.set_between_bytes_timeout(Some(nanos));
    Some(options)
}

fn write_body(body: &OutgoingBody, bytes: &[u8]) -> Result<(), String> {
    if bytes.is_empty() {
        return Ok(());
    }
    let stream = body
        .write()
        .map_err(|()| "the request body stream was already taken".to_owned())?;
    for chunk in bytes.chunks(WRITE_CHUNK_BYTES) {
        stream
            .blocking_write_and_flush(chunk)
            .map_err(|error| stream_error(&error))?;
    }
    Ok(())
}

fn read_response(
    url: &str,
    response: &IncomingResponse,
    limit_bytes: usize,
) -> Result<Response, HttpError> {
    let network = |detail: String| HttpError::Network {
        url: url.to_owned(),
        detail,
    };
    let status = response.status();
    let headers = response
        .headers()
        .entries()
        .into_iter()
        .map(|(name, value)| (name, String::from_utf8_lossy(&value).into_owned()))
        .collect();
    let body = response
        .consume()
        .map_err(|()| network("the response body was already taken".to_owned()))?;
    let stream = body
        .stream()
        .map_err(|()| network("the response body stream was already taken".to_owned()))?;
    let mut bytes = Vec::new();
    loop {
        match stream.blocking_read(READ_CHUNK_BYTES) {
            Ok(chunk) => {
                bytes.extend_from_slice(&chunk);
                if bytes.len() > limit_bytes {
                    return Err(HttpError::ResponseTooLarge {
                        url: url.to_owned(),
                        limit_bytes,
                    });
                }
            }
            Err(StreamError::Closed) => break,
            Err(error) => return Err(network(stream_error(&error))),
        }
    }
    // A child resource goes before its parent.
    drop(stream);
    drop(body);
    Ok(Response {
        status,
        headers,
        body: bytes,
    })
}

fn stream_error(error: &StreamError) -> String {
    match error {
        StreamError::Closed => "the stream closed early".to_owned(),
        StreamError::LastOperationFailed(error) => error.to_debug_string(),
    }
}

fn from_code(url: &str, code: ErrorCode) -> HttpError {
    let url = url.to_owned();
    match code {
        ErrorCode::HttpRequestDenied => HttpError::Denied { url },
        ErrorCode::DnsTimeout
        | ErrorCode::ConnectionTimeout
        | ErrorCode::ConnectionReadTimeout
        | ErrorCode::ConnectionWriteTimeout
        | ErrorCode::HttpResponseTimeout => HttpError::Timeout {
            url,
            detail: format!("{code:?}"),
        },
        ErrorCode::HttpRequestMethodInvalid
        | ErrorCode::HttpRequestUriInvalid
        | ErrorCode::HttpRequestUriTooLong => HttpError::InvalidRequest {
            url,
            reason: format!("{code:?}"),
        },
        other => HttpError::Network {
            url,
            detail: format!("{other:?}"),
        },
    }
}

/// `scheme://authority/path?query#fragment` into scheme, authority and
/// path-with-query (the fragment never leaves the client).
fn split_url(url: &str) -> Result<(Scheme, &str, String), String> {
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| "the URL has no scheme (e.g. `https://`)".to_owned())?;
    let scheme = match scheme.to_ascii_lowercase().as_str() {
        "https" => Scheme::Https,
        "http" => Scheme::Http,
        other => return Err(format!("scheme `{other}` is not http or https")),
    };
    let rest = rest.split('#').next().unwrap_or_default();
    let (authority, path) = match rest.find(['/', '?']) {
        Some(at) if rest[at..].starts_with('/') => (&rest[..at], rest[at..].to_owned()),
        Some(at) => (&rest[..at], format!("/{}", &rest[at..])),
        None => (rest, "/".to_owned()),
    };
    if authority.is_empty() {
        return Err("the URL has no host".to_owned());
    }
    Ok((scheme, authority, path))
}
