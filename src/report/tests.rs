//! The renderers in-process, on the seed's localhost case.

use super::*;
use crate::diagnosis::{Options, diagnose};

fn seed() -> Diagnosis {
    let text = include_str!("../../fixtures/seed-localhost.yaml");
    let setup = crate::setup::load_str("seed-localhost.yaml", text, None, None).unwrap();
    let opts = Options {
        auto_candidates: true,
        ..Default::default()
    };
    diagnose(&setup, &opts)
}

fn render(format: OutputFormat, style: Style) -> String {
    let d = seed();
    let rep = Report::new(&d, "offline", 1);
    renderer(format, style).render(&rep)
}

#[test]
fn table_draws_the_matrix_the_fix_and_the_verdict() {
    let t = render(OutputFormat::Table, Style::default());
    assert!(t.contains("│ ✗ ┆ app pod → Dex discovery"), "{t}");
    assert!(
        t.contains("fix:      Inside the pod localhost is the pod itself."),
        "{t}"
    );
    assert!(t.contains("What if URL were…"), "{t}");
    assert!(t.contains("★ http://localhost:8080/orchestrator"), "{t}");
    assert!(
        t.contains("✗ SSO login fails at app pod → Dex discovery (app pod)"),
        "{t}"
    );
    assert!(
        !t.contains('\u{1b}'),
        "no colour without a style asking for it"
    );
}

#[test]
fn ascii_table_has_header_joints_and_no_unicode_glyphs() {
    let t = render(
        OutputFormat::Table,
        Style {
            color: false,
            ascii: true,
        },
    );
    let sep = t.lines().find(|l| l.starts_with("+=")).unwrap();
    assert!(sep.matches('+').count() >= 5, "{sep}");
    assert!(t.contains("| FAIL | app pod → Dex discovery"), "{t}");
    assert!(
        !t.contains('✓') && !t.contains('✗') && !t.contains('★'),
        "{t}"
    );
}

#[test]
fn json_and_yaml_carry_the_same_document() {
    let j: serde_json::Value =
        serde_json::from_str(&render(OutputFormat::Json, Style::default())).unwrap();
    let y: serde_json::Value =
        serde_saphyr::from_str(&render(OutputFormat::Yaml, Style::default())).unwrap();
    assert_eq!(j["schema"], "dexcheck/v1");
    assert_eq!(j, y);
    assert_eq!(j["verdict"]["blocking_check"], "pod.discovery");
}

#[test]
fn junit_fails_the_failing_check_with_its_class() {
    let x = render(OutputFormat::Junit, Style::default());
    let doc = roxmltree::Document::parse(&x).unwrap();
    let failure = doc
        .descendants()
        .find(|n| n.has_tag_name("failure"))
        .unwrap();
    assert_eq!(failure.attribute("type"), Some("refused"));
    let case = failure.parent().unwrap();
    assert!(
        case.attribute("name")
            .unwrap()
            .starts_with("pod.discovery: ")
    );
    assert!(failure.text().unwrap().contains("fix: Inside the pod"));
}

#[test]
fn github_escapes_commands_and_ends_with_the_verdict() {
    let g = render(OutputFormat::Github, Style::default());
    let first = g.lines().find(|l| l.starts_with("::error")).unwrap();
    assert!(
        first.starts_with("::error file=seed-localhost.yaml,title=dexcheck pod.discovery"),
        "{first}"
    );
    assert!(first.contains("%0AFix: "), "newlines escaped: {first}");
    assert!(
        g.lines()
            .last()
            .unwrap()
            .starts_with("::notice title=dexcheck verdict::")
    );
}
