//! The route behind URL, live, in the lab: the lab's API server serves an Ingress, Services,
//! EndpointSlices, a Node and CoreDNS's ConfigMap; the lab's ingress is Debian's nginx,
//! configured from that same Ingress as ingress-nginx renders it (its allow-list as
//! `allow … deny all`). The app pod's probe crosses that nginx from the pod's address, the
//! browser's from the workstation's, so an allow-list that leaves out the pod's node refuses the
//! pod alone, as in a cluster.

mod support;

use serde_json::{Value, json};
use support::ingress::{self, INGRESS_ADDR};
use support::lab::{APP_POD, Lab, POD_ADDR, SERVICE_ADDR};

const BIN: &str = env!("CARGO_BIN_EXE_dexcheck");
const HOST: &str = "ingress.lab.test";
const URL: &str = "http://ingress.lab.test/orchestrator";

fn run(lab: &Lab, args: &[&str]) -> Value {
    let mut c = lab.in_ws(BIN);
    c.arg("check")
        .args(args)
        .arg("--kubeconfig")
        .arg(&lab.kubeconfig)
        .args(["-o", "json", "--timeout", "3"]);
    support::clear_proxies(&mut c);
    let o = c.output().expect("spawn");
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {} {}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    })
}

fn row<'a>(v: &'a Value, id: &str) -> &'a Value {
    v["checks"]
        .as_array()
        .and_then(|a| a.iter().find(|c| c["id"] == id))
        .unwrap_or(&Value::Null)
}

fn ingress(allow: &str, path: &str) -> Value {
    json!({
        "apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
        "metadata": {"name": "devtron-ingress", "namespace": "devtroncd",
            "annotations": {"nginx.ingress.kubernetes.io/whitelist-source-range": allow}},
        "spec": {"rules": [{"host": HOST, "http": {"paths": [
            {"path": path, "pathType": "Prefix",
             "backend": {"service": {"name": "devtron-service", "port": {"number": 80}}}}
        ]}}]}
    })
}

/// The cluster objects of the route: the Ingress, devtron-service → 8080, one ready endpoint, the
/// app pod's node (its address is the pod's), and the app pod placed on it.
fn objects(lab: &Lab, ing: &Value, target_port: u16) {
    let s = &lab.state;
    s.put("ingresses", "devtroncd", "devtron-ingress", ing.clone());
    s.put(
        "services",
        "devtroncd",
        "devtron-service",
        json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "devtron-service", "namespace": "devtroncd"},
            "spec": {"selector": {"app": "devtron"}, "clusterIP": SERVICE_ADDR,
                     "ports": [{"name": "http", "port": 80, "targetPort": "app"}]}
        }),
    );
    s.put("endpointslices", "devtroncd", "devtron-service-lab", json!({
        "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "addressType": "IPv4",
        "metadata": {"name": "devtron-service-lab", "namespace": "devtroncd",
                     "labels": {"kubernetes.io/service-name": "devtron-service"}},
        "ports": [{"name": "http", "port": target_port, "protocol": "TCP"}],
        "endpoints": [{"addresses": [POD_ADDR], "conditions": {"ready": true}, "nodeName": "lab-node"}]
    }));
    s.put(
        "nodes",
        "",
        "lab-node",
        json!({
            "apiVersion": "v1", "kind": "Node", "metadata": {"name": "lab-node"},
            "status": {"addresses": [{"type": "InternalIP", "address": POD_ADDR}]}
        }),
    );
    if let Ok(mut pods) = s.pods.lock()
        && let Some(p) = pods.iter_mut().find(|p| p["metadata"]["name"] == APP_POD)
    {
        p["spec"]["nodeName"] = json!("lab-node");
    }
}

/// A lab whose URL is the ingress host, served by nginx configured from `ing`; both sides
/// resolve the host to the ingress.
fn with_ingress(ing: &Value, target_port: u16) -> Option<(Lab, ingress::Nginx)> {
    with_ingress_resolved(ing, target_port, Some(INGRESS_ADDR))
}

/// The same, with the pods resolving the host to `in_pod` (`None`: not at all).
fn with_ingress_resolved(
    ing: &Value,
    target_port: u16,
    in_pod: Option<&str>,
) -> Option<(Lab, ingress::Nginx)> {
    if !support::lab_or_skip("route_lab") {
        return None;
    }
    if ingress::nginx_path().is_none() {
        assert!(
            std::env::var("DEXCHECK_REQUIRE_LAB").as_deref() != Ok("1"),
            "the route lab needs Debian's nginx (apt install nginx-light)"
        );
        eprintln!("route_lab: nginx is not installed; skipped");
        return None;
    }
    let lab = Lab::start().expect("lab");
    lab.name_in_ws(INGRESS_ADDR, HOST).expect("hosts");
    if let Some(addr) = in_pod {
        lab.name_in_pod(addr, HOST).expect("hosts");
    }
    lab.set_url(URL);
    objects(&lab, ing, target_port);
    let nginx =
        ingress::start(&lab, ing, |_, port| format!("{SERVICE_ADDR}:{port}")).expect("nginx");
    Some((lab, nginx))
}

