//! The discovery document and key set checks on any answer body.
#![no_main]

use dexcheck::probe::http::Response;
use dexcheck::probe::workstation::{discovery_answer, key_set_answer};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let r = Response {
        status: 200,
        content_type: Some("application/json".into()),
        location: None,
        date: None,
        body: data.to_vec(),
        final_url: "http://dex.example.com/dex/.well-known/openid-configuration".into(),
        peer: None,
        allow_origin: None,
    };
    let issuer = "http://dex.example.com/dex";
    if let Ok(findings) = discovery_answer(&r, issuer, &r.final_url) {
        for f in findings {
            assert!(!f.id.to_string().is_empty());
        }
    }
    let _ = key_set_answer(&r);
});
