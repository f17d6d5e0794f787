//! Command-line definitions.

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::setup::App;

#[derive(Debug, Parser)]
#[command(
    name = "dexcheck",
    version,
    about = "Which network path breaks SSO through a Dex embedded behind an app's URL (Devtron, Argo CD), and what would work",
    args_conflicts_with_subcommands = true,
    after_help = "Exit codes: 0 every check passed (warnings allowed), 1 a check failed, 2 usage or input error, 3 could not run."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// With no subcommand, `check` runs.
    #[command(flatten)]
    pub check: CheckArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check an SSO configuration: the path matrix, the return-URL rule, what-if candidates.
    Check(Box<CheckArgs>),
    /// Run the bundled Dex-compatible reference OIDC provider.
    Serve(ServeArgs),
    /// Stand in for a whole Devtron install on loopback and check it live: the quickest tour.
    Demo(DemoArgs),
    /// Explain an error from a log: what failed, on which path, why, and the fix.
    Explain(ExplainArgs),
    /// Run the check every --interval and serve its metrics (/metrics) and /healthz.
    Watch(Box<WatchArgs>),
    /// Work with a browser's HAR of a login (sanitize: redact every secret so it can be shared).
    Har(HarArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff) to stdout: dexcheck man > dexcheck.1
    Man,
}

#[derive(Debug, Clone, Args)]
pub struct HarArgs {
    #[command(subcommand)]
    pub command: HarCommand,
}

#[derive(Debug, Clone, Subcommand)]
pub enum HarCommand {
    /// Write the HAR with every secret redacted (cookie values, Authorization, codes and tokens
    /// in URLs, forms and bodies, passwords, client secrets); names and sizes stay.
    Sanitize {
        /// The HAR file, or - for stdin.
        input: String,
    },
}

#[derive(Debug, Clone, Args)]
pub struct ExplainArgs {
    /// The error text (one or more lines), or - to read stdin. Quote it.
    pub text: Vec<String>,

    /// Read the last lines of the app and Dex pods' logs instead.
    #[arg(long, conflicts_with = "text")]
    pub from_cluster: bool,

    /// Log lines per pod with --from-cluster.
    #[arg(long, default_value = "300", value_name = "N")]
    pub tail: i64,

    /// Kubeconfig file (for --from-cluster).
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<std::path::PathBuf>,

    /// Kubeconfig context (for --from-cluster).
    #[arg(long, value_name = "NAME")]
    pub context: Option<String>,

    /// Namespace of the install (for --from-cluster).
    #[arg(short = 'n', long, value_name = "NAMESPACE")]
    pub namespace: Option<String>,

    /// Application (for --from-cluster): which pods to read.
    #[arg(long, value_enum, value_name = "APP", default_value = "devtron")]
    pub app: App,

    /// The release of the app that printed the text (2.4.7, v3.5.0): rules that changed
    /// upstream read it. With --from-cluster, the app pod's image tag unless given.
    #[arg(long, value_name = "VERSION")]
    pub app_version: Option<String>,

    /// The release of Dex (2.30.2, v2.45.0), as --app-version is the app's.
    #[arg(long, value_name = "VERSION")]
    pub dex_version: Option<String>,

    #[command(flatten)]
    pub print: PrintArgs,
}

#[derive(Debug, Clone, Args)]
pub struct WatchArgs {
    /// Address to serve /metrics and /healthz on.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:9477")]
    pub listen: std::net::SocketAddr,

    #[command(flatten)]
    pub check: CheckArgs,
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Issuer URL, any path prefix (e.g. http://127.0.0.1:5556/orchestrator/api/dex).
    #[arg(long, value_name = "URL")]
    pub issuer: Option<String>,

    /// A Dex config (issuer, staticClients, connectors) or Devtron's SSO connector YAML (then the
    /// issuer Devtron would derive from URL, federating through that connector).
    #[arg(long, value_name = "FILE")]
    pub config: Option<String>,

    /// Address to listen on (default: the issuer's port on 127.0.0.1).
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<std::net::SocketAddr>,

    /// Secret of the default client argo-cd (default argo-cd-secret).
    #[arg(
        long,
        value_name = "SECRET",
        env = "DEXCHECK_CLIENT_SECRET",
        hide_env_values = true
    )]
    pub client_secret: Option<String>,

    /// Another redirect URI for the default client argo-cd (repeatable).
    #[arg(long = "redirect-uri", value_name = "URL")]
    pub redirect_uris: Vec<String>,

    /// The Dex release to answer as, where releases differ in what a client sees (2.30: Devtron's
    /// v2.30.2; 2.45: v2.45.1).
    #[arg(long, value_name = "RELEASE", default_value = "2.45")]
    pub dex_version: crate::provider::config::Release,

    /// Add N groups (`group-0001`, …) to every user's `groups` claim: the tokens of a user in
    /// many groups, for testing cookie and header limits.
    #[arg(long, value_name = "N", default_value_t = 0, value_parser = clap::value_parser!(u16).range(0..=5000))]
    pub groups: u16,
}

