//! The IdP's answers as `idp.authorize` and `idp.client_auth` read them: any status, Location
//! and body from the authorization endpoint, any status and body from the token endpoint.
#![no_main]

use dexcheck::probe::http::Response;
use dexcheck::probe::idp::{Upstream, read_answers};
use dexcheck::secret::Secret;
use dexcheck::setup::{Connector, ConnectorConfig};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (head, rest) = data.split_at(data.len().min(4));
    let status = |i: usize| 100 + u16::from(*head.get(i).unwrap_or(&0)) * 2;
    let text = String::from_utf8_lossy(rest);
    let (location, body) = text.split_once('\n').unwrap_or(("", &text));
    let (page, token) = body.split_once('\u{0}').unwrap_or((body, ""));
    let u = Upstream {
        connector_id: "up".into(),
        kind: "oidc".into(),
        issuer: Some("https://idp.example.com".into()),
        client_id: "dex-client".into(),
        secret: Some(Secret::new("FUZZ-SECRET")),
        callback: "https://devtron.example.com/orchestrator/api/dex/callback".into(),
        scopes: vec!["openid".into()],
        post_only: false,
        send_secret: true,
        connector: Connector {
            kind: "oidc".into(),
            id: "up".into(),
            name: "Up".into(),
            config: ConnectorConfig::default(),
            fields: Default::default(),
            config_is_map: true,
            stray: Vec::new(),
        },
        client: Default::default(),
    };
    let r = Response {
        status: status(0),
        content_type: Some("text/html".into()),
        location: (!location.is_empty()).then(|| location.to_string()),
        date: None,
        body: page.as_bytes().to_vec(),
        final_url: "https://idp.example.com/authorize".into(),
        peer: None,
        allow_origin: None,
    };
    let (a, t) = read_answers("https://idp.example.com/authorize", r, status(1), token.as_bytes(), &u);
    assert!(!a.note.is_empty());
    // Whatever the token endpoint echoes, and however it encodes it, the secret is not repeated.
    let said = format!("{} {:?}", t.note, t.go_error);
    assert!(!said.contains("FUZZ-SECRET"), "{said}");
});
