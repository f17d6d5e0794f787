//! The Go `net/url` subset and the return-URL rule. Property: what parses prints back to a
//! string that parses to the same URL and prints the same (String ∘ Parse is idempotent), and
//! the rule decides every pair without panicking.
#![no_main]

use dexcheck::plan::gourl::GoUrl;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (a, b) = text.split_once('\n').unwrap_or((text, "https://d.example.com/orchestrator"));
    if let Ok(u) = GoUrl::parse(a) {
        let printed = u.to_go_string();
        // Go's String has the same ambiguity: a host-less path that still starts with "//"
        // once escaped reads back as an authority. Go does not round-trip it either.
        if u.scheme.is_empty() && u.host.is_empty() && printed.starts_with("//") {
            return;
        }
        let again = GoUrl::parse(&printed).expect("a printed URL parses again");
        assert_eq!(again.to_go_string(), printed, "round trip of {a:?}");
    }
    let v = dexcheck::plan::redirect::check(a, &[b]);
    // A verdict always names the rule that decided.
    assert!(!v.rule.id().is_empty());
});
