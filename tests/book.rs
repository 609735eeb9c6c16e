//! The book's outputs, numbers and figures, pinned.
//!
//! Each chapter program in `examples/` has a `chapter()` function that
//! returns a [`Page`]: everything it prints, in anchored sections, the
//! numbers its prose quotes ("facts"), and its figures. The page's insta
//! snapshot is what the book shows under the code and inside its sentences
//! (the book includes the snapshot by anchor), so the book cannot show a
//! number the code did not print. Figures (SVG) are compared byte for byte
//! with the files in `book/src/figures/`; after a deliberate change,
//! regenerate them with `UPDATE_FIGURES=1 cargo test --test book` and
//! review the diff. Chapters with exercises have an `exercises()` page too,
//! which the solutions appendix includes the same way.
//!
//! Two more tests keep the prose honest: every anchor the book includes must
//! exist (mdBook silently includes nothing for a missing one), and a number
//! typed into a sentence must be a citation or one of the few listed here as
//! not coming from a program.

use mlp_book::Page;
use std::path::{Path, PathBuf};

/// Compares a figure with its committed file (or writes it when `UPDATE_FIGURES=1`).
fn check_figure(name: &str, svg: &str) {
    let path = root().join("book/src/figures").join(name);
    if std::env::var_os("UPDATE_FIGURES").is_some() {
        std::fs::write(&path, svg).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}; generate it with UPDATE_FIGURES=1", path.display()));
    assert!(
        committed == svg,
        "{} is stale: the chapter program now draws something else. Regenerate with \
         UPDATE_FIGURES=1 cargo test --test book and review the difference.",
        path.display()
    );
}

fn check_page(name: &str, page: Page) {
    insta::assert_snapshot!(name, page.snapshot());
    for (file, svg) in page.figures() {
        check_figure(file, svg);
    }
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A chapter program, its snapshot test, and (if it has them) its exercises'.
macro_rules! chapter {
    ($module:ident, $file:literal, $snapshot:literal $(, exercises $ex:literal)?) => {
        #[path = $file]
        #[allow(dead_code)]
        #[rustfmt::skip]
        mod $module;

        #[test]
        fn $module() {
            check_page($snapshot, $module::chapter());
            $( check_page($ex, $module::exercises()); )?
        }
    };
}

chapter!(ch01, "../examples/ch01_introduction.rs", "ch01_introduction", exercises "ch01_introduction_exercises");
chapter!(ch02, "../examples/ch02_perceptron.rs", "ch02_perceptron", exercises "ch02_perceptron_exercises");
chapter!(ch03, "../examples/ch03_xor.rs", "ch03_xor", exercises "ch03_xor_exercises");
chapter!(ch04, "../examples/ch04_activations.rs", "ch04_activations", exercises "ch04_activations_exercises");
chapter!(ch05, "../examples/ch05_output_delta.rs", "ch05_output_delta", exercises "ch05_output_delta_exercises");
chapter!(ch06, "../examples/ch06_backprop.rs", "ch06_backprop", exercises "ch06_backprop_exercises");
chapter!(ch07, "../examples/ch07_modes.rs", "ch07_modes", exercises "ch07_modes_exercises");
chapter!(ch08, "../examples/ch08_init.rs", "ch08_init", exercises "ch08_init_exercises");
chapter!(ch09, "../examples/ch09_gradients.rs", "ch09_gradients", exercises "ch09_gradients_exercises");
chapter!(ch10, "../examples/ch10_regularisation.rs", "ch10_regularisation", exercises "ch10_regularisation_exercises");
chapter!(ch11, "../examples/ch11_real_data.rs", "ch11_real_data", exercises "ch11_real_data_exercises");
chapter!(ch12, "../examples/ch12_network_macro.rs", "ch12_network_macro", exercises "ch12_network_macro_exercises");
chapter!(ch13, "../examples/ch13_autoencoders.rs", "ch13_autoencoders", exercises "ch13_autoencoders_exercises");
chapter!(
    appendix_saving,
    "../examples/appendix_saving.rs",
    "appendix_saving"
);

// ----- the prose -----

/// The book's Markdown files.
fn chapters() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("book/src"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md") && !p.ends_with("SUMMARY.md"))
        .collect();
    files.sort();
    files
}

/// Numbers typed in the prose that do not come from a program: settings
/// written out in words the code also shows, sizes of networks and data,
/// references to chapters, equations and exercises, constants of a formula.
/// A number that a program computes (a loss, a count, a bound, an
/// accuracy) is not listed here: the text includes it from the program's
/// snapshot (`{{#include ...snap:fact_NAME}}`). Each phrase must still occur
/// in its file, so the list cannot go stale.
const TYPED: &[(&str, &[&str])] = &[
    ("introduction.md", &[]),
    ("perceptron.md", &["200 separable points"]),
    ("xor.md", &["by epoch 500", "from 64 samples"]),
    ("activations.md", &["| 1 |", "sum to 1"]),
    ("output_delta.md", &["After 150 epochs"]),
    ("backprop.md", &["hidden unit 1", "hidden unit 2"]),
    (
        "gradients.md",
        &[
            "64 pixels",
            "hidden layers of 30",
            "after 30 epochs",
            "0.05, 0.1, 0.15 and\n   0.2",
            "momentum 0.9",
        ],
    ),
    (
        "regularisation.md",
        &[
            "two hidden layers of 64 units",
            "after 3000 epochs",
            "instead of 3000",
            "chapters 4, 8, 9",
            "chapter 5 |",
            "chapter 7 |",
        ],
    ),
    (
        "init.md",
        &[
            "at least 95 of the seeds 0 to 99; it learns from 97, the Keras start from 63",
            "layers of width 64",
        ],
    ),
    (
        "modes.md",
        &[
            "every 40 epochs",
            "40 epochs and then 40 more",
            "one call\nof 80",
            "of 1, 8, 32, 128 and all 569 samples",
        ],
    ),
    ("solutions.md", &[]),
    ("autoencoders.md", &["30% of their pixels"]),
    (
        "real_data.md",
        &["scikit-learn 1.9.1", "seeds 0 to 4: 0.958 to 0.975"],
    ),
    ("network_macro.md", &["from twenty seeds"]),
    ("saving.md", &[]),
];

/// The prose of a Markdown file: without code blocks, inline code, math,
/// mdBook directives, HTML comments and link targets.
fn prose(md: &str) -> String {
    let mut out = String::new();
    let mut fenced = false;
    for line in md.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            out.push('\n');
            continue;
        }
        if !fenced {
            out.push_str(line);
        }
        out.push('\n');
    }
    let cut = |s: &str, open: &str, close: &str| -> String {
        let mut r = String::new();
        let mut rest = s;
        while let Some(i) = rest.find(open) {
            r.push_str(&rest[..i]);
            r.push(' ');
            match rest[i + open.len()..].find(close) {
                Some(j) => rest = &rest[i + open.len() + j + close.len()..],
                None => panic!("unclosed {open} in: {}", &rest[i..(i + 80).min(rest.len())]),
            }
        }
        r.push_str(rest);
        r
    };
    let s = cut(&out, "{{#", "}}");
    let s = cut(&s, "<!--", "-->");
    let s = cut(&s, "$$", "$$");
    let s = cut(&s, "$", "$");
    let s = cut(&s, "`", "`");
    cut(&s, "](", ")")
}

