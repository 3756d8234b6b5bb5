//! `apply` on a real terminal (a pseudo-terminal): it shows the plan and writes only after "y".

use rexpect::process::WaitStatus;
use rexpect::session::spawn_command;

use crate::support::{Env, ALIYUN, REPO};

fn apply_answering(env: &Env, answer: &str, vars: &[(&str, &str)]) -> (String, i32) {
    let mut run = env.cmd(&["apply"]).env("ALIYUN_PASSWORD", "Pass-word1");
    for (key, value) in vars {
        run = run.env(key, value);
    }
    let cmd = run.into_pty_command();
    let mut pty = spawn_command(cmd, Some(30_000)).expect("spawn in a pty");
    let shown = pty
        .exp_string("Write 4 change(s) to GitHub? [y/N] ")
        .expect("the confirmation question");
    pty.send_line(answer).expect("answer");
    let rest = pty.exp_eof().expect("the run ends");
    let code = match pty.process_mut().wait().expect("exit status") {
        WaitStatus::Exited(_, code) => code,
        other => panic!("unexpected end: {other:?}"),
    };
    (format!("{shown}{rest}"), code)
}

#[test]
fn apply_asks_before_writing() {
    let env = Env::new();
    env.config(ALIYUN);

    let (output, code) = apply_answering(&env, "n", &[]);
    assert_eq!(code, 1, "{output}");
    assert!(
        output.contains("\x1b[32m+\x1b[0m ALIYUN_PASSWORD"),
        "colour on a terminal: {output}"
    );
    assert!(output.contains("not confirmed"), "{output}");
    assert!(
        env.sandbox.names(REPO).is_empty(),
        "no means nothing is written"
    );
    assert_eq!(env.counts().2, 0);

    let (output, code) = apply_answering(&env, "y", &[("NO_COLOR", "1")]);
    assert_eq!(code, 0, "{output}");
    assert!(!output.contains('\x1b'), "NO_COLOR is honoured: {output}");
    assert!(
        output.contains("+ ALIYUN_PASSWORD"),
        "the plan is shown first: {output}"
    );
    assert!(output.contains("Applied: 4 created"), "{output}");
    assert_eq!(env.sandbox.names(REPO).len(), 4);
}

/// A terminal that declares it cannot show colour (`TERM=dumb`, as Emacs' shell does) gets none.
#[test]
fn a_dumb_terminal_gets_no_colour() {
    let env = Env::new();
    env.config(ALIYUN);
    let (output, code) = apply_answering(&env, "n", &[("TERM", "dumb")]);
    assert_eq!(code, 1, "{output}");
    assert!(output.contains("+ ALIYUN_PASSWORD"), "{output}");
    assert!(!output.contains('\x1b'), "TERM=dumb got colour: {output}");
}
