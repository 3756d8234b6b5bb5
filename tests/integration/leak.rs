//! The leak canary: a distinctive token and values go through every command, at every verbosity,
//! on success and on failure. No byte of them may appear in stdout, stderr, the JSON, or any file
//! in the state folder (nor their base64 or hex forms).

use base64::Engine as _;

use crate::support::{Env, Output, REPO};

const CANARY_TOKEN: &str = "CANARYTOKEN-ghp-7d1e5a0c9b";
const CANARY_ENV: &str = "CANARY-env-value-4f8e2b91";
const CANARY_FILE: &str = "CANARY-file-value-93ac51d0";
const CANARY_CMD: &str = "CANARY-cmd-value-2b6f0e77";
const CANARY_LITERAL: &str = "CANARY-literal-value-c0ffee11";

fn forms(canary: &str) -> Vec<String> {
    let b64 = base64::engine::general_purpose::STANDARD.encode(canary);
    let hex: String = canary.bytes().map(|b| format!("{b:02x}")).collect();
    // The middle of the value too, so a truncated echo is caught.
    let middle = canary[4..canary.len() - 4].to_string();
    vec![canary.to_string(), b64, hex, middle]
}

fn assert_clean(what: &str, out: &Output, env: &Env) {
    let mut places: Vec<(String, Vec<u8>)> = vec![
        (format!("{what}: stdout"), out.stdout.clone().into_bytes()),
        (format!("{what}: stderr"), out.stderr.clone().into_bytes()),
    ];
    for (path, bytes) in env.state_files() {
        places.push((format!("{what}: {}", path.display()), bytes));
    }
    for canary in [
        CANARY_TOKEN,
        CANARY_ENV,
        CANARY_FILE,
        CANARY_CMD,
        CANARY_LITERAL,
    ] {
        for form in forms(canary) {
            for (place, bytes) in &places {
                let found = bytes.windows(form.len()).any(|w| w == form.as_bytes());
                assert!(
                    !found,
                    "`{form}` leaked into {place}:\n{}",
                    String::from_utf8_lossy(bytes)
                );
            }
        }
    }
}

fn config(env: &Env, repo: &str) {
    env.write("value.txt", &format!("{CANARY_FILE}\n"));
    env.config(&format!(
        "[secrets.FROM_ENV]\nenv = \"CANARY_VAR\"\n\n\
         [secrets.FROM_FILE]\nfile = \"value.txt\"\n\n\
         [secrets.FROM_CMD]\ncommand = [\"printf\", \"%s\", \"{CANARY_CMD}\"]\n\n\
         [secrets.FROM_LITERAL]\nvalue = \"{CANARY_LITERAL}\"\n\n\
         [[targets]]\nrepo = \"{repo}\"\n"
    ));
}

#[test]
fn no_canary_anywhere() {
    let env = Env::with_token(CANARY_TOKEN);
    config(&env, REPO);
    let verbosities: [&[&str]; 3] = [&[], &["-v"], &["-vv"]];
    let mut runs = 0;
    let mut run = |what: &str, args: &[&str], setup: &dyn Fn(&Env)| {
        for v in verbosities {
            setup(&env);
            let mut all: Vec<&str> = vec!["--retries=0"];
            all.extend_from_slice(v);
            all.extend_from_slice(args);
            let out = env
                .cmd(&all)
                .env("GH_TOKEN", CANARY_TOKEN)
                .env("CANARY_VAR", CANARY_ENV)
                .run();
            assert_clean(&format!("{what} {all:?}"), &out, &env);
            runs += 1;
        }
    };
    let none = |_: &Env| {};
    // Success paths.
    run("first plan", &["plan"], &none);
    run(
        "plan json",
        &["plan", "--json", "--detailed-exitcode"],
        &none,
    );
    run("first apply", &["apply", "--yes"], &none);
    run("no-op apply json", &["apply", "--yes", "--json"], &none);
    run("drift", &["apply", "--yes", "--prune"], &|e: &Env| {
        e.sandbox.put_outside(REPO, "FROM_ENV", b"x");
        e.sandbox.put_outside(REPO, "UNDECLARED", b"y");
    });
    // Failure paths: failed writes, a bad key, a refused token, an unreachable API.
    run("write failure", &["apply", "--yes"], &|e: &Env| {
        e.sandbox.put_outside(REPO, "FROM_FILE", b"x");
        e.sandbox
            .inject_write_failure(REPO, "FROM_FILE", 500, "boom");
    });
    run(
        "write failure json",
        &["apply", "--yes", "--json"],
        &|e: &Env| {
            e.sandbox.put_outside(REPO, "FROM_CMD", b"x");
            e.sandbox
                .inject_write_failure(REPO, "FROM_CMD", 422, "nope");
        },
    );
    run("bad key", &["apply", "--yes"], &|e: &Env| {
        e.sandbox.clear_failures();
        e.sandbox.put_outside(REPO, "FROM_LITERAL", b"x");
        e.sandbox
            .override_public_key(Some(r#"{"key_id":"k","key":"!!"}"#.into()));
    });
    run("no terminal", &["apply"], &none);
    env.sandbox.override_public_key(None);
    // A token GitHub rejects: the sandbox only knows another one.
    let other = Env::with_token("some-other-token");
    config(&other, REPO);
    for v in verbosities {
        let mut args: Vec<&str> = v.to_vec();
        args.extend_from_slice(&["apply", "--yes"]);
        let out = other
            .cmd(&args)
            .env("GH_TOKEN", CANARY_TOKEN)
            .env("CANARY_VAR", CANARY_ENV)
            .run();
        out.assert_code(1);
        assert_clean("bad token", &out, &other);
    }
    // Nothing listening at all.
    let gone = Env::new();
    gone.write(
        "secretsync.toml",
        &format!("[github]\napi_url = \"http://127.0.0.1:9\"\n[secrets.FROM_ENV]\nenv = \"CANARY_VAR\"\n[[targets]]\nrepo = \"{REPO}\"\n"),
    );
    let out = gone
        .cmd(&["-vv", "apply", "--yes"])
        .env("GH_TOKEN", CANARY_TOKEN)
        .env("CANARY_VAR", CANARY_ENV)
        .run();
    out.assert_code(1);
    assert!(out.stdout.contains("cannot reach GitHub"), "{}", out.stdout);
    assert_clean("unreachable", &out, &gone);
    // An empty value and a value that breaks a rule are reported by name only.
    env.write("value.txt", &"z".repeat(50_000));
    let out = env
        .cmd(&["-vv", "apply", "--yes"])
        .env("GH_TOKEN", CANARY_TOKEN)
        .env("CANARY_VAR", CANARY_ENV)
        .run();
    out.assert_code(1);
    assert_clean("oversized", &out, &env);
    assert!(runs >= 27);
    // The sandbox did receive the real values, so the canaries did travel through secretsync.
    assert_eq!(
        env.sandbox.plaintext(REPO, "FROM_ENV").as_deref(),
        Some(CANARY_ENV.as_bytes())
    );
}
