//! `LocalError`: something on this machine failed (standard input, a file or folder, a port),
//! with the system's reason and what to try; wording here and nowhere else.

use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum LocalError {
    #[error("cannot read the value from standard input: {error}")]
    StdinUnreadable { error: std::io::Error },
    #[error("cannot write `{path}`: {error}; check the folder's permissions")]
    ConfigUnwritable {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("cannot write man pages into `{dir}`: {error}; pass a folder you can write to --dir")]
    ManPagesUnwritable { dir: PathBuf, error: std::io::Error },
    #[error("cannot read workflow `{path}`: {error}; check its permissions")]
    WorkflowUnreadable {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("cannot list `{folder}`: {error}; check its permissions")]
    FolderUnlistable {
        folder: PathBuf,
        error: std::io::Error,
    },
    #[error("cannot listen on {addr}: {error}; pick another --addr")]
    CannotListen {
        addr: SocketAddr,
        error: std::io::Error,
    },
}
