//! The second half of a login in a HAR, which no probe observes: the upstream IdP's
//! authorization and sign-in, its callback to Dex, the app's callback, and what the hops
//! together show (the `state` returned, the callback's host, the cookies kept and sent back).

use super::entry::{Exchange, SetCookie};
use super::login::{Login, origin, param};
use super::rows::{
    COOKIE_MAX, Export, NO_COOKIES, answered, callback_error, hop, hop_row, noted, redirect_target,
    seen,
};
use crate::diagnosis::{Check, CheckId};
use crate::plan::predict::{Outcome, Status};
use crate::probe::class::Class;

fn unknown(id: CheckId, note: impl Into<String>) -> Check {
    noted(id, Outcome::unknown(note))
}

/// The upstream IdP's authorization, the user's sign-in there, and its callback to Dex.
pub fn upstream_rows(xs: &[Exchange], l: &Login) -> Vec<Check> {
    let Some(u) = &l.upstream else {
        return Vec::new();
    };
    let x = &xs[u.at];
    let what = format!("the IdP's authorize for Dex's client {}", u.client_id);
    let mut out = vec![hop_row(CheckId::HarUpstream, x, &what, || {
        x.status.to_string()
    })];
    let Some(cb) = l.upstream_callback else {
        if answered(x) {
            let host = origin(&u.endpoint);
            out.push(unknown(
                CheckId::HarSignin,
                format!(
                    "the HAR ends at the IdP's sign-in ({host}, {} requests there): the user did not finish signing in, or the recording stopped before",
                    l.signin.len()
                ),
            ));
        }
        return out;
    };
    out.push(signin_row(xs, l));
    let y = &xs[cb];
    let what = "Dex's callback from the IdP";
    out.push(
        callback_error(CheckId::HarUpstreamCallback, y, "the IdP").unwrap_or_else(|| {
            hop_row(CheckId::HarUpstreamCallback, y, what, || {
                format!("{} to {}", y.status, redirect_target(y))
            })
        }),
    );
    out
}

fn signin_row(xs: &[Exchange], l: &Login) -> Check {
    let posted: Vec<&Exchange> = l
        .signin
        .iter()
        .map(|&i| &xs[i])
        .filter(|x| x.method == "POST")
        .collect();
    let password = posted.iter().any(|x| {
        x.form_fields
            .iter()
            .any(|f| f.to_ascii_lowercase().contains("pass"))
    });
    let note = format!(
        "{} requests at the IdP before its callback; {}",
        l.signin.len(),
        if password {
            "a sign-in form was posted (its values are not read)"
        } else {
            "no password form posted (a session at the IdP, or another sign-in method)"
        }
    );
    noted(CheckId::HarSignin, Outcome::pass(note))
}

/// The app's callback, the `state` each callback returned, the callback's host, the cookies.
pub fn callback_rows(xs: &[Exchange], l: &Login, export: Export) -> Vec<Check> {
    let mut out = Vec::new();
    out.extend(state_row(xs, l));
    out.extend(host_row(xs, l));
    let Some(cb) = l.callback else {
        return out;
    };
    let x = &xs[cb];
    let what = "the app's callback";
    let row = callback_error(CheckId::HarCallback, x, "Dex").unwrap_or_else(|| {
        hop_row(CheckId::HarCallback, x, what, || {
            let names: Vec<&str> = x.set.iter().map(|c| c.name.as_str()).collect();
            let set = if names.is_empty() {
                String::new()
            } else {
                format!(", setting {}", names.join(", "))
            };
            format!("{} to {}{set}", x.status, redirect_target(x))
        })
    });
    let ok = row.status == Status::Pass;
    out.push(row);
    out.push(cookies_row(xs, l, export));
    if ok {
        out.push(session_row(xs, l, export));
    }
    out
}

