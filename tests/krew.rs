//! The krew manifest renders (as krew-release-bot would) into a valid plugin manifest whose
//! version is the crate's and whose every platform runs the `kubectl-dexcheck` binary.

use serde_json::Value;

/// Renders the template for `tag` the way krew-release-bot does.
fn render(template: &str, tag: &str) -> String {
    let mut out = String::new();
    for line in template.lines() {
        let trimmed = line.trim_start();
        if let Some(rest) = trimmed.strip_prefix("{{ addURIAndSha \"") {
            let indent = &line[..line.len() - trimmed.len()];
            let uri = rest
                .split('"')
                .next()
                .unwrap()
                .replace("{{ .TagName }}", tag);
            out.push_str(&format!(
                "{indent}uri: {uri}\n{indent}sha256: {}\n",
                "ab".repeat(32)
            ));
        } else {
            out.push_str(&line.replace("{{ .TagName }}", tag));
            out.push('\n');
        }
    }
    out
}

#[test]
fn krew_manifest_renders_to_a_valid_plugin() {
    let template = std::fs::read_to_string("plugins/krew/dexcheck.yaml").unwrap();
    let tag = format!("v{}", env!("CARGO_PKG_VERSION"));
    let m: Value = serde_saphyr::from_str(&render(&template, &tag)).unwrap();
    assert_eq!(
        m["apiVersion"],
        "krew.googlecontainertools.github.com/v1alpha2"
    );
    assert_eq!(m["kind"], "Plugin");
    // krew: the name equals the file name.
    assert_eq!(m["metadata"]["name"], "dexcheck");
    assert_eq!(m["spec"]["version"], tag);
    assert!(m["spec"]["shortDescription"].as_str().unwrap().len() < 60);
    let platforms = m["spec"]["platforms"].as_array().unwrap();
    assert!(platforms.len() >= 4);
    for p in platforms {
        let labels = &p["selector"]["matchLabels"];
        let os = labels["os"].as_str().unwrap();
        assert!(labels["arch"].is_string(), "{p:#}");
        let uri = p["uri"].as_str().unwrap();
        assert!(
            uri.contains(&tag) && (uri.ends_with(".tar.gz") || uri.ends_with(".zip")),
            "{uri}"
        );
        assert_eq!(p["sha256"].as_str().unwrap().len(), 64);
        let bin = p["bin"].as_str().unwrap();
        let want = if os == "windows" {
            "kubectl-dexcheck.exe"
        } else {
            "kubectl-dexcheck"
        };
        assert_eq!(bin, want);
    }
}

#[test]
fn cargo_installs_the_plugin_binary() {
    // `cargo install` installs every [[bin]]: the plugin name must be one of them.
    let manifest = std::fs::read_to_string("Cargo.toml").unwrap();
    assert!(manifest.contains("name = \"kubectl-dexcheck\""));
    assert!(std::path::Path::new(env!("CARGO_BIN_EXE_kubectl-dexcheck")).exists());
}
