//! A HAR read one entry at a time: `{"log": {…, "entries": [ENTRY, …], …}}` is parsed as it
//! streams, each entry handed over on its own and written back before the next is read, so the
//! memory a HAR costs is its largest entry, not its size. What is not an entry (`version`,
//! `creator`, `pages`) is copied as it is.

use std::fmt;
use std::io::{Read, Write};

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

/// Why a HAR could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum HarError {
    #[error("not JSON at line {line}, column {column}: {message}")]
    Json {
        line: usize,
        column: usize,
        message: String,
    },
    #[error("not a HAR: {0}")]
    NotHar(String),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

impl From<serde_json::Error> for HarError {
    fn from(e: serde_json::Error) -> Self {
        if e.is_io() {
            return HarError::Io(std::io::Error::other(e.to_string()));
        }
        HarError::Json {
            line: e.line(),
            column: e.column(),
            // serde's message may quote the text it met: keep its kind, not the text.
            message: match e.classify() {
                serde_json::error::Category::Eof => "the file ends inside the JSON".into(),
                serde_json::error::Category::Syntax => "a syntax error".into(),
                _ => "a value of the wrong type".into(),
            },
        }
    }
}

/// What a pass over a HAR saw.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Seen {
    pub entries: usize,
}

/// Reads the HAR from `r`, hands each entry to `each` (which may change it), and writes the HAR
/// with the entries as changed to `w` (compact JSON); `w` may be `std::io::sink()`.
pub fn transform<R: Read, W: Write>(
    r: R,
    w: &mut W,
    each: &mut dyn FnMut(&mut Value),
) -> Result<Seen, HarError> {
    pass(r, w, each, true)
}

/// Reads the HAR from `r` and hands each entry to `each`; nothing is written.
pub fn read<R: Read>(r: R, each: &mut dyn FnMut(&mut Value)) -> Result<Seen, HarError> {
    pass(r, &mut std::io::sink(), each, false)
}

fn pass<R: Read, W: Write>(
    r: R,
    w: &mut W,
    each: &mut dyn FnMut(&mut Value),
    copy: bool,
) -> Result<Seen, HarError> {
    let mut de =
        serde_json::Deserializer::from_reader(std::io::BufReader::with_capacity(1 << 16, r));
    let mut out = Out {
        w,
        copy,
        each,
        seen: Seen::default(),
        error: None,
        entries_found: false,
    };
    let top = Obj {
        out: &mut out,
        level: Level::Top,
    };
    let res = de::Deserializer::deserialize_map(&mut de, top);
    if let Some(e) = out.error.take() {
        return Err(HarError::Io(e));
    }
    res?;
    de.end()?;
    if !out.entries_found {
        return Err(HarError::NotHar("no log.entries array".into()));
    }
    Ok(out.seen)
}

struct Out<'a, W: Write> {
    w: &'a mut W,
    /// Whether the HAR is written back (`transform`) or only read (`read`).
    copy: bool,
    each: &'a mut dyn FnMut(&mut Value),
    seen: Seen,
    /// A write error, kept so the parse can stop with it.
    error: Option<std::io::Error>,
    entries_found: bool,
}

impl<W: Write> Out<'_, W> {
    fn raw(&mut self, s: &[u8]) -> Result<(), String> {
        if !self.copy {
            return Ok(());
        }
        self.w.write_all(s).map_err(|e| {
            let m = e.to_string();
            self.error = Some(e);
            m
        })
    }
    fn value(&mut self, v: &Value) -> Result<(), String> {
        if !self.copy {
            return Ok(());
        }
        let bytes = serde_json::to_vec(v).map_err(|e| e.to_string())?;
        self.raw(&bytes)
    }
    fn key(&mut self, first: bool, k: &str) -> Result<(), String> {
        if !first {
            self.raw(b",")?;
        }
        let key = serde_json::to_vec(k).map_err(|e| e.to_string())?;
        self.raw(&key)?;
        self.raw(b":")
    }
}

