//! `-o junit`: one test suite per vantage, one test case per check. Failures are failures,
//! skipped and "needs a live check" are skipped, warnings pass with a `warning` property.

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};

use super::{Render, Report};
use crate::diagnosis::Check;
use crate::plan::predict::Status;

fn secs(ms: Option<u64>) -> String {
    format!("{:.3}", ms.unwrap_or(0) as f64 / 1000.0)
}

fn details(c: &Check) -> String {
    super::rows::details(c)
        .into_iter()
        .map(|(label, text)| format!("{label}: {text}"))
        .collect::<Vec<_>>()
        .join("\n")
}

pub struct Junit;

impl Render for Junit {
    fn render(&self, report: &Report) -> String {
        render(report)
    }
}

type Xml = Writer<Vec<u8>>;

/// `tests`, `failures` and `skipped` of a set of checks.
fn counts(start: &mut BytesStart, checks: &[&Check]) {
    let n = |pred: &dyn Fn(&Check) -> bool| checks.iter().filter(|c| pred(c)).count().to_string();
    start.push_attribute(("tests", checks.len().to_string().as_str()));
    start.push_attribute(("failures", n(&|c| c.status == Status::Fail).as_str()));
    start.push_attribute((
        "skipped",
        n(&|c| matches!(c.status, Status::Skip | Status::Unknown)).as_str(),
    ));
}

pub fn render(report: &Report) -> String {
    let d = report.diagnosis;
    let mut vantages: Vec<&str> = Vec::new();
    for c in &d.checks {
        if !vantages.contains(&c.vantage.label()) {
            vantages.push(c.vantage.label());
        }
    }
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    let total_ms: u64 = d
        .checks
        .iter()
        .filter_map(|c| c.duration_ms)
        .max()
        .unwrap_or(0);
    let _ = w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)));
    let mut root = BytesStart::new("testsuites");
    root.push_attribute(("name", "dexcheck"));
    counts(&mut root, &d.checks.iter().collect::<Vec<_>>());
    root.push_attribute(("time", secs(Some(total_ms)).as_str()));
    let _ = w.write_event(Event::Start(root));
    for v in vantages {
        let cases: Vec<&Check> = d.checks.iter().filter(|c| c.vantage.label() == v).collect();
        let mut suite = BytesStart::new("testsuite");
        suite.push_attribute(("name", v));
        counts(&mut suite, &cases);
        let _ = w.write_event(Event::Start(suite));
        for c in cases {
            case(&mut w, c);
        }
        let _ = w.write_event(Event::End(BytesEnd::new("testsuite")));
    }
    let _ = w.write_event(Event::End(BytesEnd::new("testsuites")));
    let mut out = String::from_utf8(w.into_inner()).unwrap_or_default();
    out.push('\n');
    out
}

/// One test case: its properties, and a failure, a skip or the warning's details.
fn case(w: &mut Xml, c: &Check) {
    let mut case = BytesStart::new("testcase");
    case.push_attribute((
        "classname",
        format!("dexcheck.{}", c.vantage.label().replace(' ', "_")).as_str(),
    ));
    case.push_attribute(("name", format!("{}: {}", c.id, c.title).as_str()));
    case.push_attribute(("time", secs(c.duration_ms).as_str()));
    let _ = w.write_event(Event::Start(case));
    properties(w, c);
    match c.status {
        Status::Fail => {
            let kind = c.class.map(|c| c.to_string());
            let mut f = BytesStart::new("failure");
            f.push_attribute(("type", kind.as_deref().unwrap_or("failure")));
            f.push_attribute(("message", c.error.as_deref().unwrap_or(&c.message)));
            let _ = w.write_event(Event::Start(f));
            let _ = w.write_event(Event::Text(BytesText::new(&details(c))));
            let _ = w.write_event(Event::End(BytesEnd::new("failure")));
        }
        Status::Skip | Status::Unknown => {
            let mut sk = BytesStart::new("skipped");
            sk.push_attribute(("message", c.message.as_str()));
            let _ = w.write_event(Event::Empty(sk));
        }
        Status::Warn => {
            let _ = w.write_event(Event::Start(BytesStart::new("system-out")));
            let _ = w.write_event(Event::Text(BytesText::new(&details(c))));
            let _ = w.write_event(Event::End(BytesEnd::new("system-out")));
        }
        Status::Pass => {}
    }
    let _ = w.write_event(Event::End(BytesEnd::new("testcase")));
}

fn properties(w: &mut Xml, c: &Check) {
    let mut props: Vec<(&str, String)> = vec![("observed", c.observed.to_string())];
    if let Some(class) = &c.class {
        props.push(("class", class.to_string()));
    }
    if c.status == Status::Warn {
        props.push(("warning", c.message.clone()));
    }
    let _ = w.write_event(Event::Start(BytesStart::new("properties")));
    for (k, val) in props {
        let mut p = BytesStart::new("property");
        p.push_attribute(("name", k));
        p.push_attribute(("value", val.as_str()));
        let _ = w.write_event(Event::Empty(p));
    }
    let _ = w.write_event(Event::End(BytesEnd::new("properties")));
}
