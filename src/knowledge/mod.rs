//! The knowledge base, as data: what each error shape means (`explain`) and what fixes each
//! failure, keyed by class, vantage and the app's profile (`remedy`). `check` and `explain` both
//! draw their remedies from here.

pub mod by_program;
pub mod connectors;
pub mod dex_pages;
pub mod explain;
pub mod idp;
pub mod remedy;
pub mod sources;
pub mod versioned;
pub mod versions;
