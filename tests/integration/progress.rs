//! The progress line: drawn on a terminal for runs that take more than a moment, never when
//! stderr is not a terminal, and never with `--json`.

use std::time::Duration;

use rexpect::session::spawn_command;

use crate::support::Env;

fn slow_env() -> Env {
    let env = Env::new();
    let mut body = String::from("[secrets.S]\nvalue = \"v\"\n[[targets]]\nrepos = [");
    for i in 0..8 {
        env.sandbox.add_repo(&format!("acme/p{i}"));
        body.push_str(&format!("\"acme/p{i}\", "));
    }
    body.push_str("]\n");
    env.config(&body);
    // Eight targets at 250 ms a request and two at a time: well past the quiet first half second.
    env.sandbox.set_latency(Duration::from_millis(250));
    env
}

fn on_pty(env: &Env, args: &[&str]) -> String {
    let mut pty = spawn_command(env.cmd(args).into_pty_command(), Some(60_000)).expect("pty");
    pty.exp_eof().expect("the run ends")
}

#[test]
fn progress_shows_on_a_terminal_only() {
    let env = slow_env();
    let shown = on_pty(&env, &["plan", "--concurrency", "2"]);
    assert!(shown.contains("secretsync: planned "), "{shown}");
    assert!(shown.contains("/8 targets"), "{shown}");

    let json = on_pty(&env, &["plan", "--concurrency", "2", "--json"]);
    assert!(!json.contains("secretsync: planned"), "{json}");

    let piped = env.cmd(&["plan", "--concurrency", "2"]).run();
    piped.assert_code(0);
    assert!(
        piped.stderr.is_empty(),
        "nothing on stderr off a terminal: {}",
        piped.stderr
    );
}

/// While `apply` waits for another run's lock, the line to read is the one saying so: no
/// progress line is drawn under it, and none is left behind when Ctrl-C ends the wait.
#[test]
fn no_progress_line_while_waiting_for_a_lock() {
    let env = Env::new();
    env.config_for_repo("[secrets.A]\nvalue = \"a\"\n");
    let host = env.sandbox.api_url().replace("http://", "");
    let lock = env
        .state_dir()
        .join(host)
        .join(crate::support::REPO)
        .join("actions.json.lock");
    std::fs::create_dir_all(lock.parent().expect("a folder")).expect("mkdir");
    let held = std::fs::File::create(&lock).expect("lock file");
    held.lock().expect("the test holds the lock");

    let command = env.cmd(&["apply", "--yes"]).into_pty_command();
    let mut pty = spawn_command(command, Some(60_000)).expect("pty");
    pty.exp_string("waiting for another secretsync run")
        .expect("says it waits");
    // Well past the quiet first half second, so that a progress line would have been drawn.
    std::thread::sleep(Duration::from_millis(1500));
    pty.send_control('c').expect("Ctrl-C");
    let after = pty.exp_eof().expect("the run ends");
    assert!(!after.contains("secretsync: planned"), "{after}");
    assert!(after.contains("nothing was written"), "{after}");
    drop(held);
}

/// A run that fails after its progress line showed clears the line first: the error starts a
/// line of its own.
#[test]
fn an_error_after_the_line_showed_starts_a_line_of_its_own() {
    let env = Env::new();
    env.sandbox.add_org("acme");
    env.config(concat!(
        "[secrets.A]\nvalue = \"a\"\n",
        "[[targets]]\nrepos = { org = \"acme\", match = \"*\" }\n",
        "[[targets]]\nrepos = { org = \"acme\", match = \"s*\" }\n",
    ));
    // Two listings of the organization at 600 ms each: well past the quiet first half second before
    // the overlap is found.
    env.sandbox.set_latency(Duration::from_millis(600));
    let shown = on_pty(&env, &["plan"]);
    let at = shown.find("error:").expect("the overlap is an error");
    let before = &shown[..at];
    assert!(before.contains("secretsync: planned"), "{shown:?}");
    assert!(
        before.ends_with('\n') || before.ends_with("\r\x1b[2K"),
        "{shown:?}"
    );
}