#[derive(Debug, Clone, Args)]
pub struct DemoArgs {
    #[command(flatten)]
    pub print: PrintArgs,
}

/// How every printing subcommand prints: format, colour, glyphs.
#[derive(Debug, Clone, Copy, Args)]
pub struct PrintArgs {
    /// Output format.
    #[arg(short, long, value_enum, default_value = "table")]
    pub output: OutputFormat,

    /// When to colour the text (NO_COLOR, CLICOLOR and CLICOLOR_FORCE are honoured in auto).
    #[arg(long, value_enum, default_value = "auto", value_name = "WHEN")]
    pub color: ColorChoice,

    /// Plain ASCII glyphs and borders.
    #[arg(long)]
    pub ascii: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Table,
    Json,
    Yaml,
    Junit,
    Github,
    /// Prometheus text exposition (check only): for node_exporter's textfile collector.
    Prometheus,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    Error,
    Warning,
    Never,
}

/// `--app`: one of the registered app profiles, or `auto`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppChoice(Option<App>);

impl AppChoice {
    pub fn app(self) -> Option<App> {
        self.0
    }
    fn parser() -> impl clap::builder::TypedValueParser<Value = AppChoice> {
        use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser as _};
        let values = App::ALL
            .iter()
            .map(|a| PossibleValue::new(a.id()).help(a.name()))
            .chain([PossibleValue::new("auto").help("detected from the input")]);
        PossibleValuesParser::new(values).map(|s| AppChoice(App::by_id(&s)))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AutoCandidates {
    Auto,
}

#[derive(Debug, Clone, Args)]
pub struct CheckArgs {
    /// The SSO config: Devtron connector YAML, Dex config, devtron-secret or argocd-cm manifest; `-` reads stdin.
    pub file: Option<String>,

    /// Base URL of the app (Devtron: https://host/orchestrator); overrides the file's url: key and # URL: comment.
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,

    /// Application profile: devtron, argocd, or auto (the default: detected from the input, or
    /// in a cluster devtron-secret first, then argocd-cm).
    #[arg(long, value_name = "APP", default_value = "auto", value_parser = AppChoice::parser())]
    pub app: AppChoice,

    /// The address the operator's browser uses for the app (its origin is compared with URL).
    #[arg(long, value_name = "URL")]
    pub browser_url: Option<String>,

    /// The exact return_url of a failed /auth/login request (plain, percent-encoded, or the whole address).
    #[arg(long, value_name = "URL")]
    pub return_url: Option<String>,

    /// In-cluster Dex address (scheme://host:port) that the app's server uses.
    #[arg(long, value_name = "URL")]
    pub dex_internal: Option<String>,

    /// Another base URL to compare side by side (repeatable).
    #[arg(long = "candidate", value_name = "URL")]
    pub candidates: Vec<String>,

    /// `auto`: compare the usual alternatives (port-forward, in-cluster service, local port 8080, ingress).
    #[arg(long = "candidates", value_enum, value_name = "auto")]
    pub auto_candidates: Option<AutoCandidates>,

    /// Skip every network step and predict from the configuration alone.
    #[arg(long)]
    pub offline: bool,

    /// How long each probe may take (connect, read and total), in seconds or as a duration (10s, 1m); the whole run gets three times this.
    #[arg(long, value_name = "DURATION", default_value = "5", value_parser = parse_seconds)]
    pub timeout: std::time::Duration,

    /// Pin HOST:PORT to ADDR for the probes, as curl's --resolve (repeatable), e.g. devtron.example.com:443:203.0.113.7.
    #[arg(long = "resolve", value_name = "HOST:PORT:ADDR")]
    pub resolve: Vec<String>,

    /// Also trust the CA certificates in this PEM file (repeatable), for private or self-signed CAs.
    #[arg(long = "cacert", value_name = "FILE")]
    pub cacert: Vec<std::path::PathBuf>,

    /// Kubeconfig file (default: KUBECONFIG, then ~/.kube/config, then the in-cluster account).
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<std::path::PathBuf>,

    /// Kubeconfig context to use; repeat it to check several clusters at once (one report each).
    #[arg(long, value_name = "NAME")]
    pub context: Vec<String>,

    /// Check every context of the kubeconfig at once (one report per cluster).
    #[arg(long)]
    pub all_contexts: bool,

    /// Namespace of the install (default devtroncd for Devtron, argocd for Argo CD).
    #[arg(short = 'n', long, value_name = "NAMESPACE")]
    pub namespace: Option<String>,

    /// Do not contact a cluster: no live config, no probes from inside pods.
    #[arg(long)]
    pub no_pods: bool,

    /// Run the live probes N times and report each row's failures out of N (an intermittent row shows as 3/10 failed).
    #[arg(long, value_name = "N", default_value = "1", value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub repeat: u32,

