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
