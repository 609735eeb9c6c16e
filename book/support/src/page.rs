//! A chapter program's output, with anchors for the book.

use std::fmt::{self, Display, Write};

/// Brackets around a [`Page::measured`] value in the page's text.
const MEASURED_OPEN: char = '\u{2}';
const MEASURED_CLOSE: char = '\u{3}';

/// `text` with each measured value replaced by `replace(value)`.
fn measured(text: &str, replace: impl Fn(&str) -> String) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find(MEASURED_OPEN) {
        out.push_str(&rest[..i]);
        let end = rest[i..].find(MEASURED_CLOSE).expect("closed measurement") + i;
        out.push_str(&replace(&rest[i + MEASURED_OPEN.len_utf8()..end]));
        rest = &rest[end + MEASURED_CLOSE.len_utf8()..];
    }
    out.push_str(rest);
    out
}

/// What a chapter program prints, in named sections, the facts its prose
/// quotes, and the figures it draws.
///
/// The snapshot of a page ([`Page::snapshot`]) is the output wrapped in
/// mdBook anchors: `ANCHOR: all` around everything, `ANCHOR: NAME` around
/// each section, then one anchored block per fact. The book includes a
/// section with `{{#include SNAPSHOT:NAME}}` and a fact inline in a sentence
/// with `{{#include SNAPSHOT:fact_NAME}}`; mdBook drops the anchor lines.
/// A reader running the program sees [`Page::printed`], without them.
#[derive(Debug, Default, Clone)]
pub struct Page {
    out: String,
    facts: String,
    open: Option<String>,
    names: Vec<String>,
    figures: Vec<(String, String)>,
}

impl Page {
    /// An empty page.
    pub fn new() -> Self {
        Self::default()
    }

    /// Ends the current section, if any, and starts one called `name`.
    ///
    /// # Panics
    /// If `name` was used before on this page (anchors must be unique).
    pub fn section(&mut self, name: &str) {
        self.end();
        self.claim(name);
        if !self.out.is_empty() && !self.out.ends_with('\n') {
            self.out.push('\n');
        }
        writeln!(self.out, "ANCHOR: {name}").unwrap();
        self.open = Some(name.to_string());
    }

    /// Ends the current section, if any.
    pub fn end(&mut self) {
        if let Some(name) = self.open.take() {
            if !self.out.ends_with('\n') {
                self.out.push('\n');
            }
            writeln!(self.out, "ANCHOR_END: {name}").unwrap();
        }
    }

    /// Writes a value that changes from run to run (a wall time): a reader
    /// running the program sees it, while the snapshot, which must not
    /// change, shows `[measured]` in its place.
    pub fn measured(&mut self, value: impl Display) {
        write!(self.out, "{MEASURED_OPEN}{value}{MEASURED_CLOSE}").unwrap();
    }

    /// Records `value` as the fact `name` (included in the text as
    /// `fact_NAME`) and returns it as written.
    ///
    /// # Panics
    /// If `name` was used before, or the value spans several lines.
    pub fn fact(&mut self, name: &str, value: impl Display) -> String {
        let value = value.to_string();
        assert!(!value.contains('\n'), "fact {name} must fit on one line");
        let anchor = format!("fact_{name}");
        self.claim(&anchor);
        writeln!(
            self.facts,
            "ANCHOR: {anchor}\n{value}\nANCHOR_END: {anchor}"
        )
        .unwrap();
        value
    }

    /// Adds a figure: an SVG document the book shows from
    /// `book/src/figures/NAME`, where the tests compare it byte for byte.
    ///
    /// # Panics
    /// If `name` was used before or does not end in `.svg`.
    pub fn figure(&mut self, name: &str, svg: String) {
        assert!(name.ends_with(".svg"), "{name}: figures are SVG files");
        self.claim(name);
        self.figures.push((name.to_string(), svg));
    }

    /// The figures, in the order they were added: `(file name, SVG)`.
    pub fn figures(&self) -> &[(String, String)] {
        &self.figures
    }

    /// The snapshot the tests pin and the book includes from: the output in
    /// its anchors, then the facts.
    pub fn snapshot(&self) -> String {
        let mut page = self.clone();
        page.end();
        let mut s = String::from("ANCHOR: all\n");
        s.push_str(&measured(&page.out, |_| "[measured]".to_string()));
        if !s.ends_with('\n') {
            s.push('\n');
        }
        s.push_str("ANCHOR_END: all\n");
        if !page.facts.is_empty() {
            s.push_str("\nFacts quoted in the text:\n");
            s.push_str(&page.facts);
        }
        s
    }

    /// What a reader running the program sees: the output without anchors.
    pub fn printed(&self) -> String {
        measured(&self.out, str::to_string)
            .lines()
            .filter(|l| !l.starts_with("ANCHOR: ") && !l.starts_with("ANCHOR_END: "))
            .fold(String::new(), |mut s, l| {
                s.push_str(l);
                s.push('\n');
                s
            })
    }

    fn claim(&mut self, name: &str) {
        assert!(
            !self.names.iter().any(|n| n == name),
            "the anchor {name} is used twice on this page"
        );
        self.names.push(name.to_string());
    }
}

impl Write for Page {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.out.push_str(s);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_and_facts_are_anchored() {
        let mut p = Page::new();
        writeln!(p, "intro").unwrap();
        p.section("table");
        write!(p, "a b").unwrap();
        p.section("after");
        writeln!(p, "c").unwrap();
        assert_eq!(p.fact("n", 18), "18");
        assert_eq!(
            p.snapshot(),
            "ANCHOR: all\nintro\nANCHOR: table\na b\nANCHOR_END: table\nANCHOR: after\nc\n\
             ANCHOR_END: after\nANCHOR_END: all\n\nFacts quoted in the text:\n\
             ANCHOR: fact_n\n18\nANCHOR_END: fact_n\n"
        );
        assert_eq!(p.printed(), "intro\na b\nc\n");
    }

    #[test]
    fn measured_values_stay_out_of_the_snapshot() {
        let mut p = Page::new();
        write!(p, "took ").unwrap();
        p.measured("3.2 ms");
        writeln!(p, ", fine").unwrap();
        assert_eq!(p.printed(), "took 3.2 ms, fine\n");
        assert!(p.snapshot().contains("took [measured], fine\n"));
    }

    #[test]
    #[should_panic(expected = "used twice")]
    fn anchors_are_unique() {
        let mut p = Page::new();
        p.fact("x", 1);
        p.fact("x", 2);
    }
}
