//! Client secrets (and other Secret values) reach no output: every format, every error path.

use assert_cmd::cargo::cargo_bin_cmd;

const FIXTURES: &[&str] = &[
    "fixtures/seed-ingress.yaml",
    "fixtures/seed-localhost.yaml",
    "fixtures/seed-cluster-local.yaml",
    "fixtures/dex-config.yaml",
    "fixtures/dex-federated.yaml",
    "fixtures/devtron-secret.yaml",
    "fixtures/argocd-cm.yaml",
    "fixtures/argocd-cm-oidc.yaml",
];

/// Every fixture's secrets carry this marker, in clear or (in the Secret manifest) base64.
const MARKER: &str = "FIXTURE-SECRET";

fn forbidden(fixture_text: &str) -> Vec<String> {
    let mut out = vec![MARKER.to_string()];
    // Base64 values of the Secret manifest, which hold the secrets encoded.
    for line in fixture_text.lines() {
        if let Some((_, v)) = line.split_once(": ") {
            let v = v.trim();
            if v.len() > 40
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"+/=".contains(&b))
            {
                out.push(v.to_string());
            }
        }
    }
    out
}

fn assert_no_secret(label: &str, out: &std::process::Output, forbidden: &[String]) {
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!all.is_empty(), "{label}: no output at all");
    for f in forbidden {
        assert!(
            !all.contains(f.as_str()),
            "{label}: output contains {f:?}:\n{all}"
        );
    }
}

#[test]
fn no_output_format_shows_a_secret() {
    for fixture in FIXTURES {
        let text = std::fs::read_to_string(fixture).unwrap();
        assert!(
            text.contains(MARKER) || fixture.contains("devtron-secret"),
            "{fixture} has no marked secret"
        );
        let bad = forbidden(&text);
        for extra in [
            &[][..],
            &["--candidates", "auto"][..],
            &["--color", "always"][..],
            &["--ascii", "--fail-on", "warning"][..],
            &[
                "--url",
                "http://localhost:8082/orchestrator",
                "--return-url",
                "http://x/%0d",
            ][..],
        ] {
            for output in ["table", "json", "yaml", "junit", "github"] {
                let out = cargo_bin_cmd!("dexcheck")
                    .args(["check", fixture, "--offline", "-o", output])
                    .args(extra)
                    .output()
                    .unwrap();
                assert!(
                    matches!(out.status.code(), Some(0 | 1)),
                    "{fixture} {extra:?}: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
                assert_no_secret(&format!("{fixture} -o {output} {extra:?}"), &out, &bad);
            }
        }
    }
}

#[test]
fn no_error_path_shows_a_secret() {
    let dir = tempfile::tempdir().unwrap();
    for fixture in FIXTURES {
        let text = std::fs::read_to_string(fixture).unwrap();
        let bad = forbidden(&text);
        let broken = [
            // YAML syntax error at the end, after the secret.
            format!("{text}\n  oops: [unclosed\n"),
            // A syntax error on the secret's own line.
            text.replacen("FIXTURE-SECRET", "\"FIXTURE-SECRET", 1),
            // Wrong type right after the secret.
            text.replace("scopes:", "scopes: 7\n _scopes:"),
            // An unknown connector type.
            text.replace("type: oidc", "type: oidcx")
                .replace("type: github", "type: githubx")
                .replace("name: cognito\n", "name: cognito\ntype: nope\n"),
            // The Secret's base64 damaged.
            text.replace("dex.config: ", "dex.config: !!"),
        ];
        for (i, b) in broken.iter().enumerate() {
            if *b == text {
                continue;
            }
            let path = dir.path().join(format!("broken-{i}.yaml"));
            std::fs::write(&path, b).unwrap();
            for output in ["table", "json", "yaml", "junit", "github"] {
                let out = cargo_bin_cmd!("dexcheck")
                    .arg("check")
                    .arg(&path)
                    .args(["--offline", "-o", output])
                    .output()
                    .unwrap();
                assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"));
                assert_no_secret(&format!("{fixture} broken #{i} -o {output}"), &out, &bad);
            }
        }
    }
}
