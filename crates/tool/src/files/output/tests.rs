use std::fs;
use std::io;
use std::path::Path;

use super::*;
use allocgate_engine::scratch::TestDir;

fn outputs(files: &[(&str, &Path)]) -> Outputs {
    let mut o = Outputs::new();
    for (label, path) in files {
        o.add(*label, *path);
    }
    o
}

#[cfg(unix)]
fn mkfifo(path: &Path) {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).unwrap();
    // SAFETY: `c` is a valid NUL-terminated path that outlives the call.
    let rc = unsafe { libc::mkfifo(c.as_ptr(), 0o644) };
    assert_eq!(rc, 0, "mkfifo {}", path.display());
}

#[test]
fn a_new_file_is_written_and_no_temporary_file_is_left() {
    let dir = TestDir::new("out-new");
    let path = dir.path().join("a.json");
    write_atomically(&path, b"new", |_| Ok(())).unwrap();
    assert_eq!(fs::read(&path).unwrap(), b"new");
    assert_eq!(dir.entries(), ["a.json"]);
}

#[cfg(unix)]
#[test]
fn a_symlink_to_a_regular_file_is_written_through_and_stays_a_link() {
    let dir = TestDir::new("out-link");
    let real = dir.path().join("real.json");
    let link = dir.path().join("link.json");
    fs::write(&real, "old").unwrap();
    std::os::unix::fs::symlink("real.json", &link).unwrap();
    outputs(&[("--out", &link)]).check().unwrap();
    write_atomically(&link, b"new", |_| Ok(())).unwrap();
    assert!(
        fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(fs::read_link(&link).unwrap(), Path::new("real.json"));
    assert_eq!(fs::read(&real).unwrap(), b"new");
    assert_eq!(dir.entries(), ["link.json", "real.json"]);
}

#[cfg(unix)]
#[test]
fn a_fifo_a_directory_and_symlinks_to_them_or_to_nothing_are_refused_and_kept() {
    let dir = TestDir::new("out-special");
    let fifo = dir.path().join("fifo");
    mkfifo(&fifo);
    let sub = dir.path().join("sub");
    fs::create_dir(&sub).unwrap();
    let to_fifo = dir.path().join("to-fifo");
    std::os::unix::fs::symlink(&fifo, &to_fifo).unwrap();
    let to_dir = dir.path().join("to-dir");
    std::os::unix::fs::symlink(&sub, &to_dir).unwrap();
    let dangling = dir.path().join("dangling");
    std::os::unix::fs::symlink("missing", &dangling).unwrap();
    for (path, what) in [
        (&fifo, "it is a FIFO"),
        (&sub, "it is a directory"),
        (&to_fifo, "it is a symlink to a FIFO"),
        (&to_dir, "it is a symlink to a directory"),
        (&dangling, "it is a symlink to nothing"),
    ] {
        let want = format!("{what}; expected a regular file, a symlink to one, or a new path");
        let e = write_atomically(path, b"x", |_| Ok(())).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidInput, "{}", path.display());
        assert_eq!(e.to_string(), want);
        let e = outputs(&[("--out", path)]).check().unwrap_err().to_string();
        assert_eq!(
            e,
            format!("cannot write --out '{}': {want}", path.display())
        );
    }
    use std::os::unix::fs::FileTypeExt;
    assert!(fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo());
    assert_eq!(
        dir.entries(),
        ["dangling", "fifo", "sub", "to-dir", "to-fifo"]
    );
    assert!(fs::read_dir(&sub).unwrap().next().is_none());
}

#[cfg(unix)]
#[test]
fn a_target_swapped_for_a_fifo_during_the_write_is_not_replaced() {
    use std::os::unix::fs::FileTypeExt;
    let dir = TestDir::new("out-swap");
    let path = dir.path().join("run.json");
    fs::write(&path, "old").unwrap();
    let e = write_atomically(&path, b"new", |_| {
        fs::remove_file(&path)?;
        mkfifo(&path);
        Ok(())
    })
    .unwrap_err();
    assert!(e.to_string().starts_with("it is a FIFO"), "{e}");
    assert!(fs::symlink_metadata(&path).unwrap().file_type().is_fifo());
    assert_eq!(dir.entries(), ["run.json"]);
}

