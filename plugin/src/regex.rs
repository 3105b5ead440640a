//! A small regular-expression matcher for tag names: the tag cleanup's `match` and `keep-match`
//! patterns.
//!
//! The component is built without std and within a size budget, which rules out a full regex
//! crate; tag names are short, so a compact Thompson NFA does: the pattern compiles to a
//! program, and [`Regex::is_match`] runs every thread of it in step over the name, in time
//! linear in the name's length whatever the pattern (no backtracking, so no pattern can make a
//! match take exponential time).
//!
//! The syntax is the common core of POSIX ERE and Rust's `regex`: literals; `.`; classes `[a-z0-9._-]`
//! and `[^...]`; `\d \w \s` and their negations `\D \W \S`; `\` before any other punctuation
//! for itself; anchors `^` and `$`; groups `( )` and `(?: )`; alternation `|`; repetition
//! `* + ?` and `{n}`, `{n,}`, `{n,m}` (at most 100). A pattern matches a name when it matches
//! anywhere in it, as `grep -E` does: anchor it (`^v1\.`, `-rc[0-9]+$`) to match the whole.

use crate::prelude::*;
use alloc::boxed::Box;

/// A compiled pattern.
#[derive(Debug, Clone)]
pub struct Regex {
    program: Vec<Inst>,
}

#[derive(Debug, Clone)]
enum Inst {
    Char(char),
    Any,
    Class(Class),
    Start,
    End,
    /// Continue at both.
    Split(usize, usize),
    Jump(usize),
    Match,
}

#[derive(Debug, Clone, PartialEq)]
struct Class {
    negated: bool,
    ranges: Vec<(char, char)>,
}

