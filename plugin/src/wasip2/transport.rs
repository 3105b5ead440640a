//! The only code that speaks `wasi:http`: sends a [`HttpRequest`] through the host's
//! outgoing handler and reads the whole response.

use crate::prelude::*;

use crate::client::{Pending, Transport};
use crate::error::{HubError, TransportKind};
use crate::request::HttpRequest;
use crate::response::HttpResponse;
use wasi::http::outgoing_handler;
use wasi::http::types::{
    ErrorCode, Fields, FutureIncomingResponse, HeaderError, IncomingBody, IncomingResponse, Method,
    OutgoingBody, OutgoingRequest, RequestOptions, Scheme,
};
use wasi::io::streams::StreamError;

/// wasi:io streams move at most this much per blocking call.
const CHUNK: usize = 4096;

pub struct WasiHttp;

impl Transport for WasiHttp {
    fn send(&mut self, request: &HttpRequest) -> Result<HttpResponse, HubError> {
        finish(&start(request, false)?)
    }

    fn start(&mut self, request: &HttpRequest) -> Pending {
        match start(request, true) {
            Ok(future) => Pending::Waiting(Box::new(move || finish(&future))),
            Err(e) => Pending::Ready(Err(e)),
        }
    }
}

/// Hands `request` to the host's outgoing handler, its body (if any) written, and returns the
/// response to come. `concurrent` asks the host to send it alongside others: a body-less
/// request then carries `request-options`, which the host takes as "do not send this inside
/// `handle`" (see the host's `outgoing` module).
fn start(request: &HttpRequest, concurrent: bool) -> Result<FutureIncomingResponse, HubError> {
    let (scheme, rest) = request
        .url
        .split_once("://")
        .ok_or_else(|| HubError::transport(TransportKind::Other, "request URL has no scheme"))?;
    let split = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, path_and_query) = rest.split_at(split);
    let path_and_query = if path_and_query.is_empty() {
        "/"
    } else {
        path_and_query
    };

    let headers: Vec<(String, Vec<u8>)> = request
        .headers
        .iter()
        .map(|(k, v)| (k.clone(), v.clone().into_bytes()))
        .collect();
    let fields = Fields::from_list(&headers).map_err(|e| {
        let reason = match e {
            HeaderError::InvalidSyntax => "HeaderError::InvalidSyntax",
            HeaderError::Forbidden => "HeaderError::Forbidden",
            HeaderError::Immutable => "HeaderError::Immutable",
        };
        HubError::transport(
            TransportKind::Protocol,
            format!("invalid request header: {reason}"),
        )
    })?;
    let outgoing = OutgoingRequest::new(fields);
    let method = match request.method {
        crate::catalog::Method::Get => Method::Get,
        crate::catalog::Method::Head => Method::Head,
        crate::catalog::Method::Post => Method::Post,
        crate::catalog::Method::Put => Method::Put,
        crate::catalog::Method::Patch => Method::Patch,
        crate::catalog::Method::Delete => Method::Delete,
    };
    let scheme = match scheme {
        "https" => Scheme::Https,
        "http" => Scheme::Http,
        other => Scheme::Other(other.to_string()),
    };
    let invalid = |what: &str| {
        HubError::transport(TransportKind::Protocol, format!("invalid request {what}"))
    };
    // GET is a new request's method already: one host call fewer for most operations.
    if !matches!(method, Method::Get) {
        outgoing
            .set_method(&method)
            .map_err(|()| invalid("method"))?;
    }
    outgoing
        .set_scheme(Some(&scheme))
        .map_err(|()| invalid("scheme"))?;
    outgoing
        .set_authority(Some(authority))
        .map_err(|()| invalid("authority"))?;
    outgoing
        .set_path_with_query(Some(path_and_query))
        .map_err(|()| invalid("path"))?;

    // A request without a body opens no body resource: the host can then send it inside
    // `handle` itself, with nothing left for the guest to write afterwards.
    let body = match request.body.as_deref() {
        Some(bytes) => Some((outgoing.body().map_err(|()| invalid("body"))?, bytes)),
        None => None,
    };
    let options = concurrent.then(RequestOptions::new);
    let future = outgoing_handler::handle(outgoing, options).map_err(from_error_code)?;
    if let Some((body, bytes)) = body
        && let Err(write_error) = write_body(body, bytes)
    {
        // The host may have refused or failed the request while the body was being
        // written (its policy, a refused connection); the body stream then only says
        // "closed", and the reason is in the response future.
        return Err(match wait(&future) {
            Ok(Err(code)) => from_error_code(code),
            _ => write_error,
        });
    }
    Ok(future)
}

