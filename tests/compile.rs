//! The DSL's compile-time behaviour, pinned with trybuild: what must compile,
//! and the exact error a user sees for each mistake.

#[test]
fn compile_pass() {
    trybuild::TestCases::new().pass("tests/compile-pass/*.rs");
}

#[test]
fn compile_fail() {
    trybuild::TestCases::new().compile_fail("tests/compile-fail/*.rs");
}
