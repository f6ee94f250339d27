//! Tend application library: the actix-web app factory and the command line, shared by `main` and the black-box tests.
pub mod roster;

pub mod cli;
pub mod http;

pub use http::{configure, server, ApiDoc, RunningServer};
