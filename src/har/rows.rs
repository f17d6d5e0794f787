//! A login in a HAR turned into rows from the browser's vantage (`har.*`), in the words `check`
//! already speaks: each hop's answer (an error page read by the knowledge base), then what only
//! the hops together show: the `state` each callback brings back, the callback's host against
//! the login's, the cookies the browser keeps, the session cookie sent back, a loop, a slow hop,
//! the servers' clocks. A check that needs a value the export left out says so and guesses
//! nothing.

use super::entry::Exchange;
use super::login::{Login, endpoint, origin, param, resolve};
use crate::diagnosis::{Check, CheckId};
use crate::plan::predict::{Outcome, Status};
use crate::probe::class::Class;

/// What the export kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Export {
    /// Cookies and their values.
    Full,
    /// No `Cookie` or `Set-Cookie` anywhere: Chrome's default "Export HAR (sanitized)".
    NoCookies,
    /// Cookie values redacted as `REDACTED(N)` (`dexcheck har sanitize`): sizes kept.
    Redacted,
}

impl Export {
    pub fn of(xs: &[Exchange]) -> Export {
        if !xs.iter().any(|x| x.has_cookie_headers) {
            Export::NoCookies
        } else if xs.iter().flat_map(|x| &x.set).any(|c| c.redacted) {
            Export::Redacted
        } else {
            Export::Full
        }
    }
}

/// What a sanitized export keeps from a check, and how to export with it.
pub const NO_COOKIES: &str = "the HAR has no Cookie or Set-Cookie header (Chrome's default export is sanitized since 2024): export again with DevTools → Settings → Preferences → Network → \"Allow to generate HAR with sensitive data\", then Network → Export HAR (with sensitive data), and share it through `dexcheck har sanitize`, which keeps the sizes";

/// A slow hop: a user notices, and a login's state may expire behind it.
const SLOW_MS: f64 = 5000.0;
/// Clocks further apart than this make tokens look issued in the future or expired.
const SKEW_S: i64 = 60;
/// The browser's limit on a cookie's name and value (RFC 6265bis; Chrome, Firefox).
pub const COOKIE_MAX: usize = 4096;

/// The request line of a hop as a report shows it: method and URL without its query.
pub fn hop(x: &Exchange) -> String {
    format!("{} {}", x.method, endpoint(&x.url))
}

/// The rows for a HAR's exchanges.
pub fn checks(xs: &[Exchange], logins: &[Login]) -> Vec<Check> {
    let export = Export::of(xs);
    let starts: Vec<usize> = (0..xs.len())
        .filter(|&i| {
            url::Url::parse(&xs[i].url)
                .is_ok_and(|u| crate::app::App::by_login_path(u.path()).is_some())
        })
        .collect();
    let mut out = vec![trace_row(xs, logins, export, !starts.is_empty())];
    let last_start = starts.last().copied();
    // In a loop, the browser gives up in the middle of a login (too many redirects): the last
    // login whose callback answered is the one that shows why.
    let shown = if relogins(xs, logins, &starts) >= 2 {
        logins
            .iter()
            .rev()
            .find(|l| l.callback.is_some_and(|c| xs[c].status > 0))
            .or(logins.last())
    } else {
        logins.last()
    };
    match (shown, logins.last()) {
        // The last login attempt never reached a provider: its start is the whole story.
        (_, Some(last)) if last_start.is_some_and(|s| s > last.provider.at) => {
            out.extend(last_start.map(|s| start_row(&xs[s], None)));
        }
        (Some(l), _) => out.extend(login_rows(xs, l, export)),
        (None, _) => out.extend(last_start.map(|s| start_row(&xs[s], None))),
    }
    out.extend(loop_row(xs, logins, &starts));
    out.extend(slow_row(xs));
    out.extend(clock_row(xs));
    out
}

