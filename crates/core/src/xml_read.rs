//! A small XML reader for request documents (REST-XML payloads such as S3's
//! `CreateBucketConfiguration` or `Delete`): the document as a tree of elements with their
//! attributes and text, entities resolved. Built on the `xmlparser` tokenizer; no DTDs,
//! depth bounded. Element names are local names (a prefix is dropped); attribute names
//! keep theirs (`xsi:type`).

use std::fmt;

/// One element: its local name, attributes, child elements and text (all text and CDATA
/// directly inside it, joined).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Element {
    pub name: String,
    pub attrs: Vec<(String, String)>,
    pub children: Vec<Element>,
    pub text: String,
}

impl Element {
    /// The first child element named `name`.
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    /// An attribute's value by its name as written (`xsi:type`) or its local name.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name || k.rsplit_once(':').is_some_and(|(_, local)| local == name))
            .map(|(_, v)| v.as_str())
    }
}

/// A document that is not well-formed XML (or nests deeper than [`MAX_DEPTH`]).
#[derive(Debug, Clone, PartialEq)]
pub struct XmlError(pub String);

impl fmt::Display for XmlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for XmlError {}

/// Deepest nesting accepted.
pub const MAX_DEPTH: usize = 64;

/// Parses a whole document into its root element.
pub fn parse(doc: &[u8]) -> Result<Element, XmlError> {
    let text = std::str::from_utf8(doc).map_err(|_| XmlError("document is not UTF-8".into()))?;
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    for token in xmlparser::Tokenizer::from(text) {
        let token = token.map_err(|e| XmlError(e.to_string()))?;
        match token {
            xmlparser::Token::ElementStart { local, .. } => {
                if root.is_some() {
                    return Err(XmlError("content after the root element".into()));
                }
                if stack.len() >= MAX_DEPTH {
                    return Err(XmlError("document nests too deeply".into()));
                }
                stack.push(Element { name: local.as_str().to_string(), ..Element::default() });
            }
            xmlparser::Token::Attribute { prefix, local, value, .. } => {
                let el = stack.last_mut().ok_or_else(|| XmlError("attribute outside an element".into()))?;
                let name = if prefix.is_empty() { local.as_str().to_string() } else { format!("{}:{}", prefix.as_str(), local.as_str()) };
                el.attrs.push((name, unescape(value.as_str())?));
            }
            xmlparser::Token::ElementEnd { end, .. } => match end {
                xmlparser::ElementEnd::Open => {}
                xmlparser::ElementEnd::Close(_, local) => {
                    let el = stack.pop().ok_or_else(|| XmlError("closing tag without an opening one".into()))?;
                    if el.name != local.as_str() {
                        return Err(XmlError(format!("mismatched closing tag {}", local.as_str())));
                    }
                    finish(el, &mut stack, &mut root);
                }
                xmlparser::ElementEnd::Empty => {
                    let el = stack.pop().ok_or_else(|| XmlError("empty tag outside an element".into()))?;
                    finish(el, &mut stack, &mut root);
                }
            },
            xmlparser::Token::Text { text } => {
                if let Some(el) = stack.last_mut() {
                    el.text.push_str(&unescape(text.as_str())?);
                } else if !text.as_str().trim().is_empty() {
                    return Err(XmlError("text outside the root element".into()));
                }
            }
            xmlparser::Token::Cdata { text, .. } => match stack.last_mut() {
                Some(el) => el.text.push_str(text.as_str()),
                None => return Err(XmlError("CDATA outside the root element".into())),
            },
            xmlparser::Token::DtdStart { .. } | xmlparser::Token::EmptyDtd { .. } | xmlparser::Token::EntityDeclaration { .. } => {
                return Err(XmlError("DTDs are not accepted".into()));
            }
            _ => {}
        }
    }
    if !stack.is_empty() {
        return Err(XmlError("document ended inside an element".into()));
    }
    root.ok_or_else(|| XmlError("document has no root element".into()))
}

fn finish(el: Element, stack: &mut [Element], root: &mut Option<Element>) {
    match stack.last_mut() {
        Some(parent) => parent.children.push(el),
        None => *root = Some(el),
    }
}

/// Resolves the five predefined entities and character references.
fn unescape(raw: &str) -> Result<String, XmlError> {
    if !raw.contains('&') {
        return Ok(raw.to_string());
    }
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let end = after.find(';').ok_or_else(|| XmlError("unterminated entity reference".into()))?;
        let name = &after[..end];
        match name {
            "lt" => out.push('<'),
            "gt" => out.push('>'),
            "amp" => out.push('&'),
            "quot" => out.push('"'),
            "apos" => out.push('\''),
            _ => {
                let code = if let Some(hex) = name.strip_prefix("#x").or_else(|| name.strip_prefix("#X")) {
                    u32::from_str_radix(hex, 16).ok()
                } else if let Some(dec) = name.strip_prefix('#') {
                    dec.parse::<u32>().ok()
                } else {
                    None
                };
                let c = code.and_then(char::from_u32).ok_or_else(|| XmlError(format!("unknown entity &{name};")))?;
                out.push(c);
            }
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_elements_attributes_text_and_entities() {
        let doc = br#"<?xml version="1.0" encoding="UTF-8"?>
            <Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
              <Quiet>true</Quiet>
              <Object><Key>a &amp; b&#x20;&lt;c&gt;</Key></Object>
              <Object><Key><![CDATA[x<y]]></Key><VersionId/></Object>
              <Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser"/>
            </Delete>"#;
        let root = parse(doc).expect("parses");
        assert_eq!(root.name, "Delete");
        assert_eq!(root.child("Quiet").map(|q| q.text.as_str()), Some("true"));
        let keys: Vec<&str> = root.children.iter().filter(|c| c.name == "Object").filter_map(|o| o.child("Key")).map(|k| k.text.as_str()).collect();
        assert_eq!(keys, vec!["a & b <c>", "x<y"]);
        assert_eq!(root.child("Grantee").and_then(|g| g.attr("xsi:type")), Some("CanonicalUser"));
        assert_eq!(root.child("Grantee").and_then(|g| g.attr("type")), Some("CanonicalUser"));
    }

    #[test]
    fn refuses_what_is_not_well_formed() {
        for bad in [&b"<a><b></a>"[..], b"<a>", b"", b"<a/><b/>", b"<a>&bogus;</a>", b"<!DOCTYPE a [<!ENTITY x 'y'>]><a/>", b"\xff"] {
            assert!(parse(bad).is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
        let deep = "<a>".repeat(MAX_DEPTH + 1) + &"</a>".repeat(MAX_DEPTH + 1);
        assert!(parse(deep.as_bytes()).is_err());
    }
}
