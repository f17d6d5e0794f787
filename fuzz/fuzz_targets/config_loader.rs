//! Every input form of the config loader, then the whole offline diagnosis and its JSON: no
//! input may panic, and a loaded config always yields a report.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(setup) = dexcheck::setup::load_str("fuzz.yaml", text, None, None) else {
        return;
    };
    let opts = dexcheck::diagnosis::Options {
        auto_candidates: true,
        ..Default::default()
    };
    let d = dexcheck::diagnosis::diagnose(&setup, &opts);
    let rep = dexcheck::report::Report::new(&d, "offline", 0);
    let json = dexcheck::report::json::render(&rep);
    assert!(json.starts_with('{'));
});
