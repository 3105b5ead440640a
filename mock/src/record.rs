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
    /// What the mock's route answered, when it answered (a fault or a refused request has
    /// none).
    pub answer: Option<RecordedAnswer>,
}

/// The mock's own answer to a request, before any fault reshaped it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedAnswer {
    /// Such as 200.
    pub status: u16,
    /// The `Content-Type` it was sent with.
    pub content_type: Option<String>,
    /// The body as sent.
    pub body: Vec<u8>,
}

impl RecordedAnswer {
    /// The body parsed as JSON, if it is JSON.
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }
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
            answer: None,
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
            + self.answer.as_ref().map_or(0, |a| a.body.len())
    }
}

/// The newest requests, oldest first, within `max_entries` and `max_bytes`.
#[derive(Debug)]
pub(crate) struct RequestLog {
    /// Each entry with its size and its number in arrival order.
    entries: VecDeque<(RecordedRequest, usize, u64)>,
    next: u64,
    bytes: usize,
    max_entries: usize,
    max_bytes: usize,
    dropped: u64,
}

impl RequestLog {
    pub(crate) fn new(max_entries: usize, max_bytes: usize) -> RequestLog {
        RequestLog {
            entries: VecDeque::new(),
            next: 0,
            bytes: 0,
            max_entries,
            max_bytes,
            dropped: 0,
        }
    }

    /// Appends `request`, then drops the oldest entries until both limits hold again. The newest
    /// stays even when it alone is over the byte budget: a test asserting on the last request
    /// must find it.
    /// Returns the entry's number, for [`Self::answer`].
    pub(crate) fn push(&mut self, request: RecordedRequest) -> u64 {
        let id = self.next;
        self.next += 1;
        if self.max_entries == 0 {
            self.dropped += 1;
            return id;
        }
        let size = request.size();
        self.bytes += size;
        self.entries.push_back((request, size, id));
        self.trim();
        id
    }

    /// Adds the answer to entry `id`, if the log still holds it.
    pub(crate) fn answer(&mut self, id: u64, answer: RecordedAnswer) {
        // Numbers are consecutive, so the entry's place follows from the oldest one's number
        // (a log of thousands is not searched on every request).
        let Some(&(_, _, first)) = self.entries.front() else {
            return;
        };
        let Some((request, size, _)) = id
            .checked_sub(first)
            .and_then(|i| self.entries.get_mut(usize::try_from(i).ok()?))
            .filter(|(_, _, i)| *i == id)
        else {
            return;
        };
        let added = answer.body.len();
        request.answer = Some(answer);
        *size += added;
        self.bytes += added;
        self.trim();
    }

    fn trim(&mut self) {
        while self.entries.len() > self.max_entries
            || (self.bytes > self.max_bytes && self.entries.len() > 1)
        {
            let (_, size, _) = self.entries.pop_front().expect("more than one entry");
            self.bytes -= size;
            self.dropped += 1;
        }
    }

    pub(crate) fn snapshot(&self) -> Vec<RecordedRequest> {
        self.entries.iter().map(|(r, _, _)| r.clone()).collect()
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
    fn an_answer_counts_toward_the_byte_budget() {
        let mut log = RequestLog::new(10, 100);
        let first = log.push(request(b"a"));
        let second = log.push(request(b"b"));
        let answer = |n: usize| RecordedAnswer {
            status: 200,
            content_type: None,
            body: vec![b'x'; n],
        };
        log.answer(second, answer(10));
        assert_eq!(log.snapshot()[1].answer.as_ref().unwrap().body.len(), 10);
        assert!(log.snapshot()[0].answer.is_none());
        // Too big for the budget with the first entry: the first goes.
        log.answer(second, answer(90));
        assert_eq!(log.snapshot().len(), 1);
        assert_eq!(log.dropped(), 1);
        // An entry no longer held takes no answer.
        log.answer(first, answer(1));
        assert_eq!(log.snapshot().len(), 1);
    }

    #[test]
    fn a_zero_limit_keeps_nothing() {
        let mut log = RequestLog::new(0, 100);
        log.push(request(b"x"));
        assert!(log.snapshot().is_empty());
        assert_eq!(log.dropped(), 1);
    }
}