#[test]
fn an_allow_list_that_leaves_out_the_pods_node_is_named_as_the_cause() {
    let Some((lab, nginx)) = with_ingress(&ingress("198.18.0.1/32", "/orchestrator"), 8080) else {
        return;
    };
    let v = run(&lab, &[]);
    // The browser's request comes from 198.18.0.1, inside the range; the pod's from 198.18.0.2.
    assert_eq!(row(&v, "browser.discovery")["status"], "pass", "{v:#}");
    let pod = row(&v, "pod.discovery");
    assert_eq!(
        (pod["status"].as_str(), pod["class"].as_str()),
        (Some("fail"), Some("http_status(403)")),
        "{pod:#}"
    );
    assert!(
        nginx.error_log().contains("access forbidden by rule"),
        "{}",
        nginx.error_log()
    );
    let allow = row(&v, "route.allow_list");
    assert_eq!(allow["status"], "warn", "{allow:#}");
    let why = "Ingress devtroncd/devtron-ingress (nginx.ingress.kubernetes.io/whitelist-source-range) allows only 198.18.0.1/32; the app pod's node lab-node (InternalIP 198.18.0.2)";
    assert!(
        allow["message"].as_str().unwrap().contains(why),
        "{allow:#}"
    );
    // The pod row, and so the verdict, name that cause and its fix instead of a list of guesses.
    assert!(pod["cause"].as_str().unwrap().contains(why), "{pod:#}");
    assert!(
        pod["remedy"]
            .as_str()
            .unwrap()
            .contains("whitelist-source-range=198.18.0.1/32,198.18.0.2/32"),
        "{pod:#}"
    );
    assert!(
        v["verdict"].to_string().contains("devtron-ingress"),
        "{}",
        v["verdict"]
    );
    assert_eq!(
        row(&v, "route.serves")["status"],
        "pass",
        "{:#}",
        row(&v, "route.serves")
    );
}

#[test]
fn an_allow_list_that_admits_the_node_passes_both_sides() {
    let Some((lab, _nginx)) = with_ingress(&ingress("198.18.0.0/24", "/orchestrator"), 8080) else {
        return;
    };
    let v = run(&lab, &[]);
    assert_eq!(row(&v, "pod.discovery")["status"], "pass", "{v:#}");
    assert_eq!(row(&v, "route.allow_list")["status"], "pass");
}

#[test]
fn a_rule_without_the_apps_path_and_a_port_that_misses_8080_are_named() {
    let Some((lab, _nginx)) = with_ingress(&ingress("0.0.0.0/0", "/dashboard"), 80) else {
        return;
    };
    let v = run(&lab, &[]);
    let serves = row(&v, "route.serves");
    assert_eq!(serves["status"], "unknown", "{serves:#}");
    assert!(
        serves["message"].as_str().unwrap().contains("no Ingress"),
        "{serves:#}"
    );
    // nginx has no location for /orchestrator: the pod meets 404, and the row says what serves it.
    assert_eq!(row(&v, "pod.discovery")["class"], "http_status(404)");
    let lab2 = lab;
    objects(&lab2, &ingress("0.0.0.0/0", "/orchestrator"), 80);
    let v = run(&lab2, &[]);
    let serves = row(&v, "route.serves");
    assert_eq!(serves["status"], "fail");
    assert!(
        serves["message"].as_str().unwrap().contains(
            "targetPort 80 → 1 of 1 endpoints ready, but the orchestrator listens on 8080"
        ),
        "{serves:#}"
    );
}

fn corefile(extra: &str) -> Value {
    json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "coredns", "namespace": "kube-system"},
        "data": {"Corefile": format!(".:53 {{\n{extra}    kubernetes cluster.local\n    forward . /etc/resolv.conf\n}}\n")}
    })
}

