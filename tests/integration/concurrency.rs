//! Concurrent applies sharing one state folder: runs whose targets overlap in any order take
//! turns and all finish, the state then matches GitHub, and a run waiting for another's lock
//! says so and ends promptly on Ctrl-C with nothing written.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::{read_text, Env, Output, OTHER, REPO};

const ROUNDS: usize = 10;
/// Far beyond what a round needs (a few seconds); reached only by a deadlock.
const RUN_TIMEOUT: Duration = Duration::from_secs(90);

/// Targets of the three runs: one repository, both, both the other way round.
const TARGETS: [&[&str]; 3] = [&[REPO], &[REPO, OTHER], &[OTHER, REPO]];

fn config(env: &Env, file: &str, repos: &[&str], round: usize) -> PathBuf {
    let list: Vec<String> = repos.iter().map(|r| format!("\"{r}\"")).collect();
    let text = format!(
        "[github]\napi_url = \"{}\"\n\n[secrets.A]\nvalue = \"a{round}\"\n[secrets.B]\nvalue = \"b{round}\"\n\n[[targets]]\nrepos = [{}]\n",
        env.sandbox.api_url(),
        list.join(", ")
    );
    env.write(file, &text);
    env.path(file)
}

fn apply(env: &Env, config: &PathBuf) -> Output {
    env.command(env!("CARGO_BIN_EXE_secretsync"))
        .args(["apply", "--yes", "--config"])
        .arg(config)
        .arg("--state-dir")
        .arg(env.state_dir())
        .run_with_timeout(RUN_TIMEOUT)
}

#[test]
fn overlapping_applies_in_any_order_all_finish_and_agree_with_github() {
    let env = Env::new();
    env.sandbox.set_latency(Duration::from_millis(100));
    for round in 0..ROUNDS {
        let configs: Vec<PathBuf> = TARGETS
            .iter()
            .enumerate()
            .map(|(i, repos)| config(&env, &format!("c{i}.toml"), repos, round))
            .collect();
        let outputs: Vec<Output> = std::thread::scope(|s| {
            let runs: Vec<_> = configs.iter().map(|c| s.spawn(|| apply(&env, c))).collect();
            runs.into_iter().map(|r| r.join().expect("run")).collect()
        });
        for (i, out) in outputs.iter().enumerate() {
            assert_eq!(
                out.code, 0,
                "round {round}, run {i}\n--- stdout\n{}\n--- stderr\n{}",
                out.stdout, out.stderr
            );
        }
        for repo in [REPO, OTHER] {
            for (name, value) in [("A", format!("a{round}")), ("B", format!("b{round}"))] {
                let got = env.sandbox.plaintext(repo, name).map(String::from_utf8);
                assert_eq!(got, Some(Ok(value)), "round {round}: {repo} {name}");
            }
        }
        // The records agree with GitHub: a run over both repositories has nothing to write.
        env.sandbox.clear_requests();
        let again = apply(&env, &configs[1]);
        again.assert_code(0);
        assert_eq!(env.counts().2, 0, "round {round}: the re-run wrote");
        assert!(
            !again.stdout.contains("changed on GitHub"),
            "{}",
            again.stdout
        );
    }
}

/// The lock file the state of `REPO`'s Actions secrets is guarded by.
fn lock_path(env: &Env) -> PathBuf {
    let host = env.sandbox.api_url().replace("http://", "");
    env.state_dir()
        .join(host)
        .join(REPO)
        .join("actions.json.lock")
}

#[test]
fn ctrl_c_while_waiting_for_a_lock_ends_promptly_with_nothing_written() {
    use std::os::unix::process::CommandExt as _;
    let env = Env::new();
    env.config_for_repo("[secrets.A]\nvalue = \"a\"\n");
    let lock = lock_path(&env);
    std::fs::create_dir_all(lock.parent().expect("a folder")).expect("mkdir");
    let held = std::fs::File::create(&lock).expect("lock file");
    held.lock().expect("the test holds the lock");

    let stderr_path = env.path("stderr.txt");
    let stderr = std::fs::File::create(&stderr_path).expect("stderr file");
    let mut child = env
        .cmd(&["apply", "--yes"])
        .into_command()
        .stdout(Stdio::null())
        .stderr(stderr)
        .process_group(0)
        .spawn()
        .expect("spawn");
    let deadline = Instant::now() + Duration::from_secs(30);
    while !read_text(&stderr_path).contains("waiting for another") {
        if Instant::now() > deadline || child.try_wait().expect("wait").is_some() {
            let _ = child.kill();
            panic!("never said it waits: {}", read_text(&stderr_path));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        read_text(&stderr_path).contains(&lock.with_extension("").display().to_string()),
        "names the state file: {}",
        read_text(&stderr_path)
    );
    Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill");
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("still waiting after Ctrl-C: {}", read_text(&stderr_path));
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let text = read_text(&stderr_path);
    assert_eq!(status.code(), Some(1), "{text}");
    assert!(text.contains("nothing was written"), "{text}");
    assert_eq!(env.counts().2, 0, "a write was sent");
    assert!(env.sandbox.names(REPO).is_empty());
    drop(held);
}
