//! Checks shared by the report tests: strict XML well-formedness (the report is written as
//! XHTML-compatible HTML) and the absence of any external reference.

#![allow(dead_code, clippy::expect_used, clippy::unwrap_used)]

use quick_xml::events::Event;
use quick_xml::Reader;

/// Parses the document with a strict XML reader: every element closed in order, attributes
/// well-formed and quoted, only the five XML entities or character references, exactly one
/// root element `html`. Returns the number of elements.
pub fn assert_well_formed(html: &str) -> usize {
    let body = html
        .strip_prefix("<!DOCTYPE html>\n")
        .expect("starts with the HTML5 doctype");
    let mut reader = Reader::from_str(body);
    reader.config_mut().check_end_names = true;
    reader.config_mut().check_comments = true;
    let mut stack: Vec<String> = Vec::new();
    let mut roots = 0;
    let mut elements = 0;
    loop {
        let pos = reader.buffer_position();
        match reader.read_event() {
            Ok(Event::Start(e)) => {
                let name = String::from_utf8(e.name().as_ref().to_vec()).expect("utf-8 name");
                if stack.is_empty() {
                    roots += 1;
                    assert_eq!(name, "html", "root element");
                }
                for a in e.attributes().with_checks(true) {
                    let a = a.unwrap_or_else(|err| panic!("bad attribute near byte {pos}: {err}"));
                    a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                        .unwrap_or_else(|err| panic!("bad attribute value near byte {pos}: {err}"));
                }
                stack.push(name);
                elements += 1;
            }
            Ok(Event::Empty(e)) => {
                assert!(
                    !stack.is_empty(),
                    "element outside the root near byte {pos}"
                );
                for a in e.attributes().with_checks(true) {
                    let a = a.unwrap_or_else(|err| panic!("bad attribute near byte {pos}: {err}"));
                    a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                        .unwrap_or_else(|err| panic!("bad attribute value near byte {pos}: {err}"));
                }
                elements += 1;
            }
            Ok(Event::End(e)) => {
                let name = String::from_utf8(e.name().as_ref().to_vec()).expect("utf-8 name");
                assert_eq!(
                    stack.pop().as_deref(),
                    Some(name.as_str()),
                    "end tag near byte {pos}"
                );
            }
            Ok(Event::GeneralRef(r)) => {
                if r.is_char_ref() {
                    assert!(r.resolve_char_ref().expect("char ref").is_some());
                } else {
                    let raw: &[u8] = &r;
                    let name = String::from_utf8(raw.to_vec()).expect("utf-8");
                    assert!(
                        ["amp", "lt", "gt", "quot", "apos"].contains(&name.as_str()),
                        "entity &{name}; is not an XML entity (near byte {pos})"
                    );
                }
            }
            Ok(Event::Text(t)) => {
                assert!(
                    !stack.is_empty() || t.iter().all(u8::is_ascii_whitespace),
                    "text outside the root near byte {pos}"
                );
            }
            Ok(Event::Eof) => break,
            Ok(Event::DocType(_)) => panic!("a second doctype near byte {pos}"),
            Ok(Event::Decl(_) | Event::PI(_) | Event::CData(_) | Event::Comment(_)) => {}
            Err(e) => panic!("not well-formed near byte {pos}: {e}"),
        }
    }
    assert!(stack.is_empty(), "unclosed elements at the end: {stack:?}");
    assert_eq!(roots, 1);
    elements
}

/// No scripts, no external resources of any kind: no URL schemes, no `src=`, no `url(`,
/// no `@import`, no links to other documents (only `#fragment` links), no embedded objects.
pub fn assert_self_contained(html: &str) {
    let lower = html.to_ascii_lowercase();
    for banned in [
        "http:",
        "https:",
        "http",
        "ftp:",
        "file:",
        "//cdn",
        "src=",
        "url(",
        "@import",
        "<script",
        "javascript:",
        "<link",
        "<img",
        "<iframe",
        "<object",
        "<embed",
        "@font-face",
        "xlink:href",
        "<use",
        "<image",
        "data:",
    ] {
        assert!(!lower.contains(banned), "the report contains '{banned}'");
    }
    let mut rest = lower.as_str();
    while let Some(i) = rest.find("href=\"") {
        rest = &rest[i + 6..];
        assert!(
            rest.starts_with('#'),
            "a link leaves the document: href=\"{}",
            &rest[..rest.len().min(40)]
        );
    }
}
