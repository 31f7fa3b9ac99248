//! The one integration test binary: real SQLite files, real HTTP on loopback, the real actor system.

mod bot;
mod browser;
mod checks;
mod egress;
mod fakes;
mod grid;
mod input_corpus;
mod ops;
mod reliability;
mod security;
mod seed;
mod sessions_proxies;
mod soak;
mod supervision;
mod support;
