//! Whether a file is open to other users, as ssh judges a private key: any permission bit for the
//! group or for others. One rule for every file that holds a secret or vouches for one.

use std::fs::Metadata;
use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;

/// The file's mode (the low nine bits) when the group or others have any access to it; `None`
/// when they have none or the file cannot be looked at (its reader reports that itself).
pub fn open_to_others(path: &Path) -> Option<u32> {
    open_mode(&std::fs::metadata(path).ok()?)
}

/// The same rule for a file already open, judged on what was opened rather than on the path.
pub fn open_mode(metadata: &Metadata) -> Option<u32> {
    let mode = metadata.permissions().mode() & 0o777;
    (mode & 0o077 != 0).then_some(mode)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_group_or_other_bit_counts() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, "x").unwrap();
        for (mode, open) in [
            (0o600, false),
            (0o400, false),
            (0o640, true),
            (0o604, true),
            (0o620, true),
        ] {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
            assert_eq!(open_to_others(&path), open.then_some(mode), "{mode:o}");
        }
        assert_eq!(open_to_others(&dir.path().join("absent")), None);
    }
}
