//! SCIM filter expressions (RFC 7644 §3.4.2.2) over flat attributes.
//!
//! Supported: `eq ne co sw ew gt ge lt le pr`, `and`, `or`, `not (…)` and parentheses, with
//! case-insensitive attribute names and operators. Value paths like `emails[type eq "work"]`
//! are refused as an invalid filter rather than silently ignored.

/// A value an attribute can have, as the evaluator sees it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum AttrValue {
    Str(String),
    Bool(bool),
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Literal {
    Str(String),
    Bool(bool),
    Num(f64),
    Null,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    Eq,
    Ne,
    Co,
    Sw,
    Ew,
    Gt,
    Ge,
    Lt,
    Le,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Filter {
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
    Not(Box<Filter>),
    Present(String),
    Compare(String, Op, Literal),
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Str(String),
    Open,
    Close,
}

fn tokenize(text: &str) -> Result<Vec<Token>, String> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '(' => {
                chars.next();
                out.push(Token::Open);
            }
            ')' => {
                chars.next();
                out.push(Token::Close);
            }
            '"' => {
                chars.next();
                let mut s = String::new();
                loop {
                    match chars.next() {
                        None => return Err("unterminated string".into()),
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(e) => s.push(e),
                            None => return Err("unterminated string".into()),
                        },
                        Some(other) => s.push(other),
                    }
                }
                out.push(Token::Str(s));
            }
            '[' | ']' => return Err("value paths ([...]) are not supported".into()),
            _ => {
                let mut word = String::new();
                while let Some(&c) = chars.peek() {
                    if c.is_whitespace() || matches!(c, '(' | ')' | '"' | '[' | ']') {
                        break;
                    }
                    word.push(c);
                    chars.next();
                }
                out.push(Token::Word(word));
            }
        }
    }
    Ok(out)
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
}

