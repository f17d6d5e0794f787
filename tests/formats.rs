//! The CI formats: JSON validates against the repository's schema, JUnit parses as XML (with a
//! real parser) in JUnit's shape, GitHub output follows the workflow-command syntax and fills the
//! step summary, YAML parses back to the JSON document.

mod support;

use assert_cmd::cargo::cargo_bin_cmd;
use serde_json::Value;

fn schema() -> jsonschema::Validator {
    let s: Value =
        serde_json::from_str(&std::fs::read_to_string("schemas/dexcheck-v1.schema.json").unwrap())
            .unwrap();
    jsonschema::validator_for(&s).unwrap()
}

fn run(args: &[&str]) -> (String, i32) {
    let out = cargo_bin_cmd!("dexcheck")
        .args(args)
        .env("KUBECONFIG", "/nonexistent")
        .output()
        .unwrap();
    (
        String::from_utf8(out.stdout).unwrap(),
        out.status.code().unwrap_or(-1),
    )
}

#[test]
fn json_outputs_validate_against_the_schema() {
    let v = schema();
    let docs = [
        run(&[
            "check",
            "fixtures/seed-localhost.yaml",
            "--offline",
            "--candidates",
            "auto",
            "-o",
            "json",
        ]),
        run(&[
            "check",
            "fixtures/seed-ingress.yaml",
            "--offline",
            "-o",
            "json",
        ]),
        run(&[
            "check",
            "fixtures/argocd-cm.yaml",
            "--offline",
            "-o",
            "json",
        ]),
        run(&["demo", "-o", "json"]),
        run(&[
            "check",
            "fixtures/dex-github.yaml",
            "--no-idp",
            "--url",
            "http://127.0.0.1:1/orchestrator",
            "--timeout",
            "1",
            "-o",
            "json",
        ]),
        run(&["check", "/nonexistent.yaml", "-o", "json"]),
        run(&[
            "explain",
            "-o",
            "json",
            "Invalid redirect URL: the protocol and host (including port) must match",
        ]),
        run(&["explain", "-o", "json", "nothing to see"]),
    ];
    for (text, code) in docs {
        let doc: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
        let errors: Vec<String> = v
            .iter_errors(&doc)
            .map(|e| format!("{e} at {}", e.instance_path))
            .collect();
        assert!(errors.is_empty(), "exit {code}: {errors:#?}\n{doc:#}");
    }
    // The schema is not vacuous: a wrong status fails it.
    let mut bad: Value = serde_json::from_str(
        &run(&[
            "check",
            "fixtures/seed-localhost.yaml",
            "--offline",
            "-o",
            "json",
        ])
        .0,
    )
    .unwrap();
    bad["checks"][0]["status"] = Value::String("green".into());
    assert!(!v.is_valid(&bad));
}

#[test]
fn junit_parses_with_a_suite_per_vantage_and_a_case_per_check() {
    let (xml, code) = run(&[
        "check",
        "fixtures/seed-localhost.yaml",
        "--offline",
        "-o",
        "junit",
    ]);
    assert_eq!(code, 1, "-o junit keeps the exit code");
    let doc = roxmltree::Document::parse(&xml).unwrap_or_else(|e| panic!("{e}\n{xml}"));
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    let (json, _) = run(&[
        "check",
        "fixtures/seed-localhost.yaml",
        "--offline",
        "-o",
        "json",
    ]);
    let report: Value = serde_json::from_str(&json).unwrap();
    let checks = report["checks"].as_array().unwrap();
    let cases: Vec<_> = root
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    assert_eq!(cases.len(), checks.len());
    assert_eq!(
        root.attribute("tests"),
        Some(checks.len().to_string().as_str())
    );
    let suites: Vec<&str> = root
        .children()
        .filter(|n| n.has_tag_name("testsuite"))
        .map(|n| n.attribute("name").unwrap())
        .collect();
    assert!(
        suites.contains(&"app pod")
            && suites.contains(&"workstation")
            && suites.contains(&"config"),
        "{suites:?}"
    );
    let failed = cases
        .iter()
        .find(|c| c.attribute("name").unwrap().starts_with("pod.discovery"))
        .unwrap();
    let f = failed
        .children()
        .find(|n| n.has_tag_name("failure"))
        .expect("failure element");
    assert_eq!(f.attribute("type"), Some("refused"));
    assert!(
        f.attribute("message")
            .unwrap()
            .contains("connection refused")
    );
    // Warnings pass, with a property.
    let (xml, _) = run(&[
        "check",
        "fixtures/seed-ingress.yaml",
        "--offline",
        "--url",
        "https://devtron.example.com/orchestrator/",
        "-o",
        "junit",
    ]);
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let warned = doc
        .descendants()
        .find(|n| {
            n.has_tag_name("testcase")
                && n.attribute("name")
                    .unwrap()
                    .starts_with("url.trailing_slash")
        })
        .unwrap();
    assert!(warned.children().all(|n| !n.has_tag_name("failure")));
    assert!(
        warned
            .descendants()
            .any(|n| n.has_tag_name("property") && n.attribute("name") == Some("warning"))
    );
}

