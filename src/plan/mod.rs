//! Pure rules, no I/O: which URLs matter, what each vantage will see, and the return-URL rule.

pub mod endpoints;
pub mod gourl;
pub mod predict;
pub mod redirect;
