//! The one integration test binary: real SQLite files, real HTTP on loopback, the real actor system.

mod bot;
mod browser;
mod checks;
mod egress;
mod fakes;
mod ops;
mod seed;
mod sessions_proxies;
mod supervision;
mod support;
