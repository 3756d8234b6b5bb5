//! `secretsync init`: write a commented config to start from, optionally from a preset. The
//! `aliyun-acr` preset is the founding story: four secrets, the registry password's rules, and a
//! registry check, with the password coming from env, then the keyring, then a prompt.

mod draft;
mod from;
mod from_github;
mod render;

use std::io::Write;
use std::path::Path;

use crate::error::{Error, LocalError, UsageError};
use crate::exit::ExitStatus;

const GENERIC: &str = r#"# secretsync.toml: which GitHub Actions secrets and variables must exist, and where their
# values come from. Every key is described in docs/config.md of secretsync's repository.
# Then: `secretsync plan`, `secretsync apply`.

[github]
# api_url = "https://api.github.com"     # GitHub Enterprise: "https://HOST/api/v3"

# One table per secret. The first source in `from` that has a value wins.
[secrets.EXAMPLE_TOKEN]
from = [
  { env = "EXAMPLE_TOKEN" },
  { prompt = "Example token", confirm = true },
]

[[targets]]
repo = "{REPO}"
"#;

const ALIYUN_ACR: &str = r#"# secretsync.toml: the four secrets a GitHub Actions workflow needs to push images to Aliyun
# Container Registry (ACR); docs/registry-checks.md in secretsync's repository tells the checks.
# Then: `secretsync check`, `secretsync plan`,
# `secretsync apply`; after a password change, `secretsync rotate ALIYUN_PASSWORD`.

[github]
# api_url = "https://api.github.com"

# The registry host of your ACR instance, as the ACR console shows it. Not sensitive.
[secrets.ALIYUN_REGISTRY]
value = "crpi-xxxxxxxx.cn-hangzhou.personal.cr.aliyuncs.com"

# The namespace the images go into. It must exist in the ACR console (unless auto-create is on).
[secrets.ALIYUN_NAMESPACE]
value = "my-namespace"

# The Aliyun ACCOUNT NAME, not the nickname shown in the console. Nicknames often hold spaces;
# account names never do, hence the pattern.
[secrets.ALIYUN_USERNAME]
env = "ALIYUN_USERNAME"
pattern = '^\S+$'

# The registry's FIXED password ("Access Credentials" in the ACR console), not the console login
# password. ACR requires 8 or more characters with upper case, lower case and a digit.
[secrets.ALIYUN_PASSWORD]
from = [
  { env = "ALIYUN_PASSWORD" },
  { keyring = { service = "secretsync", user = "aliyun-acr" } },
  { prompt = "ACR fixed password", confirm = true, remember = true },
]
min_length = 8
require = ["upper", "lower", "digit"]

[[targets]]
repo = "{REPO}"
secrets = ["ALIYUN_*"]

# Log in to the registry with exactly these values, and prove push permission, before any write.
[[checks]]
registry = "secret:ALIYUN_REGISTRY"
username = "secret:ALIYUN_USERNAME"
password = "secret:ALIYUN_PASSWORD"
push = ["secret:ALIYUN_NAMESPACE/app"]
"#;

pub use from::{run as run_from, Reading};
pub use from_github::Wanted;

pub const PRESETS: &[&str] = &["aliyun-acr"];

/// The config text for a preset (or the generic one), for `repo`.
pub fn template(preset: Option<&str>, repo: Option<&str>) -> Result<String, Error> {
    let text = match preset {
        None => GENERIC,
        Some("aliyun-acr") => ALIYUN_ACR,
        Some(other) => {
            return Err(UsageError::UnknownPreset {
                preset: other.to_owned(),
                known: PRESETS,
            }
            .into())
        }
    };
    let repo = repo.unwrap_or("OWNER/REPO");
    if crate::scope::Repo::parse(repo).is_none() {
        return Err(UsageError::RepoNotOwnerName {
            repo: repo.to_owned(),
        }
        .into());
    }
    Ok(text.replace("{REPO}", repo))
}

/// Write the config to `path`; an existing file is kept unless `force`.
pub fn run(
    path: &Path,
    preset: Option<&str>,
    repo: Option<&str>,
    force: bool,
    out: &mut dyn Write,
) -> Result<ExitStatus, Error> {
    let text = template(preset, repo)?;
    write_config(path, &text, force)?;
    writeln!(
        out,
        "wrote {}; edit it, then run `secretsync plan`",
        path.display()
    )?;
    Ok(ExitStatus::Success)
}

