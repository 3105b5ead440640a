//! Lua 5.4's string patterns, ported from `lstrlib.c` so that matching can be stopped.
//!
//! The C matcher backtracks without ever returning to the VM, so the instruction hook that
//! enforces the time limit never fires inside it: `("a"):rep(40):find(("a*"):rep(12) .. "b")`
//! would run for centuries. This is the same algorithm, step for step (same results, same
//! errors, raised at the same moments), except that it calls `tick` every [`TICK`] steps and
//! stops with the error `tick` returns. Positions are byte offsets; reading one past the end
//! of the subject or the pattern yields `0`, like the NUL that ends every Lua string, which
//! `%f` and `%b` rely on.

/// `LUA_MAXCAPTURES`.
const MAX_CAPTURES: usize = 32;
/// `MAXCCALLS`: nesting of `match` before "pattern too complex".
const MAX_DEPTH: usize = 200;
/// Steps between two calls of the stop check; a step is a few nanoseconds.
pub(super) const TICK: u64 = 1 << 12;

const UNFINISHED: isize = -1;
const POSITION: isize = -2;

/// Why matching stopped without an answer.
#[derive(Debug)]
pub(super) enum Failure<E> {
    /// The pattern is malformed or too complex: Lua raises this as a string error.
    Pattern(String),
    /// The stop check said so.
    Stopped(E),
}

fn malformed<E>(message: impl Into<String>) -> Failure<E> {
    Failure::Pattern(message.into())
}

/// One capture as Lua sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Capture {
    /// `start..end` of the subject.
    Text(usize, usize),
    /// A position capture `()`: the 1-based position.
    Position(usize),
}

/// A successful match: where it starts and ends, and the captures as the matcher left them.
#[derive(Debug, Clone)]
pub(super) struct Found {
    pub start: usize,
    pub end: usize,
    captures: Vec<(usize, isize)>,
}

impl Found {
    /// `get_onecapture`: capture `i`, or the whole match when the pattern has none and `i == 0`.
    pub fn capture<E>(&self, i: usize) -> Result<Capture, Failure<E>> {
        match self.captures.get(i) {
            None if i == 0 => Ok(Capture::Text(self.start, self.end)),
            None => Err(malformed(format!("invalid capture index %{}", i + 1))),
            Some(&(_, UNFINISHED)) => Err(malformed("unfinished capture")),
            Some(&(init, POSITION)) => Ok(Capture::Position(init + 1)),
            Some(&(init, len)) => Ok(Capture::Text(init, init + len as usize)),
        }
    }

    /// `push_captures`: every capture, or the whole match when there are none and `whole`.
    pub fn captures<E>(&self, whole: bool) -> Result<Vec<Capture>, Failure<E>> {
        let n = if self.captures.is_empty() && whole {
            1
        } else {
            self.captures.len()
        };
        (0..n).map(|i| self.capture(i)).collect()
    }
}

/// `nospecials`: a pattern without these bytes is searched for literally by `string.find`.
pub(super) fn has_specials(pattern: &[u8]) -> bool {
    pattern.iter().any(|b| b"^$*+?.([%-".contains(b))
}

/// Counts steps and asks `tick` whether to go on every [`TICK`] of them.
pub(super) struct Budget<'t, E> {
    steps: u64,
    tick: &'t mut dyn FnMut() -> Result<(), E>,
}

impl<'t, E> Budget<'t, E> {
    pub fn new(tick: &'t mut dyn FnMut() -> Result<(), E>) -> Self {
        Budget { steps: 0, tick }
    }

    /// Accounts for `cost` steps.
    pub fn spend(&mut self, cost: u64) -> Result<(), Failure<E>> {
        let before = self.steps / TICK;
        self.steps += cost;
        if self.steps / TICK != before {
            (self.tick)().map_err(Failure::Stopped)?;
        }
        Ok(())
    }
}

/// `lmemfind`: the first occurrence of `needle` in `src` at or after `init`.
pub(super) fn find_plain<E>(
    src: &[u8],
    init: usize,
    needle: &[u8],
    budget: &mut Budget<'_, E>,
) -> Result<Option<usize>, Failure<E>> {
    let Some((&first, rest)) = needle.split_first() else {
        return Ok(Some(init));
    };
    if needle.len() > src.len() - init {
        return Ok(None);
    }
    let last = src.len() - needle.len();
    let mut at = init;
    while at <= last {
        let Some(offset) = src[at..=last].iter().position(|&b| b == first) else {
            return Ok(None);
        };
        budget.spend(1 + offset as u64 / 64 + rest.len() as u64 / 64)?;
        let candidate = at + offset;
        if &src[candidate + 1..candidate + needle.len()] == rest {
            return Ok(Some(candidate));
        }
        at = candidate + 1;
    }
    Ok(None)
}

