//! Raw request bodies, read against a byte limit as they arrive. A body may come gzipped
//! (`Content-Encoding: gzip`): it is inflated piece by piece, and the limit holds for the
//! inflated bytes, so a small body that would inflate past it is refused as soon as it
//! crosses it, never held whole. `identity` is the same as no encoding; any other is a
//! `415`.

use std::io::Write;

use axum::body::Body;
use axum::http::header::{CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE};
use axum::http::HeaderMap;
use futures::StreamExt;

use crate::error::ApiError;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Identity,
    Gzip,
}

/// The body's `Content-Encoding`: none or `identity`, or one `gzip` (`x-gzip`).
fn encoding(headers: &HeaderMap) -> Result<Encoding, ApiError> {
    let mut codings = Vec::new();
    for value in headers.get_all(CONTENT_ENCODING) {
        let value = value.to_str().map_err(|_| unsupported("a Content-Encoding that is not ASCII".to_owned()))?;
        codings.extend(value.split(',').map(|c| c.trim().to_ascii_lowercase()).filter(|c| !c.is_empty()));
    }
    codings.retain(|c| c != "identity");
    match codings.as_slice() {
        [] => Ok(Encoding::Identity),
        [one] if one == "gzip" || one == "x-gzip" => Ok(Encoding::Gzip),
        _ => Err(unsupported(format!("Content-Encoding {:?}", codings.join(", ")))),
    }
}

fn unsupported(what: String) -> ApiError {
    ApiError::UnsupportedEncoding(format!("{what} is not supported: send the body as is, or gzip it once"))
}

/// Reads a raw body of at most `limit` bytes. A declared `Content-Length` over the limit
/// is refused at once, before any of the body is read.
pub async fn read_body(headers: &HeaderMap, body: Body, limit: usize) -> Result<bytes::Bytes, ApiError> {
    read_body_with(headers, body, limit, |_| Ok(())).await
}

/// [`read_body`], showing each piece (inflated, for a gzipped body) to `inspect` as it
/// arrives, which may refuse the body before the rest is read. The body is gathered into
/// one buffer, so a body costs its own size once, not twice.
pub async fn read_body_with(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
    inspect: impl FnMut(&[u8]) -> Result<(), ApiError>,
) -> Result<bytes::Bytes, ApiError> {
    let encoding = encoding(headers)?;
    let declared = headers.get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large(limit));
    }
    let sink =
        Gathered { bytes: Vec::with_capacity(declared.map_or(0, |n| n as usize)), limit, inspect, refusal: None };
    let mut reader = match encoding {
        Encoding::Identity => Reader::Plain(sink),
        Encoding::Gzip => Reader::Gzip(Box::new(flate2::write::MultiGzDecoder::new(sink))),
    };
    let mut pieces = body.into_data_stream();
    // Bytes as sent (compressed, for gzip): they too are held to the limit.
    let mut received = 0usize;
    while let Some(piece) = pieces.next().await {
        let piece = piece.map_err(|_| ApiError::bad_request("the request body could not be read to its end"))?;
        received += piece.len();
        if received > limit {
            return Err(too_large(limit));
        }
        if let Err(error) = reader.write_all(&piece) {
            let refusal = reader.refusal().unwrap_or_else(|| not_gzip(&error));
            drain(pieces, limit - received).await;
            return Err(refusal);
        }
    }
    Ok(reader.finish()?.bytes.into())
}

fn too_large(limit: usize) -> ApiError {
    ApiError::PayloadTooLarge("PAYLOAD_TOO_LARGE", format!("the body is larger than {limit} bytes"))
}

fn not_gzip(error: &std::io::Error) -> ApiError {
    ApiError::bad_request(format!("the body is labelled Content-Encoding: gzip but is not valid gzip ({error})"))
}

/// Where the body's bytes go: straight into the buffer, or through an inflater first.
enum Reader<F: FnMut(&[u8]) -> Result<(), ApiError>> {
    Plain(Gathered<F>),
    Gzip(Box<flate2::write::MultiGzDecoder<Gathered<F>>>),
}

impl<F: FnMut(&[u8]) -> Result<(), ApiError>> Reader<F> {
    fn write_all(&mut self, piece: &[u8]) -> std::io::Result<()> {
        match self {
            Reader::Plain(sink) => sink.write_all(piece),
            Reader::Gzip(inflater) => inflater.write_all(piece),
        }
    }

    /// Why the sink refused a piece, when it did (rather than the gzip being bad).
    fn refusal(&mut self) -> Option<ApiError> {
        match self {
            Reader::Plain(sink) => sink.refusal.take(),
            Reader::Gzip(inflater) => inflater.get_mut().refusal.take(),
        }
    }

    /// The gathered body, once a gzipped one is inflated to its end.
    fn finish(self) -> Result<Gathered<F>, ApiError> {
        match self {
            Reader::Plain(sink) => Ok(sink),
            Reader::Gzip(mut inflater) => match inflater.try_finish() {
                Ok(()) => inflater.finish().map_err(|e| not_gzip(&e)),
                Err(error) => Err(inflater.get_mut().refusal.take().unwrap_or_else(|| not_gzip(&error))),
            },
        }
    }
}

/// The buffer a body is gathered into, held to `limit`, each piece shown to `inspect`
/// first. A refusal is kept here, and surfaces to the writer as an I/O error.
struct Gathered<F> {
    bytes: Vec<u8>,
    limit: usize,
    inspect: F,
    refusal: Option<ApiError>,
}

impl<F: FnMut(&[u8]) -> Result<(), ApiError>> Write for Gathered<F> {
    fn write(&mut self, piece: &[u8]) -> std::io::Result<usize> {
        if self.bytes.len() + piece.len() > self.limit {
            self.refusal = Some(too_large(self.limit));
        } else if let Err(refusal) = (self.inspect)(piece) {
            self.refusal = Some(refusal);
        }
        if self.refusal.is_some() {
            return Err(std::io::Error::other("refused"));
        }
        self.bytes.extend_from_slice(piece);
        Ok(piece.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Reads and drops the rest of a refused body (up to `left` bytes), so the client, still
/// sending, reads the refusal instead of a reset connection. Memory stays flat: nothing
/// is kept.
async fn drain(mut pieces: axum::body::BodyDataStream, mut left: usize) {
    while let Some(Ok(piece)) = pieces.next().await {
        match left.checked_sub(piece.len()) {
            Some(rest) => left = rest,
            None => break,
        }
    }
}

/// Whether the request says its body is JSON (`application/json`, any parameters).
pub fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("application/json"))
}