/// Each callback brought back the `state` its authorization request sent.
fn state_row(xs: &[Exchange], l: &Login) -> Option<Check> {
    let pairs = [
        (Some(&l.provider), l.callback, "the app's callback"),
        (l.upstream.as_ref(), l.upstream_callback, "Dex's callback"),
    ];
    let mut checked = 0;
    for (a, cb, name) in pairs {
        let (Some(a), Some(cb)) = (a, cb) else {
            continue;
        };
        let back = param(&xs[cb].url, "state");
        if back.is_none() && param(&xs[cb].url, "error").is_some() {
            continue;
        }
        checked += 1;
        if back != a.state {
            let note = format!(
                "{name} brought back another state than its authorize sent ({}): the callback belongs to another login (a second tab, a replayed URL, a proxy that rewrote it)",
                if back.is_none() {
                    "none"
                } else {
                    "a different value"
                }
            );
            return Some(seen(
                CheckId::HarState,
                &xs[cb],
                Outcome::fail(Class::State, "invalid state", note),
            ));
        }
    }
    (checked > 0).then(|| {
        noted(
            CheckId::HarState,
            Outcome::pass(format!(
                "{checked} of {checked} callbacks brought back their authorize's state unchanged (values not shown)"
            )),
        )
    })
}

/// The app's callback is on the host the login started on: cookies set at the start (the state
/// cookie) are sent only there.
fn host_row(xs: &[Exchange], l: &Login) -> Option<Check> {
    let start = &xs[l.start?];
    let began = origin(&start.url);
    let back = origin(&l.provider.redirect_uri);
    if began == back {
        return Some(noted(
            CheckId::HarCallbackHost,
            Outcome::pass(format!(
                "the login started on {began} and its callback is there too"
            )),
        ));
    }
    let note = format!(
        "the login started on {began}, but its redirect_uri sends the callback to {back}: cookies the login set on {began} (its state) are not sent to {back}, so the callback fails (argo-workflows#11268, concourse#2768)"
    );
    let mut c = seen(
        CheckId::HarCallbackHost,
        start,
        Outcome::fail(Class::State, "", note),
    );
    c.remedy = Some(format!(
        "Open the app at {back} (the URL its redirect_uri is built from), or set the app's URL to {began} where users open it"
    ));
    Some(c)
}

/// Every cookie the login's answers set, against what the browser keeps.
fn cookies_row(xs: &[Exchange], l: &Login, export: Export) -> Check {
    if export == Export::NoCookies {
        return unknown(CheckId::HarCookies, format!("not checked: {NO_COOKIES}"));
    }
    let set: Vec<(&Exchange, &SetCookie)> = (l.start.unwrap_or(l.provider.at)..=l.last())
        .map(|i| &xs[i])
        .flat_map(|x| x.set.iter().map(move |c| (x, c)))
        .filter(|(_, c)| !c.removes)
        .collect();
    for (x, c) in &set {
        if let Some(why) = refused_cookie(x, c) {
            let mut row = seen(
                CheckId::HarCookies,
                x,
                Outcome::fail(Class::Cookie, "", format!("{}: {why}", hop(x))),
            );
            row.remedy = Some(cookie_remedy(c));
            return row;
        }
    }
    let largest = set.iter().max_by_key(|(_, c)| c.size());
    let note = match largest {
        Some((_, c)) => format!(
            "{} set, each within the browser's limits; the largest, {}, {} bytes of {COOKIE_MAX}",
            crate::report::count(set.len(), "cookie", "cookies"),
            c.name,
            c.size()
        ),
        None => "no cookie set during the login".into(),
    };
    noted(CheckId::HarCookies, Outcome::pass(note))
}

/// Why the browser drops or refuses a cookie, if it does.
fn refused_cookie(x: &Exchange, c: &SetCookie) -> Option<String> {
    if c.size() > COOKIE_MAX {
        return Some(format!(
            "{} is {} bytes (name and value), over the browser's {COOKIE_MAX}: the browser drops it without a word, and the next request comes without it (argo-workflows#16744, argo-cd#25414)",
            c.name,
            c.size()
        ));
    }
    if c.secure && x.url.starts_with("http://") {
        return Some(format!(
            "{} is marked Secure but set by an http page: the browser refuses it",
            c.name
        ));
    }
    if c.same_site
        .as_deref()
        .is_some_and(|s| s.eq_ignore_ascii_case("none"))
        && !c.secure
    {
        return Some(format!(
            "{} has SameSite=None without Secure: the browser refuses it",
            c.name
        ));
    }
    None
}