/// Waits for the response to a [`start`]ed request and reads it whole.
fn finish(future: &FutureIncomingResponse) -> Result<HttpResponse, HubError> {
    let incoming = wait(future)?.map_err(from_error_code)?;
    let status = incoming.status();
    // Names and values are taken over as they come (wasi-http hands out lowercase names
    // and, from the Hub, ASCII values); only an exception is copied.
    let mut response = HttpResponse {
        status,
        headers: incoming
            .headers()
            .entries()
            .into_iter()
            .map(|(mut name, value)| {
                name.make_ascii_lowercase();
                let value = String::from_utf8(value)
                    .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
                (name, value)
            })
            .collect(),
        body: Vec::new(),
    };
    let declared_length = response
        .header("content-length")
        .and_then(|value| value.trim().parse::<usize>().ok());
    let body = incoming
        .consume()
        .map_err(|()| HubError::transport(TransportKind::Other, "response body already taken"))?;
    response.body = read_body(body, declared_length)?;
    Ok(response)
}

/// The response, or the error code the host failed the request with, once there is one.
fn wait(future: &FutureIncomingResponse) -> Result<Result<IncomingResponse, ErrorCode>, HubError> {
    loop {
        match future.get() {
            Some(Ok(result)) => return Ok(result),
            Some(Err(())) => {
                return Err(HubError::transport(
                    TransportKind::Other,
                    "response already taken",
                ));
            }
            None => future.subscribe().block(),
        }
    }
}

fn write_body(body: OutgoingBody, bytes: &[u8]) -> Result<(), HubError> {
    let stream = body.write().map_err(|()| {
        HubError::transport(TransportKind::Other, "request body stream unavailable")
    })?;
    for chunk in bytes.chunks(CHUNK) {
        stream
            .blocking_write_and_flush(chunk)
            .map_err(stream_error)?;
    }
    // The stream must be gone before the body is finished.
    drop(stream);
    OutgoingBody::finish(body, None).map_err(from_error_code)
}

/// Reads the body to its end: the stream closing, or as many bytes as the response declared
/// (the host has then seen the last of it; asking again only to hear "closed" is one host
/// call more per request).
fn read_body(body: IncomingBody, declared_length: Option<usize>) -> Result<Vec<u8>, HubError> {
    let mut out = Vec::new();
    {
        let stream = body.stream().map_err(|()| {
            HubError::transport(TransportKind::Other, "response body stream unavailable")
        })?;
        while declared_length != Some(out.len()) {
            match stream.blocking_read(64 * 1024) {
                // Most answers arrive in one piece, which then needs no copy.
                Ok(chunk) if out.is_empty() => out = chunk,
                Ok(chunk) => out.extend_from_slice(&chunk),
                Err(StreamError::Closed) => break,
                Err(e) => return Err(stream_error(e)),
            }
        }
    }
    drop(body);
    Ok(out)
}

fn stream_error(e: StreamError) -> HubError {
    match e {
        StreamError::Closed => HubError::transport(
            TransportKind::ConnectionReset,
            "the connection closed early",
        ),
        StreamError::LastOperationFailed(err) => match wasi::http::types::http_error_code(&err) {
            Some(code) => from_error_code(code),
            None => body_error(err.to_debug_string()),
        },
    }
}

/// wasmtime-wasi-http 48 hands a failed response body's error to the guest without its error
/// code, so `http-error-code` finds none; its text is all there is. The texts are the host's
/// renderings of the wasi-http error codes, so the stable kinds can still be recovered.
fn body_error(text: String) -> HubError {
    let lower = text.to_ascii_lowercase();
    let kind = if lower.contains("timeout") || lower.contains("timed out") {
        // Once the body streams, the only timeout left is the pause between its pieces.
        return HubError::transport(
            TransportKind::Timeout,
            format!("the response body stalled past the between-bytes timeout ({text})"),
        );
    } else if lower.contains("body size") || lower.contains("too large") {
        TransportKind::BodyTooLarge
    } else if lower.contains("terminated")
        || lower.contains("incomplete")
        || lower.contains("reset")
    {
        TransportKind::ConnectionReset
    } else {
        TransportKind::Other
    };
    HubError::transport(kind, text)
}

