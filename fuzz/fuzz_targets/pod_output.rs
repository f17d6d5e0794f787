//! The pod probe's output parser and classifier: whatever a pod prints (a hostile image, a
//! broken client), every line is classified in Go's words without panicking.
#![no_main]

use dexcheck::probe::pod::{classify, parse};
use libfuzzer_sys::fuzz_target;

const URLS: &[&str] = &[
    "http://localhost:8082/orchestrator/api/dex/.well-known/openid-configuration",
    "https://idp.example.com/realms/main/.well-known/openid-configuration",
    "http://[::1]:8080/x",
    "not a url",
];

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let report = parse(&text, URLS.len());
    assert_eq!(report.lines.len(), URLS.len());
    for (line, url) in report.lines.iter().zip(URLS) {
        for tool in ["curl", "wget"] {
            let c = classify(line, url, tool, &report, Some("https://issuer.example.com"));
            if c.class.is_some() {
                assert!(!c.note.is_empty());
            }
        }
    }
});
