//! What the reader accepts, and the plain-words error for each kind of
//! broken or hostile input (file, line, column and what to do).

use semtel_yaml::{Node, Value};
use std::path::Path;
use std::sync::Arc;

fn parse(text: &str) -> Result<Node, String> {
    let file: Arc<Path> = Arc::from(Path::new("x.yaml"));
    Node::parse(text, &file).map_err(|d| d.to_string())
}

fn error(text: &str) -> String {
    parse(text).expect_err("the text should be rejected")
}

#[test]
fn values_keep_their_types_and_places() {
    let n = parse("a: 1\nb: [x, 'y', 2.5, true, ~]\nc:\n  d: \"7\"\n").unwrap();
    assert!(matches!(n.get("a").unwrap().value, Value::Int(1)));
    let b = n.get("b").unwrap().as_seq().unwrap();
    assert_eq!(b.len(), 5);
    assert_eq!(b[1].as_str(), Some("y"));
    assert!(matches!(b[2].value, Value::Float(f) if f == 2.5));
    assert!(matches!(b[3].value, Value::Bool(true)));
    assert!(matches!(b[4].value, Value::Null));
    let d = n.get("c").unwrap().get("d").unwrap();
    assert_eq!((d.as_str(), d.loc.line, d.loc.column), (Some("7"), 4, 6));
    assert!(matches!(parse("").unwrap().value, Value::Null));
}

#[test]
fn an_unclosed_bracket_is_reported_where_it_opened() {
    assert_eq!(
        error("groups:\n  - id: x\n    brief: [unclosed\n"),
        "x.yaml:3:12: YAML syntax: this `[` is never closed; add `]` where the list ends"
    );
    assert_eq!(
        error("a:\n  b: [1, 2\n  c: 3\n"),
        "x.yaml:2:6: YAML syntax: this `[` is still open at line 3, column 4, where reading \
         fails: close the list with `]` before that point (its items are separated by `,`)"
    );
    assert!(
        error("a: {x: 1\nb: 2\n")
            .starts_with("x.yaml:1:4: YAML syntax: this `{` is still open at line 2")
    );
    assert_eq!(
        error("a: \"unterminated\nb: 2\n"),
        "x.yaml:1:4: YAML syntax: the string opened by `\"` here is never closed; add the closing `\"`"
    );
    assert_eq!(
        error("- ]\n"),
        "x.yaml:1:3: YAML syntax: this closing bracket has no opening `[` or `{` before it"
    );
}

#[test]
fn indentation_mistakes_are_explained() {
    assert_eq!(
        error("a:\n  b: 1\n c: 2\n"),
        "x.yaml:3:2: YAML syntax: this line (column 2) does not line up with the lines above it: \
         keys at column 1 (line 1), keys at column 3 (line 2); indent it like one of them, or \
         under a key that ends with `:`"
    );
    assert!(
        error("a: b\n  c: d\n").starts_with("x.yaml:2:4: YAML syntax: `: ` here would start a key"),
    );
    assert!(error("a:\n\tb: 1\n").contains("a tab is used where YAML allows only spaces"));
    assert!(error("  a: 1\nb: 2\n").starts_with(
        "x.yaml:2:1: YAML syntax: this line is indented differently from the document's first line"
    ));
    assert_eq!(
        error("a: [b, c] d\n"),
        "x.yaml:1:11: YAML syntax: unexpected text after the end of the value; quote the whole \
         value if it is text"
    );
}

#[test]
fn a_list_item_without_its_dash_is_named() {
    assert_eq!(
        error("a:\n  - x: 1\n  y: 2\n"),
        "x.yaml:3:3: YAML syntax: this line is aligned with the items of the list that starts at \
         line 2, but does not start with `- `; add `- `, or indent it under the item above"
    );
}

#[test]
fn what_these_files_may_not_hold() {
    assert_eq!(
        error("a: 1\nb: 2\na: 3\n"),
        "x.yaml:3:1: duplicate key `a`: it is already given at line 1"
    );
    let n = parse("a: &x [1, {b: 2}]\nc: *x\n").unwrap();
    assert_eq!(n.get("c").unwrap().as_seq().unwrap().len(), 2);
    assert_eq!(n.get("c").unwrap().loc.line, 2);
    assert!(error("a: &x [*x]\n").ends_with("this alias refers to the value it is part of"));
    let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 0..12 {
        let prev = if i == 0 {
            "a".to_string()
        } else {
            format!("b{}", i - 1)
        };
        bomb.push_str(&format!("b{i}: &b{i} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"));
    }
    assert!(error(&bomb).contains("aliases (`*name`) expand to more than 1000000 values"));
    assert_eq!(
        error("a: !!int abc\n"),
        "x.yaml:1:4: `abc` is not a valid value for its tag `!!int`"
    );
    assert!(error("---\na: 1\n---\nb: 2\n").starts_with("x.yaml:3:1: a second YAML document"));
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let deep = "- ".repeat(20_000) + "x\n";
    assert_eq!(
        error(&deep),
        "x.yaml:1:129: lists and mappings are nested more than 64 levels deep here; no schema \
         or configuration needs that many"
    );
    let flow = "[".repeat(20_000);
    assert!(error(&flow).contains("nested more than 64 levels deep"));
    let maps: String = (0..10_000)
        .map(|i| format!("{}k:\n", "  ".repeat(i)))
        .collect();
    assert!(error(&maps).starts_with("x.yaml:65:"), "{}", error(&maps));
    let ok = "- ".repeat(60) + "x\n";
    assert!(parse(&ok).is_ok());
}

#[test]
fn flow_closers_at_the_block_indentation_are_read_leniently() {
    // As libyaml reads it: the `]` lines belong to their flow lists.
    let n = parse("items:\n  - id: a\n    examples: [\n      1,\n  ]\n  - x: [a,\n  ]\n").unwrap();
    let items = n.get("items").unwrap().as_seq().unwrap();
    assert_eq!(items[0].get("examples").unwrap().as_seq().unwrap().len(), 1);
    assert_eq!(
        items[1].get("x").unwrap().as_seq().unwrap()[0].as_str(),
        Some("a")
    );
    // ... but never inside a block scalar, where the spaces would be text.
    let n = parse("x: |\n  text\n  ]\ny:\n  - [a,\n  ]\n").unwrap();
    assert_eq!(n.get("x").unwrap().as_str(), Some("text\n]\n"));
    // Thousands of them are read in one more pass, not one pass each.
    let mut text = String::from("list:\n");
    for i in 0..3000 {
        text.push_str(&format!("  - k: [\n      {i},\n  ]\n"));
    }
    let n = parse(&text).unwrap();
    let list = n.get("list").unwrap().as_seq().unwrap();
    assert_eq!(list.len(), 3000);
    assert!(matches!(
        list[2999].get("k").unwrap().as_seq().unwrap()[0].value,
        Value::Int(2999)
    ));
    assert_eq!(list[2999].get("k").unwrap().loc.line, 3 * 2999 + 2);
}

#[test]
fn long_values_are_cut_in_messages() {
    let long = "v".repeat(10_000);
    let e = error(&format!("a: !!int {long}\n"));
    assert!(e.len() < 200, "{e}");
    assert!(e.contains("... (10000 bytes)"), "{e}");
    assert!(error(&format!("{long}: 1\n")).contains("a key may be at most 1024 characters"));
}
