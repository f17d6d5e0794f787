//! `dexcheck explain`: error text from a log → what failed, on which path, the likely causes in
//! order, and the remedy. This file reads the line (its wrapper, host, app); what each shape
//! means lives in `knowledge::explain`.

use serde::Serialize;

use crate::app::{App, DexCall, Install};
use crate::knowledge::by_program::{BY_PROGRAM, ByProgram};
use crate::knowledge::explain::{MESSAGES, Message, TRANSPORT, Transport, matches, s};
use crate::knowledge::idp;
use crate::knowledge::sources::{self, Protocol, Source};
use crate::knowledge::versions::Versions;
use crate::probe::class::Class;

/// The network or logic path a failure belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Path {
    /// The browser at the app (login page, return URL).
    BrowserApp,
    /// The app's own pod fetching Dex at the app's public URL (Devtron; Argo CD without rewrite).
    AppPodDex,
    /// argocd-server → argocd-dex-server:5556 through Argo CD's rewrite.
    ArgoRewrite,
    /// Dex's pod → the upstream IdP.
    DexUpstream,
    /// The browser between Dex and the IdP (authorization, callbacks).
    IdpCallback,
    /// The app verifying tokens or sessions after login.
    AppSession,
    /// Argo CD talking OIDC to the IdP itself (`oidc.config`, no Dex).
    ArgoDirect,
    /// The app reading its own SSO settings at start-up (its ConfigMap, Secret, issuer).
    AppConfig,
}