    /// Time between runs, in seconds or as a duration (30s, 5m, 1m30s) (--repeat: default 1s; watch: default 1m).
    #[arg(long, value_name = "DURATION", value_parser = parse_seconds)]
    pub interval: Option<std::time::Duration>,

    /// Do not contact the upstream IdP at all (no discovery, authorization or token probes).
    #[arg(long)]
    pub no_idp: bool,

    /// Never send the connector's client secret: skip the token-endpoint probes (idp.client_auth, dexpod.idp_client_auth).
    #[arg(long)]
    pub no_secret_probe: bool,

    /// When the app container has no shell, curl or wget: add an ephemeral debug container to the pod and probe from it.
    #[arg(long)]
    pub ephemeral: bool,

    /// Image of the ephemeral debug container.
    #[arg(long, value_name = "IMAGE", default_value = "busybox:1.36")]
    pub ephemeral_image: String,

    /// Read the route behind URL from this dump (kubectl get ingress,svc,endpointslices,nodes,pods -A -o yaml, and kube-system's coredns ConfigMap) instead of the cluster; repeatable.
    #[arg(long = "objects", value_name = "FILE")]
    pub objects: Vec<std::path::PathBuf>,

    /// Do not read the route behind URL from the cluster.
    #[arg(long)]
    pub no_route: bool,

    /// A browser's HAR of a login (Chrome, Firefox, Safari, Playwright; `-` reads stdin): its hops
    /// become rows from the browser's vantage. Without a config file, only the HAR is read.
    #[arg(long, value_name = "FILE")]
    pub har: Option<String>,

    #[command(flatten)]
    pub print: PrintArgs,

    /// Which findings make the exit code 1.
    #[arg(long, value_enum, default_value = "error", value_name = "LEVEL")]
    pub fail_on: FailOn,
}

impl CheckArgs {
    /// The flags' defaults, as clap fills them in for an empty command line (for `demo`, which
    /// runs a check of its own).
    pub fn defaults() -> Result<CheckArgs, String> {
        use clap::FromArgMatches;
        let cmd = <CheckArgs as Args>::augment_args(clap::Command::new("check"));
        let matches = cmd
            .try_get_matches_from(["check"])
            .map_err(|e| e.to_string())?;
        CheckArgs::from_arg_matches(&matches).map_err(|e| e.to_string())
    }
}

/// Plain seconds (`5`, `0.5`) or a Go/Kubernetes duration (`30s`, `5m`, `1m30s`, `1.5h`,
/// `500ms`), as Prometheus, kubectl and blackbox_exporter take them; between 0 and an hour.
fn parse_seconds(v: &str) -> Result<std::time::Duration, String> {
    let secs = match v.trim().parse::<f64>() {
        Ok(n) => n,
        Err(_) => go_duration(v.trim()).ok_or_else(|| {
            format!("{v:?} is neither a number of seconds nor a duration such as 30s, 5m or 1m30s")
        })?,
    };
    if !(secs > 0.0 && secs <= 3600.0) {
        return Err(format!(
            "{v:?}: give more than 0 and at most 1h (3600 seconds)"
        ));
    }
    Ok(std::time::Duration::from_secs_f64(secs))
}

/// Go's `time.ParseDuration` grammar: one or more `<decimal><unit>` with the units ns, us (µs),
/// ms, s, m and h; returns seconds.
fn go_duration(v: &str) -> Option<f64> {
    const UNITS: &[(&str, f64)] = &[
        ("ns", 1e-9),
        ("us", 1e-6),
        ("µs", 1e-6),
        ("μs", 1e-6),
        ("ms", 1e-3),
        ("s", 1.0),
        ("m", 60.0),
        ("h", 3600.0),
    ];
    let mut rest = v;
    let mut total = 0.0;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let number: f64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let (unit, scale) = UNITS
            .iter()
            .filter(|(u, _)| rest.starts_with(u))
            .max_by_key(|(u, _)| u.len())?;
        total += number * scale;
        rest = &rest[unit.len()..];
    }
    Some(total)
}

#[cfg(test)]
mod tests {
    use super::parse_seconds;

    #[test]
    fn durations_as_prometheus_and_kubectl_take_them() {
        let secs = |v: &str| parse_seconds(v).map(|d| d.as_secs_f64());
        assert_eq!(secs("5"), Ok(5.0));
        assert_eq!(secs("0.5"), Ok(0.5));
        assert_eq!(secs("30s"), Ok(30.0));
        assert_eq!(secs("5m"), Ok(300.0));
        assert_eq!(secs("1m30s"), Ok(90.0));
        assert_eq!(secs("500ms"), Ok(0.5));
        assert_eq!(secs("1h"), Ok(3600.0));
        assert!(secs("2h").is_err());
        assert!(secs("0s").is_err());
        assert!(secs("30x").unwrap_err().contains("duration"));
        assert!(secs("s").is_err());
        assert!(secs("").is_err());
    }
}
