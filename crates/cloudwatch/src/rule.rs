//! Composite alarms' `AlarmRule`: `ALARM(x)`, `OK(x)`, `INSUFFICIENT_DATA(x)` (x an alarm
//! name or ARN, optionally in double quotes), `TRUE`, `FALSE`, `AND`, `OR`, `NOT` and
//! parentheses; NOT binds tighter than AND, AND tighter than OR. At most 10,240 characters.
//! <https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutCompositeAlarm.html>

#[derive(Debug, Clone, PartialEq)]
pub enum Rule {
    Const(bool),
    /// `(state function, alarm name or ARN as written)`.
    State(String, String),
    Not(Box<Rule>),
    And(Box<Rule>, Box<Rule>),
    Or(Box<Rule>, Box<Rule>),
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(String),
    Quoted(String),
    Open,
    Close,
}

fn lex(text: &str) -> Result<Vec<Tok>, String> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c == '(' {
            chars.next();
            out.push(Tok::Open);
        } else if c == ')' {
            chars.next();
            out.push(Tok::Close);
        } else if c == '"' {
            chars.next();
            let mut s = String::new();
            loop {
                match chars.next() {
                    Some('"') => break,
                    Some('\\') => s.extend(chars.next()),
                    Some(c) => s.push(c),
                    None => return Err("Unterminated quoted alarm name".into()),
                }
            }
            out.push(Tok::Quoted(s));
        } else {
            let mut s = String::new();
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() || c == '(' || c == ')' || c == '"' {
                    break;
                }
                s.push(c);
                chars.next();
            }
            out.push(Tok::Word(s));
        }
    }
    Ok(out)
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
    depth: usize,
}

pub fn parse(text: &str) -> Result<Rule, String> {
    if text.chars().count() > 10240 {
        return Err("The AlarmRule is longer than 10240 characters".into());
    }
    let mut p = Parser { toks: lex(text)?, pos: 0, depth: 0 };
    let r = p.or()?;
    if p.pos != p.toks.len() {
        return Err(format!("Unexpected token at position {} of the AlarmRule", p.pos + 1));
    }
    Ok(r)
}

