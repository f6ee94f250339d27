//! Black-box tests of Tend live in `tests/tests/`.