/// The search `str_find_aux`, `gmatch_aux` and `str_gsub` share: the first position at or after
/// `init` (only `init` itself when `anchor`) where `pattern` matches, skipping a match that
/// ends at `skip_end` (the end of the previous match, so an empty match cannot repeat).
/// `pattern` has its leading `^` removed already when it is an anchor.
pub(super) fn search<E>(
    src: &[u8],
    pattern: &[u8],
    init: usize,
    anchor: bool,
    skip_end: Option<usize>,
    budget: &mut Budget<'_, E>,
) -> Result<Option<Found>, Failure<E>> {
    let mut m = Matcher {
        src,
        pat: pattern,
        depth: MAX_DEPTH,
        level: 0,
        capture: [(0, 0); MAX_CAPTURES],
        budget,
    };
    let mut start = init;
    loop {
        m.depth = MAX_DEPTH;
        m.level = 0;
        m.budget.spend(1)?;
        if let Some(end) = m.do_match(start, 0)?
            && Some(end) != skip_end
        {
            return Ok(Some(Found {
                start,
                end,
                captures: m.capture[..m.level].to_vec(),
            }));
        }
        if anchor || start >= src.len() {
            return Ok(None);
        }
        start += 1;
    }
}

struct Matcher<'a, 'b, 't, E> {
    src: &'a [u8],
    pat: &'a [u8],
    depth: usize,
    level: usize,
    /// `(init, len)`, `len` being [`UNFINISHED`], [`POSITION`] or a length.
    capture: [(usize, isize); MAX_CAPTURES],
    budget: &'b mut Budget<'t, E>,
}

type Step<E> = Result<Option<usize>, Failure<E>>;

