//! gleaner's integration tests: one binary, split by topic. Every test that fetches starts its
//! own HTTP server on 127.0.0.1 and writes a real SQLite file in a temp dir.

mod support;

mod badinput;
mod batching;
mod browser;
mod cli;
mod corpus;
mod daemon;
mod dates;
mod delivery;
mod desk_keys;
mod durability;
mod editorial;
mod failures;
mod hostile;
mod ingest;
mod learning;
mod opml;
mod reading;
mod serve;
mod sources;
mod triage;
mod xmlattacks;
