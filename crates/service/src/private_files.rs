//! Files only the service's user may read: the data directory holds password hashes,
//! token digests and people's voicemail. Directories are made 0700 and files 0600
//! (on Unix; elsewhere the platform's defaults for the user's profile apply).

use std::io;
use std::path::Path;

/// Creates `path` (and missing parents) readable by this user only; an existing
/// directory is left as the operator set it.
pub fn create_dir(path: &Path) -> io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(path)
}

/// Writes `contents` to a new or truncated file readable by this user only.
pub fn write(path: &Path, contents: &[u8]) -> io::Result<()> {
    let mut file = options().open(path)?;
    io::Write::write_all(&mut file, contents)
}

/// Creating or truncating, for writing, with mode 0600.
pub fn options() -> std::fs::OpenOptions {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
}

/// Makes an existing file readable by this user only (files from older versions
/// were created 0644). A missing file is fine.
pub fn restrict(path: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        match std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)) {
            Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(()),
            other => other,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        Ok(())
    }
}

/// Creates the file empty with mode 0600 if it does not exist (so that SQLite, which
/// gives its WAL and shared-memory files the database's mode, makes those 0600
/// too), and restricts it if it does.
pub fn prepare(path: &Path) -> io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?;
    restrict(path)
}

#[cfg(all(test, unix))]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn directories_and_files_are_the_users_alone() {
        let top = tempfile::tempdir().unwrap();
        let dir = top.path().join("a/b");
        create_dir(&dir).unwrap();
        assert_eq!(mode(&dir), 0o700);
        write(&dir.join("secret"), b"x").unwrap();
        assert_eq!(mode(&dir.join("secret")), 0o600);
        std::fs::write(dir.join("old"), b"x").unwrap();
        std::fs::set_permissions(dir.join("old"), std::fs::Permissions::from_mode(0o644)).unwrap();
        prepare(&dir.join("old")).unwrap();
        assert_eq!(mode(&dir.join("old")), 0o600);
        assert_eq!(std::fs::read(dir.join("old")).unwrap(), b"x", "prepare keeps the contents");
        restrict(&dir.join("missing")).unwrap();
    }
}
