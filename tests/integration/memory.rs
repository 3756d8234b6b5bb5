//! Secret values leave memory before the network wait: a core dump of `apply`, taken while its
//! write is in flight, must not hold the value. Each `SecretString` is sealed and dropped (and so
//! zeroized) before the first write is sent; this proves it from outside, with gdb's `gcore`.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::support::{require_tools, wait_until, Env, REPO};

const CANARY: &str = "CANARY-in-memory-5c0d1e8b7a9f3e62";

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn no_secret_value_in_memory_while_writes_are_in_flight() {
    if !require_tools(
        "no_secret_value_in_memory_while_writes_are_in_flight",
        &[("gcore", "gdb")],
    ) {
        return;
    }
    let env = Env::new();
    // A file source: nothing else in the process (environment, argv, config text) holds it.
    env.write("password.txt", &format!("{CANARY}\n"));
    env.config(&format!(
        "[secrets.REGISTRY_PASSWORD]\nfile = \"password.txt\"\n[[targets]]\nrepo = \"{REPO}\"\n"
    ));
    env.sandbox.set_latency(Duration::from_millis(1500));
    let mut child = env
        .cmd(&["apply", "--yes", "--concurrency", "1"])
        .spawn_quiet();
    // Once the PUT has reached the sandbox, the write is in flight: the sandbox holds every
    // answer for 1.5 s. Waiting for its arrival, not for a guessed time after the key's answer,
    // keeps a slow machine from dumping the core before the write is sent.
    wait_until("the write's arrival", &mut child, || {
        env.sandbox.arrived("PUT", "/REGISTRY_PASSWORD") == 1
    });
    let core = env.path("core");
    let dumped = Command::new("gcore")
        .arg("-o")
        .arg(&core)
        .arg(child.id().to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("gcore runs");
    assert!(dumped.success(), "gcore failed");
    let status = child.wait().expect("wait");
    assert!(status.success(), "apply failed");
    assert_eq!(
        env.plaintext("REGISTRY_PASSWORD").as_deref(),
        Some(CANARY),
        "the value did travel through the process"
    );
    let path = format!("{}.{}", core.display(), child.id());
    let image = std::fs::read(Path::new(&path)).expect("a core file");
    assert!(image.len() > 1024 * 1024, "a real core image");
    assert!(
        !contains(&image, CANARY.as_bytes()),
        "the secret value is still in the process's memory during the write"
    );
    // The probe can see: the value's name, which is not secret, is there.
    assert!(contains(&image, b"REGISTRY_PASSWORD"));
}
