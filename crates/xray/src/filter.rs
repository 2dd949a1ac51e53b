//! GetTraceSummaries' filter expressions: the part of X-Ray's language nimbus evaluates,
//! over a trace's stored summary. Supported: the keywords `ok`, `error`, `fault`,
//! `throttle`, `partial`; `duration`, `responsetime`, `http.status` with `= != < <= > >=`;
//! `http.url`, `http.method`, `http.useragent`, `http.clientip` with `= != CONTAINS
//! BEGINSWITH ENDSWITH`; `annotation.key` / `annotation[key]` against strings, numbers and
//! booleans; `service("name")`, `service(id(name: "n", type: "T"))` and `id(…)`; `and` /
//! `&&`, `or` / `||`, `!` / `NOT`, parentheses. Anything else (edges, root causes, users,
//! groups, `service(…) { … }`) is refused with a message naming it.
//! <https://docs.aws.amazon.com/xray/latest/devguide/xray-console-filters.html>

use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(String),
    Str(String),
    Num(f64),
    Op(&'static str),
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    Colon,
    LBrace,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Lit {
    Str(String),
    Num(f64),
    Bool(bool),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    /// `ok`, `error`, `fault`, `throttle`, `partial`.
    Flag(&'static str),
    /// `duration` / `responsetime` / `http.status` against a number.
    Number(&'static str, &'static str, f64),
    /// `http.url` … against a string: (summary field, operator, value).
    Text(&'static str, &'static str, String),
    Annotation(String, &'static str, Lit),
    /// A service by name and optionally type.
    Service(Option<String>, Option<String>),
}

fn unsupported(what: &str) -> String {
    format!("The filter expression {what} is not supported by nimbus")
}

fn lex(s: &str) -> Result<Vec<Tok>, String> {
    let b: Vec<char> = s.chars().collect();
    let mut i = 0;
    let mut out = Vec::new();
    while i < b.len() {
        let c = b[i];
        match c {
            c if c.is_whitespace() => i += 1,
            '(' => {
                out.push(Tok::LParen);
                i += 1
            }
            ')' => {
                out.push(Tok::RParen);
                i += 1
            }
            '[' => {
                out.push(Tok::LBracket);
                i += 1
            }
            ']' => {
                out.push(Tok::RBracket);
                i += 1
            }
            '{' => {
                out.push(Tok::LBrace);
                i += 1
            }
            '}' => return Err(unsupported("'}'")),
            ',' => {
                out.push(Tok::Comma);
                i += 1
            }
            ':' => {
                out.push(Tok::Colon);
                i += 1
            }
            '"' => {
                let mut v = String::new();
                i += 1;
                loop {
                    match b.get(i) {
                        None => return Err("Invalid filter expression: unterminated string".into()),
                        Some('"') => break,
                        Some('\\') => {
                            if let Some(n) = b.get(i + 1) {
                                v.push(*n);
                            }
                            i += 2;
                        }
                        Some(ch) => {
                            v.push(*ch);
                            i += 1
                        }
                    }
                }
                i += 1;
                out.push(Tok::Str(v));
            }
            '=' => {
                out.push(Tok::Op("="));
                i += 1
            }
            '!' if b.get(i + 1) == Some(&'=') => {
                out.push(Tok::Op("!="));
                i += 2
            }
            '!' => {
                out.push(Tok::Op("!"));
                i += 1
            }
            '<' | '>' => {
                let eq = b.get(i + 1) == Some(&'=');
                out.push(Tok::Op(match (c, eq) {
                    ('<', false) => "<",
                    ('<', true) => "<=",
                    ('>', false) => ">",
                    _ => ">=",
                }));
                i += if eq { 2 } else { 1 };
            }
            '&' if b.get(i + 1) == Some(&'&') => {
                out.push(Tok::Op("and"));
                i += 2
            }
            '|' if b.get(i + 1) == Some(&'|') => {
                out.push(Tok::Op("or"));
                i += 2
            }
            c if c.is_ascii_digit() || (c == '-' && b.get(i + 1).is_some_and(|d| d.is_ascii_digit())) => {
                let st = i;
                i += 1;
                while i < b.len() && (b[i].is_ascii_digit() || b[i] == '.' || b[i] == 'e' || b[i] == 'E') {
                    i += 1;
                }
                let t: String = b[st..i].iter().collect();
                out.push(Tok::Num(t.parse().map_err(|_| format!("Invalid filter expression: bad number {t}"))?));
            }
            c if c.is_alphanumeric() || c == '_' => {
                let st = i;
                while i < b.len() && (b[i].is_alphanumeric() || b[i] == '_' || b[i] == '.' || b[i] == '-') {
                    i += 1;
                }
                let w: String = b[st..i].iter().collect();
                out.push(match w.to_ascii_lowercase().as_str() {
                    "and" => Tok::Op("and"),
                    "or" => Tok::Op("or"),
                    "not" => Tok::Op("!"),
                    _ => Tok::Word(w),
                });
            }
            other => return Err(format!("Invalid filter expression: unexpected character '{other}'")),
        }
    }
    Ok(out)
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }
    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }
    fn expect(&mut self, t: Tok) -> Result<(), String> {
        match self.next() {
            Some(x) if x == t => Ok(()),
            other => Err(format!("Invalid filter expression: expected {t:?}, found {other:?}")),
        }
    }

    fn or(&mut self) -> Result<Expr, String> {
        let mut l = self.and()?;
        while self.peek() == Some(&Tok::Op("or")) {
            self.pos += 1;
            l = Expr::Or(Box::new(l), Box::new(self.and()?));
        }
        Ok(l)
    }

    fn and(&mut self) -> Result<Expr, String> {
        let mut l = self.unary()?;
        while self.peek() == Some(&Tok::Op("and")) {
            self.pos += 1;
            l = Expr::And(Box::new(l), Box::new(self.unary()?));
        }
        Ok(l)
    }

    fn unary(&mut self) -> Result<Expr, String> {
        match self.peek() {
            Some(Tok::Op("!")) => {
                self.pos += 1;
                Ok(Expr::Not(Box::new(self.unary()?)))
            }
            Some(Tok::LParen) => {
                self.pos += 1;
                let e = self.or()?;
                self.expect(Tok::RParen)?;
                Ok(e)
            }
            _ => self.predicate(),
        }
    }

    fn op(&mut self) -> Result<&'static str, String> {
        match self.next() {
            Some(Tok::Op(o)) if ["=", "!=", "<", "<=", ">", ">="].contains(&o) => Ok(o),
            Some(Tok::Word(w)) => match w.to_ascii_uppercase().as_str() {
                "CONTAINS" => Ok("CONTAINS"),
                "BEGINSWITH" => Ok("BEGINSWITH"),
                "ENDSWITH" => Ok("ENDSWITH"),
                _ => Err(format!("Invalid filter expression: expected an operator, found {w}")),
            },
            other => Err(format!("Invalid filter expression: expected an operator, found {other:?}")),
        }
    }

    fn number(&mut self) -> Result<f64, String> {
        match self.next() {
            Some(Tok::Num(n)) => Ok(n),
            other => Err(format!("Invalid filter expression: expected a number, found {other:?}")),
        }
    }

    fn string(&mut self) -> Result<String, String> {
        match self.next() {
            Some(Tok::Str(s)) => Ok(s),
            other => Err(format!("Invalid filter expression: expected a string, found {other:?}")),
        }
    }

    fn literal(&mut self) -> Result<Lit, String> {
        match self.next() {
            Some(Tok::Str(s)) => Ok(Lit::Str(s)),
            Some(Tok::Num(n)) => Ok(Lit::Num(n)),
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("true") => Ok(Lit::Bool(true)),
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("false") => Ok(Lit::Bool(false)),
            other => Err(format!("Invalid filter expression: expected a value, found {other:?}")),
        }
    }

    /// `id(name: "n", type: "T")` after `id`.
    fn id_args(&mut self) -> Result<Expr, String> {
        self.expect(Tok::LParen)?;
        let (mut name, mut kind) = (None, None);
        loop {
            match self.next() {
                Some(Tok::RParen) => break,
                Some(Tok::Comma) => continue,
                Some(Tok::Word(k)) => {
                    self.expect(Tok::Colon)?;
                    let v = self.string()?;
                    match k.as_str() {
                        "name" => name = Some(v),
                        "type" => kind = Some(v),
                        other => return Err(unsupported(&format!("id() argument {other}"))),
                    }
                }
                other => return Err(format!("Invalid filter expression: unexpected {other:?} in id()")),
            }
        }
        Ok(Expr::Service(name, kind))
    }

    fn predicate(&mut self) -> Result<Expr, String> {
        let Some(Tok::Word(w)) = self.next() else {
            return Err(format!("Invalid filter expression: unexpected {:?}", self.toks.get(self.pos - 1)));
        };
        let lw = w.to_ascii_lowercase();
        Ok(match lw.as_str() {
            "ok" => Expr::Flag("ok"),
            "error" => Expr::Flag("error"),
            "fault" => Expr::Flag("fault"),
            "throttle" => Expr::Flag("throttle"),
            "partial" => Expr::Flag("partial"),
            "duration" | "responsetime" | "http.status" => {
                let field = match lw.as_str() {
                    "duration" => "Duration",
                    "responsetime" => "ResponseTime",
                    _ => "HttpStatus",
                };
                let op = self.op()?;
                Expr::Number(field, op, self.number()?)
            }
            "http.url" | "http.method" | "http.useragent" | "http.clientip" => {
                let field = match lw.as_str() {
                    "http.url" => "HttpURL",
                    "http.method" => "HttpMethod",
                    "http.useragent" => "UserAgent",
                    _ => "ClientIp",
                };
                let op = self.op()?;
                Expr::Text(field, op, self.string()?)
            }
            "annotation" => {
                self.expect(Tok::LBracket)?;
                let key = match self.next() {
                    Some(Tok::Word(k)) | Some(Tok::Str(k)) => k,
                    other => return Err(format!("Invalid filter expression: bad annotation key {other:?}")),
                };
                self.expect(Tok::RBracket)?;
                let op = self.op()?;
                Expr::Annotation(key, op, self.literal()?)
            }
            a if a.starts_with("annotation.") => {
                let key = w["annotation.".len()..].to_string();
                let op = self.op()?;
                Expr::Annotation(key, op, self.literal()?)
            }
            "service" => {
                self.expect(Tok::LParen)?;
                let e = match self.next() {
                    Some(Tok::RParen) => return Ok(self.no_complex(Expr::Service(None, None))?),
                    Some(Tok::Str(name)) => Expr::Service(Some(name), None),
                    Some(Tok::Word(id)) if id == "id" => self.id_args()?,
                    other => return Err(format!("Invalid filter expression: unexpected {other:?} in service()")),
                };
                self.expect(Tok::RParen)?;
                self.no_complex(e)?
            }
            "id" => {
                let e = self.id_args()?;
                self.no_complex(e)?
            }
            "edge" | "rootcause" | "user" | "group" | "group.name" | "group.arn" | "json" => return Err(unsupported(&format!("keyword {w}"))),
            other if other.starts_with("rootcause.") || other.starts_with("http.") || other.starts_with("group.") => return Err(unsupported(&format!("keyword {w}"))),
            _ => return Err(format!("Invalid filter expression: unknown keyword {w}")),
        })
    }

    /// `service(…) { … }` (a filter on the service's own statistics) is refused.
    fn no_complex(&self, e: Expr) -> Result<Expr, String> {
        if self.peek() == Some(&Tok::LBrace) {
            return Err(unsupported("service() { … } (complex keywords)"));
        }
        Ok(e)
    }
}

