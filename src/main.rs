//! The `secretsync` binary: everything lives in the library; this only exits with its code.
fn main() {
    std::process::exit(secretsync::run(std::env::args_os()));
}