#[test]
fn github_annotations_and_step_summary() {
    let dir = tempfile::tempdir().unwrap();
    let summary = dir.path().join("summary.md");
    let out = cargo_bin_cmd!("dexcheck")
        .args([
            "check",
            "fixtures/seed-localhost.yaml",
            "--offline",
            "-o",
            "github",
        ])
        .env("GITHUB_STEP_SUMMARY", &summary)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    // ::error|warning|notice [k=v,…]::message — one command a line, no raw newlines in a message.
    for line in text.lines() {
        let (head, _msg) = line
            .split_once("::")
            .map(|(a, _)| (a, ()))
            .unwrap_or(("", ()));
        assert!(
            head.is_empty(),
            "a workflow command starts with ::, got {line:?}"
        );
        let rest = &line[2..];
        let (cmd, tail) = rest
            .split_once("::")
            .unwrap_or_else(|| panic!("no message separator: {line}"));
        let name = cmd.split(' ').next().unwrap();
        assert!(["error", "warning", "notice"].contains(&name), "{line}");
        if let Some((_, props)) = cmd.split_once(' ') {
            for p in props.split(',') {
                let (k, v) = p
                    .split_once('=')
                    .unwrap_or_else(|| panic!("bad property {p:?} in {line}"));
                assert!(["title", "file", "line", "col"].contains(&k), "{k}");
                assert!(
                    !v.contains(':') && !v.contains(','),
                    "unescaped property {v:?}"
                );
            }
        }
        assert!(!tail.contains('\r'));
    }
    assert!(
        text.contains("::error file=fixtures/seed-localhost.yaml,title=dexcheck pod.discovery"),
        "{text}"
    );
    assert!(
        text.contains("%0AFix%3A") || text.contains("%0AFix:"),
        "multi-line messages are escaped: {text}"
    );
    let md = std::fs::read_to_string(&summary).unwrap();
    assert!(
        md.contains("| ❌ | app pod → Dex discovery | app pod | refused |"),
        "{md}"
    );
}

#[test]
fn yaml_is_the_json_document() {
    let (yaml, _) = run(&[
        "check",
        "fixtures/seed-localhost.yaml",
        "--offline",
        "-o",
        "yaml",
    ]);
    let (json, _) = run(&[
        "check",
        "fixtures/seed-localhost.yaml",
        "--offline",
        "-o",
        "json",
    ]);
    let from_yaml: Value = serde_saphyr::from_str(&yaml).unwrap();
    let from_json: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(from_yaml, from_json);
}

#[test]
fn completions_load_in_bash_and_the_man_page_renders() {
    let (script, code) = run(&["completions", "bash"]);
    assert_eq!(code, 0);
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("dexcheck.bash");
    std::fs::write(&f, &script).unwrap();
    // Real bash loads it and registers the completion for the command.
    let out = std::process::Command::new("bash")
        .args(["-c", "source \"$1\" && complete -p dexcheck", "bash"])
        .arg(&f)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("dexcheck"));
    for sub in ["check", "serve", "demo", "explain"] {
        assert!(script.contains(sub), "completion lacks {sub}");
    }
    let (man, code) = run(&["man"]);
    assert_eq!(code, 0);
    assert!(man.contains(".TH dexcheck 1"), "{man}");
    assert!(man.contains("explain"), "subcommands listed");
}

/// Two contexts whose API servers refuse connections: the fleet report (`dexcheck/fleet/v1`,
/// valid for its schema) has both, each with why; the table names the refusal; exit 3.
#[test]
fn a_fleet_with_no_reachable_cluster_says_why_and_exits_3() {
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("kubeconfig");
    let cluster = |name: &str, port: u16| {
        format!("- name: {name}\n  cluster: {{server: \"https://127.0.0.1:{port}\"}}\n")
    };
    let context =
        |name: &str| format!("- name: ctx-{name}\n  context: {{cluster: {name}, user: u}}\n");
    std::fs::write(
        &kc,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n{}{}users:\n- name: u\n  user: {{token: t}}\ncontexts:\n{}{}current-context: ctx-a\n",
            cluster("a", 1),
            cluster("b", 2),
            context("a"),
            context("b")
        ),
    )
    .unwrap();
    let run = |output: &str| {
        cargo_bin_cmd!("dexcheck")
            .args(["check", "--all-contexts", "--timeout", "2", "-o", output])
            .arg("--kubeconfig")
            .arg(&kc)
            .output()
            .unwrap()
    };
    let o = run("json");
    assert_eq!(o.status.code(), Some(3));
    let doc: Value = serde_json::from_slice(&o.stdout).unwrap();
    let errors = support::fleet_schema_errors(&doc);
    assert!(errors.is_empty(), "{errors:?}");
    let contexts: Vec<&str> = doc["clusters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["context"].as_str().unwrap())
        .collect();
    assert_eq!(contexts, ["ctx-a", "ctx-b"]);
    assert_eq!(doc["summary"]["checked"], 0);
    assert_eq!(doc["clusters"][0]["error"]["kind"], "cluster");
    let t = String::from_utf8(run("table").stdout).unwrap();
    assert!(t.contains("ctx-a: could not connect"), "{t}");
    assert!(t.contains("Connection refused"), "{t}");
    assert!(!t.contains("Path"), "an empty matrix: {t}");
    // A document that is not a fleet report fails the schema: the check can fail.
    let mut broken = doc.clone();
    broken["clusters"][0]["error"] = Value::Null;
    assert!(!support::fleet_schema_errors(&broken).is_empty());
}
