//! Brings the lab up for a developer: `sudo cargo run --example lab` (root is needed for network
//! namespaces). Prints the kubeconfig and commands to try, and removes everything on Ctrl-C.

#[path = "../tests/support/mod.rs"]
mod support;

use support::lab::{APP_POD, Lab, SERVICE_NAME};

fn main() {
    if !support::lab_or_skip("lab") {
        std::process::exit(3);
    }
    let lab = match Lab::start() {
        Ok(l) => l,
        Err(e) => {
            eprintln!("lab: cannot start: {e}");
            std::process::exit(3);
        }
    };
    let k = lab.kubeconfig.display();
    println!("Lab {} is up.", lab.id);
    println!(
        "  workstation namespace: {}   pod namespace: {}",
        lab.ws, lab.pod
    );
    println!(
        "  port-forward (relay):  127.0.0.1:{} in {} -> pod:8080",
        lab.pf_port, lab.ws
    );
    println!("  kubeconfig:            {k}");
    println!();
    println!("Try:");
    println!(
        "  ip netns exec {} kubectl --kubeconfig {k} get pods -n devtroncd",
        lab.ws
    );
    println!(
        "  ip netns exec {} kubectl --kubeconfig {k} get secret devtron-secret -o yaml",
        lab.ws
    );
    println!(
        "  ip netns exec {} curl -sS {}/api/dex/.well-known/openid-configuration",
        lab.ws,
        lab.pf_url()
    );
    println!(
        "  ip netns exec {} kubectl --kubeconfig {k} exec {APP_POD} -- curl -sS {}/api/dex/.well-known/openid-configuration   # refused: the pod's own localhost",
        lab.ws,
        lab.pf_url()
    );
    println!(
        "  ip netns exec {} kubectl --kubeconfig {k} exec {APP_POD} -- getent hosts {SERVICE_NAME}",
        lab.ws
    );
    println!(
        "  ip netns exec {} target/debug/dexcheck check fixtures/seed-localhost.yaml --url {}",
        lab.ws,
        lab.pf_url()
    );
    println!();
    println!("Ctrl-C removes the lab.");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build();
    if let Ok(rt) = rt {
        let _ = rt.block_on(tokio::signal::ctrl_c());
    }
    drop(lab);
    println!("Lab removed.");
}