impl<E> Matcher<'_, '_, '_, E> {
    fn p(&self, i: usize) -> u8 {
        self.pat.get(i).copied().unwrap_or(0)
    }

    fn s(&self, i: usize) -> u8 {
        self.src.get(i).copied().unwrap_or(0)
    }

    fn do_match(&mut self, mut s: usize, mut p: usize) -> Step<E> {
        if self.depth == 0 {
            return Err(malformed("pattern too complex"));
        }
        self.depth -= 1;
        let result = loop {
            self.budget.spend(1)?;
            if p == self.pat.len() {
                break Some(s);
            }
            match self.pat[p] {
                b'(' => {
                    break if self.p(p + 1) == b')' {
                        self.start_capture(s, p + 2, POSITION)?
                    } else {
                        self.start_capture(s, p + 1, UNFINISHED)?
                    };
                }
                b')' => break self.end_capture(s, p + 1)?,
                b'$' if p + 1 == self.pat.len() => break (s == self.src.len()).then_some(s),
                b'%' if self.p(p + 1) == b'b' => match self.match_balance(s, p + 2)? {
                    Some(e) => {
                        s = e;
                        p += 4;
                    }
                    None => break None,
                },
                b'%' if self.p(p + 1) == b'f' => {
                    p += 2;
                    if self.p(p) != b'[' {
                        return Err(malformed("missing '[' after '%f' in pattern"));
                    }
                    let ep = self.class_end(p)?;
                    let previous = if s == 0 { 0 } else { self.src[s - 1] };
                    if !self.bracket_class(previous, p, ep - 1)
                        && self.bracket_class(self.s(s), p, ep - 1)
                    {
                        p = ep;
                    } else {
                        break None;
                    }
                }
                b'%' if self.p(p + 1).is_ascii_digit() => {
                    match self.match_capture(s, self.p(p + 1))? {
                        Some(e) => {
                            s = e;
                            p += 2;
                        }
                        None => break None,
                    }
                }
                _ => {
                    let ep = self.class_end(p)?;
                    let suffix = self.p(ep);
                    if !self.single_match(s, p, ep) {
                        if matches!(suffix, b'*' | b'?' | b'-') {
                            p = ep + 1;
                            continue;
                        }
                        break None;
                    }
                    match suffix {
                        b'?' => {
                            if let Some(res) = self.do_match(s + 1, ep + 1)? {
                                break Some(res);
                            }
                            p = ep + 1;
                        }
                        b'+' => break self.max_expand(s + 1, p, ep)?,
                        b'*' => break self.max_expand(s, p, ep)?,
                        b'-' => break self.min_expand(s, p, ep)?,
                        _ => {
                            s += 1;
                            p = ep;
                        }
                    }
                }
            }
        };
        self.depth += 1;
        Ok(result)
    }

    fn class_end(&self, mut p: usize) -> Result<usize, Failure<E>> {
        let c = self.pat[p];
        p += 1;
        match c {
            b'%' => {
                if p == self.pat.len() {
                    return Err(malformed("malformed pattern (ends with '%')"));
                }
                Ok(p + 1)
            }
            b'[' => {
                if self.p(p) == b'^' {
                    p += 1;
                }
                loop {
                    if p == self.pat.len() {
                        return Err(malformed("malformed pattern (missing ']')"));
                    }
                    let c = self.pat[p];
                    p += 1;
                    if c == b'%' && p < self.pat.len() {
                        p += 1;
                    }
                    if self.p(p) == b']' {
                        return Ok(p + 1);
                    }
                }
            }
            _ => Ok(p),
        }
    }

    fn single_match(&self, s: usize, p: usize, ep: usize) -> bool {
        if s >= self.src.len() {
            return false;
        }
        let c = self.src[s];
        match self.pat[p] {
            b'.' => true,
            b'%' => match_class(c, self.p(p + 1)),
            b'[' => self.bracket_class(c, p, ep - 1),
            other => other == c,
        }
    }

    /// `matchbracketclass`: `p` is at `[`, `end` at the closing `]`.
    fn bracket_class(&self, c: u8, mut p: usize, end: usize) -> bool {
        let mut found = true;
        if self.p(p + 1) == b'^' {
            found = false;
            p += 1;
        }
        loop {
            p += 1;
            if p >= end {
                return !found;
            }
            if self.pat[p] == b'%' {
                p += 1;
                if match_class(c, self.p(p)) {
                    return found;
                }
            } else if self.p(p + 1) == b'-' && p + 2 < end {
                p += 2;
                if self.pat[p - 2] <= c && c <= self.pat[p] {
                    return found;
                }
            } else if self.pat[p] == c {
                return found;
            }
        }
    }

    fn match_balance(&mut self, mut s: usize, p: usize) -> Step<E> {
        if p + 1 >= self.pat.len() {
            return Err(malformed("malformed pattern (missing arguments to '%b')"));
        }
        if self.s(s) != self.pat[p] {
            return Ok(None);
        }
        let (open, close) = (self.pat[p], self.pat[p + 1]);
        let mut depth = 1;
        s += 1;
        while s < self.src.len() {
            self.budget.spend(1)?;
            let c = self.src[s];
            if c == close {
                depth -= 1;
                if depth == 0 {
                    return Ok(Some(s + 1));
                }
            } else if c == open {
                depth += 1;
            }
            s += 1;
        }
        Ok(None)
    }

    fn max_expand(&mut self, s: usize, p: usize, ep: usize) -> Step<E> {
        let mut i = 0;
        while self.single_match(s + i, p, ep) {
            self.budget.spend(1)?;
            i += 1;
        }
        loop {
            if let Some(res) = self.do_match(s + i, ep + 1)? {
                return Ok(Some(res));
            }
            if i == 0 {
                return Ok(None);
            }
            i -= 1;
        }
    }

    fn min_expand(&mut self, mut s: usize, p: usize, ep: usize) -> Step<E> {
        loop {
            if let Some(res) = self.do_match(s, ep + 1)? {
                return Ok(Some(res));
            }
            if !self.single_match(s, p, ep) {
                return Ok(None);
            }
            s += 1;
        }
    }

    fn start_capture(&mut self, s: usize, p: usize, what: isize) -> Step<E> {
        if self.level >= MAX_CAPTURES {
            return Err(malformed("too many captures"));
        }
        self.capture[self.level] = (s, what);
        self.level += 1;
        let res = self.do_match(s, p)?;
        if res.is_none() {
            self.level -= 1;
        }
        Ok(res)
    }

    fn end_capture(&mut self, s: usize, p: usize) -> Step<E> {
        let Some(l) = (0..self.level)
            .rev()
            .find(|&l| self.capture[l].1 == UNFINISHED)
        else {
            return Err(malformed("invalid pattern capture"));
        };
        self.capture[l].1 = (s - self.capture[l].0) as isize;
        let res = self.do_match(s, p)?;
        if res.is_none() {
            self.capture[l].1 = UNFINISHED;
        }
        Ok(res)
    }

    /// A back reference `%1`..`%9` (`%0` is refused, as `check_capture` refuses it).
    fn match_capture(&mut self, s: usize, digit: u8) -> Step<E> {
        let l = i32::from(digit) - i32::from(b'1');
        let usable = usize::try_from(l)
            .ok()
            .filter(|&l| l < self.level && self.capture[l].1 != UNFINISHED);
        let Some(l) = usable else {
            return Err(malformed(format!("invalid capture index %{}", l + 1)));
        };
        let (init, len) = self.capture[l];
        // A position capture has no text; C compares a huge unsigned length and fails.
        let Ok(len) = usize::try_from(len) else {
            return Ok(None);
        };
        self.budget.spend(len as u64 / 64)?;
        if self.src.len() - s >= len && self.src[init..init + len] == self.src[s..s + len] {
            Ok(Some(s + len))
        } else {
            Ok(None)
        }
    }
}

