//! Writing a JSON array row by row, so large listings stream instead of being built in
//! memory.

use bytes::Bytes;
use serde::Serialize;

/// Flush to the client every 64 KiB.
const FLUSH_AT: usize = 64 * 1024;

pub struct ArrayWriter {
    buf: Vec<u8>,
    first: bool,
}

impl ArrayWriter {
    /// Starts an array after `prefix` (e.g. the fields of the enclosing object).
    pub fn new(prefix: &[u8]) -> ArrayWriter {
        let mut buf = Vec::with_capacity(FLUSH_AT + 1024);
        buf.extend_from_slice(prefix);
        buf.push(b'[');
        ArrayWriter { buf, first: true }
    }

    /// Adds one element; returns a chunk to send when enough has accumulated.
    pub fn push(&mut self, value: &impl Serialize) -> Result<Option<Bytes>, std::io::Error> {
        if !self.first {
            self.buf.push(b',');
        }
        self.first = false;
        serde_json::to_writer(&mut self.buf, value)?;
        if self.buf.len() >= FLUSH_AT {
            return Ok(Some(Bytes::from(std::mem::replace(&mut self.buf, Vec::with_capacity(FLUSH_AT + 1024)))));
        }
        Ok(None)
    }

    /// Closes the array, followed by `suffix`.
    pub fn finish(mut self, suffix: &[u8]) -> Bytes {
        self.buf.push(b']');
        self.buf.extend_from_slice(suffix);
        Bytes::from(self.buf)
    }
}

/// A streamed JSON response body. (Also pins the stream's error type for `try_stream!`.)
pub fn json_body<S>(stream: S) -> axum::response::Response
where
    S: futures::Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static,
{
    use axum::response::IntoResponse;
    ([(axum::http::header::CONTENT_TYPE, "application/json")], axum::body::Body::from_stream(stream)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_valid_json_across_flushes() {
        let mut writer = ArrayWriter::new(b"{\"a\":");
        let mut out = Vec::new();
        for i in 0..20_000 {
            if let Some(chunk) = writer.push(&i).unwrap() {
                out.extend_from_slice(&chunk);
            }
        }
        out.extend_from_slice(&writer.finish(b"}"));
        let value: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(value["a"].as_array().unwrap().len(), 20_000);
        assert_eq!(&ArrayWriter::new(b"").finish(b"")[..], b"[]");
    }
}