/// Maps wasi-http's error codes to the stable kinds of `transport-error`; a denial by the host's
/// policy is its own `denied` case.
fn from_error_code(code: ErrorCode) -> HubError {
    let (kind, message) = match &code {
        ErrorCode::HttpRequestDenied => {
            return HubError::Denied(
                "the host's policy refused this request (egress allow-list or read-only mode)"
                    .into(),
            );
        }
        ErrorCode::DnsTimeout | ErrorCode::DnsError(_) => {
            (TransportKind::Dns, "could not resolve the host")
        }
        ErrorCode::DestinationNotFound
        | ErrorCode::DestinationUnavailable
        | ErrorCode::DestinationIpProhibited
        | ErrorCode::DestinationIpUnroutable => (
            TransportKind::ConnectionRefused,
            "the destination is unreachable",
        ),
        ErrorCode::ConnectionRefused => (
            TransportKind::ConnectionRefused,
            "the connection was refused",
        ),
        ErrorCode::ConnectionTerminated => (
            TransportKind::ConnectionReset,
            "the connection was closed early",
        ),
        ErrorCode::ConnectionTimeout => (
            TransportKind::Timeout,
            "connecting timed out (connect timeout)",
        ),
        ErrorCode::HttpResponseTimeout => (
            TransportKind::Timeout,
            "no response head arrived in time (first-byte timeout)",
        ),
        ErrorCode::ConnectionReadTimeout => (
            TransportKind::Timeout,
            "the response stalled (between-bytes timeout)",
        ),
        ErrorCode::ConnectionWriteTimeout => {
            (TransportKind::Timeout, "sending the request timed out")
        }
        ErrorCode::TlsProtocolError
        | ErrorCode::TlsCertificateError
        | ErrorCode::TlsAlertReceived(_) => (TransportKind::Tls, "the TLS handshake failed"),
        ErrorCode::HttpResponseBodySize(_) => (
            TransportKind::BodyTooLarge,
            "the response body exceeds the host's limit",
        ),
        ErrorCode::HttpResponseIncomplete => {
            (TransportKind::ConnectionReset, "the response ended early")
        }
        ErrorCode::InternalError(Some(m)) => {
            return HubError::transport(TransportKind::Other, m.clone());
        }
        _ => (TransportKind::Protocol, "the HTTP exchange failed"),
    };
    HubError::transport(kind, format!("{message} (ErrorCode::{})", case_name(&code)))
}

/// The name of an error code's case. Written out rather than taken from `Debug`, whose derived
/// code for `ErrorCode` and its payloads costs the component several KB; payloads are left out.
fn case_name(code: &ErrorCode) -> &'static str {
    match code {
        ErrorCode::DnsTimeout => "DnsTimeout",
        ErrorCode::DnsError(_) => "DnsError",
        ErrorCode::DestinationNotFound => "DestinationNotFound",
        ErrorCode::DestinationUnavailable => "DestinationUnavailable",
        ErrorCode::DestinationIpProhibited => "DestinationIpProhibited",
        ErrorCode::DestinationIpUnroutable => "DestinationIpUnroutable",
        ErrorCode::ConnectionRefused => "ConnectionRefused",
        ErrorCode::ConnectionTerminated => "ConnectionTerminated",
        ErrorCode::ConnectionTimeout => "ConnectionTimeout",
        ErrorCode::ConnectionReadTimeout => "ConnectionReadTimeout",
        ErrorCode::ConnectionWriteTimeout => "ConnectionWriteTimeout",
        ErrorCode::ConnectionLimitReached => "ConnectionLimitReached",
        ErrorCode::TlsProtocolError => "TlsProtocolError",
        ErrorCode::TlsCertificateError => "TlsCertificateError",
        ErrorCode::TlsAlertReceived(_) => "TlsAlertReceived",
        ErrorCode::HttpRequestDenied => "HttpRequestDenied",
        ErrorCode::HttpRequestLengthRequired => "HttpRequestLengthRequired",
        ErrorCode::HttpRequestBodySize(_) => "HttpRequestBodySize",
        ErrorCode::HttpRequestMethodInvalid => "HttpRequestMethodInvalid",
        ErrorCode::HttpRequestUriInvalid => "HttpRequestUriInvalid",
        ErrorCode::HttpRequestUriTooLong => "HttpRequestUriTooLong",
        ErrorCode::HttpRequestHeaderSectionSize(_) => "HttpRequestHeaderSectionSize",
        ErrorCode::HttpRequestHeaderSize(_) => "HttpRequestHeaderSize",
        ErrorCode::HttpRequestTrailerSectionSize(_) => "HttpRequestTrailerSectionSize",
        ErrorCode::HttpRequestTrailerSize(_) => "HttpRequestTrailerSize",
        ErrorCode::HttpResponseIncomplete => "HttpResponseIncomplete",
        ErrorCode::HttpResponseHeaderSectionSize(_) => "HttpResponseHeaderSectionSize",
        ErrorCode::HttpResponseHeaderSize(_) => "HttpResponseHeaderSize",
        ErrorCode::HttpResponseBodySize(_) => "HttpResponseBodySize",
        ErrorCode::HttpResponseTrailerSectionSize(_) => "HttpResponseTrailerSectionSize",
        ErrorCode::HttpResponseTrailerSize(_) => "HttpResponseTrailerSize",
        ErrorCode::HttpResponseTransferCoding(_) => "HttpResponseTransferCoding",
        ErrorCode::HttpResponseContentCoding(_) => "HttpResponseContentCoding",
        ErrorCode::HttpResponseTimeout => "HttpResponseTimeout",
        ErrorCode::HttpUpgradeFailed => "HttpUpgradeFailed",
        ErrorCode::HttpProtocolError => "HttpProtocolError",
        ErrorCode::LoopDetected => "LoopDetected",
        ErrorCode::ConfigurationError => "ConfigurationError",
        ErrorCode::InternalError(_) => "InternalError",
    }
}