fn trace_row(xs: &[Exchange], logins: &[Login], export: Export, any_start: bool) -> Check {
    let reached = logins.iter().filter(|l| l.callback.is_some()).count();
    // An app's callback that redirected set its session cookie: with no Set-Cookie anywhere,
    // the export left the cookies out. Before that hop, no cookie may have been set at all.
    let stripped = export == Export::NoCookies
        && logins
            .iter()
            .any(|l| l.callback.is_some_and(|c| redirects(&xs[c])));
    let kept = match export {
        Export::Full => "cookies recorded".to_string(),
        Export::Redacted => "cookie values redacted, sizes kept".to_string(),
        Export::NoCookies if stripped => format!("cookies not recorded: {NO_COOKIES}"),
        Export::NoCookies => {
            "no Cookie or Set-Cookie header (none set before the HAR ends, or the export left them out)".to_string()
        }
    };
    let mut note = format!(
        "{}; {} (reaching the app's callback: {reached}); {kept}",
        crate::report::count(xs.len(), "entry", "entries"),
        crate::report::count(logins.len(), "login", "logins"),
    );
    let none = logins.is_empty() && !any_start;
    if none {
        note.push_str("; no login in it: no OAuth authorization request (client_id, redirect_uri, response_type) and no app's login page. Record from the app's login button to the page after, with \"Preserve log\" on");
    }
    let status = if stripped || none {
        Status::Warn
    } else {
        Status::Pass
    };
    noted(
        CheckId::HarTrace,
        Outcome {
            status,
            class: None,
            go_error: None,
            note,
        },
    )
}

/// An observed row about the trace or the login as a whole (no one hop).
pub fn noted(id: CheckId, outcome: Outcome) -> Check {
    let mut c = Check::new(id, outcome);
    c.observed = true;
    c
}

/// The row of a hop the login goes on from when it answered: `{what}: {next}`, else its
/// failure row.
pub fn hop_row(id: CheckId, x: &Exchange, what: &str, next: impl FnOnce() -> String) -> Check {
    if answered(x) {
        seen(id, x, Outcome::pass(format!("{what}: {}", next())))
    } else {
        failed_row(id, x, what)
    }
}

/// An observed row about hop `x` (an empty error is none: the message says it).
pub fn seen(id: CheckId, x: &Exchange, outcome: Outcome) -> Check {
    let mut c = Check::observed(id, &endpoint(&x.url), outcome);
    c.duration_ms = Some(x.time_ms.max(0.0) as u64);
    if c.error.as_deref() == Some("") {
        c.error = None;
    }
    c
}

/// Why no answer came, in Go's words where a Go client would meet the same.
fn failure_class(failure: &str) -> Class {
    let f = failure.to_ascii_uppercase();
    if f.contains("REFUSED") {
        Class::Refused
    } else if f.contains("NAME_NOT_RESOLVED") || f.contains("UNKNOWNHOST") {
        Class::Dns
    } else if f.contains("TIMED_OUT") || f.contains("TIMEOUT") {
        Class::ConnectTimeout
    } else if f.contains("CERT") || f.contains("SSL") {
        Class::Tls
    } else if f.contains("RESET") || f.contains("EMPTY_RESPONSE") {
        Class::Reset
    } else if f.contains("TOO_MANY_REDIRECTS") {
        Class::RedirectLoop
    } else {
        Class::Other
    }
}

/// Where an app's own sentence starts in an error page that carries more (Devtron's callback
/// prints the claims before Argo CD's cookie-limit sentence).
const SENTENCES: &[&str] = &["the authentication token is"];

/// OAuth 2.0 error codes an error page may print (RFC 6749 §4.1.2.1, §5.2, and the IdPs'
/// common ones).
const OAUTH_ERRORS: &[&str] = &[
    "invalid_redirect_uri",
    "redirect_uri_mismatch",
    "invalid_client",
    "unauthorized_client",
    "unknown_client",
    "invalid_scope",
    "unsupported_response_type",
    "access_denied",
    "invalid_request",
];

/// The OAuth error a page prints (`error: CODE`, `error_description: …`), as `CODE: description`.
fn oauth_error(text: &str) -> Option<(String, String)> {
    let code = OAUTH_ERRORS.iter().find(|c| text.contains(*c))?;
    let desc = text
        .find("error_description")
        .map(|i| &text[i + "error_description".len()..])
        .and_then(|rest| rest.lines().next())
        .map(|l| {
            l.trim_start_matches([':', '=', ' ', '"'])
                .trim()
                .to_string()
        })
        .unwrap_or_default();
    Some((code.to_string(), desc))
}

/// The words of an error answer: an OAuth error where the page prints one, the app's sentence
/// where the page has one, else the first line of its page as text. A page that echoes a token
/// shows it redacted.
fn words(x: &Exchange) -> Option<String> {
    let page = x.page.as_deref()?;
    let text = super::sanitize::jwts(&crate::knowledge::idp::page_text(page));
    if let Some((code, desc)) = oauth_error(&text) {
        return Some(if desc.is_empty() {
            code
        } else {
            format!("{code}: {desc}")
        });
    }
    let from = SENTENCES
        .iter()
        .find_map(|s| text.find(s))
        .map(|i| &text[i..])
        .unwrap_or(&text);
    let line = from.lines().map(str::trim).find(|l| !l.is_empty())?;
    Some(line.chars().take(300).collect())
}

