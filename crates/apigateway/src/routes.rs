//! Route keys of HTTP APIs: `$default` or `METHOD /path`, where a path segment may be a
//! `{param}` and the last may be a greedy `{proxy+}`; and how a request picks its route
//! (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-routes.html):
//! the most specific match wins — a route with no variables, then `{param}` routes (more
//! literal segments first), then greedy `{proxy+}` routes; a method beats `ANY`; `$default`
//! catches the rest.

use std::collections::HashMap;

const METHODS: &[&str] = &["ANY", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"];

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    Literal(String),
    Param(String),
    Greedy(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouteKey {
    Default,
    Path { method: String, segments: Vec<Seg> },
}

/// Parses a route key; `Err` is AWS's BadRequestException message.
pub fn parse(key: &str) -> Result<RouteKey, String> {
    if key == "$default" {
        return Ok(RouteKey::Default);
    }
    let bad = || format!("Unable to parse route key: {key}");
    let (method, path) = key.split_once(' ').ok_or_else(bad)?;
    if !METHODS.contains(&method) || !path.starts_with('/') || path.contains(' ') {
        return Err(bad());
    }
    let parts: Vec<&str> = path.split('/').skip(1).collect();
    let mut segments = Vec::new();
    for (i, p) in parts.iter().enumerate() {
        if p.is_empty() {
            if parts.len() == 1 {
                break; // `GET /`
            }
            return Err(bad());
        }
        let seg = match p.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            Some(name) => match name.strip_suffix('+') {
                Some(greedy) if i + 1 == parts.len() && !greedy.is_empty() => Seg::Greedy(greedy.to_string()),
                Some(_) => return Err(bad()),
                None if !name.is_empty() && !name.contains(['{', '}']) => Seg::Param(name.to_string()),
                None => return Err(bad()),
            },
            None if !p.contains(['{', '}']) => Seg::Literal(p.to_string()),
            None => return Err(bad()),
        };
        segments.push(seg);
    }
    Ok(RouteKey::Path { method: method.to_string(), segments })
}

/// How well a route matched: compared to pick the most specific.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Rank {
    no_greedy: bool,
    literals: usize,
    segments: usize,
    exact_method: bool,
}

/// Whether `key` matches the request, with its rank and path parameters.
pub fn matches(key: &RouteKey, method: &str, path: &str) -> Option<(Rank, HashMap<String, String>)> {
    let RouteKey::Path { method: m, segments } = key else { return None };
    if m != "ANY" && m != method {
        return None;
    }
    let parts: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let mut params = HashMap::new();
    let mut greedy = false;
    for (i, seg) in segments.iter().enumerate() {
        match seg {
            Seg::Literal(l) => {
                if parts.get(i) != Some(&l.as_str()) {
                    return None;
                }
            }
            Seg::Param(name) => {
                params.insert(name.clone(), decode(parts.get(i)?));
            }
            Seg::Greedy(name) => {
                if i >= parts.len() {
                    return None;
                }
                params.insert(name.clone(), decode(&parts[i..].join("/")));
                greedy = true;
            }
        }
    }
    if !greedy && parts.len() != segments.len() {
        return None;
    }
    let literals = segments.iter().filter(|s| matches!(s, Seg::Literal(_))).count();
    Some((Rank { no_greedy: !greedy, literals, segments: segments.len(), exact_method: m != "ANY" }, params))
}

fn decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_rejects_route_keys() {
        assert_eq!(parse("$default"), Ok(RouteKey::Default));
        assert!(parse("GET /pets/{id}").is_ok());
        assert!(parse("ANY /{proxy+}").is_ok());
        assert!(parse("GET /").is_ok());
        for bad in ["GET", "FETCH /x", "GET x", "GET /{proxy+}/x", "GET //x", "GET /{}"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn most_specific_route_wins() {
        let rank = |k: &str, m: &str, p: &str| matches(&parse(k).expect("key"), m, p).map(|(r, _)| r);
        let exact = rank("GET /pets/dog", "GET", "/pets/dog").expect("exact");
        let param = rank("GET /pets/{id}", "GET", "/pets/dog").expect("param");
        let greedy = rank("GET /{proxy+}", "GET", "/pets/dog").expect("greedy");
        let any = rank("ANY /pets/dog", "GET", "/pets/dog").expect("any");
        assert!(exact > param && param > greedy && exact > any);
        assert_eq!(rank("GET /pets/{id}", "GET", "/pets"), None);
        assert_eq!(rank("POST /pets", "GET", "/pets"), None);
    }
}