impl Path {
    pub fn label(self) -> &'static str {
        match self {
            Path::BrowserApp => "browser → app (login return URL)",
            Path::AppPodDex => {
                "app pod → Dex at the app's own URL (no rewrite: Devtron, or Argo CD's session check)"
            }
            Path::ArgoRewrite => {
                "app → Dex through Argo CD's rewrite (argocd-server → argocd-dex-server:5556)"
            }
            Path::DexUpstream => "Dex pod → upstream IdP",
            Path::IdpCallback => "browser ↔ Dex ↔ IdP (authorization and callback)",
            Path::AppSession => "app → token and session verification",
            Path::ArgoDirect => "argocd-server → the IdP itself (oidc.config, no Dex)",
            Path::AppConfig => "the app's start-up (reading its SSO settings and its issuer)",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Explanation {
    /// A stable id for the recognised shape: the failure class's name where it is one.
    pub id: String,
    /// The failure class, in `check`'s vocabulary, where the shape is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub class: Option<Class>,
    pub what: String,
    pub path: Path,
    /// Which application most likely printed it, when the text tells.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app: Option<&'static str>,
    pub causes: Vec<String>,
    pub remedy: String,
}

/// What a `Failed to query provider "ISSUER": Get "URL": …` line tells before its inner error.
#[derive(Debug, Clone, Default)]
pub(crate) struct Ctx {
    pub issuer: Option<String>,
    pub get: Option<String>,
    pub host: Option<String>,
    pub port: Option<u16>,
    pub path: Option<Path>,
    pub app: Option<App>,
    /// The app whose log head this is, when the head alone tells (Argo CD ≥ 3.1 lower-cases it).
    pub head_of: Option<App>,
    /// The namespace the operator named (`-n`); else the app's default.
    pub ns: Option<String>,
    /// The program that printed the line, where its words (or the line it continues) say.
    pub source: Option<Source>,
    /// The releases in use, where known (`--app-version`, `--dex-version`, the pods' images).
    pub versions: Versions,
}

impl Ctx {
    pub fn app(&self) -> App {
        self.app.unwrap_or(App::ALL[0])
    }
    pub fn install(&self) -> Install {
        Install::new(self.app(), self.ns.as_deref()).with_versions(&self.versions)
    }
    pub fn host(&self) -> &str {
        self.host.as_deref().unwrap_or("the host")
    }
    pub fn loopback(&self) -> bool {
        self.host.as_deref().is_some_and(|h| {
            crate::plan::predict::host_kind(h.trim_matches(['[', ']']))
                == crate::plan::predict::HostKind::Loopback
        })
    }
    pub fn issuer(&self) -> String {
        self.issuer.clone().unwrap_or_else(|| "URL/api/dex".into())
    }
}

/// The text inside the first pair of quotes after `prefix`.
pub(crate) fn quoted_after(text: &str, prefix: &str) -> Option<String> {
    let i = text.find(prefix)? + prefix.len();
    let rest = &text[i..];
    let rest = rest.strip_prefix('"')?;
    Some(rest[..rest.find('"')?].to_string())
}

fn host_port(url: &str) -> (Option<String>, Option<u16>) {
    match url::Url::parse(url) {
        Ok(u) => (u.host_str().map(str::to_string), u.port_or_known_default()),
        Err(_) => (None, None),
    }
}

/// Reads the wrapper and sets the path: `Failed to query provider "X": Get "Y": …` or
/// `failed to get provider: Get "Y": …`.
fn context(text: &str) -> Ctx {
    let mut c = Ctx::default();
    let lower = text.to_ascii_lowercase();
    if let Some(i) = lower.find("failed to query provider") {
        query_provider(&mut c, text, i);
    } else if lower.contains("failed to get provider") || lower.contains("failed to open connector")
    {
        c.path = Some(Path::DexUpstream);
        c.get = quoted_after(text, "Get ").or_else(|| {
            // Older Go printed `Get URL: err` without quotes.
            let i = text.find("Get ")? + 4;
            text[i..].split(": ").next().map(str::to_string)
        });
        (c.host, c.port) = c.get.as_deref().map(host_port).unwrap_or((None, None));
    } else if let Some(get) = quoted_after(text, "Get ").or_else(|| quoted_after(text, "Post ")) {
        (c.host, c.port) = host_port(&get);
        c.get = Some(get);
    } else if let Some(i) = lower.find("dial tcp") {
        // A bare `dial tcp HOST:PORT: …`.
        let rest = &text[i + 8..];
        let addr = rest.trim_start().split(": ").next().unwrap_or("");
        if let Some((h, p)) = addr.rsplit_once(':') {
            c.host = Some(h.trim_matches(['[', ']']).to_string());
            c.port = p.parse().ok();
        }
    }
    if c.host.is_none()
        && let Some(i) = lower.find("lookup ")
    {
        c.host = text[i + 7..].split([' ', ':']).next().map(str::to_string);
    }
    c
}

/// `Failed to query provider "ISSUER": Get "URL": …` at byte `i`: the issuer, the URL, and which
/// app printed it, read from the profiles (the log's exact head, the issuer's path, a rewrite to
/// the app's Dex service).
fn query_provider(c: &mut Ctx, text: &str, i: usize) {
    let head = App::ALL.iter().copied().find(|a| {
        a.profile()
            .discovery_error
            .head()
            .is_some_and(|h| text[i..].starts_with(h))
    });
    c.head_of = head.filter(|a| a.profile().head_label.is_some());
    // The head is ASCII, so its end is a char boundary; what follows may not be a space.
    let after = &text[i + "failed to query provider".len()..];
    let rest = after.strip_prefix(' ').unwrap_or(after);
    c.issuer = rest
        .strip_prefix('"')
        .and_then(|r| r.find('"').map(|e| r[..e].to_string()))
        .or_else(|| rest.split([':', ' ']).next().map(str::to_string));
    c.get = quoted_after(text, "Get ");
    let (ih, ip) = c.issuer.as_deref().map(host_port).unwrap_or((None, None));
    let (gh, gp) = c.get.as_deref().map(host_port).unwrap_or((None, None));
    c.host = gh.clone().or(ih);
    c.port = gp.or(ip);
    let issuer = c.issuer.clone().unwrap_or_default();
    let by_path = App::ALL.iter().copied().find(|a| {
        a.profile()
            .path_prefix
            .is_some_and(|p| issuer.contains(&format!("{p}/")) || issuer.ends_with(p))
    });
    let rewriter = App::ALL
        .iter()
        .copied()
        .find(|a| a.profile().dex_call == DexCall::Rewrite);
    // A rewriting app sends every server→Dex call to its Dex service; a status error has no
    // Get part to show it, but an absolute (or redacted `<…>`) issuer outside any app's path does.
    let to_dex_service = |a: App| {
        gh.as_deref()
            .is_some_and(|h| h.starts_with(a.profile().dex.service))
    };
    let rewrite = rewriter.filter(|a| {
        to_dex_service(*a)
            || (gh.is_none()
                && by_path.is_none()
                && (c.head_of == Some(*a) || issuer.contains("://") || issuer.starts_with('<')))
    });
    c.path = Some(if rewrite.is_some() {
        Path::ArgoRewrite
    } else {
        Path::AppPodDex
    });
    let absolute_elsewhere = by_path.is_none() && issuer.contains("://");
    // No app's Dex path and not its Dex service: Argo CD's oidc.config issuer, the IdP itself.
    if rewrite.is_none()
        && absolute_elsewhere
        && !issuer.trim_end_matches('/').ends_with("/api/dex")
    {
        c.path = Some(Path::ArgoDirect);
    }
    c.app = by_path
        .or(rewrite)
        .or(c.head_of)
        .or(rewriter.filter(|_| absolute_elsewhere));
}

/// The text as matched: JSON logs' escapes undone (`\"`, `\u0026`), typographic quotes made
/// plain, runs of white space folded, so a copied or re-wrapped line matches like the original.
fn normalise(raw: &str) -> String {
    let text = raw
        .replace("\\\"", "\"")
        .replace("\\u0026", "&")
        .replace(['\u{201c}', '\u{201d}'], "\"")
        .replace(['\u{2018}', '\u{2019}'], "'");
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The matching entry of lowest rank.
fn best<T>(table: &[T], rank: impl Fn(&T) -> u16, hit: impl Fn(&T) -> bool) -> Option<&T> {
    table.iter().filter(|e| hit(e)).min_by_key(|e| rank(e))
}

/// How to read the text: the namespace for remedies' commands, the releases in use.
#[derive(Debug, Clone, Default)]
pub struct Reading {
    pub namespace: Option<String>,
    pub versions: Versions,
}

/// Explains one line, or `None` when it is not recognised. `namespace` is the one the operator
/// named, for the commands in remedies.
pub fn explain_line(raw: &str, namespace: Option<&str>) -> Option<Explanation> {
    let reading = Reading {
        namespace: namespace.map(str::to_string),
        ..Reading::default()
    };
    let text = normalise(raw);
    let source = sources::named_in(&text.to_lowercase());
    explain_in(&text, &reading, source.as_ref())
}

/// Explains one line (as [`normalise`] made it) read as `reading` says, printed by `source`
/// where that is known.
fn explain_in(text: &str, reading: &Reading, source: Option<&Source>) -> Option<Explanation> {
    let lower = text.to_lowercase();
    let mut c = context(text);
    c.ns = reading.namespace.clone();
    c.versions = reading.versions.clone();
    c.source = source.cloned();
    c.app = c.app.or(source.and_then(Source::app));
    // What the words mean when the program that printed them is known.
    if let Some(src) = source
        && let Some(b) = best(
            BY_PROGRAM,
            |b| b.rank,
            |b| b.program == src.program && matches(b.patterns, &lower),
        )
    {
        return Some(explain_by_program(b, text, &c));
    }
    let wrapped = c.path.is_some();
    let refusal = idp::refusal_in(text).filter(|r| r.family != Some("dex"));
    // A message the app or Dex prints itself wins, unless a transport error wraps it or an IdP
    // family's own words say more.
    if let Some(m) = best(MESSAGES, |m| m.rank, |m| matches(m.patterns, &lower))
        && (!wrapped || m.wins_when_wrapped)
        && (refusal.is_none() || m.rank < idp::REFUSAL_RANK)
    {
        return Some(explain_message(m, text, &c));
    }
    if let Some(r) = refusal {
        return Some(explain_refusal(&r, c.source.as_ref()));
    }
    match best(TRANSPORT, |t| t.rank, |t| matches(t.patterns, &lower)) {
        Some(t) => Some(explain_transport(t, &c)),
        None => wrapper_only(&c, &lower),
    }
}

fn explain_by_program(b: &ByProgram, text: &str, c: &Ctx) -> Explanation {
    let (what, causes, remedy) = (b.explain)(text, c);
    Explanation {
        id: b.id.to_string(),
        class: None,
        what,
        path: b.path,
        app: c.source.as_ref().map(|s| s.printed_by),
        causes,
        remedy,
    }
}

/// An upstream IdP's refusal in its family's words (`knowledge::idp`), to Dex unless the line
/// names another client.
fn explain_refusal(r: &idp::Said, source: Option<&Source>) -> Explanation {
    let family = r.family.and_then(idp::family);
    let name = family.map(|f| f.name).unwrap_or("the upstream IdP");
    let register = family
        .map(|f| f.register)
        .unwrap_or("the IdP's client settings");
    let at_token = r.cause == idp::Cause::ClientCredentials;
    let class = r.cause.class(at_token);
    let client = match source {
        Some(s) if s.component != sources::Component::Idp => s.printed_by,
        Some(_) => "the client (the line does not say which: Dex, the app or its CLI)",
        None => "Dex",
    };
    let mut causes = vec![r.cause.describe().to_string()];
    // AADSTS7000218: the token request carried neither client_secret nor client_assertion.
    if r.words.contains("7000218") {
        causes.insert(0, "the client sent no secret: it exchanged the code as a public client (the argocd CLI's login with oidc.config, a PKCE-only client) or its clientSecret is empty, and Entra ID requires one unless the app registration allows public client flows".into());
    }
    causes.extend(match r.cause {
        idp::Cause::RedirectUri => s(&[
            "URL changed (a port-forward address, another host) after the client was registered",
            "the registered callback differs in scheme, host, port, path or a trailing slash",
        ]),
        idp::Cause::ClientCredentials => s(&[
            "the secret was rotated or expired at the IdP",
            "the secret's id was copied instead of its value",
        ]),
        idp::Cause::UnknownClient => {
            s(&["the client lives in another tenant, realm or pool than the issuer names"])
        }
        _ => Vec::new(),
    });
    Explanation {
        id: class.to_string(),
        class: Some(class),
        what: format!("{name} refused {client}: {}", r.words),
        path: if at_token {
            Path::DexUpstream
        } else {
            Path::IdpCallback
        },
        app: Some(name),
        causes,
        remedy: r.cause.remedy(register),
    }
}

fn explain_message(m: &Message, text: &str, c: &Ctx) -> Explanation {
    let app = App::ALL
        .iter()
        .copied()
        .find(|a| m.app == Some(a.name()))
        .unwrap_or(c.app());
    let install = Install::new(app, c.ns.as_deref()).with_versions(&c.versions);
    let (what, causes, remedy) = (m.explain)(text, &install);
    Explanation {
        id: m.key.id(),
        class: m.key.class(),
        what,
        path: m.path,
        app: m.app,
        causes,
        remedy,
    }
}

fn explain_transport(t: &Transport, c: &Ctx) -> Explanation {
    let (mut what, causes, remedy) = (t.explain)(c);
    let path = c.path.unwrap_or(Path::AppPodDex);
    let app = match (c.path, c.app) {
        (Some(Path::DexUpstream), _) => Some("Dex"),
        (_, Some(a)) if c.head_of == Some(a) => a.profile().head_label.or(Some(a.name())),
        (_, Some(a)) => Some(a.name()),
        _ => None,
    };
    if let Some(issuer) = &c.issuer
        && path != Path::DexUpstream
    {
        what = format!("{what} (provider {issuer})");
    }
    Explanation {
        id: t.class.to_string(),
        class: Some(t.class),
        what,
        path,
        app,
        causes,
        remedy,
    }
}

/// The wrapper alone (the reason cut off or elsewhere): say what is known.
fn wrapper_only(c: &Ctx, lower: &str) -> Option<Explanation> {
    (c.issuer.is_some() && lower.contains("failed to query provider")).then(|| Explanation {
        id: "query_provider".into(),
        class: None,
        what: format!("the app could not fetch Dex's discovery document for {}", c.issuer()),
        path: c.path.unwrap_or(Path::AppPodDex),
        app: Some(c.app().name()),
        causes: s(&[
            "the pod cannot reach URL (DNS, hairpin routing, proxy, firewall): the text after the provider name says which",
            "Dex is not running or serves another issuer",
            "URL is wrong or not loaded",
        ]),
        remedy: "Run dexcheck check with cluster access to see which step fails from the pod, or paste the whole line (with the part after Get \"…\":)".into(),
    })
}

/// One input line and what it means.
#[derive(Debug, Clone, Serialize)]
pub struct Line {
    pub line: usize,
    pub text: String,
    pub recognised: bool,
    /// The program that printed it, where its words, its message or the line it continues say.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<Source>,
    /// The protocol of the step the line is about, where its words show it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protocol: Option<Protocol>,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub explanation: Option<Explanation>,
}

/// Explains every non-empty line, each attributed to its own source: the program its words name;
/// else, for a line that starts no log record of its own (`Error: …`, a page's body), the line it
/// continues; else the program its recognised message belongs to; else nobody.
pub fn explain_text(text: &str, reading: &Reading) -> Vec<Line> {
    let mut out = Vec::new();
    // The last line whose source its own words (or message) told, and that source.
    let mut last: Option<(usize, Source)> = None;
    for (i, raw) in records(text) {
        let raw = raw.as_str();
        let text = normalise(raw);
        let lower = text.to_lowercase();
        let own = sources::named_in(&lower);
        let continues = !sources::starts_record(raw);
        let carried = (own.is_none() && continues)
            .then(|| last.as_ref().map(|(n, s)| s.carried(*n)))
            .flatten();
        let given = own.or(carried);
        let mut e = explain_in(&text, reading, given.as_ref());
        if let (Some(e), Some(g)) = (e.as_mut(), given.as_ref())
            && e.app.is_none()
        {
            e.app = Some(g.printed_by);
        }
        let source = given.or_else(|| {
            e.as_ref()
                .and_then(|e| e.app)
                .and_then(sources::printed_by_label)
        });
        match &source {
            Some(s) if s.from_line.is_none() => last = Some((i, s.clone())),
            None if !continues => last = None,
            _ => {}
        }
        out.push(Line {
            line: i,
            text: raw.trim().to_string(),
            recognised: e.is_some(),
            source,
            protocol: sources::protocol_of(&lower),
            explanation: e,
        });
    }
    out
}

/// The non-empty lines with their numbers, a line that only carries the one before it joined to
/// it: Go's oauth2 `RetrieveError` prints `oauth2: cannot fetch token: STATUS` and
/// `Response: BODY` on two lines of one error.
fn records(text: &str) -> Vec<(usize, String)> {
    let mut out: Vec<(usize, String)> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let t = raw.trim();
        if t.is_empty() {
            continue;
        }
        match out.last_mut() {
            Some((_, prev)) if t.starts_with("Response:") => {
                prev.push(' ');
                prev.push_str(t);
            }
            _ => out.push((i + 1, raw.to_string())),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The text an alternative stands for: its needles, in order.
    fn sample(all: &[&str]) -> String {
        all.join(" ")
    }

    #[test]
    fn every_entry_and_every_alternative_is_reachable() {
        let mut unreachable = Vec::new();
        for m in MESSAGES {
            for all in m.patterns {
                let got = explain_line(&sample(all), None);
                if got.as_ref().map(|e| e.id.clone()) != Some(m.key.id()) {
                    unreachable.push(format!(
                        "message {:?} {all:?}: {:?}",
                        m.key,
                        got.map(|e| e.id)
                    ));
                }
            }
        }
        for t in TRANSPORT {
            for all in t.patterns {
                let got = explain_line(&sample(all), None);
                if got.as_ref().and_then(|e| e.class) != Some(t.class) {
                    unreachable.push(format!(
                        "transport {} {all:?}: {:?}",
                        t.class,
                        got.map(|e| e.id)
                    ));
                }
            }
        }
        assert!(unreachable.is_empty(), "{}", unreachable.join("\n"));
    }

    /// A program's own entries are reached when a line's words name that program.
    #[test]
    fn every_program_entry_is_reachable_from_its_program() {
        use crate::knowledge::sources::PROGRAMS;
        let mut unreachable = Vec::new();
        for b in BY_PROGRAM {
            let Some(p) = PROGRAMS.iter().find(|p| p.id == b.program) else {
                unreachable.push(format!("{}: no such program", b.id));
                continue;
            };
            for all in b.patterns {
                let line = format!("{} {}", p.evidence[0].join(" "), sample(all));
                let got = explain_text(&line, &Reading::default());
                let id = got[0].explanation.as_ref().map(|e| e.id.clone());
                if id.as_deref() != Some(b.id) {
                    unreachable.push(format!("{} {all:?}: {id:?}", b.id));
                }
            }
        }
        assert!(unreachable.is_empty(), "{}", unreachable.join("\n"));
    }

    #[test]
    fn precedence_is_explicit() {
        let mut ranks: Vec<u16> = MESSAGES.iter().map(|m| m.rank).collect();
        ranks.sort();
        ranks.dedup();
        assert_eq!(ranks.len(), MESSAGES.len(), "two messages share a rank");
        let mut ranks: Vec<u16> = TRANSPORT.iter().map(|t| t.rank).collect();
        ranks.sort();
        ranks.dedup();
        assert_eq!(ranks.len(), TRANSPORT.len(), "two transports share a rank");
    }

    #[test]
    fn transport_ids_are_class_names() {
        let e = explain_line("dial tcp 10.0.0.1:443: i/o timeout", None).unwrap();
        assert_eq!(
            (e.id.as_str(), e.class),
            ("connect_timeout", Some(Class::ConnectTimeout))
        );
        let e = explain_line("502 Bad Gateway", None).unwrap();
        assert_eq!(e.id, "http_status(502)");
    }

    #[test]
    fn remedies_name_the_namespace_given() {
        let line = "Failed to query provider \"http://localhost:8082/orchestrator/api/dex\": Get \"http://localhost:8082/orchestrator/api/dex/.well-known/openid-configuration\": dial tcp [::1]:8082: connect: connection refused";
        let e = explain_line(line, Some("devtron-prod")).unwrap();
        assert!(
            e.remedy.contains("kubectl -n devtron-prod port-forward"),
            "{}",
            e.remedy
        );
        assert!(!e.remedy.contains("devtroncd"), "{}", e.remedy);
        let argo = "failed to query provider \"https://argocd.example.com/api/dex\": Get \"https://argocd-dex-server:5556/api/dex/.well-known/openid-configuration\": dial tcp 10.96.0.5:5556: connect: connection refused";
        let e = explain_line(argo, Some("gitops")).unwrap();
        assert!(e.remedy.contains("kubectl -n gitops"), "{}", e.remedy);
        assert!(!e.remedy.contains("-n argocd "), "{}", e.remedy);
    }

    #[test]
    fn a_message_inside_a_transport_error_yields_unless_it_wins() {
        // go-oidc's issuer mismatch inside Failed to query provider: the transport table's entry.
        let wrapped = "Failed to query provider \"https://d/orchestrator/api/dex\": oidc: issuer did not match the issuer returned by provider, expected \"https://d/orchestrator/api/dex\" got \"http://d/orchestrator/api/dex\"";
        let e = explain_line(wrapped, None).unwrap();
        assert_eq!(e.class, Some(Class::IssuerMismatch));
    }

    /// Found by fuzzing (fuzz/fuzz_targets/explain.rs): text after the head that is not a
    /// space but a multi-byte character must not split it.
    #[test]
    fn a_multibyte_character_after_the_head_does_not_panic() {
        let line = "Failed to query provider\u{fffd}\u{fffd} \"https://<argocd_url>/api/dex\": 400 Bad Request";
        let _ = explain_line(line, None);
        let _ = explain_line("failed to query provider", None);
    }
}
