//! How a run ends, and the one place that turns that into the process's exit code: 0 done or in
//! sync, 1 any error, 2 changes pending or findings with `--detailed-exitcode` (Terraform's
//! convention), and the shell's 128 + signal when a signal ends the process.

/// What a command reports when it returns normally; errors carry theirs (`Error::exit_status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// Done, in sync, nothing found.
    Success,
    /// Something failed and was reported already (a failed write, a failed check).
    Failure,
    /// `--detailed-exitcode`: `plan` has changes pending, `audit` has findings.
    Changes,
    /// A second Ctrl-C during apply, which ends the process without waiting for the writes.
    Interrupted,
    /// A signal (its number) that ended the process while a source command ran.
    Signal(i32),
}

impl ExitStatus {
    /// The process's exit code.
    pub fn code(self) -> i32 {
        match self {
            ExitStatus::Success => 0,
            ExitStatus::Failure => 1,
            ExitStatus::Changes => 2,
            ExitStatus::Interrupted => 130,
            ExitStatus::Signal(signal) => 128 + signal,
        }
    }
}

impl From<bool> for ExitStatus {
    /// `true` (all passed) is success, `false` a reported failure.
    fn from(ok: bool) -> Self {
        if ok {
            ExitStatus::Success
        } else {
            ExitStatus::Failure
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ExitStatus;

    /// The codes scripts rely on (README.md, "Exit codes"), and the shell's for signals.
    #[test]
    fn codes_are_the_contract() {
        let table = [
            (ExitStatus::Success, 0),
            (ExitStatus::Failure, 1),
            (ExitStatus::Changes, 2),
            (ExitStatus::Interrupted, 130),
            (ExitStatus::Signal(2), 130),
            (ExitStatus::Signal(15), 143),
            (ExitStatus::from(true), 0),
            (ExitStatus::from(false), 1),
        ];
        for (status, code) in table {
            assert_eq!(status.code(), code, "{status:?}");
        }
    }
}
