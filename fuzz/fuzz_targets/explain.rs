//! `explain` on any text: every line is either recognised, with an id, a path and a remedy,
//! or not, and nothing panics.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let reading = dexcheck::explain::Reading {
        namespace: Some("devtron-prod".into()),
        ..Default::default()
    };
    for line in dexcheck::explain::explain_text(&text, &reading) {
        if let Some(e) = &line.explanation {
            assert!(!e.id.is_empty() && !e.remedy.is_empty());
        }
    }
});