/// Which object is being copied: the top level (`{"log": …}`) or the log (`{"entries": …}`);
/// every other key of either is copied as it is.
#[derive(Clone, Copy)]
enum Level {
    Top,
    Log,
}

/// An object of the HAR at `level`, copied key by key; the one key that leads to the entries
/// is followed instead.
struct Obj<'o, 'a, W: Write> {
    out: &'o mut Out<'a, W>,
    level: Level,
}

impl<'de, W: Write> DeserializeSeed<'de> for Obj<'_, '_, W> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de, W: Write> Visitor<'de> for Obj<'_, '_, W> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(match self.level {
            Level::Top => "a HAR object",
            Level::Log => "a HAR log object",
        })
    }
    fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<(), A::Error> {
        let (out, level) = (self.out, self.level);
        out.raw(b"{").map_err(de::Error::custom)?;
        let mut first = true;
        while let Some(k) = m.next_key::<String>()? {
            out.key(first, &k).map_err(de::Error::custom)?;
            first = false;
            match (level, k.as_str()) {
                (Level::Top, "log") => m.next_value_seed(Obj {
                    out: &mut *out,
                    level: Level::Log,
                })?,
                (Level::Log, "entries") => {
                    out.entries_found = true;
                    m.next_value_seed(EntriesSeed(&mut *out))?;
                }
                _ if out.copy => {
                    let v: Value = m.next_value()?;
                    out.value(&v).map_err(de::Error::custom)?;
                }
                _ => {
                    m.next_value::<de::IgnoredAny>()?;
                }
            }
        }
        out.raw(b"}").map_err(de::Error::custom)
    }
}

struct EntriesSeed<'o, 'a, W: Write>(&'o mut Out<'a, W>);

impl<'de, W: Write> DeserializeSeed<'de> for EntriesSeed<'_, '_, W> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(Entries(self.0))
    }
}

struct Entries<'o, 'a, W: Write>(&'o mut Out<'a, W>);

impl<'de, W: Write> Visitor<'de> for Entries<'_, '_, W> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of HAR entries")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut s: A) -> Result<(), A::Error> {
        let out = self.0;
        out.raw(b"[").map_err(de::Error::custom)?;
        // Per array: a log with `entries` twice (JSON allows a repeated key) writes two lists.
        let mut first = true;
        while let Some(mut v) = s.next_element::<Value>()? {
            (out.each)(&mut v);
            if !first {
                out.raw(b",").map_err(de::Error::custom)?;
            }
            first = false;
            out.value(&v).map_err(de::Error::custom)?;
            out.seen.entries += 1;
        }
        out.raw(b"]").map_err(de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_pass_one_at_a_time_and_the_rest_is_kept() {
        let har = r#"{"log":{"version":"1.2","creator":{"name":"x"},"entries":[{"a":1},{"a":2}],"pages":[]}}"#;
        let mut out = Vec::new();
        let mut n = 0;
        let seen = transform(har.as_bytes(), &mut out, &mut |v| {
            n += 1;
            v["a"] = Value::from(n * 10);
        })
        .unwrap();
        assert_eq!(seen.entries, 2);
        let v: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["log"]["entries"][1]["a"], 20);
        assert_eq!(v["log"]["creator"]["name"], "x");
        assert!(matches!(
            transform(&b"{\"log\":{}}"[..], &mut std::io::sink(), &mut |_| {}),
            Err(HarError::NotHar(_))
        ));
        // A repeated `entries` key (found by the fuzzer): each list is written as valid JSON.
        let twice = r#"{"log":{"entries":[{"a":1}],"entries":[{"a":2},{"a":3}]}}"#;
        let mut out = Vec::new();
        transform(twice.as_bytes(), &mut out, &mut |_| {}).unwrap();
        assert!(
            serde_json::from_slice::<Value>(&out).is_ok(),
            "{}",
            String::from_utf8_lossy(&out)
        );
        assert!(matches!(
            transform(
                &b"{\"log\":{\"entries\":[{\"a\":\"secret"[..],
                &mut std::io::sink(),
                &mut |_| {}
            ),
            Err(HarError::Json { .. })
        ));
    }
}