/// The numbers of a text, with their byte offsets: maximal runs of digits
/// (with a decimal point inside) not joined to a letter, as in `W1` or `f64`.
fn numbers(text: &str) -> Vec<(usize, &str)> {
    let b = text.as_bytes();
    let mut found = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_digit()
            && (i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_'))
        {
            let start = i;
            while i < b.len()
                && (b[i].is_ascii_digit()
                    || (b[i] == b'.' && b.get(i + 1).is_some_and(u8::is_ascii_digit)))
            {
                i += 1;
            }
            if !(i < b.len() && (b[i].is_ascii_alphabetic() || b[i] == b'_')) {
                found.push((start, &text[start..i]));
            }
        } else {
            i += 1;
        }
    }
    found
}

/// A number typed by hand must be a year (a citation) or inside a phrase
/// listed in [`TYPED`]; everything a program computed is included from its
/// snapshot. Changing "18" to "19" in a sentence fails here.
#[test]
fn prose_numbers_come_from_the_programs() {
    let mut problems = Vec::new();
    for path in chapters() {
        let file = path.file_name().unwrap().to_str().unwrap();
        let allowed = TYPED
            .iter()
            .find(|(f, _)| *f == file)
            .unwrap_or_else(|| panic!("{file} is not in TYPED"))
            .1;
        let text = prose(&std::fs::read_to_string(&path).unwrap());
        let mut covered = structural(&text);
        for phrase in allowed {
            let mut from = 0;
            let mut seen = false;
            while let Some(i) = text[from..].find(phrase) {
                covered[from + i..from + i + phrase.len()]
                    .iter_mut()
                    .for_each(|c| *c = true);
                from += i + phrase.len();
                seen = true;
            }
            if !seen {
                problems.push(format!(
                    "{file}: the listed phrase {phrase:?} no longer occurs"
                ));
            }
        }
        for (at, n) in numbers(&text) {
            let year = n.len() == 4 && n.parse::<u32>().is_ok_and(|y| (1900..2030).contains(&y));
            if year || covered[at] {
                continue;
            }
            let (lo, hi) = (at.saturating_sub(40), (at + n.len() + 40).min(text.len()));
            let (lo, hi) = (floor_char(&text, lo), floor_char(&text, hi));
            let context = text[lo..hi].replace('\n', " ");
            problems.push(format!("{file}: {n} typed by hand in \"...{context}...\""));
        }
    }
    assert!(
        problems.is_empty(),
        "numbers in the prose must come from a program's snapshot \
         ({{{{#include ../../tests/snapshots/...snap:fact_NAME}}}}), or be listed in TYPED \
         in tests/book.rs if no program computes them:\n{}",
        problems.join("\n")
    );
}

