//! Wildcard matching for policy elements: `*` (any run of characters) and `?` (one
//! character), compiled once when a policy is parsed.
//!
//! How far a `*` may reach depends on the element (IAM User Guide, "IAM JSON policy
//! elements: Resource" and "Condition operators", ARN condition operators):
//! - Action and String operators: anywhere, Action case-insensitively;
//! - Resource: within its colon-delimited ARN segment, except that a `*` which is the
//!   last character of a segment "can expand to match beyond the colon boundaries";
//! - ArnLike / ArnEquals: "each of the six colon-delimited components of the ARN is
//!   checked separately", so a `*` never crosses a colon before the resource part.
//!
//! Text substituted from a policy variable, and `${*}` / `${?}`, is literal.

/// Which element a pattern belongs to; decides case and how far `*` reaches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    Action,
    Resource,
    Arn,
    String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Tok {
    Lit(Box<str>),
    Star { cross: bool },
    One,
}

/// A compiled wildcard pattern.
#[derive(Clone, Debug)]
pub(crate) struct Glob {
    toks: Vec<Tok>,
    ci: bool,
    constrained: bool,
}

#[derive(Clone, Copy, PartialEq)]
enum Item {
    Char(char),
    Star,
    One,
}

impl Glob {
    /// Compiles a pattern whose `*` and `?` are all wildcards.
    pub(crate) fn new(pattern: &str, mode: Mode) -> Glob {
        Glob::from_pieces([(pattern, true)], mode)
    }

    /// Compiles pieces of text; `(text, true)` has wildcards, `(text, false)` is literal.
    pub(crate) fn from_pieces<'a>(pieces: impl IntoIterator<Item = (&'a str, bool)>, mode: Mode) -> Glob {
        let mut items = Vec::new();
        for (text, wild) in pieces {
            for c in text.chars() {
                items.push(match c {
                    '*' if wild => Item::Star,
                    '?' if wild => Item::One,
                    c => Item::Char(c),
                });
            }
        }
        let crosses = star_reach(&items, mode);
        let ci = mode == Mode::Action;
        let mut toks = Vec::new();
        let mut lit = String::new();
        let mut constrained = false;
        for (i, item) in items.iter().enumerate() {
            match item {
                Item::Char(c) if ci => lit.extend(c.to_lowercase()),
                Item::Char(c) => lit.push(*c),
                Item::One | Item::Star => {
                    if !lit.is_empty() {
                        toks.push(Tok::Lit(std::mem::take(&mut lit).into_boxed_str()));
                    }
                    if *item == Item::One {
                        toks.push(Tok::One);
                    } else if toks.last() != Some(&Tok::Star { cross: crosses[i] }) {
                        constrained |= !crosses[i];
                        toks.push(Tok::Star { cross: crosses[i] });
                    }
                }
            }
        }
        if !lit.is_empty() {
            toks.push(Tok::Lit(lit.into_boxed_str()));
        }
        Glob { toks, ci, constrained }
    }

    /// Whether `text` matches the whole pattern.
    pub(crate) fn matches(&self, text: &str) -> bool {
        if self.constrained {
            self.matches_nfa(text.as_bytes())
        } else {
            self.matches_backtrack(text.as_bytes())
        }
    }

    /// The classic one-star backtracking match: no allocation; valid when every `*`
    /// may cross anything.
    fn matches_backtrack(&self, t: &[u8]) -> bool {
        let (mut pi, mut ti) = (0, 0);
        let mut star: Option<(usize, usize)> = None;
        loop {
            if let Some(tok) = self.toks.get(pi) {
                match tok {
                    Tok::Star { .. } => {
                        star = Some((pi + 1, ti));
                        pi += 1;
                        continue;
                    }
                    Tok::Lit(l) if starts_with(&t[ti..], l.as_bytes(), self.ci) => {
                        ti += l.len();
                        pi += 1;
                        continue;
                    }
                    Tok::One if ti < t.len() => {
                        ti += char_len(t[ti]);
                        pi += 1;
                        continue;
                    }
                    _ => {}
                }
            } else if ti == t.len() {
                return true;
            }
            match star {
                Some((sp, st)) if st < t.len() => {
                    let next = st + char_len(t[st]);
                    star = Some((sp, next));
                    pi = sp;
                    ti = next;
                }
                _ => return false,
            }
        }
    }

    /// Set-of-positions simulation, for patterns with a `*` that stops at `:`. Texts
    /// shorter than 128 bytes use a bit set on the stack.
    fn matches_nfa(&self, t: &[u8]) -> bool {
        if t.len() < 128 {
            self.nfa::<u128>(t)
        } else {
            self.nfa::<Vec<bool>>(t)
        }
    }

    fn nfa<B: Positions>(&self, t: &[u8]) -> bool {
        let n = t.len();
        let mut cur = B::empty(n + 1);
        cur.set(0);
        for tok in &self.toks {
            let mut next = B::empty(n + 1);
            match tok {
                Tok::Lit(l) => {
                    for i in (0..=n).filter(|i| cur.get(*i)) {
                        if starts_with(&t[i..], l.as_bytes(), self.ci) {
                            next.set(i + l.len());
                        }
                    }
                }
                Tok::One => {
                    for i in (0..n).filter(|i| cur.get(*i) && !is_continuation(t[*i])) {
                        next.set(i + char_len(t[i]));
                    }
                }
                Tok::Star { cross } => {
                    let mut on = false;
                    for i in 0..=n {
                        on |= cur.get(i);
                        if on {
                            next.set(i);
                            if !cross && t.get(i) == Some(&b':') {
                                on = false;
                            }
                        }
                    }
                }
            }
            cur = next;
        }
        cur.get(n)
    }
}

