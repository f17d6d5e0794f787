//! Offline rules about the upstream IdP, for every connector: the issuer in the form its family
//! publishes (`idp.issuer`), and what Dex's connector type needs (`idp.connector`).

use super::{Check, CheckId};
use crate::app::App;
use crate::knowledge::{connectors, idp};
use crate::plan::predict::{Outcome, Status};
use crate::probe::class::Class;
use crate::setup::{Connector, Setup};

fn warn(class: Class, note: String) -> Outcome {
    Outcome {
        status: Status::Warn,
        class: Some(class),
        go_error: None,
        note,
    }
}

/// Both rules for the first connector that has an upstream.
pub fn checks(setup: &Setup) -> Vec<Check> {
    let several = setup.several_connectors();
    setup
        .connectors
        .iter()
        .flat_map(|c| {
            issuer(c)
                .into_iter()
                .chain(connector(c, setup.app))
                .map(move |check| check.for_connector(&c.id, several))
        })
        .collect()
}

/// The callback Dex sends the IdP: the connector's `redirectURI` (or, where the app overwrites
/// it, issuer + `/callback`), and where the IdP's family registers it.
pub fn callback(
    setup: &Setup,
    eps: Option<&crate::plan::endpoints::Endpoints>,
) -> Option<super::Callback> {
    let c = setup.connectors.iter().find(|c| {
        connectors::of(&c.kind).is_some_and(connectors::Type::has_callback)
            && !connectors::token_exchange_only(c)
    })?;
    let eps = eps.filter(|e| e.connector_callback.contains("://"))?;
    let url = match &c.config.redirect_uri {
        Some(r) if !setup.app.overwrites_redirect_uri(&c.kind) => r.clone(),
        _ => eps.connector_callback.clone(),
    };
    let issuer = c.config.issuer.as_deref().unwrap_or("");
    Some(super::Callback {
        url,
        register_at: idp::register_at(issuer, &c.kind),
    })
}

/// A rule's verdict: what is wrong (or right), and the issuer to use instead.
struct Verdict {
    outcome: Outcome,
    fix: Option<String>,
}

fn ok(note: String) -> Verdict {
    Verdict {
        outcome: Outcome::pass(note),
        fix: None,
    }
}

fn wrong(note: String, fix: String) -> Verdict {
    Verdict {
        outcome: Outcome::fail(Class::IssuerForm, String::new(), note),
        fix: Some(fix),
    }
}

fn issuer(c: &Connector) -> Option<Check> {
    issuer_form(
        c.config.issuer.as_deref().filter(|_| c.kind == "oidc")?,
        &c.kind,
    )
}

/// The issuer against the form its IdP family publishes (for Dex's `oidc` connector, or for
/// Argo CD's own OIDC client).
pub(super) fn issuer_form(issuer: &str, kind: &str) -> Option<Check> {
    let url = url::Url::parse(issuer).ok()?;
    let fam = idp::family_of(issuer, kind).or_else(|| idp::family_guess(issuer))?;
    let host = url.host_str().unwrap_or("").to_ascii_lowercase();
    let path = url.path();
    let v = match fam.id {
        "cognito" => cognito(issuer),
        "entra" => entra(&host, path),
        "google" => exact(issuer, "https://accounts.google.com", "Google"),
        "keycloak" => keycloak(issuer, path),
        "auth0" if !issuer.ends_with('/') => wrong(
            "Auth0's discovery names its issuer with a trailing slash (https://TENANT.auth0.com/), and go-oidc compares byte for byte".into(),
            format!("{issuer}/"),
        ),
        "okta" => okta(issuer, path),
        _ => ok(format!("{} issuer {issuer}", fam.name)),
    };
    let mut check = Check::new(CheckId::IdpIssuer, v.outcome)
        .url(issuer)
        .title(format!("issuer in {}'s published form", fam.name));
    if let Some(fix) = v.fix {
        check.expected = Some(fix.clone());
        check.actual = Some(issuer.to_string());
        check = check.remedy(Some(format!("Set the connector's issuer to {fix}")));
    }
    if check.status == Status::Fail {
        check.error = Some(format!(
            "oidc: issuer did not match the issuer returned by provider (configured {issuer:?})"
        ));
    }
    Some(check)
}

fn exact(issuer: &str, want: &str, name: &str) -> Verdict {
    if issuer == want {
        ok(format!("{name}'s issuer is exactly {want}"))
    } else {
        wrong(
            format!(
                "{name}'s discovery names its issuer {want}, and go-oidc compares byte for byte"
            ),
            want.into(),
        )
    }
}