/// Parses a filter expression.
pub fn parse(s: &str) -> Result<Expr, String> {
    let toks = lex(s)?;
    let mut p = Parser { toks, pos: 0 };
    let e = p.or()?;
    if p.pos < p.toks.len() {
        return Err(format!("Invalid filter expression: unexpected {:?}", p.toks[p.pos]));
    }
    Ok(e)
}

fn cmp_num(a: f64, op: &str, b: f64) -> bool {
    match op {
        "=" => a == b,
        "!=" => a != b,
        "<" => a < b,
        "<=" => a <= b,
        ">" => a > b,
        ">=" => a >= b,
        _ => false,
    }
}

fn cmp_str(a: &str, op: &str, b: &str) -> bool {
    match op {
        "=" => a == b,
        "!=" => a != b,
        "CONTAINS" => a.contains(b),
        "BEGINSWITH" => a.starts_with(b),
        "ENDSWITH" => a.ends_with(b),
        "<" => a < b,
        "<=" => a <= b,
        ">" => a > b,
        ">=" => a >= b,
        _ => false,
    }
}

fn flag(s: &Value, f: &str) -> bool {
    s.get(f).and_then(Value::as_bool) == Some(true)
}

/// Whether a trace's summary (GetTraceSummaries' `TraceSummary`) matches.
pub fn matches(e: &Expr, s: &Value) -> bool {
    match e {
        Expr::And(a, b) => matches(a, s) && matches(b, s),
        Expr::Or(a, b) => matches(a, s) || matches(b, s),
        Expr::Not(a) => !matches(a, s),
        Expr::Flag("ok") => !flag(s, "HasError") && !flag(s, "HasFault") && !flag(s, "HasThrottle"),
        Expr::Flag("error") => flag(s, "HasError"),
        Expr::Flag("fault") => flag(s, "HasFault"),
        Expr::Flag("throttle") => flag(s, "HasThrottle"),
        Expr::Flag("partial") => flag(s, "IsPartial"),
        Expr::Flag(_) => false,
        Expr::Number(field, op, n) => {
            let v = if *field == "HttpStatus" { s.get("Http").and_then(|h| h.get("HttpStatus")) } else { s.get(*field) };
            v.and_then(Value::as_f64).is_some_and(|v| cmp_num(v, op, *n))
        }
        Expr::Text(field, op, t) => s.get("Http").and_then(|h| h.get(*field)).and_then(Value::as_str).is_some_and(|v| cmp_str(v, op, t)),
        Expr::Annotation(key, op, lit) => {
            let Some(values) = s.get("Annotations").and_then(|a| a.get(key)).and_then(Value::as_array) else { return false };
            values.iter().any(|v| {
                let av = &v["AnnotationValue"];
                match lit {
                    Lit::Str(t) => av.get("StringValue").and_then(Value::as_str).is_some_and(|x| cmp_str(x, op, t)),
                    Lit::Num(n) => av.get("NumberValue").and_then(Value::as_f64).is_some_and(|x| cmp_num(x, op, *n)),
                    Lit::Bool(b) => av.get("BooleanValue").and_then(Value::as_bool).is_some_and(|x| match *op {
                        "=" => x == *b,
                        "!=" => x != *b,
                        _ => false,
                    }),
                }
            })
        }
        Expr::Service(name, kind) => s.get("ServiceIds").and_then(Value::as_array).is_some_and(|ids| {
            ids.iter().any(|id| {
                name.as_deref().is_none_or(|n| id.get("Name").and_then(Value::as_str) == Some(n)) && kind.as_deref().is_none_or(|k| id.get("Type").and_then(Value::as_str) == Some(k))
            })
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn summary() -> Value {
        json!({"Duration": 1.5, "ResponseTime": 0.4, "HasError": false, "HasFault": true, "HasThrottle": false,
            "Http": {"HttpStatus": 500, "HttpURL": "https://example.com/orders"},
            "ServiceIds": [{"Name": "orders", "Type": "AWS::Lambda::Function"}, {"Name": "SQS", "Type": "AWS::SQS::Queue"}],
            "Annotations": {"customer": [{"AnnotationValue": {"StringValue": "42"}}], "retries": [{"AnnotationValue": {"NumberValue": 3.0}}]}})
    }

    #[test]
    fn evaluates_the_supported_language() {
        let s = summary();
        let yes = [
            "fault",
            "!ok",
            "duration >= 1",
            "responsetime < 1 AND fault",
            "http.status = 500",
            "http.url CONTAINS \"orders\"",
            "annotation.customer = \"42\"",
            "annotation[retries] > 2",
            "service(\"orders\")",
            "service(id(name: \"orders\", type: \"AWS::Lambda::Function\"))",
            "(error || fault) && !throttle",
            "error or service(\"SQS\")",
        ];
        for f in yes {
            assert!(matches(&parse(f).unwrap(), &s), "{f}");
        }
        let no = ["ok", "error", "duration < 1", "service(\"nope\")", "annotation.customer = \"7\"", "id(name: \"orders\", type: \"AWS::SQS::Queue\")"];
        for f in no {
            assert!(!matches(&parse(f).unwrap(), &s), "{f}");
        }
    }

    #[test]
    fn refuses_what_it_does_not_evaluate() {
        assert!(parse("edge(\"a\", \"b\")").unwrap_err().contains("not supported by nimbus"));
        assert!(parse("service(\"a\") { fault }").unwrap_err().contains("not supported by nimbus"));
        assert!(parse("rootcause.fault.type = \"x\"").unwrap_err().contains("not supported by nimbus"));
        assert!(parse("duration >=").unwrap_err().starts_with("Invalid filter expression"));
        assert!(parse("bogus").unwrap_err().contains("unknown keyword"));
    }
}
