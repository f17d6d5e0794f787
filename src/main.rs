fn main() {
    std::process::exit(dexcheck::run(std::env::args_os().collect()));
}
