//! The published SSO examples (Devtron's built-in samples and chart, Argo CD's user-management
//! docs and reference `argocd-cm`, Dex's connector docs and examples), each run through
//! `dexcheck check --offline` as a new user would, against the verdict the upstream code gives
//! it (`fixtures/published/expected.tsv`, each row citing why). A working example must not be
//! reported broken, a valid one must not be an input error, a broken one must fail at the check
//! that names its defect.

use std::collections::BTreeSet;

use assert_cmd::cargo::cargo_bin_cmd;
use serde_json::Value;

const DIR: &str = "fixtures/published";
/// The other apps' published examples (Argo Workflows, Concourse, Kargo), one folder each.
const APPS: &str = "fixtures/apps";

/// One row of the table: the file, the extra arguments, the verdict, and why.
struct Row {
    file: String,
    args: Vec<String>,
    verdict: String,
    why: String,
}

fn rows() -> Vec<Row> {
    rows_in(DIR)
}

fn rows_in(dir: &str) -> Vec<Row> {
    let text = std::fs::read_to_string(format!("{dir}/expected.tsv")).unwrap();
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            assert_eq!(cols.len(), 4, "expected.tsv: 4 tab-separated columns: {l}");
            Row {
                file: cols[0].to_string(),
                args: cols[1].split_whitespace().map(str::to_string).collect(),
                verdict: cols[2].to_string(),
                why: cols[3].to_string(),
            }
        })
        .collect()
}

fn schema() -> jsonschema::Validator {
    let s: Value =
        serde_json::from_str(&std::fs::read_to_string("schemas/dexcheck-v1.schema.json").unwrap())
            .unwrap();
    jsonschema::validator_for(&s).unwrap()
}

/// What dexcheck said: `ok` (exit 0), `fail:<blocking check>` (exit 1) or `input:<message>`;
/// every report must be valid for the schema.
fn verdict(row: &Row) -> String {
    verdict_in(DIR, row)
}

/// [`verdict`] for a row of `dir`; `a+b` runs both files as one input on stdin.
fn verdict_in(dir: &str, row: &Row) -> String {
    let mut cmd = cargo_bin_cmd!("dexcheck");
    cmd.arg("check");
    if row.file.contains('+') {
        let both: Vec<String> = row
            .file
            .split('+')
            .map(|f| std::fs::read_to_string(format!("{dir}/{f}")).unwrap())
            .collect();
        cmd.arg("-").write_stdin(both.join("\n---\n"));
    } else {
        cmd.arg(format!("{dir}/{}", row.file));
    }
    let out = cmd
        .args(["--offline", "-o", "json"])
        .args(&row.args)
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    let errors: Vec<String> = schema().iter_errors(&v).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{}: {errors:?}", row.file);
    match out.status.code() {
        Some(0) => "ok".into(),
        Some(1) => format!(
            "fail:{}",
            v["verdict"]["blocking_check"].as_str().unwrap_or("?")
        ),
        Some(2) => format!("input:{}", v["error"]["message"].as_str().unwrap_or("?")),
        other => format!("exit {other:?}"),
    }
}

fn agrees(expected: &str, got: &str) -> bool {
    match expected.strip_prefix("input:") {
        Some(words) => got.starts_with("input:") && got.contains(words),
        None => expected == got,
    }
}

#[test]
fn every_published_example_gets_its_expected_verdict() {
    score(DIR);
}

/// Argo Workflows', Concourse's and Kargo's docs snippets and chart values, as Dex's and the
/// two first apps' are.
#[test]
fn every_published_app_example_gets_its_expected_verdict() {
    score(APPS);
}

fn score(dir: &str) {
    let rows = rows_in(dir);
    let mut wrong = Vec::new();
    let (mut false_fail, mut false_input, mut false_pass) = (0, 0, 0);
    for row in &rows {
        let got = verdict_in(dir, row);
        if agrees(&row.verdict, &got) {
            continue;
        }
        match (row.verdict.as_str(), got.as_str()) {
            ("ok", g) if g.starts_with("fail:") => false_fail += 1,
            ("ok", g) if g.starts_with("input:") => false_input += 1,
            (e, "ok") if e.starts_with("fail:") => false_pass += 1,
            _ => {}
        }
        wrong.push(format!(
            "{} {:?}: expected {}, got {got} ({})",
            row.file, row.args, row.verdict, row.why
        ));
    }
    println!(
        "{} of {} published examples right; {false_fail} false failures, {false_input} input errors on valid configs, {false_pass} false passes",
        rows.len() - wrong.len(),
        rows.len()
    );
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// Every example in the folder has an expectation, and every example names its source.
#[test]
fn every_example_is_in_the_table_with_its_source() {
    let listed: BTreeSet<String> = rows().into_iter().map(|r| r.file).collect();
    let mut files = 0;
    for entry in std::fs::read_dir(DIR).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if !name.ends_with(".yaml") {
            continue;
        }
        files += 1;
        let text = std::fs::read_to_string(format!("{DIR}/{name}")).unwrap();
        assert!(text.starts_with("# source: "), "{name} names no source");
        assert!(listed.contains(&name), "{name} has no row in expected.tsv");
    }
    assert!(files >= 50, "only {files} examples");
}

/// Every file of the apps' corpus has a row (alone, or first of a pair) and names its source.
#[test]
fn every_app_example_is_in_the_table_with_its_source() {
    let listed: BTreeSet<String> = rows_in(APPS)
        .into_iter()
        .flat_map(|r| r.file.split('+').map(str::to_string).collect::<Vec<_>>())
        .collect();
    let mut files = 0;
    for app in ["argo-workflows", "concourse", "kargo"] {
        for entry in std::fs::read_dir(format!("{APPS}/{app}")).unwrap() {
            let name = entry.unwrap().file_name().to_string_lossy().into_owned();
            if name.ends_with(".md") {
                continue;
            }
            files += 1;
            let path = format!("{app}/{name}");
            let text = std::fs::read_to_string(format!("{APPS}/{path}")).unwrap();
            assert!(text.starts_with("# source: "), "{path} names no source");
            assert!(listed.contains(&path), "{path} has no row in expected.tsv");
        }
    }
    assert!(files >= 51, "only {files} examples");
}

/// Devtron's own SSO screen samples are never reported broken.
#[test]
fn devtrons_built_in_samples_are_not_reported_broken() {
    let samples: Vec<Row> = rows()
        .into_iter()
        .filter(|r| r.file.starts_with("devtron-") && !r.file.starts_with("devtron-chart"))
        .filter(|r| !r.args.iter().any(|a| a == "argocd"))
        .collect();
    assert_eq!(samples.len(), 7);
    for row in &samples {
        assert_eq!(verdict(row), "ok", "{}", row.file);
    }
}
