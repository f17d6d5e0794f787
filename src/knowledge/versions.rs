//! Releases, for the rules that changed upstream: a version as an operator gives it
//! (`--app-version 2.4.7`) or as a pod's image names it (`quay.io/argoproj/argocd:v2.4.7`), and
//! the windows in which a rule held.

use std::fmt;

/// A release: `MAJOR.MINOR.PATCH`, with what followed it (`-rc1`, `+97e31db`, `-distroless`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
    /// A build from a commit (`+97e31db`) or a pre-release (`-rc1`): not a published release.
    pub unreleased: bool,
    /// As given.
    pub text: String,
}

impl Version {
    /// `2.4.7`, `v2.4.7`, `v3.5.0+97e31db`, `v2.45.1-distroless`, or an image reference ending
    /// in such a tag; `None` for `latest`, a digest, or anything else.
    pub fn parse(given: &str) -> Option<Version> {
        let given = given.trim();
        let tag = match given.rsplit_once(':') {
            Some((repo, tag)) if !repo.contains('@') && !tag.contains('/') => tag,
            _ => given,
        };
        let v = tag.strip_prefix('v').unwrap_or(tag);
        let end = v
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(v.len());
        let (nums, rest) = v.split_at(end);
        let mut parts = nums.split('.').map(str::parse::<u32>);
        let major = parts.next()?.ok()?;
        let minor = parts.next()?.ok()?;
        let patch = parts.next().unwrap_or(Ok(0)).ok()?;
        Some(Version {
            major,
            minor,
            patch,
            unreleased: rest.starts_with('+') || rest.starts_with("-rc"),
            text: given.to_string(),
        })
    }

    fn triple(&self) -> (u32, u32, u32) {
        (self.major, self.minor, self.patch)
    }

    /// Whether this is `from` or later and before `until` (each `(major, minor, patch)`).
    pub fn within(&self, from: (u32, u32, u32), until: (u32, u32, u32)) -> bool {
        (from..until).contains(&self.triple())
    }

    pub fn before(&self, until: (u32, u32, u32)) -> bool {
        self.triple() < until
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// The releases a line's explanation may depend on: the app's and Dex's, where known.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Versions {
    pub app: Option<Version>,
    pub dex: Option<Version>,
}

/// Argo CD 2.3.6 and 2.4.5–2.4.7 checked the login state's return URL against `url` alone, so
/// the base href `"/"` failed (`verifyAppState`, the GHSA-pmjg-52h9-72qv fix; the base href was
/// allowed again by argo-cd#10116 in 2.3.7, 2.4.8 and 2.5.0).
pub fn argocd_rejects_base_href(v: &Version) -> bool {
    v.within((2, 3, 6), (2, 3, 7)) || v.within((2, 4, 5), (2, 4, 8))
}

/// `additionalUrls` in argocd-cm counts from Argo CD 2.13 (argo-cd#18927); older releases
/// accept `url` alone.
pub const ARGOCD_ADDITIONAL_URLS: (u32, u32, u32) = (2, 13, 0);

/// Dex reads a static client's `idEnv` from 2.23 (cmd/dex/serve.go); 2.22 and older ignore it
/// and register the client with an empty id.
pub const DEX_ID_ENV: (u32, u32, u32) = (2, 23, 0);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_read_as_given_or_from_an_image() {
        let v = Version::parse("quay.io/argoproj/argocd:v2.4.7").unwrap();
        assert_eq!((v.major, v.minor, v.patch, v.unreleased), (2, 4, 7, false));
        let v = Version::parse("v3.5.0+97e31db").unwrap();
        assert_eq!((v.major, v.minor, v.patch, v.unreleased), (3, 5, 0, true));
        let v = Version::parse("ghcr.io/dexidp/dex:v2.45.1-distroless").unwrap();
        assert_eq!((v.minor, v.unreleased), (45, false));
        assert_eq!(Version::parse("registry:5000/dex:2.22").unwrap().minor, 22);
        assert!(Version::parse("dex:latest").is_none());
        assert!(Version::parse("registry:5000/dex@sha256:abc").is_none());
        assert!(Version::parse("").is_none());
    }

    #[test]
    fn the_base_href_regression_held_in_four_releases() {
        let r = |s: &str| argocd_rejects_base_href(&Version::parse(s).unwrap());
        assert!(r("2.4.7") && r("v2.4.5") && r("2.3.6"));
        assert!(!r("2.4.8") && !r("2.3.7") && !r("2.4.4") && !r("2.5.0"));
    }
}
