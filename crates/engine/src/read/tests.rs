use std::fs;
use std::io::{self, Read};
use std::path::Path;
use std::time::{Duration, Instant};

use super::*;
use crate::scratch::TestDir;

const KINDS: [InputKind; 5] = [
    InputKind::Preset,
    InputKind::Scenario,
    InputKind::Report,
    InputKind::Baseline,
    InputKind::Sofa,
];

#[test]
fn a_regular_file_and_a_symlink_to_one_read_whole() {
    let dir = TestDir::new("in-regular");
    let path = dir.path().join("a.toml");
    fs::write(&path, "name = \"a\"\n").unwrap();
    assert_eq!(
        read_input(&path, InputKind::Scenario).unwrap(),
        b"name = \"a\"\n"
    );
    #[cfg(unix)]
    {
        let link = dir.path().join("link.toml");
        std::os::unix::fs::symlink(&path, &link).unwrap();
        assert_eq!(
            read_input(&link, InputKind::Scenario).unwrap(),
            b"name = \"a\"\n"
        );
    }
}

#[test]
fn a_file_past_its_cap_is_refused_from_its_size_without_being_read() {
    let dir = TestDir::new("in-large");
    let path = dir.path().join("big");
    let file = fs::File::create(&path).unwrap();
    for kind in KINDS {
        // Sparse: nothing is written, and reading it would take a while.
        file.set_len(kind.max_bytes() + 1).unwrap();
        let start = Instant::now();
        let e = read_input(&path, kind).unwrap_err();
        assert!(start.elapsed() < Duration::from_secs(1), "{kind:?}: read?");
        assert_eq!(e.kind(), io::ErrorKind::InvalidData);
        assert_eq!(
            e.to_string(),
            format!(
                "it has {} bytes; a {} is at most {} MiB",
                kind.max_bytes() + 1,
                kind.name(),
                kind.max_bytes() >> 20
            )
        );
    }
    // At the cap, read.
    file.set_len(InputKind::Scenario.max_bytes()).unwrap();
    let bytes = read_input(&path, InputKind::Scenario).unwrap();
    assert_eq!(bytes.len() as u64, InputKind::Scenario.max_bytes());
}

#[test]
fn an_endless_reader_stops_one_byte_past_the_cap() {
    let cap = InputKind::Scenario.max_bytes();
    let e = read_capped(io::repeat(0), InputKind::Scenario).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "more than {0} MiB; a scenario is at most {0} MiB",
            cap >> 20
        )
    );
    let ok = read_capped(io::repeat(7).take(cap), InputKind::Scenario).unwrap();
    assert_eq!(ok.len() as u64, cap);
}

#[test]
fn a_directory_is_refused() {
    let dir = TestDir::new("in-dir");
    let e = read_input(dir.path(), InputKind::Report).unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
    assert_eq!(e.to_string(), "it is a directory; expected a regular file");
}

#[cfg(unix)]
#[test]
fn a_device_is_refused_without_reading() {
    let e = read_input(Path::new("/dev/zero"), InputKind::Sofa).unwrap_err();
    assert_eq!(
        e.to_string(),
        "it is a character device; expected a regular file"
    );
}

#[cfg(unix)]
#[test]
fn a_fifo_with_no_writer_is_refused_at_once() {
    use std::os::unix::ffi::OsStrExt;
    let dir = TestDir::new("in-fifo");
    let fifo = dir.path().join("fifo.wav");
    let c = std::ffi::CString::new(fifo.as_os_str().as_bytes()).unwrap();
    // SAFETY: `c` is a valid NUL-terminated path that outlives the call.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
    // On a thread, so that a read that blocks fails the test instead of
    // hanging it.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(read_input(&fifo, InputKind::Preset).map_err(|e| e.to_string()));
    });
    let got = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("refused without waiting for a writer");
    assert_eq!(got.unwrap_err(), "it is a FIFO; expected a regular file");
}

#[test]
fn a_missing_file_says_so() {
    let dir = TestDir::new("in-missing");
    let e = read_input(&dir.path().join("absent"), InputKind::Baseline).unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::NotFound);
}
