//! The HAR reader, its diagnosis and the sanitizer on any bytes: nothing panics, what the
//! sanitizer writes is JSON, and the sanitized copy reads as a HAR again.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(trace) = dexcheck::har::read_trace(data) {
        for c in trace.checks() {
            assert!(!c.id.to_string().is_empty());
        }
    }
    let mut out = Vec::new();
    if dexcheck::har::transform(data, &mut out, &mut dexcheck::har::sanitize::entry).is_ok() {
        assert!(serde_json::from_slice::<serde_json::Value>(&out).is_ok());
        assert!(dexcheck::har::read_trace(&out[..]).is_ok());
    }
});
