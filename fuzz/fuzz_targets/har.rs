//! The HAR reader and sanitizer on any bytes: nothing panics, and what it writes is JSON.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut out = Vec::new();
    if dexcheck::har::transform(data, &mut out, &mut dexcheck::har::sanitize::entry).is_ok() {
        assert!(serde_json::from_slice::<serde_json::Value>(&out).is_ok());
    }
});