/// `match_class` in the C locale, which is the locale the sandbox runs in.
fn match_class(c: u8, class: u8) -> bool {
    let res = match class.to_ascii_lowercase() {
        b'a' => c.is_ascii_alphabetic(),
        b'c' => c.is_ascii_control(),
        b'd' => c.is_ascii_digit(),
        b'g' => c.is_ascii_graphic(),
        b'l' => c.is_ascii_lowercase(),
        b'p' => c.is_ascii_punctuation(),
        // C's isspace includes the vertical tab, which Rust's ASCII whitespace leaves out.
        b's' => matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r'),
        b'u' => c.is_ascii_uppercase(),
        b'w' => c.is_ascii_alphanumeric(),
        b'x' => c.is_ascii_hexdigit(),
        b'z' => c == 0,
        _ => return class == c,
    };
    if class.is_ascii_lowercase() {
        res
    } else {
        !res
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unbounded<T>(f: impl FnOnce(&mut Budget<'_, ()>) -> T) -> T {
        let mut go_on = || Ok(());
        f(&mut Budget::new(&mut go_on))
    }

    fn find(s: &str, p: &str) -> Option<(usize, usize)> {
        let (p, anchor) = match p.strip_prefix('^') {
            Some(rest) => (rest, true),
            None => (p, false),
        };
        unbounded(|b| search(s.as_bytes(), p.as_bytes(), 0, anchor, None, b))
            .unwrap()
            .map(|f| (f.start, f.end))
    }

    #[test]
    fn matches_like_lua() {
        assert_eq!(find("hello world", "o w"), Some((4, 7)));
        assert_eq!(find("3.20.1", "^(%d+)%.(%d+)"), Some((0, 4)));
        assert_eq!(find("  x", "%S"), Some((2, 3)));
        assert_eq!(find("THE (quick) fox", "%((%a+)%)"), Some((4, 11)));
        assert_eq!(find("f(a(b)c)d", "%b()"), Some((1, 8)));
        assert_eq!(find("THE quick", "%f[%a]%a+"), Some((0, 3)));
        assert_eq!(find("abc", "^b"), None);
        assert_eq!(find("abc", "c$"), Some((2, 3)));
        assert_eq!(find("aaab", "a-b"), Some((0, 4)));
        assert_eq!(find("abab", "(ab)%1"), Some((0, 4)));
    }

    #[test]
    fn malformed_patterns_say_why() {
        let err = |p: &str| match unbounded(|b| search(b"abc", p.as_bytes(), 0, false, None, b)) {
            Err(Failure::Pattern(m)) => m,
            other => panic!("{p}: {other:?}"),
        };
        assert_eq!(err("a["), "malformed pattern (missing ']')");
        assert_eq!(err("%"), "malformed pattern (ends with '%')");
        assert_eq!(err("a)"), "invalid pattern capture");
        assert_eq!(err("%1"), "invalid capture index %1");
        assert_eq!(err("%fa"), "missing '[' after '%f' in pattern");
    }

    #[test]
    fn catastrophic_backtracking_stops_when_told() {
        let subject = "a".repeat(40);
        let pattern = "a*".repeat(12) + "b";
        let mut ticks = 0;
        let mut stop_after_three = || {
            ticks += 1;
            if ticks > 3 { Err("stop") } else { Ok(()) }
        };
        let mut budget = Budget::new(&mut stop_after_three);
        let r = search(
            subject.as_bytes(),
            pattern.as_bytes(),
            0,
            false,
            None,
            &mut budget,
        );
        assert!(matches!(r, Err(Failure::Stopped("stop"))), "{r:?}");
    }
}
