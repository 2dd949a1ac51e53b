//! Tokens → a query: a list of commands separated by `|`.
//!
//! Commands: `fields`, `display`, `filter`, `stats … [by …]`, `sort … [asc|desc]`,
//! `limit N`, `parse FIELD 'glob' as a, b` / `parse FIELD /regex with (?<named>groups)/`,
//! `dedup`. Expressions: `or` < `and` < `not` < comparisons (`= != < <= > >=`, `like`,
//! `not like`, `=~`, `in [...]`, `not in`) < `+ -` < `* / %` < `^` < unary `-` < terms
//! (names, strings, numbers, durations, regexes, function calls). Function and
//! aggregate names are checked here, so a misspelling is a MalformedQueryException.

use super::lexer::{lex, Tok, Token};
use super::QueryError;

#[derive(Debug, Clone)]
pub enum Expr {
    Field(String),
    Str(String),
    Num(f64),
    Duration(u64),
    Regex(Box<regex_lite::Regex>),
    Star,
    Neg(Box<Expr>),
    Not(Box<Expr>),
    Binary(&'static str, Box<Expr>, Box<Expr>),
    In(Box<Expr>, Vec<Expr>),
    Call(String, Vec<Expr>),
}

/// An expression and the name its result takes (`as name`, or the expression's text).
#[derive(Debug, Clone)]
pub struct Named {
    pub expr: Expr,
    pub name: String,
}

#[derive(Debug, Clone)]
pub enum ParseHow {
    /// `*` captures, in order, into the names.
    Glob { pattern: String, names: Vec<String> },
    Regex(Box<regex_lite::Regex>),
}

#[derive(Debug, Clone)]
pub enum Command {
    Fields(Vec<Named>),
    Display(Vec<Named>),
    Filter(Expr),
    Stats { aggs: Vec<Named>, by: Vec<Named> },
    Sort(Vec<(Expr, bool)>),
    Limit(usize),
    Parse { field: Expr, how: ParseHow },
    Dedup(Vec<Expr>),
}

/// Functions usable anywhere, with their argument counts (min, max).
pub const FUNCTIONS: &[(&str, usize, usize)] = &[
    ("strlen", 1, 1),
    ("toupper", 1, 1),
    ("tolower", 1, 1),
    ("concat", 1, 64),
    ("substr", 2, 3),
    ("replace", 3, 3),
    ("trim", 1, 1),
    ("ltrim", 1, 1),
    ("rtrim", 1, 1),
    ("strcontains", 2, 2),
    ("abs", 1, 1),
    ("ceil", 1, 1),
    ("floor", 1, 1),
    ("round", 1, 2),
    ("sqrt", 1, 1),
    ("pow", 2, 2),
    ("log", 1, 1),
    ("greatest", 1, 64),
    ("least", 1, 64),
    ("datefloor", 2, 2),
    ("dateceil", 2, 2),
    ("frommillis", 1, 1),
    ("tomillis", 1, 1),
    ("bin", 1, 1),
    ("ispresent", 1, 1),
    ("coalesce", 1, 64),
    ("isempty", 1, 1),
    ("isblank", 1, 1),
    ("isvalidip", 1, 1),
];

/// Aggregate functions of `stats`, with their argument counts.
pub const AGGREGATES: &[(&str, usize, usize)] = &[
    ("count", 0, 1),
    ("count_distinct", 1, 1),
    ("sum", 1, 1),
    ("avg", 1, 1),
    ("min", 1, 1),
    ("max", 1, 1),
    ("pct", 2, 2),
    ("stddev", 1, 1),
    ("earliest", 1, 1),
    ("latest", 1, 1),
    ("sortsfirst", 1, 1),
    ("sortslast", 1, 1),
];

struct Parser<'a> {
    text: &'a str,
    toks: Vec<Token>,
    i: usize,
    /// Characters of `text` (offsets are in characters).
    chars: Vec<char>,
    in_stats: bool,
}

