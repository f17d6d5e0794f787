//! The same program under the name kubectl looks for: `kubectl dexcheck …`.
fn main() {
    std::process::exit(dexcheck::run(std::env::args_os().collect()));
}