#[test]
fn a_failure_before_the_rename_keeps_the_old_file_and_removes_the_temporary_one() {
    let dir = TestDir::new("out-keep");
    let path = dir.path().join("run.json");
    fs::write(&path, "old").unwrap();
    let mut temp_seen = None;
    let err = write_atomically(&path, b"new", |temp| {
        assert_eq!(fs::read(temp)?, b"new");
        temp_seen = Some(temp.to_owned());
        Err(io::Error::other("disk on fire"))
    })
    .unwrap_err();
    assert_eq!(err.to_string(), "disk on fire");
    let temp = temp_seen.expect("the hook ran with the temporary file");
    assert_eq!(temp.parent(), Some(dir.path()), "beside the file");
    assert!(!temp.exists());
    assert_eq!(fs::read(&path).unwrap(), b"old");
    assert_eq!(dir.entries(), ["run.json"]);
}

#[test]
fn a_path_without_a_file_name_is_refused() {
    let err = write_atomically(Path::new("/"), b"x", |_| Ok(())).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
}

#[test]
fn the_check_makes_directories_and_leaves_no_file_behind() {
    let dir = TestDir::new("out-check");
    let a = dir.path().join("deep/er/a.json");
    let b = dir.path().join("b.json");
    outputs(&[("--out", &a), ("--hdr-log", &b)])
        .check()
        .unwrap();
    assert_eq!(dir.entries(), ["deep"]);
    assert!(fs::read_dir(a.parent().unwrap()).unwrap().next().is_none());
}

#[cfg(unix)]
#[test]
fn two_outputs_naming_one_file_are_refused_however_named() {
    let dir = TestDir::new("out-same");
    let x = dir.path().join("x.json");
    let dotted = dir.path().join(".").join("x.json");
    let via_sub = dir.path().join("sub/../x.json");
    fs::create_dir(dir.path().join("sub")).unwrap();
    let link = dir.path().join("link.json");
    let want = |second: &str| {
        format!(
            "--out and {second} name the same file '{}'; give each its own",
            fs::canonicalize(dir.path())
                .unwrap()
                .join("x.json")
                .display()
        )
    };
    for other in [&x, &dotted, &via_sub] {
        let e = outputs(&[("--out", &x), ("--hdr-log", other)]).check();
        assert_eq!(e.unwrap_err().to_string(), want("--hdr-log"));
    }
    // A link to the file, once it exists.
    fs::write(&x, "old").unwrap();
    std::os::unix::fs::symlink(&x, &link).unwrap();
    let e = outputs(&[("--out", &x), ("--junit", &link)]).check();
    assert_eq!(e.unwrap_err().to_string(), want("--junit"));
    assert_eq!(fs::read(&x).unwrap(), b"old");
    // Two different files pass.
    let y = dir.path().join("y.json");
    outputs(&[("--out", &x), ("--hdr-log", &y)])
        .check()
        .unwrap();
}

#[test]
fn a_path_beneath_a_regular_file_fails_the_check_naming_it() {
    let dir = TestDir::new("out-beneath");
    let file = dir.path().join("file");
    fs::write(&file, "x").unwrap();
    let e = outputs(&[("--out", &file.join("x.json"))])
        .check()
        .unwrap_err();
    assert!(matches!(e, OutputError::Directory { .. }), "{e:?}");
    assert!(
        e.to_string()
            .starts_with(&format!("cannot create '{}': ", file.display())),
        "{e}"
    );
}

#[cfg(target_os = "linux")]
#[test]
fn a_directory_nobody_can_create_files_in_fails_the_check() {
    // /proc exists, and not even root can create a file in it.
    let e = outputs(&[("--out", Path::new("/proc/allocgate-check.json"))])
        .check()
        .unwrap_err();
    assert!(matches!(e, OutputError::Write { .. }), "{e:?}");
    assert!(
        e.to_string()
            .starts_with("cannot write --out '/proc/allocgate-check.json': "),
        "{e}"
    );
}
