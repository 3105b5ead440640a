//! The log of the requests the mock received, for tests to assert on.
//!
//! The log keeps the most recent requests within a count and a byte budget, dropping the oldest
//! first, so a mock left running holds a bounded amount of memory however long it serves.

use std::collections::VecDeque;

use hyper::HeaderMap;

/// One request as it arrived: the path is raw (still percent-encoded) and header names are
/// lowercase.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedRequest {
    /// As sent, such as `GET`.
    pub method: String,
    /// Raw, without the query.
    pub path: String,
    /// Raw, without the `?`; `None` when the target had no `?`.
    pub query: Option<String>,
    /// In the order received, repeated names kept; values not in UTF-8 are read lossily.
    pub headers: Vec<(String, String)>,
    /// The body as read.
    pub body: Vec<u8>,
}

impl RecordedRequest {
    pub(crate) fn new(
        method: &str,
        path: &str,
        query: Option<&str>,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Self {
        RecordedRequest {
            method: method.to_string(),
            path: path.to_string(),
            query: query.map(str::to_string),
            headers: headers
                .iter()
                .map(|(name, value)| {
                    (
                        name.as_str().to_ascii_lowercase(),
                        String::from_utf8_lossy(value.as_bytes()).into_owned(),
                    )
                })
                .collect(),
            body: body.to_vec(),
        }
    }

    /// The first value of header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body parsed as JSON, if it is JSON.
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// What the entry costs the log's byte budget: its text and body, not the allocator's
    /// overhead, which is small next to the bodies that make a budget necessary.
    fn size(&self) -> usize {
        let headers: usize = self.headers.iter().map(|(n, v)| n.len() + v.len()).sum();
        self.method.len()
            + self.path.len()
            + self.query.as_ref().map_or(0, String::len)
            + headers
            + self.body.len()
    }
}

/// The newest requests, oldest first, within `max_entries` and `max_bytes`.
#[derive(Debug)]
pub(crate) struct RequestLog {
    entries: VecDeque<(RecordedRequest, usize)>,
    bytes: usize,
    max_entries: usize,
    max_bytes: usize,
    dropped: u64,
}

impl RequestLog {
    pub(crate) fn new(max_entries: usize, max_bytes: usize) -> RequestLog {
        RequestLog {
            entries: VecDeque::new(),
            bytes: 0,
            max_entries,
            max_bytes,
            dropped: 0,
        }
    }

    /// Appends `request`, then drops the oldest entries until both limits hold again. The newest
    /// stays even when it alone is over the byte budget: a test asserting on the last request
    /// must find it.
    pub(crate) fn push(&mut self, request: RecordedRequest) {
        if self.max_entries == 0 {
            self.dropped += 1;
            return;
        }
        let size = request.size();
        self.bytes += size;
        self.entries.push_back((request, size));
        while self.entries.len() > self.max_entries
            || (self.bytes > self.max_bytes && self.entries.len() > 1)
        {
            let (_, size) = self.entries.pop_front().expect("more than one entry");
            self.bytes -= size;
            self.dropped += 1;
        }
    }

    pub(crate) fn snapshot(&self) -> Vec<RecordedRequest> {
        self.entries.iter().map(|(r, _)| r.clone()).collect()
    }

    pub(crate) fn clear(&mut self) {
        self.entries.clear();
        self.bytes = 0;
    }

    pub(crate) fn dropped(&self) -> u64 {
        self.dropped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(body: &[u8]) -> RecordedRequest {
        RecordedRequest::new("GET", "/p", None, &HeaderMap::new(), body)
    }

    #[test]
    fn keeps_the_newest_within_both_limits() {
        let mut log = RequestLog::new(2, 100);
        for body in [&b"a"[..], b"b", b"c"] {
            log.push(request(body));
        }
        let bodies: Vec<_> = log.snapshot().into_iter().map(|r| r.body).collect();
        assert_eq!(bodies, [b"b".to_vec(), b"c".to_vec()]);
        assert_eq!(log.dropped(), 1);

        log.push(request(&[0; 90]));
        assert_eq!(log.snapshot().len(), 1);
        assert_eq!(log.dropped(), 3);
        assert_eq!(log.bytes, 90 + "GET/p".len());

        log.clear();
        assert!(log.snapshot().is_empty());
        assert_eq!(log.bytes, 0);
    }

    #[test]
    fn a_zero_limit_keeps_nothing() {
        let mut log = RequestLog::new(0, 100);
        log.push(request(b"x"));
        assert!(log.snapshot().is_empty());
        assert_eq!(log.dropped(), 1);
    }
}