pub fn parse(text: &str) -> Result<Vec<Command>, QueryError> {
    let toks = lex(text)?;
    let mut p = Parser { text, toks, i: 0, chars: text.chars().collect(), in_stats: false };
    let mut out = Vec::new();
    loop {
        if p.i >= p.toks.len() {
            if out.is_empty() || matches!(p.toks.last().map(|t| &t.tok), Some(Tok::Pipe)) {
                let at = p.chars.len();
                return Err(QueryError::at(at, at, "Expected a command but the query ended"));
            }
            break;
        }
        out.push(p.command()?);
        match p.peek() {
            None => break,
            Some(Tok::Pipe) => p.i += 1,
            Some(_) => return Err(p.unexpected()),
        }
    }
    let _ = p.text;
    Ok(out)
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.i).map(|t| &t.tok)
    }

    fn unexpected(&self) -> QueryError {
        match self.toks.get(self.i) {
            Some(t) => {
                let text: String = self.chars[t.start..t.end].iter().collect();
                QueryError::at(t.start, t.end, &format!("unexpected symbol found {text} at line 1 and position {}", t.start))
            }
            None => QueryError::at(self.chars.len(), self.chars.len(), "unexpected end of query"),
        }
    }

    fn keyword(&self, word: &str) -> bool {
        matches!(self.peek(), Some(Tok::Ident(w)) if w.eq_ignore_ascii_case(word))
    }

    fn eat_keyword(&mut self, word: &str) -> bool {
        let yes = self.keyword(word);
        if yes {
            self.i += 1;
        }
        yes
    }

    fn eat(&mut self, tok: &Tok) -> bool {
        let yes = self.peek() == Some(tok);
        if yes {
            self.i += 1;
        }
        yes
    }

    fn expect(&mut self, tok: &Tok, what: &str) -> Result<(), QueryError> {
        if self.eat(tok) {
            Ok(())
        } else {
            let mut e = self.unexpected();
            e.message = format!("{} (expected {what})", e.message);
            Err(e)
        }
    }

    fn ident(&mut self, what: &str) -> Result<String, QueryError> {
        match self.peek().cloned() {
            Some(Tok::Ident(w)) => {
                self.i += 1;
                Ok(w)
            }
            _ => {
                let mut e = self.unexpected();
                e.message = format!("{} (expected {what})", e.message);
                Err(e)
            }
        }
    }

    fn command(&mut self) -> Result<Command, QueryError> {
        let start = self.i;
        let word = self.ident("a command")?.to_ascii_lowercase();
        match word.as_str() {
            "fields" => Ok(Command::Fields(self.named_list()?)),
            "display" => Ok(Command::Display(self.named_list()?)),
            "filter" => Ok(Command::Filter(self.expr()?)),
            "stats" => {
                self.in_stats = true;
                let aggs = self.named_list()?;
                self.in_stats = false;
                for a in &aggs {
                    if !is_aggregate(&a.expr) {
                        return Err(QueryError::at(self.toks[start].start, self.toks[self.i - 1].end, &format!("stats needs aggregate functions; {} is not one", a.name)));
                    }
                }
                let by = if self.eat_keyword("by") { self.named_list()? } else { Vec::new() };
                Ok(Command::Stats { aggs, by })
            }
            "sort" => {
                let mut keys = Vec::new();
                loop {
                    let e = self.expr()?;
                    let desc = if self.eat_keyword("desc") {
                        true
                    } else {
                        self.eat_keyword("asc");
                        false
                    };
                    keys.push((e, desc));
                    if !self.eat(&Tok::Comma) {
                        break;
                    }
                }
                Ok(Command::Sort(keys))
            }
            "limit" => match self.peek().cloned() {
                Some(Tok::Num(n)) if n >= 1.0 && n.fract() == 0.0 => {
                    self.i += 1;
                    Ok(Command::Limit(n.min(10_000.0) as usize))
                }
                _ => {
                    let mut e = self.unexpected();
                    e.message = format!("{} (limit takes a positive whole number)", e.message);
                    Err(e)
                }
            },
            "parse" => {
                let field = match self.peek() {
                    Some(Tok::Str(_) | Tok::Regex(_)) => Expr::Field("@message".into()),
                    _ => self.term()?,
                };
                match self.peek().cloned() {
                    Some(Tok::Str(pattern)) => {
                        let at = self.i;
                        self.i += 1;
                        if !self.eat_keyword("as") {
                            let mut e = self.unexpected();
                            e.message = format!("{} (expected as)", e.message);
                            return Err(e);
                        }
                        let mut names = vec![self.ident("a field name")?];
                        while self.eat(&Tok::Comma) {
                            names.push(self.ident("a field name")?);
                        }
                        let stars = pattern.matches('*').count();
                        if stars != names.len() {
                            let t = &self.toks[at];
                            return Err(QueryError::at(t.start, t.end, &format!("parse: the pattern has {stars} wildcards but {} field names follow as", names.len())));
                        }
                        Ok(Command::Parse { field, how: ParseHow::Glob { pattern, names } })
                    }
                    Some(Tok::Regex(r)) => {
                        let t = self.toks[self.i].clone();
                        self.i += 1;
                        let re = regex_lite::Regex::new(&r).map_err(|e| QueryError::at(t.start, t.end, &format!("invalid regular expression: {}", e.to_string().lines().last().unwrap_or(""))))?;
                        if re.capture_names().flatten().next().is_none() {
                            return Err(QueryError::at(t.start, t.end, "parse: the regular expression needs named capture groups (?<name>...)"));
                        }
                        Ok(Command::Parse { field, how: ParseHow::Regex(Box::new(re)) })
                    }
                    _ => {
                        let mut e = self.unexpected();
                        e.message = format!("{} (parse takes a 'glob' or a /regex/)", e.message);
                        Err(e)
                    }
                }
            }
            "dedup" => {
                let mut keys = vec![self.expr()?];
                while self.eat(&Tok::Comma) {
                    keys.push(self.expr()?);
                }
                Ok(Command::Dedup(keys))
            }
            "unmask" | "pattern" | "diff" | "unnest" | "lookup" | "anomaly" | "source" | "filterindex" => {
                let t = &self.toks[start];
                Err(QueryError::at(t.start, t.end, &format!("The {word} command is not supported by nimbus")))
            }
            _ => {
                let t = &self.toks[start];
                Err(QueryError::at(t.start, t.end, &format!("unexpected symbol found {word} at line 1 and position {}: expected a command (fields, filter, stats, sort, limit, parse, dedup, display)", t.start)))
            }
        }
    }

    fn named_list(&mut self) -> Result<Vec<Named>, QueryError> {
        let mut out = vec![self.named()?];
        while self.eat(&Tok::Comma) {
            out.push(self.named()?);
        }
        Ok(out)
    }

    fn named(&mut self) -> Result<Named, QueryError> {
        let from = self.toks.get(self.i).map(|t| t.start).unwrap_or(self.chars.len());
        let expr = self.expr()?;
        let to = self.toks.get(self.i - 1).map(|t| t.end).unwrap_or(from);
        let name = if self.eat_keyword("as") {
            self.ident("a field name")?
        } else {
            match &expr {
                Expr::Field(f) => f.clone(),
                _ => self.chars[from..to].iter().collect::<String>().trim().to_string(),
            }
        };
        Ok(Named { expr, name })
    }

    pub fn expr(&mut self) -> Result<Expr, QueryError> {
        self.or()
    }

    fn or(&mut self) -> Result<Expr, QueryError> {
        let mut left = self.and()?;
        while self.eat_keyword("or") || self.eat(&Tok::Op("or")) {
            left = Expr::Binary("or", Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, QueryError> {
        let mut left = self.not()?;
        while self.eat_keyword("and") || self.eat(&Tok::Op("and")) {
            left = Expr::Binary("and", Box::new(left), Box::new(self.not()?));
        }
        Ok(left)
    }

    fn not(&mut self) -> Result<Expr, QueryError> {
        if self.eat_keyword("not") || self.eat(&Tok::Op("not")) {
            return Ok(Expr::Not(Box::new(self.not()?)));
        }
        self.comparison()
    }

    fn comparison(&mut self) -> Result<Expr, QueryError> {
        let left = self.additive()?;
        let negated = if self.keyword("not") && matches!(self.toks.get(self.i + 1).map(|t| &t.tok), Some(Tok::Ident(w)) if w.eq_ignore_ascii_case("like") || w.eq_ignore_ascii_case("in")) {
            self.i += 1;
            true
        } else {
            false
        };
        let wrap = |e: Expr| if negated { Expr::Not(Box::new(e)) } else { e };
        if self.eat_keyword("like") {
            return Ok(wrap(Expr::Binary("like", Box::new(left), Box::new(self.additive()?))));
        }
        if self.eat_keyword("in") {
            self.expect(&Tok::LBracket, "[")?;
            let mut items = Vec::new();
            if !self.eat(&Tok::RBracket) {
                loop {
                    items.push(self.additive()?);
                    if self.eat(&Tok::RBracket) {
                        break;
                    }
                    self.expect(&Tok::Comma, ", or ]")?;
                }
            }
            return Ok(wrap(Expr::In(Box::new(left), items)));
        }
        if negated {
            return Err(self.unexpected());
        }
        for op in ["=~", "=", "!=", "<=", ">=", "<", ">"] {
            if self.eat(&Tok::Op(op)) {
                let right = self.additive()?;
                return Ok(Expr::Binary(op, Box::new(left), Box::new(right)));
            }
        }
        Ok(left)
    }

    fn additive(&mut self) -> Result<Expr, QueryError> {
        let mut left = self.multiplicative()?;
        loop {
            let op = if self.eat(&Tok::Op("+")) {
                "+"
            } else if self.eat(&Tok::Op("-")) {
                "-"
            } else {
                return Ok(left);
            };
            left = Expr::Binary(op, Box::new(left), Box::new(self.multiplicative()?));
        }
    }

    fn multiplicative(&mut self) -> Result<Expr, QueryError> {
        let mut left = self.power()?;
        loop {
            let op = if self.eat(&Tok::Op("*")) {
                "*"
            } else if self.eat(&Tok::Op("/")) {
                "/"
            } else if self.eat(&Tok::Op("%")) {
                "%"
            } else {
                return Ok(left);
            };
            left = Expr::Binary(op, Box::new(left), Box::new(self.power()?));
        }
    }

    fn power(&mut self) -> Result<Expr, QueryError> {
        let base = self.unary()?;
        if self.eat(&Tok::Op("^")) {
            return Ok(Expr::Binary("^", Box::new(base), Box::new(self.power()?)));
        }
        Ok(base)
    }

    fn unary(&mut self) -> Result<Expr, QueryError> {
        if self.eat(&Tok::Op("-")) {
            return Ok(Expr::Neg(Box::new(self.unary()?)));
        }
        self.term()
    }

    fn term(&mut self) -> Result<Expr, QueryError> {
        let Some(t) = self.toks.get(self.i).cloned() else { return Err(self.unexpected()) };
        match t.tok {
            Tok::Str(s) => {
                self.i += 1;
                Ok(Expr::Str(s))
            }
            Tok::Num(n) => {
                self.i += 1;
                Ok(Expr::Num(n))
            }
            Tok::Duration(ms, _) => {
                self.i += 1;
                Ok(Expr::Duration(ms))
            }
            Tok::Regex(r) => {
                self.i += 1;
                let re = regex_lite::Regex::new(&r).map_err(|e| QueryError::at(t.start, t.end, &format!("invalid regular expression: {}", e.to_string().lines().last().unwrap_or(""))))?;
                Ok(Expr::Regex(Box::new(re)))
            }
            Tok::LParen => {
                self.i += 1;
                let e = self.expr()?;
                self.expect(&Tok::RParen, ")")?;
                Ok(e)
            }
            Tok::Op("*") if self.in_stats => {
                self.i += 1;
                Ok(Expr::Star)
            }
            Tok::Ident(name) => {
                self.i += 1;
                if !self.eat(&Tok::LParen) {
                    return Ok(Expr::Field(name));
                }
                let lower = name.to_ascii_lowercase();
                let known = FUNCTIONS.iter().chain(AGGREGATES.iter()).find(|(f, _, _)| *f == lower);
                let Some((_, min, max)) = known.copied() else {
                    return Err(QueryError::at(t.start, t.end, &format!("unknown function {name}")));
                };
                let is_agg = AGGREGATES.iter().any(|(f, _, _)| *f == lower);
                if is_agg && !self.in_stats {
                    return Err(QueryError::at(t.start, t.end, &format!("the aggregate function {name} can be used only in stats")));
                }
                let mut args = Vec::new();
                let was = self.in_stats;
                // `*` is an argument only of count().
                self.in_stats = lower == "count";
                if !self.eat(&Tok::RParen) {
                    loop {
                        args.push(self.expr()?);
                        if self.eat(&Tok::RParen) {
                            break;
                        }
                        self.expect(&Tok::Comma, ", or )")?;
                    }
                }
                self.in_stats = was;
                if args.len() < min || args.len() > max {
                    let end = self.toks[self.i - 1].end;
                    return Err(QueryError::at(t.start, end, &format!("{name} takes {} arguments, not {}", if min == max { min.to_string() } else { format!("{min} to {max}") }, args.len())));
                }
                Ok(Expr::Call(lower, args))
            }
            _ => Err(self.unexpected()),
        }
    }
}

fn is_aggregate(e: &Expr) -> bool {
    matches!(e, Expr::Call(f, _) if AGGREGATES.iter().any(|(a, _, _)| a == f))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands() {
        let q = parse("fields @timestamp, @message | filter level = 'ERROR' and latency > 100 | sort @timestamp desc | limit 20").unwrap();
        assert_eq!(q.len(), 4);
        assert!(matches!(&q[3], Command::Limit(20)));
        let q = parse("stats count(*) as n, avg(latency) by bin(5m), service").unwrap();
        let Command::Stats { aggs, by } = &q[0] else { panic!() };
        assert_eq!((aggs[0].name.as_str(), aggs[1].name.as_str(), by[0].name.as_str(), by[1].name.as_str()), ("n", "avg(latency)", "bin(5m)", "service"));
        assert!(parse("parse @message 'user=* action=*' as user, action").is_ok());
        assert!(parse("parse @message /user=(?<user>\\S+)/").is_ok());
        assert!(parse("filter x not in ['a', 'b'] and not ispresent(y) or m not like /z/").is_ok());
        assert!(parse("dedup a, b").is_ok());
    }

    #[test]
    fn errors_have_locations() {
        let e = parse("fields a | filtr b = 1").unwrap_err();
        assert_eq!((e.start, e.end), (11, 16));
        let e = parse("stats cnt(*)").unwrap_err();
        assert_eq!(e.start, 6);
        assert!(parse("fields a |").is_err());
        assert!(parse("filter count(*) > 1").is_err());
        assert!(parse("stats strlen(a)").is_err());
        assert!(parse("parse @message 'a=* b=*' as a").is_err());
        assert!(parse("parse @message /no groups/").is_err());
        assert!(parse("limit 0").is_err());
        assert!(parse("").is_err());
    }
}