/// A hop whose answer is not a redirect or page the login goes on from: its failure row, with
/// the knowledge base's reading of the page's words as cause and remedy.
pub fn failed_row(id: CheckId, x: &Exchange, what: &str) -> Check {
    if x.status <= 0 {
        let f = x.failure.clone().unwrap_or_else(|| "no answer".into());
        let note = format!("{what}: the browser got no answer ({f})");
        return seen(id, x, Outcome::fail(failure_class(&f), f, note));
    }
    let status = u16::try_from(x.status).unwrap_or(0);
    let said = words(x);
    let note = format!(
        "{what}: {}{}",
        crate::probe::http::status_line(status),
        said.as_deref()
            .map(|w| format!(": {w}"))
            .unwrap_or_default()
    );
    let class = refusal_class(x).unwrap_or(Class::HttpStatus(status));
    let mut c = seen(
        id,
        x,
        Outcome::fail(class, said.clone().unwrap_or_default(), note),
    );
    if let Some(e) = said.and_then(|w| crate::explain::explain_line(&w, None)) {
        c.cause = e.causes.first().cloned();
        c.remedy = Some(e.remedy);
    }
    c
}

/// A refusal the page names in Dex's, an IdP's or Argo CD's own words.
fn refusal_class(x: &Exchange) -> Option<Class> {
    let page = x.page.as_deref()?;
    if page.contains("max number of cookies") {
        return Some(Class::CookieChunks);
    }
    if let Some((class, _)) = crate::knowledge::dex_pages::refusal(page.as_bytes()) {
        return Some(class);
    }
    let text = crate::knowledge::idp::page_text(page);
    if let Some(s) = crate::knowledge::idp::refusal_in(&text) {
        return Some(idp_class(s.cause));
    }
    oauth_error(&text)
        .map(|(code, desc)| idp_class(crate::knowledge::idp::cause_of_error(&code, &desc)))
}

fn idp_class(cause: crate::knowledge::idp::Cause) -> Class {
    use crate::knowledge::idp::Cause;
    match cause {
        Cause::RedirectUri => Class::IdpRedirectUri,
        Cause::UnknownClient => Class::IdpUnknownClient,
        Cause::Scope => Class::IdpScope,
        Cause::ResponseType => Class::IdpResponseType,
        Cause::ClientCredentials => Class::InvalidClient,
        _ => Class::IdpError,
    }
}

fn redirects(x: &Exchange) -> bool {
    (300..400).contains(&x.status) && x.location.is_some()
}

/// Where a redirect sends the browser (without its query).
pub fn redirect_target(x: &Exchange) -> String {
    x.location
        .as_deref()
        .and_then(|l| resolve(&x.url, l))
        .map(|u| endpoint(&u))
        .unwrap_or_default()
}

/// The app's login request.
fn start_row(x: &Exchange, provider: Option<&super::login::Authorize>) -> Check {
    let what = "the app's login";
    if !redirects(x) {
        return failed_row(CheckId::HarLogin, x, what);
    }
    let note = match provider {
        Some(p) => format!(
            "{what}: {} to {} (client_id {}, redirect_uri {})",
            x.status, p.endpoint, p.client_id, p.redirect_uri
        ),
        None => format!(
            "{what}: {} to {}, where the HAR ends",
            x.status,
            redirect_target(x)
        ),
    };
    seen(CheckId::HarLogin, x, Outcome::pass(note))
}

/// The rows of one login that reached the app's provider.
fn login_rows(xs: &[Exchange], l: &Login, export: Export) -> Vec<Check> {
    let mut out = Vec::new();
    match l.start {
        Some(s) => out.push(start_row(&xs[s], Some(&l.provider))),
        None => out.push(Check::new(
            CheckId::HarLogin,
            Outcome::unknown(
                "the HAR starts after the app's login request: record from the app's login button",
            ),
        )),
    }
    out.push(provider_row(xs, l));
    out.extend(super::after::upstream_rows(xs, l));
    out.extend(super::after::callback_rows(xs, l, export));
    out
}

/// The app's provider's authorization request (Dex's `/auth`).
fn provider_row(xs: &[Exchange], l: &Login) -> Check {
    let x = &xs[l.provider.at];
    let what = format!("Dex's authorize for client {}", l.provider.client_id);
    hop_row(CheckId::HarProvider, x, &what, || {
        if redirects(x) {
            format!("{} to {}", x.status, redirect_target(x))
        } else {
            format!("{}, its login page", x.status)
        }
    })
}