/// A placeholder as the seed writes it (`REGION`, `USER-POOL-ID`): capitals, digits, `-`, `_`.
fn placeholder(s: &str) -> bool {
    !s.is_empty()
        && s.chars().any(|c| c.is_ascii_uppercase())
        && s.chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

fn aws_region(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() >= 3
        && parts[0].len() == 2
        && parts.iter().all(|p| {
            p.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        })
        && parts.last().is_some_and(|p| p.parse::<u8>().is_ok())
}

/// `https://cognito-idp.<region>.amazonaws.com/<region>_<id>`: the pool's region in the host and
/// in the pool id, no trailing slash; never the hosted UI domain. Read from the issuer as written
/// (a parsed host is lower-cased, and the seed's placeholders are capitals).
fn cognito(issuer: &str) -> Verdict {
    const FORM: &str = "https://cognito-idp.<region>.amazonaws.com/<user-pool-id>";
    let Some(rest) = issuer.strip_prefix("https://") else {
        return wrong("Cognito's issuer is https".into(), FORM.into());
    };
    let (host, pool) = rest.split_once('/').unwrap_or((rest, ""));
    if host.to_ascii_lowercase().ends_with(".amazoncognito.com") {
        return wrong(
            format!("{host} is the user pool's hosted UI domain; Cognito's issuer is {FORM}"),
            FORM.into(),
        );
    }
    let Some(region) = host
        .strip_prefix("cognito-idp.")
        .and_then(|h| h.strip_suffix(".amazonaws.com"))
        .filter(|r| aws_region(r) || placeholder(r))
    else {
        return wrong(
            format!("{host} is not cognito-idp.<region>.amazonaws.com"),
            FORM.into(),
        );
    };
    if pool.is_empty() || pool.contains('/') {
        let p = pool.trim_end_matches('/');
        return wrong(
            "the issuer's path must be the user pool id alone, with no trailing slash".into(),
            format!(
                "https://{host}/{}",
                if p.is_empty() { "<user-pool-id>" } else { p }
            ),
        );
    }
    let holders: Vec<&str> = [
        placeholder(region).then_some("the region"),
        placeholder(pool).then_some("the user pool id"),
    ]
    .into_iter()
    .flatten()
    .collect();
    if !holders.is_empty() {
        return ok(format!(
            "Cognito's form {FORM}; {} in {issuer} are placeholders to fill in",
            holders.join(" and ")
        ));
    }
    match pool.split_once('_') {
        Some((r, id)) if r == region && !id.is_empty() => ok(format!(
            "Cognito user pool {pool} in {region}, in the form {FORM}"
        )),
        Some((r, _)) => wrong(
            format!("the user pool {pool} lives in {r}, but the issuer's host names {region}"),
            format!("https://cognito-idp.{r}.amazonaws.com/{pool}"),
        ),
        None => wrong(
            format!("{pool} is not a user pool id (<region>_<id>, e.g. {region}_AbC123)"),
            FORM.into(),
        ),
    }
}

/// Entra ID: v2.0 `https://login.microsoftonline.com/<tenant-id>/v2.0`; v1's discovery names
/// `https://sts.windows.net/<tenant-id>/`; the multi-tenant names publish `{tenantid}`.
fn entra(host: &str, path: &str) -> Verdict {
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    let tenant = segs.first().copied().unwrap_or("");
    let v2 = format!("https://login.microsoftonline.com/{tenant}/v2.0");
    if matches!(tenant, "common" | "organizations" | "consumers") {
        return wrong(
            format!(
                "the {tenant} endpoint's discovery names its issuer https://login.microsoftonline.com/{{tenantid}}/v2.0, literally, so go-oidc never matches it (dexidp/dex#1110); use your tenant id, or Dex's microsoft connector for several tenants"
            ),
            "https://login.microsoftonline.com/<tenant-id>/v2.0".into(),
        );
    }
    if host == "sts.windows.net" {
        return Verdict {
            outcome: warn(
                Class::IssuerForm,
                format!(
                    "the v1.0 issuer form: tokens come from the v1.0 endpoint; the v2.0 issuer is {v2}"
                ),
            ),
            fix: Some(v2),
        };
    }
    match segs.as_slice() {
        [_, "v2.0"] if !path.ends_with('/') => {
            ok(format!("Entra ID v2.0 issuer of tenant {tenant}"))
        }
        [_, "v2.0"] => wrong(
            "the v2.0 discovery names its issuer without a trailing slash".into(),
            v2,
        ),
        [_] => wrong(
            format!(
                "without /v2.0 the discovery at this address names the v1.0 issuer https://sts.windows.net/{tenant}/, so go-oidc reports an issuer mismatch (Azure/ARO-RP#1611)"
            ),
            v2,
        ),
        _ => wrong(format!("{path} is not /<tenant-id>/v2.0"), v2),
    }
}

/// Keycloak: `/realms/<realm>` (or the legacy `/auth/realms/<realm>`), nothing after.
fn keycloak(issuer: &str, path: &str) -> Verdict {
    let Some(at) = path.find("/realms/") else {
        return ok(format!("issuer {issuer}"));
    };
    let realm_and_rest = &path[at + "/realms/".len()..];
    let realm = realm_and_rest.split('/').next().unwrap_or("");
    let base = &issuer[..issuer.find("/realms/").unwrap_or(0)];
    let want = format!("{base}/realms/{realm}");
    if realm.is_empty() || issuer != want {
        return wrong(
            "Keycloak's issuer is …/realms/<realm> with nothing after it (no /protocol/openid-connect, no trailing slash)".to_string(),
            want,
        );
    }
    let legacy = path.starts_with("/auth/realms/");
    ok(format!(
        "Keycloak realm {realm}{}",
        if legacy {
            " (the legacy /auth prefix: Keycloak before 17, or --http-relative-path=/auth)"
        } else {
            ""
        }
    ))
}

/// Okta: the org authorization server (`https://<org>.okta.com`) or a custom one
/// (`/oauth2/<id>`, e.g. `default`), no trailing slash.
fn okta(issuer: &str, path: &str) -> Verdict {
    let p = path.trim_end_matches('/');
    let fine = p.is_empty() || (p.starts_with("/oauth2/") && p.matches('/').count() == 2);
    match (fine, issuer.ends_with('/')) {
        (true, false) => ok(format!("Okta authorization server {issuer}")),
        (true, true) => wrong(
            "Okta's issuer has no trailing slash".into(),
            issuer.trim_end_matches('/').into(),
        ),
        (false, _) => wrong(
            format!(
                "{path} is neither Okta's org authorization server nor /oauth2/<authorization-server-id>"
            ),
            issuer
                .split("/oauth2/")
                .next()
                .map(|b| format!("{}/oauth2/default", b.trim_end_matches('/')))
                .unwrap_or_default(),
        ),
    }
}

/// One thing a connector lacks: how bad, what, and the fix.
type Problem = (Status, String, String);

/// What Dex's connector types need: what the app and Dex refuse (the connector-type table),
/// the client a login connector needs, and the type's own pitfalls.
fn connector(c: &Connector, app: App) -> Option<Check> {
    let t = connectors::of(&c.kind)?;
    let overwritten = app.overwrites_redirect_uri(&c.kind);
    if overwritten && !c.config_is_map {
        // util/dex/config.go (Argo CD), authenticator client/k8sClient.go (Devtron)
        let problem = (
            Status::Fail,
            format!(
                "{} refuses the whole Dex config: \"malformed Dex configuration found\" (it fills in redirectURI for type {} and finds no config mapping)",
                app.name(),
                c.kind
            ),
            "give the connector a config: mapping".to_string(),
        );
        return Some(connector_check(c, vec![problem], None));
    }
    // Dex sees the config as the app hands it over: redirectURI filled in where it overwrites.
    let mut seen = c.clone();
    if overwritten {
        seen.fields
            .insert("redirectURI".into(), "(filled in by the app)".into());
    }
    let mut problems = refusals(&seen, t, app);
    if connectors::token_exchange_only(c) {
        return Some(connector_check(
            c,
            problems,
            Some(
                "serves token exchange only (no clientID or clientSecret, by design): no browser login through it",
            ),
        ));
    }
    if matches!(t.login, connectors::Login::Callback(_)) {
        client_problems(c, &mut problems);
    }
    type_problems(c, &mut problems);
    Some(connector_check(c, problems, None))
}

/// What Dex refuses when it opens the connector, as the Dex the app ships meets it.
fn refusals(c: &Connector, t: &connectors::Type, app: App) -> Vec<Problem> {
    let dex = app.profile().dex_version;
    let after = if dex >= (2, 45, 0) {
        "every login through it shows \"Connector failed to initialize\""
    } else {
        "Dex does not start"
    };
    t.refusals
        .iter()
        .filter_map(|r| (r.check)(c).map(|e| (r, e)))
        .map(|(r, error)| {
            if r.applies_to(dex) {
                // An error while Dex parses its config stops Dex, whatever its version.
                let (what, after) = if error.starts_with("parse connector config") {
                    ("Dex cannot parse its config", "Dex does not start")
                } else {
                    ("Dex cannot open it", after)
                };
                return (
                    Status::Fail,
                    format!("{what}: {error:?} ({}): {after}", t.source),
                    r.fix.to_string(),
                );
            }
            let (major, minor) = r.since.unwrap_or_default();
            (
                Status::Warn,
                format!(
                    "the Dex {} ships (v{}.{}.{}) accepts this, but Dex v{major}.{minor} and later cannot open it: {error:?}",
                    app.name(),
                    dex.0,
                    dex.1,
                    dex.2
                ),
                r.fix.to_string(),
            )
        })
        .collect()
}

/// A login connector's client: the id and secret the IdP issued.
fn client_problems(c: &Connector, problems: &mut Vec<Problem>) {
    let mut add = |s: Status, what: &str, fix: &str| problems.push((s, what.into(), fix.into()));
    if !c.has("clientID") {
        add(
            Status::Fail,
            "clientID is missing",
            "set clientID to the client id the IdP issued",
        );
    }
    if !c.has("clientSecret") {
        add(
            Status::Fail,
            "clientSecret is missing",
            "set clientSecret to the client secret's value the IdP issued",
        );
    }
}

/// Pitfalls of one type that Dex accepts without a word.
fn type_problems(c: &Connector, problems: &mut Vec<Problem>) {
    let cfg = &c.config;
    let mut add = |s: Status, what: &str, fix: &str| problems.push((s, what.into(), fix.into()));
    let groups_mapped = cfg.claim_mapping.contains_key("groups");
    match c.kind.as_str() {
        "oidc" if cfg.issuer.as_deref().is_none_or(str::is_empty) => {
            add(
                Status::Fail,
                "issuer is missing",
                "set issuer to the IdP's issuer URL (its discovery's issuer)",
            );
        }
        "oidc" if groups_mapped && cfg.insecure_enable_groups != Some(true) => add(
            Status::Warn,
            "claimMapping.groups is read only with insecureEnableGroups: true; without it Dex drops the groups",
            "add insecureEnableGroups: true to the connector's config",
        ),
        "microsoft"
            if matches!(
                cfg.tenant.as_deref().unwrap_or("common"),
                "common" | "organizations" | "consumers"
            ) && cfg.groups.is_some() =>
        {
            add(
                Status::Warn,
                "tenant common (or organizations, consumers) with groups: Dex fetches groups only for one tenant, and skips them without a word (dexidp/website#143)",
                "set tenant to your tenant id",
            )
        }
        "google" if cfg.groups.is_some() && cfg.service_account_file_path.is_none() => add(
            Status::Fail,
            "groups need a service account for Google's Admin SDK",
            "set serviceAccountFilePath and domainToAdminEmail",
        ),
        "github" if cfg.orgs.is_none() && cfg.load_all_groups != Some(true) => add(
            Status::Warn,
            "no orgs: any GitHub user can sign in, and no groups come with them",
            "list the allowed orgs (and teams) under orgs",
        ),
        "gitlab"
            if cfg
                .base_url
                .as_deref()
                .is_some_and(|b| !b.starts_with("https://")) =>
        {
            add(
                Status::Warn,
                "baseURL is not https",
                "give baseURL as https://HOST of the GitLab instance",
            )
        }
        _ => {}
    }
}

fn connector_check(c: &Connector, problems: Vec<Problem>, fine: Option<&str>) -> Check {
    let worst = problems.iter().map(|p| p.0).max().unwrap_or(Status::Pass);
    let what = problems
        .iter()
        .map(|p| p.1.as_str())
        .collect::<Vec<_>>()
        .join("; ");
    let fix = problems
        .iter()
        .map(|p| p.2.as_str())
        .collect::<Vec<_>>()
        .join("; ");
    let note = format!("connector {:?} (type {}): {what}", c.id, c.kind);
    let outcome = match worst {
        Status::Pass => Outcome::pass(format!(
            "connector {:?} (type {}) {}",
            c.id,
            c.kind,
            fine.unwrap_or("has what its type needs")
        )),
        Status::Fail => Outcome::fail(Class::ConnectorField, String::new(), note),
        _ => warn(Class::ConnectorField, note),
    };
    let mut check = Check::new(CheckId::IdpConnector, outcome);
    check.error = None;
    check.remedy(Some(format!("In connector {:?}: {fix}", c.id)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(iss: &str) -> (Status, Option<String>, String) {
        let text = format!(
            "connectors:\n- type: oidc\n  id: up\n  name: Up\n  config:\n    issuer: {iss}\n    clientID: c\n    clientSecret: s\n"
        );
        let setup = crate::setup::load_str(
            "t.yaml",
            &text,
            Some("http://127.0.0.1:1/orchestrator"),
            None,
        )
        .unwrap();
        let c = issuer(&setup.connectors[0]).expect("an idp.issuer check");
        (c.status, c.expected, c.message)
    }

    #[test]
    fn cognito_issuer_form() {
        let good = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123xyZ";
        assert_eq!(rule(good).0, Status::Pass);
        let (s, _, m) = rule("https://cognito-idp.REGION.amazonaws.com/USER-POOL-ID");
        assert_eq!(s, Status::Pass, "{m}");
        assert!(m.contains("placeholders"), "{m}");
        let (s, fix, _) = rule("https://cognito-idp.eu-west-1.amazonaws.com/us-east-1_AbC");
        assert_eq!(s, Status::Fail);
        assert_eq!(
            fix.as_deref(),
            Some("https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbC")
        );
        assert_eq!(rule(&format!("{good}/")).0, Status::Fail);
        let (s, _, m) = rule("https://acme.auth.eu-west-1.amazoncognito.com");
        assert_eq!(s, Status::Fail);
        assert!(m.contains("hosted UI"), "{m}");
    }

    #[test]
    fn entra_issuer_forms() {
        let tid = "72f988bf-86f1-41af-91ab-2d7cd011db47";
        assert_eq!(
            rule(&format!("https://login.microsoftonline.com/{tid}/v2.0")).0,
            Status::Pass
        );
        let (s, fix, m) = rule(&format!("https://login.microsoftonline.com/{tid}"));
        assert_eq!(s, Status::Fail);
        assert!(m.contains("sts.windows.net"), "{m}");
        assert_eq!(
            fix,
            Some(format!("https://login.microsoftonline.com/{tid}/v2.0"))
        );
        let (s, _, m) = rule("https://login.microsoftonline.com/common/v2.0");
        assert_eq!(s, Status::Fail);
        assert!(m.contains("{tenantid}"), "{m}");
        assert_eq!(
            rule(&format!("https://sts.windows.net/{tid}/")).0,
            Status::Warn
        );
        assert_eq!(
            rule(&format!("https://login.microsoftonline.com/{tid}/v2.0/")).0,
            Status::Fail
        );
    }

    #[test]
    fn google_keycloak_okta_auth0_forms() {
        assert_eq!(rule("https://accounts.google.com").0, Status::Pass);
        assert_eq!(rule("https://accounts.google.com/").0, Status::Fail);
        assert_eq!(rule("https://kc.example/realms/main").0, Status::Pass);
        let (s, _, m) = rule("https://kc.example/auth/realms/main");
        assert_eq!(s, Status::Pass);
        assert!(m.contains("legacy"), "{m}");
        let (s, fix, _) = rule("https://kc.example/realms/main/protocol/openid-connect");
        assert_eq!(s, Status::Fail);
        assert_eq!(fix.as_deref(), Some("https://kc.example/realms/main"));
        assert_eq!(rule("https://acme.okta.com/oauth2/default").0, Status::Pass);
        assert_eq!(rule("https://acme.okta.com").0, Status::Pass);
        assert_eq!(
            rule("https://acme.okta.com/oauth2/default/").0,
            Status::Fail
        );
        assert_eq!(rule("https://acme.eu.auth0.com/").0, Status::Pass);
        assert_eq!(rule("https://acme.eu.auth0.com").0, Status::Fail);
    }

    #[test]
    fn connector_fields() {
        let load = |cfg: &str| {
            let text = format!("connectors:\n- type: oidc\n  id: up\n  name: Up\n  config:\n{cfg}");
            let s = crate::setup::load_str(
                "t.yaml",
                &text,
                Some("http://127.0.0.1:1/orchestrator"),
                None,
            )
            .unwrap();
            connector(&s.connectors[0], s.app).unwrap()
        };
        let c = load("    issuer: https://idp.example\n    clientID: c\n    clientSecret: s\n");
        assert_eq!(c.status, Status::Pass);
        let c = load(
            "    issuer: https://idp.example\n    clientID: c\n    clientSecret: s\n    claimMapping:\n      groups: cognito:groups\n",
        );
        assert_eq!(c.status, Status::Warn);
        assert!(c.remedy.unwrap().contains("insecureEnableGroups: true"));
        let c = load("    issuer: https://idp.example\n    clientSecret: s\n");
        assert_eq!(c.status, Status::Fail);
        assert!(c.message.contains("clientID is missing"), "{}", c.message);
    }
}
