//! The logins in a HAR, found by the protocol rather than by any app's paths: an OAuth 2.0
//! authorization request is a request with `client_id`, `redirect_uri` and `response_type`; its
//! callback is the first later request to that `redirect_uri`. The outermost authorization
//! request of a login is the app's provider's (Dex's, or the IdP's with Argo CD's direct OIDC);
//! one whose `redirect_uri` lies under that provider's issuer is the provider's own request to
//! the upstream IdP (Dex's connector). The login's start is the request that sent the browser to
//! the provider (the app's `/auth/login`), its landing the page the app's callback sends it to.

use super::entry::Exchange;

/// An authorization request, as the browser sent it.
#[derive(Debug, Clone)]
pub struct Authorize {
    /// Its position in the exchanges.
    pub at: usize,
    /// Scheme, host, port and path: the authorization endpoint.
    pub endpoint: String,
    pub client_id: String,
    pub redirect_uri: String,
    pub state: Option<String>,
    pub nonce: Option<String>,
}

impl Authorize {
    /// The provider's issuer, as its authorization endpoint tells (`…/api/dex` for `…/api/dex/auth`).
    pub fn issuer(&self) -> &str {
        self.endpoint
            .rsplit_once('/')
            .map(|(p, _)| p)
            .unwrap_or(&self.endpoint)
    }
}

/// One login, hop by hop (positions in the exchanges).
#[derive(Debug, Clone)]
pub struct Login {
    /// The request that sent the browser to the provider (the app's `/auth/login`).
    pub start: Option<usize>,
    /// The app's provider's authorization request (Dex's `/auth`).
    pub provider: Authorize,
    /// The provider's connector hop (Dex's `/auth/<connector>`, its login form).
    pub connector: Option<usize>,
    /// The provider's own authorization request at the upstream IdP.
    pub upstream: Option<Authorize>,
    /// Requests to the upstream IdP between its authorization and its callback (its sign-in).
    pub signin: Vec<usize>,
    /// The upstream IdP's callback to the provider (Dex's `/callback`).
    pub upstream_callback: Option<usize>,
    /// The provider's callback to the app (the app's `/auth/callback`).
    pub callback: Option<usize>,
    /// The page the app's callback sent the browser to.
    pub landing: Option<usize>,
}

impl Login {
    /// The last hop of this login the HAR holds.
    pub fn last(&self) -> usize {
        [
            self.landing,
            self.callback,
            self.upstream_callback,
            self.signin.last().copied(),
            self.upstream.as_ref().map(|u| u.at),
            self.connector,
            Some(self.provider.at),
        ]
        .into_iter()
        .flatten()
        .max()
        .unwrap_or(self.provider.at)
    }
}

/// `scheme://host[:port]/path` of a URL, without its query and fragment.
pub fn endpoint(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) => {
            u.set_query(None);
            u.set_fragment(None);
            u.to_string()
        }
        Err(_) => url.split(['?', '#']).next().unwrap_or(url).to_string(),
    }
}

