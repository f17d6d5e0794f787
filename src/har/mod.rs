//! A browser's HAR (HTTP Archive 1.2, as Chrome, Firefox and Safari export it and Playwright
//! records it): read one entry at a time (`stream`), and made shareable (`sanitize`). The HAR
//! is the browser's own view of a login, a source of evidence beside the probes.

mod after;
pub mod entry;
pub mod login;
pub mod rows;
pub mod sanitize;
pub mod stream;

pub use stream::{HarError, Seen, read, transform};

/// A HAR as the diagnosis reads it: its exchanges in the order the browser made them, and the
/// logins among them.
#[derive(Debug, Clone)]
pub struct Trace {
    pub exchanges: Vec<entry::Exchange>,
    pub logins: Vec<login::Login>,
}

/// Reads a HAR (streamed: the memory it costs is what each entry reduces to).
pub fn read_trace<R: std::io::Read>(r: R) -> Result<Trace, HarError> {
    let mut xs = Vec::new();
    read(r, &mut |v| xs.extend(entry::read(v)))?;
    // Entries are in the order requests started; a HAR merged from several is sorted again.
    xs.sort_by_key(|x| x.started_ms.unwrap_or(i64::MAX));
    let logins = login::logins(&xs);
    Ok(Trace {
        exchanges: xs,
        logins,
    })
}

impl Trace {
    /// The rows from the browser's vantage.
    pub fn checks(&self) -> Vec<crate::diagnosis::Check> {
        rows::checks(&self.exchanges, &self.logins)
    }

    /// The bytes of `Set-Cookie` headers (`Set-Cookie: ` and the line end included) the app's
    /// callback answered with, at the last login whose callback set any.
    pub fn callback_set_cookie_bytes(&self) -> Option<u64> {
        self.logins.iter().rev().find_map(|l| {
            let x = &self.exchanges[l.callback?];
            let set = x.set.iter().filter(|c| !c.removes);
            let bytes: usize = set.map(|c| "Set-Cookie: ".len() + c.line_len + 2).sum();
            (bytes > 0).then_some(bytes as u64)
        })
    }
}