impl Parser {
    fn peek_word(&self) -> Option<String> {
        match self.tokens.get(self.pos) {
            Some(Token::Word(w)) => Some(w.to_ascii_lowercase()),
            _ => None,
        }
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn or_expr(&mut self) -> Result<Filter, String> {
        let mut left = self.and_expr()?;
        while self.peek_word().as_deref() == Some("or") {
            self.pos += 1;
            left = Filter::Or(Box::new(left), Box::new(self.and_expr()?));
        }
        Ok(left)
    }

    fn and_expr(&mut self) -> Result<Filter, String> {
        let mut left = self.factor()?;
        while self.peek_word().as_deref() == Some("and") {
            self.pos += 1;
            left = Filter::And(Box::new(left), Box::new(self.factor()?));
        }
        Ok(left)
    }

    fn group(&mut self) -> Result<Filter, String> {
        if self.next() != Some(Token::Open) {
            return Err("expected '('".into());
        }
        let inner = self.or_expr()?;
        if self.next() != Some(Token::Close) {
            return Err("expected ')'".into());
        }
        Ok(inner)
    }

    fn factor(&mut self) -> Result<Filter, String> {
        if self.tokens.get(self.pos) == Some(&Token::Open) {
            return self.group();
        }
        if self.peek_word().as_deref() == Some("not") {
            self.pos += 1;
            return Ok(Filter::Not(Box::new(self.group()?)));
        }
        let attr = match self.next() {
            Some(Token::Word(w)) => w,
            _ => return Err("expected an attribute name".into()),
        };
        let op = match self.next() {
            Some(Token::Word(w)) => w.to_ascii_lowercase(),
            _ => return Err(format!("expected an operator after {attr}")),
        };
        let op = match op.as_str() {
            "pr" => return Ok(Filter::Present(attr)),
            "eq" => Op::Eq,
            "ne" => Op::Ne,
            "co" => Op::Co,
            "sw" => Op::Sw,
            "ew" => Op::Ew,
            "gt" => Op::Gt,
            "ge" => Op::Ge,
            "lt" => Op::Lt,
            "le" => Op::Le,
            other => return Err(format!("unknown operator {other:?}")),
        };
        let value = match self.next() {
            Some(Token::Str(s)) => Literal::Str(s),
            Some(Token::Word(w)) => match w.to_ascii_lowercase().as_str() {
                "true" => Literal::Bool(true),
                "false" => Literal::Bool(false),
                "null" => Literal::Null,
                _ => Literal::Num(w.parse().map_err(|_| format!("bad value {w:?}"))?),
            },
            _ => return Err(format!("expected a value after {attr}")),
        };
        Ok(Filter::Compare(attr, op, value))
    }
}

pub(crate) fn parse(text: &str) -> Result<Filter, String> {
    let mut parser = Parser {
        tokens: tokenize(text)?,
        pos: 0,
    };
    let filter = parser.or_expr()?;
    if parser.pos != parser.tokens.len() {
        return Err("unexpected text after the filter".into());
    }
    Ok(filter)
}

impl Filter {
    /// `lookup` gets attribute names lowercased.
    pub(crate) fn matches(&self, lookup: &dyn Fn(&str) -> Option<AttrValue>) -> bool {
        match self {
            Filter::And(a, b) => a.matches(lookup) && b.matches(lookup),
            Filter::Or(a, b) => a.matches(lookup) || b.matches(lookup),
            Filter::Not(inner) => !inner.matches(lookup),
            Filter::Present(attr) => match lookup(&attr.to_ascii_lowercase()) {
                Some(AttrValue::Str(s)) => !s.is_empty(),
                Some(AttrValue::Bool(_)) => true,
                None => false,
            },
            Filter::Compare(attr, op, literal) => {
                let value = lookup(&attr.to_ascii_lowercase());
                compare(value.as_ref(), *op, literal)
            }
        }
    }
}

fn compare(value: Option<&AttrValue>, op: Op, literal: &Literal) -> bool {
    match (value, literal) {
        (None, Literal::Null) => op == Op::Eq,
        (Some(_), Literal::Null) => op == Op::Ne,
        (Some(AttrValue::Bool(b)), Literal::Bool(l)) => match op {
            Op::Eq => b == l,
            Op::Ne => b != l,
            _ => false,
        },
        (Some(AttrValue::Str(s)), Literal::Str(l)) => {
            // userName and the other string attributes here are caseExact=false.
            let (s, l) = (s.to_lowercase(), l.to_lowercase());
            match op {
                Op::Eq => s == l,
                Op::Ne => s != l,
                Op::Co => s.contains(&l),
                Op::Sw => s.starts_with(&l),
                Op::Ew => s.ends_with(&l),
                Op::Gt => s > l,
                Op::Ge => s >= l,
                Op::Lt => s < l,
                Op::Le => s <= l,
            }
        }
        (None, _) => op == Op::Ne,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(name: &str, active: bool) -> impl Fn(&str) -> Option<AttrValue> {
        let name = name.to_string();
        move |attr| match attr {
            "username" => Some(AttrValue::Str(name.clone())),
            "active" => Some(AttrValue::Bool(active)),
            _ => None,
        }
    }

    #[test]
    fn parses_and_evaluates() {
        let f = parse(r#"userName eq "Alice@Acme.example""#).unwrap();
        assert!(f.matches(&user("alice@acme.example", true)));
        assert!(!f.matches(&user("bob@acme.example", true)));

        let f = parse(r#"(userName sw "a" or userName ew "b.example") and not (active eq false)"#)
            .unwrap();
        assert!(f.matches(&user("alice@x", true)));
        assert!(f.matches(&user("zed@b.example", true)));
        assert!(!f.matches(&user("alice@x", false)));

        assert!(parse("userName pr").unwrap().matches(&user("x", true)));
        assert!(
            parse("title pr")
                .map(|f| !f.matches(&user("x", true)))
                .unwrap()
        );
    }

    #[test]
    fn rejects_bad_filters() {
        for bad in [
            "userName",
            "userName eq",
            r#"userName xx "a""#,
            r#"userName eq "a"#,
            r#"emails[type eq "work"]"#,
            r#"(userName eq "a""#,
            r#"userName eq "a" extra"#,
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