impl Parser {
    fn keyword(&mut self, k: &str) -> bool {
        if matches!(self.toks.get(self.pos), Some(Tok::Word(w)) if w == k) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn or(&mut self) -> Result<Rule, String> {
        self.depth += 1;
        if self.depth > 100 {
            return Err("The AlarmRule is nested too deeply".into());
        }
        let mut r = self.and()?;
        while self.keyword("OR") {
            r = Rule::Or(Box::new(r), Box::new(self.and()?));
        }
        self.depth -= 1;
        Ok(r)
    }

    fn and(&mut self) -> Result<Rule, String> {
        let mut r = self.not()?;
        while self.keyword("AND") {
            r = Rule::And(Box::new(r), Box::new(self.not()?));
        }
        Ok(r)
    }

    fn not(&mut self) -> Result<Rule, String> {
        if self.keyword("NOT") {
            return Ok(Rule::Not(Box::new(self.not()?)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Rule, String> {
        match self.toks.get(self.pos).cloned() {
            Some(Tok::Open) => {
                self.pos += 1;
                let r = self.or()?;
                if self.toks.get(self.pos) != Some(&Tok::Close) {
                    return Err("Missing ')' in the AlarmRule".into());
                }
                self.pos += 1;
                Ok(r)
            }
            Some(Tok::Word(w)) if w == "TRUE" || w == "FALSE" => {
                self.pos += 1;
                Ok(Rule::Const(w == "TRUE"))
            }
            Some(Tok::Word(w)) if ["ALARM", "OK", "INSUFFICIENT_DATA"].contains(&w.as_str()) => {
                self.pos += 1;
                if self.toks.get(self.pos) != Some(&Tok::Open) {
                    return Err(format!("Expected '(' after {w} in the AlarmRule"));
                }
                self.pos += 1;
                let name = match self.toks.get(self.pos).cloned() {
                    Some(Tok::Word(n)) | Some(Tok::Quoted(n)) if !n.is_empty() => n,
                    _ => return Err(format!("Expected an alarm name in {w}() in the AlarmRule")),
                };
                self.pos += 1;
                if self.toks.get(self.pos) != Some(&Tok::Close) {
                    return Err(format!("Expected ')' after the alarm name in {w}() in the AlarmRule"));
                }
                self.pos += 1;
                Ok(Rule::State(w, name))
            }
            Some(Tok::Word(w)) => Err(format!("Unexpected '{w}' in the AlarmRule")),
            Some(Tok::Quoted(q)) => Err(format!("Unexpected \"{q}\" in the AlarmRule")),
            Some(Tok::Close) => Err("Unexpected ')' in the AlarmRule".into()),
            None => Err("The AlarmRule ends too early".into()),
        }
    }
}

impl Rule {
    /// Every alarm the rule names, as written.
    pub fn alarms(&self) -> Vec<String> {
        let mut out = Vec::new();
        self.collect(&mut out);
        out
    }

    fn collect(&self, out: &mut Vec<String>) {
        match self {
            Rule::Const(_) => {}
            Rule::State(_, n) => {
                if !out.contains(n) {
                    out.push(n.clone());
                }
            }
            Rule::Not(r) => r.collect(out),
            Rule::And(a, b) | Rule::Or(a, b) => {
                a.collect(out);
                b.collect(out);
            }
        }
    }

    /// The rule's value, `state_of` giving each named alarm's state.
    pub fn eval(&self, state_of: &dyn Fn(&str) -> Option<String>) -> bool {
        match self {
            Rule::Const(b) => *b,
            Rule::State(f, n) => state_of(n).as_deref() == Some(f.as_str()),
            Rule::Not(r) => !r.eval(state_of),
            Rule::And(a, b) => a.eval(state_of) && b.eval(state_of),
            Rule::Or(a, b) => a.eval(state_of) || b.eval(state_of),
        }
    }
}

/// The alarm name an `ALARM(x)` argument stands for: the name itself, or the name in an
/// alarm ARN of `account` / `region`.
pub fn name_of<'a>(reference: &'a str, account: &str, region: &str) -> Option<&'a str> {
    match reference.strip_prefix("arn:aws:cloudwatch:") {
        Some(rest) => {
            let rest = rest.strip_prefix(region)?.strip_prefix(':')?.strip_prefix(account)?.strip_prefix(":alarm:")?;
            (!rest.is_empty()).then_some(rest)
        }
        None => Some(reference),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grammar_and_evaluation() {
        let r = parse(r#"ALARM(a) AND NOT (OK("b c") OR INSUFFICIENT_DATA(arn:aws:cloudwatch:us-east-1:1:alarm:d)) OR FALSE"#).expect("parses");
        assert_eq!(r.alarms(), vec!["a", "b c", "arn:aws:cloudwatch:us-east-1:1:alarm:d"]);
        let states = |n: &str| -> Option<String> {
            Some(match n {
                "a" => "ALARM",
                "b c" => "ALARM",
                _ => "OK",
            }
            .to_string())
        };
        assert!(r.eval(&states));
        assert!(parse("TRUE").expect("TRUE").eval(&states));
        assert!(!parse("NOT TRUE AND TRUE").expect("not").eval(&states));
        for bad in ["", "ALARM()", "ALARM(a", "ALARM a", "a AND", "(TRUE", "TRUE)", "MAYBE(a)", "alarm(a)", "TRUE TRUE"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        assert_eq!(name_of("arn:aws:cloudwatch:us-east-1:1:alarm:d", "1", "us-east-1"), Some("d"));
        assert_eq!(name_of("arn:aws:cloudwatch:eu-west-1:1:alarm:d", "1", "us-east-1"), None);
    }
}