fn dns_message(v: &Value) -> String {
    row(v, "route.dns")["message"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

/// Split DNS: the pod resolves URL's host to the app's Service, this machine to the ingress.
/// Both answers are shown; when the pod gets none, its failed row names the DNS row as cause.
#[test]
fn a_host_the_two_sides_resolve_apart_shows_both_addresses() {
    let Some((lab, _nginx)) = with_ingress_resolved(
        &ingress("0.0.0.0/0", "/orchestrator"),
        8080,
        Some(SERVICE_ADDR),
    ) else {
        return;
    };
    let v = run(&lab, &[]);
    let dns = row(&v, "route.dns");
    assert_eq!(dns["status"], "pass", "{v:#}");
    assert!(
        dns_message(&v).contains(&format!(
            "this machine resolves {HOST} to {INGRESS_ADDR}; the app pod to {SERVICE_ADDR}"
        )),
        "{dns:#}"
    );
    let discovery = row(&v, "pod.discovery");
    assert_eq!(discovery["status"], "pass", "{discovery:#}");
    assert_eq!(discovery["address"], SERVICE_ADDR);
    assert_eq!(row(&v, "browser.app")["address"], INGRESS_ADDR);
    drop(lab);

    let Some((lab, _nginx)) =
        with_ingress_resolved(&ingress("0.0.0.0/0", "/orchestrator"), 8080, None)
    else {
        return;
    };
    let v = run(&lab, &[]);
    let dns = row(&v, "route.dns");
    assert_eq!(dns["status"], "warn", "{v:#}");
    assert!(
        dns_message(&v).contains(&format!(
            "this machine resolves {HOST} to {INGRESS_ADDR}; the app pod gets no address for it"
        )),
        "{dns:#}"
    );
    let discovery = row(&v, "pod.discovery");
    assert_eq!(discovery["status"], "fail", "{discovery:#}");
    assert!(
        discovery["cause"]
            .as_str()
            .is_some_and(|c| c.contains("the app pod gets no address")),
        "{discovery:#}"
    );
    assert!(
        discovery["remedy"]
            .as_str()
            .is_some_and(|r| r.contains("rewrite name")),
        "{discovery:#}"
    );
}

#[test]
fn coredns_and_a_forbidden_node_list_are_read_as_they_are() {
    let Some((lab, _nginx)) = with_ingress(&ingress("0.0.0.0/0", "/orchestrator"), 8080) else {
        return;
    };
    let v = run(&lab, &[]);
    assert!(
        row(&v, "route.dns").is_null(),
        "no coredns ConfigMap: no row"
    );
    // A Corefile without a rule for the host: pods ask the nodes' resolvers.
    lab.state
        .put("configmaps", "kube-system", "coredns", corefile(""));
    let v = run(&lab, &[]);
    assert!(dns_message(&v).contains("CoreDNS has no rewrite or hosts entry for ingress.lab.test"));
    // The rewrite dexcheck's remedy prints, to a Service this cluster does not have.
    let rewrite = format!(
        "    rewrite name exact {HOST} ingress-nginx-controller.ingress-nginx.svc.cluster.local\n"
    );
    lab.state
        .put("configmaps", "kube-system", "coredns", corefile(&rewrite));
    lab.state
        .faults
        .nodes_forbidden
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let v = run(&lab, &[]);
    assert_eq!(row(&v, "route.dns")["status"], "fail", "{v:#}");
    assert!(
        dns_message(&v).contains("ingress-nginx/ingress-nginx-controller, which does not exist")
    );
    assert_eq!(
        v["route"]["notes"],
        json!(["route not read: list nodes forbidden"])
    );
    // Everything else was still read.
    assert_eq!(row(&v, "route.serves")["status"], "pass");
    // Once that Service exists, the rewrite is what pods resolve the host by.
    lab.state.put(
        "services",
        "ingress-nginx",
        "ingress-nginx-controller",
        json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "ingress-nginx-controller", "namespace": "ingress-nginx"},
            "spec": {"type": "LoadBalancer", "ports": [{"name": "http", "port": 80}]}
        }),
    );
    let v = run(&lab, &[]);
    assert_eq!(row(&v, "route.dns")["status"], "pass", "{v:#}");
    assert!(dns_message(&v).contains(
        "pods resolve ingress.lab.test as ingress-nginx-controller.ingress-nginx.svc.cluster.local"
    ));
}

#[test]
fn a_tls_secret_for_another_host_is_named() {
    let mut ing = ingress("0.0.0.0/0", "/orchestrator");
    ing["spec"]["tls"] = json!([{"hosts": [HOST], "secretName": "devtron-tls"}]);
    let Some((lab, _nginx)) = with_ingress(&ing, 8080) else {
        return;
    };
    let pki = support::web::Pki::new();
    let (cert, _key) = pki.server_pem(&["other.lab.test"]);
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(cert.as_bytes());
    lab.state.put(
        "secrets",
        "devtroncd",
        "devtron-tls",
        json!({
            "apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
            "metadata": {"name": "devtron-tls", "namespace": "devtroncd"},
            "data": {"tls.crt": b64, "tls.key": "bm90LXJlYWQ="}
        }),
    );
    let v = run(&lab, &["--url", "https://ingress.lab.test/orchestrator"]);
    let tls = row(&v, "route.tls");
    assert_eq!(tls["status"], "fail", "{tls:#}");
    assert!(
        tls["message"]
            .as_str()
            .unwrap()
            .contains("x509: certificate is valid for other.lab.test, not ingress.lab.test"),
        "{tls:#}"
    );
}
