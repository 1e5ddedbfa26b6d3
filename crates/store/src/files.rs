//! Files only the server's own user can read. On Unix the data folder and the folders it keeps
//! (media, outbox, backups) are `0700` and every file in them `0600`: the database and its
//! journals, media files and exports, e-mails in the outbox, backups and key files. Elsewhere
//! these functions create files and folders as usual and change nothing.

use std::path::Path;

/// The mode of the folders the server keeps its data in.
#[cfg(unix)]
const DIR_MODE: u32 = 0o700;
/// The mode of every file in them.
#[cfg(unix)]
const FILE_MODE: u32 = 0o600;

/// Creates `dir` (and its parents) when missing and leaves it open to its owner only.
pub fn private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    restrict(dir, true)?;
    Ok(())
}

/// Creates a new file only its owner can read or write; fails when it exists.
pub fn create_private(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(FILE_MODE);
    }
    options.open(path)
}

/// Takes every permission of group and others away from `path` (a file: `0600`; a folder:
/// `0700`). Returns whether it had any to take. A path that is gone is left alone.
pub fn restrict(path: &Path, is_dir: bool) -> std::io::Result<bool> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let meta = match std::fs::symlink_metadata(path) {
            Ok(meta) => meta,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(e),
        };
        if meta.file_type().is_symlink() || meta.permissions().mode() & 0o077 == 0 {
            return Ok(false);
        }
        let mode = if is_dir { DIR_MODE } else { FILE_MODE };
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
        Ok(true)
    }
    #[cfg(not(unix))]
    {
        let _ = (path, is_dir);
        Ok(false)
    }
}

/// Restricts `root` and everything under it (folders `0700`, files `0600`; symbolic links are
/// not followed). Returns how many files and folders had permissions for others, and were
/// fixed. A missing `root` is not an error.
pub fn restrict_tree(root: &Path) -> std::io::Result<usize> {
    let mut fixed = 0;
    let meta = match std::fs::symlink_metadata(root) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e),
    };
    if !meta.is_dir() {
        return Ok(usize::from(restrict(root, false)?));
    }
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        fixed += usize::from(restrict(&dir, true)?);
        for entry in std::fs::read_dir(&dir)? {
            let entry = entry?;
            let kind = entry.file_type()?;
            if kind.is_dir() {
                pending.push(entry.path());
            } else if kind.is_file() {
                fixed += usize::from(restrict(&entry.path(), false)?);
            }
        }
    }
    Ok(fixed)
}

/// How many times each of `needles` occurs in the bytes of the file at `path`, ignoring ASCII
/// case (addresses are compared without it). Read in chunks, so a database of any size can be
/// searched; empty needles count nothing.
pub fn occurrences(path: &Path, needles: &[&[u8]]) -> std::io::Result<Vec<u64>> {
    use std::io::Read;
    let needles: Vec<Vec<u8>> = needles.iter().map(|n| n.to_ascii_lowercase()).collect();
    let longest = needles.iter().map(Vec::len).max().unwrap_or(0);
    let mut counts = vec![0u64; needles.len()];
    if longest == 0 {
        return Ok(counts);
    }
    let mut file = std::fs::File::open(path)?;
    let mut chunk = vec![0u8; 1 << 20];
    // The end of the previous chunk, so that a match across two chunks is found once: only
    // matches that end in the new bytes are counted.
    let mut window: Vec<u8> = Vec::with_capacity(chunk.len() + longest);
    loop {
        let read = file.read(&mut chunk)?;
        if read == 0 {
            break;
        }
        let kept = window.len();
        window.extend(chunk[..read].iter().map(u8::to_ascii_lowercase));
        for (needle, count) in needles.iter().zip(counts.iter_mut()) {
            if needle.is_empty() || window.len() < needle.len() {
                continue;
            }
            *count += window
                .windows(needle.len())
                .enumerate()
                .filter(|(at, w)| at + needle.len() > kept && w == needle)
                .count() as u64;
        }
        let keep = (longest - 1).min(window.len());
        window.drain(..window.len() - keep);
    }
    Ok(counts)
}

#[cfg(all(test, unix))]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn a_tree_open_to_others_is_closed_and_counted() {
        let root = std::env::temp_dir().join(format!("sz-files-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("media/ws-1")).unwrap();
        std::fs::write(root.join("socializioz.db"), b"x").unwrap();
        std::fs::write(root.join("media/ws-1/a.png"), b"x").unwrap();
        let private = root.join("secret.key");
        drop(create_private(&private).unwrap());
        for (path, m) in [
            (root.clone(), 0o755),
            (root.join("media"), 0o755),
            (root.join("media/ws-1"), 0o750),
            (root.join("socializioz.db"), 0o644),
            (root.join("media/ws-1/a.png"), 0o640),
        ] {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(m)).unwrap();
        }
        assert_eq!(restrict_tree(&root).unwrap(), 5);
        assert_eq!(mode(&root), 0o700);
        assert_eq!(mode(&root.join("media/ws-1")), 0o700);
        assert_eq!(mode(&root.join("socializioz.db")), 0o600);
        assert_eq!(mode(&root.join("media/ws-1/a.png")), 0o600);
        assert_eq!(mode(&private), 0o600);
        // Nothing left to fix the second time.
        assert_eq!(restrict_tree(&root).unwrap(), 0);
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn occurrences_are_counted_across_chunks_and_case() {
        let path = std::env::temp_dir().join(format!("sz-files-scan-{}", std::process::id()));
        let mut bytes = vec![0u8; (1 << 20) - 3];
        bytes.extend_from_slice(b"Ada@Example.com and ada@example.com, Ada Lovelace");
        std::fs::write(&path, &bytes).unwrap();
        let counts = occurrences(
            &path,
            &[b"ada@example.com", b"Ada Lovelace", b"bob@example.com", b""],
        )
        .unwrap();
        assert_eq!(counts, vec![2, 1, 0, 0]);
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn a_new_private_folder_is_closed_to_others() {
        let root = std::env::temp_dir().join(format!("sz-files-dir-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        private_dir(&root.join("outbox")).unwrap();
        assert_eq!(mode(&root.join("outbox")), 0o700);
        std::fs::remove_dir_all(&root).unwrap();
    }
}