/// An answer the login goes on from: a redirect or a page that is no error and no refusal.
pub fn answered(x: &Exchange) -> bool {
    (200..400).contains(&x.status) && refusal_class(x).is_none()
}

/// The `error` a callback brought back instead of a code, as a row.
pub fn callback_error(id: CheckId, x: &Exchange, who: &str) -> Option<Check> {
    let code = param(&x.url, "error")?;
    let desc = param(&x.url, "error_description").unwrap_or_default();
    let class = idp_class(crate::knowledge::idp::cause_of_error(&code, &desc));
    let words = if desc.is_empty() {
        code.clone()
    } else {
        format!("{code}: {desc}")
    };
    let note = format!("{who} refused the login and sent the browser back with error={words}");
    Some(seen(id, x, Outcome::fail(class, words, note)))
}

/// How many logins succeeded at the app's callback and were followed by another login (or the
/// app's login page).
fn relogins(xs: &[Exchange], logins: &[Login], starts: &[usize]) -> usize {
    logins
        .iter()
        .filter_map(|l| l.callback)
        .filter(|&c| redirects(&xs[c]))
        // Both lists are in the browser's order: only their last can come after.
        .filter(|&c| {
            starts.last().is_some_and(|&s| s > c)
                || logins.last().is_some_and(|m| m.provider.at > c)
        })
        .count()
}

/// The login loops: the app's callback succeeded and the browser was sent to log in again; or a
/// redirect leaves https for http.
fn loop_row(xs: &[Exchange], logins: &[Login], starts: &[usize]) -> Option<Check> {
    let again = relogins(xs, logins, starts);
    let downgrade = xs.iter().find(|x| {
        redirects(x) && x.url.starts_with("https://") && redirect_target(x).starts_with("http://")
    });
    if again >= 2 {
        let last_done = logins
            .iter()
            .rev()
            .find_map(|l| l.callback.filter(|&c| redirects(&xs[c])))?;
        let x = &xs[last_done];
        let note = format!(
            "the login loops: the app's callback answered {again} times and each time the browser was sent to log in again (a session cookie the browser did not keep or send back)"
        );
        return Some(seen(
            CheckId::HarLoop,
            x,
            Outcome::fail(Class::RedirectLoop, "", note),
        ));
    }
    if let Some(x) = downgrade {
        let note = format!(
            "{} redirects from https to http ({}): cookies marked Secure are not sent there",
            hop(x),
            redirect_target(x)
        );
        let mut c = seen(CheckId::HarLoop, x, Outcome::pass(note));
        c.status = Status::Warn;
        return Some(c);
    }
    None
}

fn slow_row(xs: &[Exchange]) -> Option<Check> {
    let x = xs
        .iter()
        .filter(|x| x.time_ms > SLOW_MS)
        .max_by(|a, b| a.time_ms.total_cmp(&b.time_ms))?;
    let note = format!(
        "{} took {:.1} s: slow enough for a user to give up, or for the login's state to expire",
        hop(x),
        x.time_ms / 1000.0
    );
    let mut c = seen(CheckId::HarSlow, x, Outcome::pass(note));
    c.status = Status::Warn;
    Some(c)
}

/// The servers' clocks, from their `Date` headers against when the browser got each answer:
/// one figure per origin (its median), compared with each other.
fn clock_row(xs: &[Exchange]) -> Option<Check> {
    let mut by: std::collections::BTreeMap<String, Vec<i64>> = Default::default();
    for x in xs {
        if let (Some(d), Some(t)) = (x.date_s, x.started_ms) {
            let got = (t + x.time_ms as i64) / 1000;
            by.entry(origin(&x.url)).or_default().push(d - got);
        }
    }
    let ahead: Vec<(String, i64)> = by
        .into_iter()
        .map(|(o, mut v)| {
            v.sort_unstable();
            (o, v[v.len() / 2])
        })
        .collect();
    if ahead.len() < 2 {
        return None;
    }
    let min = ahead.iter().min_by_key(|(_, a)| *a)?;
    let max = ahead.iter().max_by_key(|(_, a)| *a)?;
    let apart = max.1 - min.1;
    let note = format!(
        "{} origins answered with a Date; the furthest apart: {} is {apart} s ahead of {}",
        ahead.len(),
        max.0,
        min.0
    );
    let mut c = noted(CheckId::HarClock, Outcome::pass(note));
    if apart > SKEW_S {
        c.status = Status::Warn;
        c.class = Some(Class::ClockSkew);
        c.remedy = Some(
            "Sync the servers' clocks (NTP): a token issued by a clock ahead of its verifier's is \"issued in the future\", one behind is expired early".into(),
        );
    }
    Some(c)
}
