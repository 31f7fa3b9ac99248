//! The one integration test binary: real SQLite files, real HTTP on loopback, the real actor system.

mod fakes;
mod seed;
mod supervision;
mod support;
