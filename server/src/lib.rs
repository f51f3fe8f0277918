#![recursion_limit = "256"]
//! The `stook` binary's library: configuration, the operator CLI, the web server and its
//! session store, and the S3 endpoint. `main.rs` only parses arguments and dispatches.

pub mod cli;
pub mod client_ip;
pub mod config;
pub mod memory;
pub mod s3;
pub mod serve;
pub mod web;