/// A set of text positions.
trait Positions {
    fn empty(len: usize) -> Self;
    fn get(&self, i: usize) -> bool;
    fn set(&mut self, i: usize);
}

impl Positions for u128 {
    fn empty(_: usize) -> u128 {
        0
    }
    fn get(&self, i: usize) -> bool {
        self >> i & 1 == 1
    }
    fn set(&mut self, i: usize) {
        *self |= 1 << i;
    }
}

impl Positions for Vec<bool> {
    fn empty(len: usize) -> Vec<bool> {
        vec![false; len]
    }
    fn get(&self, i: usize) -> bool {
        self[i]
    }
    fn set(&mut self, i: usize) {
        self[i] = true;
    }
}

/// For each `*`, whether it may match across a `:`.
fn star_reach(items: &[Item], mode: Mode) -> Vec<bool> {
    let colons = items.iter().filter(|i| **i == Item::Char(':')).count();
    let mut seen = 0;
    let mut out = vec![true; items.len()];
    for (i, item) in items.iter().enumerate() {
        match item {
            Item::Char(':') => seen += 1,
            Item::Star => {
                out[i] = match mode {
                    Mode::Action | Mode::String => true,
                    // A bare "*" or "arn:aws:sqs:*" stands for everything after it.
                    Mode::Arn => colons < 5 || seen >= 5,
                    Mode::Resource => {
                        let next = items[i + 1..].iter().find(|n| **n != Item::Star);
                        matches!(next, None | Some(Item::Char(':')))
                    }
                }
            }
            _ => {}
        }
    }
    out
}

fn starts_with(text: &[u8], lit: &[u8], ci: bool) -> bool {
    text.len() >= lit.len()
        && if ci {
            text[..lit.len()].iter().zip(lit).all(|(a, b)| a.to_ascii_lowercase() == *b)
        } else {
            &text[..lit.len()] == lit
        }
}

fn is_continuation(b: u8) -> bool {
    b & 0xC0 == 0x80
}

fn char_len(lead: u8) -> usize {
    match lead {
        0x00..=0x7F => 1,
        0xC0..=0xDF => 2,
        0xE0..=0xEF => 3,
        _ => 4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards() {
        let g = Glob::new("sqs:Send*", Mode::Action);
        assert!(g.matches("SQS:SENDMESSAGE"));
        assert!(g.matches("sqs:sendmessagebatch"));
        assert!(!g.matches("sqs:receivemessage"));
        assert!(Glob::new("s?s:*", Mode::Action).matches("sqs:x"));
        assert!(Glob::new("*", Mode::String).matches(""));
        assert!(!Glob::new("a?", Mode::String).matches("a"));
        assert!(Glob::new("a*b*c", Mode::String).matches("aXbYbZc"));
        assert!(!Glob::new("A", Mode::String).matches("a"));
        assert!(Glob::new("é?", Mode::String).matches("éü"));
    }

    #[test]
    fn resource_star_stays_in_segment_unless_last() {
        // "If the * wildcard is the last character of a resource ARN segment, it can
        // expand to match beyond the colon boundaries."
        let g = Glob::new("arn:aws:logs:us-east-1:1:log-group:*", Mode::Resource);
        assert!(g.matches("arn:aws:logs:us-east-1:1:log-group:g:log-stream:s"));
        let g = Glob::new("arn:aws:s3:::b/*.txt", Mode::Resource);
        assert!(g.matches("arn:aws:s3:::b/x/y.txt"));
        assert!(!g.matches("arn:aws:s3:::b/x:y.txt"));
        assert!(Glob::new("arn:aws:sqs:*:111:q*", Mode::Resource).matches("arn:aws:sqs:us-east-1:111:q1"));
        // Past 127 bytes the position set is on the heap; same answers.
        let long = format!("arn:aws:s3:::b/{}/y.txt", "x".repeat(200));
        assert!(g.matches(&long));
        assert!(!g.matches(&format!("{long}:z.txt")));
    }

    #[test]
    fn arn_components_are_separate() {
        let g = Glob::new("arn:aws:sqs:us-*:111:*", Mode::Arn);
        assert!(g.matches("arn:aws:sqs:us-east-1:111:q"));
        assert!(g.matches("arn:aws:sqs:us-east-1:111:a:b"));
        assert!(!g.matches("arn:aws:sqs:us-east-1:x:y:111:q"));
        assert!(Glob::new("*", Mode::Arn).matches("arn:aws:sqs:us-east-1:111:q"));
    }
}
