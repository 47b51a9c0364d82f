//! Renderers: data in, `String` out. Writing to a terminal or file is the caller's business,
//! so every output can be tested as a string.

pub mod check;
pub mod entries;
pub mod round;