impl Class {
    fn contains(&self, c: char) -> bool {
        self.ranges.iter().any(|&(lo, hi)| lo <= c && c <= hi) != self.negated
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Node {
    Empty,
    Char(char),
    Any,
    Class(Class),
    Start,
    End,
    Concat(Vec<Node>),
    Alt(Vec<Node>),
    Repeat {
        node: Box<Node>,
        min: u32,
        max: Option<u32>,
    },
}

/// The largest count `{n,m}` takes, and the most instructions a pattern may compile to: tag
/// names are at most 128 characters, so larger patterns say nothing more.
const MAX_REPEAT: u32 = 100;
const MAX_PROGRAM: usize = 5_000;

impl Regex {
    /// Compiles `pattern`; the error says what is wrong and where (a character offset).
    pub fn new(pattern: &str) -> Result<Regex, String> {
        let chars: Vec<char> = pattern.chars().collect();
        let mut parser = Parser { chars, at: 0 };
        let node = parser.alternation(0)?;
        if parser.at < parser.chars.len() {
            return Err(format!("unmatched `)` at {}", parser.at));
        }
        let mut program = Vec::new();
        compile(&node, &mut program)?;
        program.push(Inst::Match);
        Ok(Regex { program })
    }

    /// Whether the pattern matches anywhere in `text`.
    pub fn is_match(&self, text: &str) -> bool {
        let chars: Vec<char> = text.chars().collect();
        let n = self.program.len();
        let mut current: Vec<usize> = Vec::with_capacity(n);
        let mut next: Vec<usize> = Vec::with_capacity(n);
        // Which instructions already hold a thread at this position.
        let mut seen = vec![usize::MAX; n];
        for at in 0..=chars.len() {
            // Unanchored: a new thread starts at every position.
            if self.add(&mut current, &mut seen, 0, at, &chars) {
                return true;
            }
            let Some(&c) = chars.get(at) else { break };
            next.clear();
            for &pc in &current {
                let step = match &self.program[pc] {
                    Inst::Char(want) => *want == c,
                    Inst::Any => true,
                    Inst::Class(class) => class.contains(c),
                    _ => false,
                };
                if step && self.add(&mut next, &mut seen, pc + 1, at + 1, &chars) {
                    return true;
                }
            }
            core::mem::swap(&mut current, &mut next);
        }
        false
    }

    /// Adds the thread at `pc` and every thread its jumps, splits and anchors lead to at
    /// position `at`; true when one of them reaches `Match`.
    fn add(
        &self,
        list: &mut Vec<usize>,
        seen: &mut [usize],
        pc: usize,
        at: usize,
        chars: &[char],
    ) -> bool {
        let mut stack = vec![pc];
        while let Some(pc) = stack.pop() {
            if seen[pc] == at {
                continue;
            }
            seen[pc] = at;
            match self.program[pc] {
                Inst::Match => return true,
                Inst::Jump(to) => stack.push(to),
                Inst::Split(a, b) => {
                    stack.push(b);
                    stack.push(a);
                }
                Inst::Start if at == 0 => stack.push(pc + 1),
                Inst::End if at == chars.len() => stack.push(pc + 1),
                Inst::Start | Inst::End => {}
                _ => list.push(pc),
            }
        }
        false
    }
}

fn compile(node: &Node, out: &mut Vec<Inst>) -> Result<(), String> {
    if out.len() > MAX_PROGRAM {
        return Err("the pattern is too large".into());
    }
    match node {
        Node::Empty => {}
        Node::Char(c) => out.push(Inst::Char(*c)),
        Node::Any => out.push(Inst::Any),
        Node::Class(class) => out.push(Inst::Class(class.clone())),
        Node::Start => out.push(Inst::Start),
        Node::End => out.push(Inst::End),
        Node::Concat(nodes) => {
            for n in nodes {
                compile(n, out)?;
            }
        }
        Node::Alt(branches) => {
            // split L1, next; L1: branch; jump end; next: split ...; the last branch plain.
            let mut jumps = Vec::new();
            for (i, branch) in branches.iter().enumerate() {
                if i + 1 < branches.len() {
                    let split = out.len();
                    out.push(Inst::Split(split + 1, 0));
                    compile(branch, out)?;
                    jumps.push(out.len());
                    out.push(Inst::Jump(0));
                    let next = out.len();
                    out[split] = Inst::Split(split + 1, next);
                } else {
                    compile(branch, out)?;
                }
            }
            let end = out.len();
            for j in jumps {
                out[j] = Inst::Jump(end);
            }
        }
        Node::Repeat { node, min, max } => {
            for _ in 0..*min {
                compile(node, out)?;
            }
            match max {
                // e*: L: split body, end; body; jump L
                None => {
                    let split = out.len();
                    out.push(Inst::Split(split + 1, 0));
                    compile(node, out)?;
                    out.push(Inst::Jump(split));
                    let end = out.len();
                    out[split] = Inst::Split(split + 1, end);
                }
                // Each optional copy: split body, end_of_all.
                Some(max) => {
                    let mut splits = Vec::new();
                    for _ in *min..*max {
                        splits.push(out.len());
                        out.push(Inst::Split(out.len() + 1, 0));
                        compile(node, out)?;
                    }
                    let end = out.len();
                    for s in splits {
                        out[s] = Inst::Split(s + 1, end);
                    }
                }
            }
        }
    }
    Ok(())
}

struct Parser {
    chars: Vec<char>,
    at: usize,
}

impl Parser {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.at).copied()
    }

    fn alternation(&mut self, depth: usize) -> Result<Node, String> {
        if depth > 32 {
            return Err("groups are nested too deeply".into());
        }
        let mut branches = vec![self.concat(depth)?];
        while self.peek() == Some('|') {
            self.at += 1;
            branches.push(self.concat(depth)?);
        }
        Ok(if branches.len() == 1 {
            branches.pop().unwrap_or(Node::Empty)
        } else {
            Node::Alt(branches)
        })
    }

    fn concat(&mut self, depth: usize) -> Result<Node, String> {
        let mut items = Vec::new();
        while let Some(c) = self.peek() {
            if c == '|' || c == ')' {
                break;
            }
            let atom = self.atom(depth)?;
            items.push(self.repeat(atom)?);
        }
        Ok(match items.len() {
            0 => Node::Empty,
            1 => items.pop().unwrap_or(Node::Empty),
            _ => Node::Concat(items),
        })
    }