/// The one writer of every mode: a new file, never over an existing one (nor through a link)
/// unless `force`, which replaces whatever is there.
pub fn write_config(path: &Path, text: &str, force: bool) -> Result<(), Error> {
    let cannot = |error: std::io::Error| -> Error {
        LocalError::ConfigUnwritable {
            path: path.to_owned(),
            error,
        }
        .into()
    };
    if force {
        return replace(path, text).map_err(cannot);
    }
    // create_new: refusing and writing are one step, so nothing can appear in between; it
    // also refuses a link, even one to nothing, rather than writing through it.
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => UsageError::InitExists {
                path: path.to_owned(),
            }
            .into(),
            _ => cannot(e),
        })?;
    file.write_all(text.as_bytes()).map_err(cannot)
}

/// Refuse early, before any request, when the file is there and may not be replaced; writing
/// refuses again, in one step with the write, should one appear meanwhile.
fn refuse_existing(path: &Path, force: bool) -> Result<(), Error> {
    match !force && std::fs::symlink_metadata(path).is_ok() {
        true => Err(UsageError::InitExists {
            path: path.to_owned(),
        }
        .into()),
        false => Ok(()),
    }
}

/// Replace whatever is at `path` with a new file: written beside it, then renamed over it. A
/// link is replaced, never written through, so `--force` cannot overwrite the file it points to
/// (which may be anywhere), and a reader never sees half a config.
fn replace(path: &Path, text: &str) -> std::io::Result<()> {
    let folder = folder_of(path);
    // The mode a new file gets by default: a config holds no values and may be shared.
    let mut tmp = tempfile::Builder::new()
        .prefix(".secretsync-init")
        .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o644))
        .tempfile_in(folder)?;
    tmp.write_all(text.as_bytes())?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// The folder the config at `path` is in: `.` for a bare file name, whose parent is empty.
fn folder_of(path: &Path) -> &Path {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_are_valid_configs() {
        for preset in [None, Some("aliyun-acr")] {
            let text = template(preset, Some("acme/shop")).unwrap();
            let config = crate::config::parse(&text, Path::new("t.toml"), Path::new("/"))
                .unwrap_or_else(|p| panic!("{preset:?}: {p:?}"));
            assert_eq!(config.targets[0].place.to_string(), "acme/shop");
        }
        let acr = crate::config::parse(
            &template(Some("aliyun-acr"), None).unwrap(),
            Path::new("t.toml"),
            Path::new("/"),
        )
        .unwrap();
        assert_eq!(acr.secrets.len(), 4);
        assert_eq!(acr.checks.len(), 1);
        let pw = &acr.secrets["ALIYUN_PASSWORD"];
        assert_eq!(pw.rules.min_length, Some(8));
        assert_eq!(pw.rules.require.len(), 3);
        let kinds: Vec<&str> = pw.chain.iter().map(|s| s.kind().as_str()).collect();
        assert_eq!(kinds, ["env", "keyring", "prompt"]);
    }

    #[test]
    fn unknown_preset_and_bad_repo() {
        assert!(matches!(
            template(Some("nope"), None),
            Err(Error::Usage(UsageError::UnknownPreset { preset, known }))
                if preset == "nope" && known == PRESETS
        ));
        assert!(matches!(
            template(None, Some("not a repo")),
            Err(Error::Usage(UsageError::RepoNotOwnerName { repo })) if repo == "not a repo"
        ));
    }

    #[test]
    fn an_existing_config_is_kept_unless_forced() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secretsync.toml");
        std::fs::write(&path, "# mine\n").unwrap();
        let mut out = Vec::new();
        let got = run(&path, None, None, false, &mut out);
        assert!(
            matches!(&got, Err(Error::Usage(UsageError::InitExists { path: p })) if *p == path),
            "{:?}",
            got.err()
        );
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "# mine\n");
        let missing_folder = dir.path().join("no/such/folder/secretsync.toml");
        assert!(matches!(
            run(&missing_folder, None, None, false, &mut out),
            Err(Error::Local(LocalError::ConfigUnwritable { path: p, .. })) if p == missing_folder
        ));
        assert!(out.is_empty());
    }
}