fn cookie_remedy(c: &SetCookie) -> String {
    if c.size() > COOKIE_MAX {
        "Make the token smaller: fewer groups in its claims (a narrower groups filter or scope at the IdP or in Dex's connector), or an app release that splits its cookie".into()
    } else {
        "Serve the app over https (or unset the app's secure-cookie setting for plain http)".into()
    }
}

/// The session cookie the app's callback set: its chunks, and whether the next request sent it
/// back.
fn session_row(xs: &[Exchange], l: &Login, export: Export) -> Check {
    if export == Export::NoCookies {
        return unknown(CheckId::HarSession, format!("not checked: {NO_COOKIES}"));
    }
    let x = &xs[l.callback.unwrap_or(l.provider.at)];
    let set: Vec<&SetCookie> = x.set.iter().filter(|c| !c.removes).collect();
    if set.is_empty() {
        let mut c = seen(
            CheckId::HarSession,
            x,
            Outcome::fail(
                Class::Cookie,
                "",
                "the app's callback set no cookie: the browser has no session to send",
            ),
        );
        c.status = Status::Warn;
        return c;
    }
    let chunks = chunk_note(&set);
    let Some(landing) = l.landing.map(|i| &xs[i]) else {
        return unknown(
            CheckId::HarSession,
            format!("{chunks}; the HAR ends before the browser's next request to the app"),
        );
    };
    // The export recorded cookies (checked above): a request without them sent none.
    let lost: Vec<&str> = set
        .iter()
        .filter(|c| !landing.sent.contains(&c.name))
        .map(|c| c.name.as_str())
        .collect();
    if lost.is_empty() {
        return seen(
            CheckId::HarSession,
            landing,
            Outcome::pass(format!("{chunks}; sent back with {}", hop(landing))),
        );
    }
    let note = format!(
        "{chunks}; the browser did not send {} back with {}: it dropped or refused it",
        lost.join(", "),
        hop(landing)
    );
    seen(
        CheckId::HarSession,
        landing,
        Outcome::fail(Class::Cookie, "", note),
    )
}

/// The session cookies as one token: Argo CD's and Devtron's chunks (`name=N:…`, `name-1`, …).
fn chunk_note(set: &[&SetCookie]) -> String {
    let sizes = |cs: &[&SetCookie]| {
        cs.iter()
            .map(|c| c.value_len.to_string())
            .collect::<Vec<_>>()
            .join(" + ")
    };
    // A chunked cookie: its first chunk says `N:` (unless redacted), the others are `name-1`, ….
    let is_chunk_of = |c: &SetCookie, name: &str| {
        c.name
            .strip_prefix(name)
            .and_then(|r| r.strip_prefix('-'))
            .is_some_and(|i| i.parse::<usize>().is_ok())
    };
    let first = set
        .iter()
        .find(|c| c.chunks.is_some() || set.iter().any(|o| is_chunk_of(o, &c.name)));
    if let Some(first) = first {
        let parts: Vec<&SetCookie> = set
            .iter()
            .copied()
            .filter(|c| c.name == first.name || is_chunk_of(c, &first.name))
            .collect();
        let n = first.chunks.unwrap_or(parts.len());
        let total: usize = parts.iter().map(|c| c.value_len).sum();
        let missing = n.saturating_sub(parts.len());
        let tail = if missing > 0 {
            format!(", but {missing} of its {n} chunks were not set")
        } else {
            String::new()
        };
        return format!(
            "{} set in {n} chunks ({} bytes), read as one token of about {} bytes{tail}",
            first.name,
            sizes(&parts),
            total.saturating_sub(n.to_string().len() + 1)
        );
    }
    let names: Vec<String> = set
        .iter()
        .map(|c| format!("{} ({} bytes)", c.name, c.value_len))
        .collect();
    format!("set {}", names.join(", "))
}