/// A query parameter of a URL, decoded.
pub fn param(url: &str, name: &str) -> Option<String> {
    let u = url::Url::parse(url).ok()?;
    u.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// `location` resolved against the URL of the answer that sent it.
pub fn resolve(base: &str, location: &str) -> Option<String> {
    url::Url::parse(base)
        .ok()?
        .join(location)
        .ok()
        .map(|u| u.to_string())
}

/// The origin of a URL (`https://host:port`).
pub fn origin(url: &str) -> String {
    url::Url::parse(url)
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_default()
}

fn authorize(at: usize, x: &Exchange) -> Option<Authorize> {
    let client_id = param(&x.url, "client_id")?;
    let redirect_uri = param(&x.url, "redirect_uri")?;
    param(&x.url, "response_type")?;
    Some(Authorize {
        at,
        endpoint: endpoint(&x.url),
        client_id,
        redirect_uri,
        state: param(&x.url, "state"),
        nonce: param(&x.url, "nonce"),
    })
}

/// Every login in `xs` (in the order the browser made them).
pub fn logins(xs: &[Exchange]) -> Vec<Login> {
    let mut out: Vec<Login> = Vec::new();
    for a in xs.iter().enumerate().filter_map(|(i, x)| authorize(i, x)) {
        // Dex's connector hop (`/auth/<connector>`) repeats the authorization's parameters.
        if let Some(l) = out.last()
            && a.client_id == l.provider.client_id
            && a.endpoint.starts_with(&format!("{}/", l.provider.endpoint))
        {
            continue;
        }
        if let Some(l) = out.last_mut()
            && l.upstream.is_none()
            && l.callback.is_none()
            && endpoint(&a.redirect_uri).starts_with(&format!("{}/", l.provider.issuer()))
        {
            l.upstream = Some(a);
            continue;
        }
        out.push(Login {
            start: None,
            provider: a,
            connector: None,
            upstream: None,
            signin: Vec::new(),
            upstream_callback: None,
            callback: None,
            landing: None,
        });
    }
    let bounds: Vec<usize> = out
        .iter()
        .skip(1)
        .map(|l| l.provider.at)
        .chain([xs.len()])
        .collect();
    let mut from = 0;
    for (l, until) in out.iter_mut().zip(bounds) {
        fill(l, xs, from, until);
        from = l.last() + 1;
    }
    out
}

/// The hops of `l` among `xs[from..until]`.
fn fill(l: &mut Login, xs: &[Exchange], from: usize, until: usize) {
    let p = l.provider.at;
    let first_after =
        |after: usize, want: &str| (after + 1..until).find(|&i| endpoint(&xs[i].url) == want);
    l.start = (from..p).rev().find(|&i| {
        xs[i]
            .location
            .as_deref()
            .and_then(|loc| resolve(&xs[i].url, loc))
            .is_some_and(|to| to == xs[p].url)
    });
    let connector_until = l.upstream.as_ref().map(|u| u.at).unwrap_or(until);
    let under = format!("{}/", l.provider.endpoint);
    l.connector = (p + 1..connector_until).find(|&i| endpoint(&xs[i].url).starts_with(&under));
    let mut after = p;
    if let Some(u) = &l.upstream {
        l.upstream_callback = first_after(u.at, &endpoint(&u.redirect_uri));
        let idp = origin(&u.endpoint);
        let end = l.upstream_callback.unwrap_or(until);
        l.signin = (u.at + 1..end)
            .filter(|&i| origin(&xs[i].url) == idp)
            .collect();
        after = l.upstream_callback.unwrap_or(u.at);
    }
    l.callback = first_after(after, &endpoint(&l.provider.redirect_uri));
    l.landing = l.callback.and_then(|c| {
        let to = resolve(&xs[c].url, xs[c].location.as_deref()?)?;
        (c + 1..until).find(|&i| xs[i].url == to)
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn x(url: &str, status: i64, location: Option<&str>) -> Exchange {
        Exchange {
            url: url.into(),
            status,
            location: location.map(String::from),
            ..Exchange::default()
        }
    }

    #[test]
    fn a_login_through_dex_is_found_hop_by_hop() {
        let app = "http://localhost:8080/orchestrator";
        let dex_auth = format!(
            "{app}/api/dex/auth?client_id=argo-cd&redirect_uri={app}/auth/callback&response_type=code&state=s1"
        );
        let idp_auth = format!(
            "http://idp.test/auth?client_id=dex&redirect_uri={app}/api/dex/callback&response_type=code&state=s2"
        );
        let xs = vec![
            x(&format!("{app}/"), 200, None),
            x(
                &format!("{app}/auth/login?return_url=x"),
                302,
                Some(&dex_auth),
            ),
            x(
                &dex_auth,
                302,
                Some("/orchestrator/api/dex/auth/oidc?state=s1"),
            ),
            x(
                &format!("{app}/api/dex/auth/oidc?state=s1"),
                302,
                Some(&idp_auth),
            ),
            x(&idp_auth, 200, None),
            x("http://idp.test/interaction/1/login", 303, None),
            x(
                &format!("{app}/api/dex/callback?code=c2&state=s2"),
                303,
                Some(&format!("{app}/auth/callback?code=c1&state=s1")),
            ),
            x(
                &format!("{app}/auth/callback?code=c1&state=s1"),
                303,
                Some("/orchestrator/dashboard"),
            ),
            x(&format!("{app}/dashboard"), 200, None),
        ];
        let ls = logins(&xs);
        assert_eq!(ls.len(), 1);
        let l = &ls[0];
        assert_eq!(l.start, Some(1));
        assert_eq!(l.provider.at, 2);
        assert_eq!(l.provider.issuer(), format!("{app}/api/dex"));
        assert_eq!(l.connector, Some(3));
        assert_eq!(l.upstream.as_ref().map(|u| u.at), Some(4));
        assert_eq!(l.signin, vec![5]);
        assert_eq!(l.upstream_callback, Some(6));
        assert_eq!(l.callback, Some(7));
        assert_eq!(l.landing, Some(8));
    }
}
