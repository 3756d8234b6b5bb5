//! Targets into jobs, one per scope: `repos = { org, match }` asks GitHub for the organization's
//! repositories, and a scope may be reached by one target only.

use std::collections::BTreeMap;

use crate::apply::ScopeReport;
use crate::config::{Access, Config};
use crate::error::{Error, UsageError};
use crate::github::Client;
use crate::precedence::ScopeNames;
use crate::scope::Scope;

/// One scope's share of the run, after `repos = { org, match }` is expanded.
pub(super) struct Job {
    pub scope: Scope,
    pub secrets: Vec<String>,
    pub variables: Vec<String>,
    /// The target's globs as written, with its line: why declared names are left out.
    pub selection: [Option<String>; 2],
    pub access: Option<Access>,
    pub create_environment: bool,
}

/// The jobs, and a failed report for each target that cannot be expanded. A scope reached
/// twice is an error.
pub(super) async fn expand(
    config: &Config,
    client: &Client,
) -> Result<(Vec<Job>, Vec<ScopeReport>), Error> {
    let mut jobs: Vec<Job> = Vec::new();
    let mut failed = Vec::new();
    // Each scope's target line, so an overlap names both targets.
    let mut lines: BTreeMap<String, usize> = BTreeMap::new();
    for target in &config.targets {
        let scopes = match client.scopes(&target.place).await {
            Ok(scopes) => scopes,
            Err(e) => {
                failed.push(ScopeReport::failed_at_start(target.place.to_string(), e));
                continue;
            }
        };
        for scope in scopes {
            let key = scope.to_string().to_lowercase();
            if let Some(first) = lines.insert(key, target.line) {
                return Err(UsageError::ScopeInTwoTargets {
                    scope: scope.to_string(),
                    first,
                    second: target.line,
                    config: config.path.clone(),
                }
                .into());
            }
            jobs.push(Job {
                scope,
                secrets: target.secrets.clone(),
                variables: target.variables.clone(),
                selection: [
                    selection("secrets", &target.secret_globs, target.line),
                    selection("variables", &target.variable_globs, target.line),
                ],
                access: target.access.clone(),
                create_environment: target.create_environment,
            });
        }
    }
    Ok((jobs, failed))
}

/// `secrets = ["A*"] on line 12`, for a reason; `None` when the target takes every name.
fn selection(key: &str, globs: &Option<Vec<String>>, line: usize) -> Option<String> {
    let globs = globs.as_ref()?;
    let quoted: Vec<String> = globs.iter().map(|g| format!("{g:?}")).collect();
    Some(format!("{key} = [{}] on line {line}", quoted.join(", ")))
}

/// Where each job puts what, for the precedence warnings.
pub(super) fn placed(jobs: &[Job]) -> Vec<ScopeNames<'_>> {
    jobs.iter()
        .map(|j| ScopeNames {
            scope: &j.scope,
            secrets: &j.secrets,
            variables: &j.variables,
            reach: j
                .access
                .as_ref()
                .map(|a| (a.visibility, a.repositories.as_slice())),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_selection_quotes_the_globs_with_their_line() {
        let globs = Some(vec!["A*".to_string(), "B".to_string()]);
        assert_eq!(
            selection("secrets", &globs, 12).as_deref(),
            Some(r#"secrets = ["A*", "B"] on line 12"#)
        );
        assert_eq!(selection("variables", &None, 12), None);
    }
}