/// The bytes of `text` whose numbers are structure, not results: list
/// markers (`2. `), references (`chapter 3`, `exercise 2`, `eq. 6`), layer
/// shapes (`2-2-1`, `784-30-10`) and compounds (`2-unit`, `20-layer`).
fn structural(text: &str) -> Vec<bool> {
    let b = text.as_bytes();
    let mut covered = vec![false; b.len()];
    for (at, n) in numbers(text) {
        let end = at + n.len();
        let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
        let marker = text[line_start..at].trim().is_empty() && text[end..].starts_with(". ");
        let before = text[..at].trim_end().to_lowercase();
        let reference = [
            "chapter",
            "chapters",
            "exercise",
            "exercises",
            "eq.",
            "section",
            "and",
            "or",
        ]
        .iter()
        .any(|w| before.ends_with(w))
            && [
                "chapter",
                "chapters",
                "exercise",
                "exercises",
                "eq.",
                "section",
            ]
            .iter()
            .any(|w| {
                before
                    .rsplit(|c: char| !c.is_alphanumeric() && c != '.')
                    .take(3)
                    .any(|t| t == *w)
            });
        let joined = text[end..].starts_with('-')
            || text[..at].ends_with('-') && text[..at - 1].ends_with(|c: char| c.is_ascii_digit());
        if marker || reference || joined {
            covered[at..end].iter_mut().for_each(|c| *c = true);
        }
    }
    covered
}

fn floor_char(s: &str, mut i: usize) -> usize {
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Every `{{#include FILE:ANCHOR}}` and `{{#rustdoc_include FILE:ANCHOR}}`
/// names a file that exists and an anchor in it: for a missing anchor
/// mdBook includes nothing, and a sentence would lose its number silently.
#[test]
fn every_included_anchor_exists() {
    let mut problems = Vec::new();
    for path in chapters() {
        let md = std::fs::read_to_string(&path).unwrap();
        let mut rest = md.as_str();
        while let Some(i) = rest.find("{{#") {
            let end = rest[i..].find("}}").expect("closed directive");
            let directive = &rest[i + 3..i + end];
            rest = &rest[i + end..];
            let Some((_, target)) = directive.split_once(' ') else {
                continue;
            };
            let mut parts = target.trim().splitn(2, ':');
            let file = parts.next().unwrap();
            let anchor = parts.next();
            let full = path.parent().unwrap().join(file);
            let Ok(text) = std::fs::read_to_string(&full) else {
                problems.push(format!("{}: {file} does not exist", path.display()));
                continue;
            };
            match anchor {
                Some(a) if !a.is_empty() && !a.chars().next().unwrap().is_ascii_digit() => {
                    let start = format!("ANCHOR: {a}");
                    let end = format!("ANCHOR_END: {a}");
                    if !text
                        .lines()
                        .any(|l| l.trim_start().trim_start_matches("//").trim() == start)
                        || !text
                            .lines()
                            .any(|l| l.trim_start().trim_start_matches("//").trim() == end)
                    {
                        problems.push(format!("{}: {file} has no anchor {a}", path.display()));
                    }
                }
                _ => {}
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_lint_finds_a_typed_number() {
    let text =
        prose("The run needed 18 updates in $k = 51$ steps, per `ch02`; see (1958).\n```\n19\n```");
    let found: Vec<&str> = numbers(&text).into_iter().map(|(_, n)| n).collect();
    assert_eq!(found, ["18", "1958"]);
    assert_eq!(
        numbers("x1 W2 f64 2-2-1 0.5 3.")
            .iter()
            .map(|n| n.1)
            .collect::<Vec<_>>(),
        ["2", "2", "1", "0.5", "3"]
    );
    let _ = Path::new("");
}