    fn atom(&mut self, depth: usize) -> Result<Node, String> {
        let at = self.at;
        let c = self.peek().ok_or("the pattern ends early")?;
        self.at += 1;
        Ok(match c {
            '.' => Node::Any,
            '^' => Node::Start,
            '$' => Node::End,
            '(' => {
                if self.chars[self.at..].starts_with(&['?', ':']) {
                    self.at += 2;
                }
                let inner = self.alternation(depth + 1)?;
                if self.peek() != Some(')') {
                    return Err(format!("unclosed `(` at {at}"));
                }
                self.at += 1;
                inner
            }
            '[' => Node::Class(self.class(at)?),
            '\\' => self.escape(at)?,
            '*' | '+' | '?' | '{' => {
                return Err(format!("`{c}` at {at} repeats nothing"));
            }
            c => Node::Char(c),
        })
    }

    fn escape(&mut self, at: usize) -> Result<Node, String> {
        let c = self
            .peek()
            .ok_or_else(|| format!("`\\` at {at} ends the pattern"))?;
        self.at += 1;
        Ok(match shorthand(c) {
            Some(class) => Node::Class(class),
            None if c.is_ascii_punctuation() => Node::Char(c),
            None => return Err(format!("unknown escape `\\{c}` at {at}")),
        })
    }

    fn class(&mut self, at: usize) -> Result<Class, String> {
        let mut class = Class {
            negated: false,
            ranges: Vec::new(),
        };
        if self.peek() == Some('^') {
            class.negated = true;
            self.at += 1;
        }
        let mut first = true;
        loop {
            let c = self.peek().ok_or_else(|| format!("unclosed `[` at {at}"))?;
            self.at += 1;
            if c == ']' && !first {
                break;
            }
            first = false;
            let lo = if c == '\\' {
                let e = self.peek().ok_or_else(|| format!("unclosed `[` at {at}"))?;
                self.at += 1;
                if let Some(short) = shorthand(e).filter(|s| !s.negated) {
                    class.ranges.extend(short.ranges);
                    continue;
                }
                if !e.is_ascii_punctuation() {
                    return Err(format!("unknown escape `\\{e}` in the class at {at}"));
                }
                e
            } else {
                c
            };
            let hi = if self.peek() == Some('-') && self.chars.get(self.at + 1) != Some(&']') {
                self.at += 1;
                let hi = self.peek().ok_or_else(|| format!("unclosed `[` at {at}"))?;
                self.at += 1;
                if hi < lo {
                    return Err(format!("the range `{lo}-{hi}` at {at} runs backwards"));
                }
                hi
            } else {
                lo
            };
            class.ranges.push((lo, hi));
        }
        Ok(class)
    }

    fn repeat(&mut self, atom: Node) -> Result<Node, String> {
        let mut node = atom;
        while let Some(c) = self.peek() {
            let at = self.at;
            let (min, max) = match c {
                '*' => (0, None),
                '+' => (1, None),
                '?' => (0, Some(1)),
                '{' => {
                    self.at += 1;
                    let bounds = self.bounds(at)?;
                    self.at -= 1;
                    bounds
                }
                _ => break,
            };
            self.at += 1;
            if matches!(node, Node::Start | Node::End) {
                return Err(format!("`{c}` at {at} repeats an anchor"));
            }
            node = Node::Repeat {
                node: Box::new(node),
                min,
                max,
            };
        }
        Ok(node)
    }

    /// `n}`, `n,}` or `n,m}` after a `{`; leaves `at` after the `}`.
    fn bounds(&mut self, at: usize) -> Result<(u32, Option<u32>), String> {
        let number = |p: &mut Parser| -> Option<u32> {
            let start = p.at;
            while p.peek().is_some_and(|c| c.is_ascii_digit()) {
                p.at += 1;
            }
            let text: String = p.chars[start..p.at].iter().collect();
            text.parse().ok()
        };
        let bad = || format!("`{{` at {at} needs `{{n}}`, `{{n,}}` or `{{n,m}}`");
        let min = number(self).ok_or_else(bad)?;
        let max = if self.peek() == Some(',') {
            self.at += 1;
            if self.peek() == Some('}') {
                None
            } else {
                Some(number(self).ok_or_else(bad)?)
            }
        } else {
            Some(min)
        };
        if self.peek() != Some('}') {
            return Err(bad());
        }
        self.at += 1;
        if min > MAX_REPEAT || max.is_some_and(|m| m > MAX_REPEAT || m < min) {
            return Err(format!(
                "the count at {at} must be at most {MAX_REPEAT}, smallest first"
            ));
        }
        Ok((min, max))
    }
}

