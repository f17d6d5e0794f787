//! A browser's HAR (HTTP Archive 1.2, as Chrome, Firefox and Safari export it and Playwright
//! records it): read one entry at a time (`stream`), and made shareable (`sanitize`). The HAR
//! is the browser's own view of a login, a source of evidence beside the probes.

pub mod sanitize;
pub mod stream;

pub use stream::{HarError, Seen, transform};