/// `\d`, `\w`, `\s` and their negations.
fn shorthand(c: char) -> Option<Class> {
    let (negated, ranges) = match c {
        'd' | 'D' => (c == 'D', vec![('0', '9')]),
        'w' | 'W' => (
            c == 'W',
            vec![('0', '9'), ('A', 'Z'), ('_', '_'), ('a', 'z')],
        ),
        's' | 'S' => (c == 'S', vec![(' ', ' '), ('\t', '\r')]),
        _ => return None,
    };
    Some(Class { negated, ranges })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pattern: &str, text: &str) -> bool {
        Regex::new(pattern)
            .unwrap_or_else(|e| panic!("{pattern}: {e}"))
            .is_match(text)
    }

    #[test]
    fn matches_as_grep_does() {
        let yes = [
            ("v1", "v1.2"),
            ("^v1\\.", "v1.2"),
            ("^v[0-9]+\\.[0-9]+$", "v10.2"),
            ("-rc[0-9]*$", "2.0-rc12"),
            ("^(dev|pr)-", "pr-1234"),
            ("^(?:dev|pr)-\\d{2,4}$", "dev-123"),
            ("^sha-[0-9a-f]{7}$", "sha-abc1234"),
            ("^[^.]+$", "latest"),
            ("a?b+c*", "xbbx"),
            ("", "anything"),
            ("^$", ""),
            ("^\\w+-\\S+$", "build_1-x.y"),
            ("[a\\-z]", "-"),
            ("[-a]", "-"),
            ("[]]", "]"),
            ("x{0}y", "y"),
        ];
        for (p, t) in yes {
            assert!(m(p, t), "{p} should match {t}");
        }
        let no = [
            ("^v1\\.", "xv1.2"),
            ("^v[0-9]+\\.[0-9]+$", "v10.2.1"),
            ("^(dev|pr)-", "prod-1"),
            ("^(?:dev|pr)-\\d{2,4}$", "dev-12345"),
            ("^[^.]+$", "3.20"),
            ("^$", "x"),
            ("[a\\-z]", "b"),
            ("^a.c$", "ac"),
            ("\\d", "latest"),
            ("^\\D+$", "v1"),
        ];
        for (p, t) in no {
            assert!(!m(p, t), "{p} should not match {t}");
        }
    }

    #[test]
    fn bad_patterns_say_what_is_wrong() {
        for (p, why) in [
            ("(a", "unclosed `(`"),
            ("a)", "unmatched `)`"),
            ("[a", "unclosed `[`"),
            ("*a", "repeats nothing"),
            ("^*", "repeats an anchor"),
            ("a{101}", "at most 100"),
            ("a{3,2}", "at most 100"),
            ("a{x}", "needs `{n}`"),
            ("[z-a]", "runs backwards"),
            ("\\q", "unknown escape"),
            ("a\\", "ends the pattern"),
        ] {
            let err = Regex::new(p).unwrap_err();
            assert!(err.contains(why), "{p}: {err}");
        }
        let deep = "(".repeat(40) + &")".repeat(40);
        assert!(Regex::new(&deep).unwrap_err().contains("nested too deeply"));
        assert!(
            Regex::new("(a{100}){100}")
                .unwrap_err()
                .contains("too large")
        );
    }

    #[test]
    fn hostile_patterns_take_linear_time() {
        // Exponential for a backtracking matcher; a few thousand steps here.
        let re = Regex::new("^(a|a)*(a|a)*(a|a)*b$").unwrap();
        assert!(!re.is_match(&"a".repeat(128)));
        // A loop whose body can match nothing ends, too.
        let re = Regex::new("^(a*)*$").unwrap();
        assert!(re.is_match(&"a".repeat(128)));
        assert!(!re.is_match(&("a".repeat(127) + "b")));
    }
}
