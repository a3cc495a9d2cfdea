//! A C library built with `-O2 -D_FORTIFY_SOURCE=2`, as distributions
//! build their packages: it calls the checking variants (`__printf_chk`,
//! `__read_chk`, `__open_2`, …), each counted under the plain function's
//! name and forwarded to glibc's own, whose checks still run.

use std::ffi::{CStr, c_char, c_int, c_long, c_void};
use std::process::Command;

use allocgate::BlockingCall;

use crate::c_fixture::{compile, symbol};
use crate::{TempDir, blocking, dev_null, on_ci};

const SOURCE: &str = r#"
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

/* Sizes and flags come in as arguments: with constants the fortified
 * headers could prove a call safe and make the plain one. */
int fx_printf(int n) { return printf("%.*s", n, "abc"); }
int fx_fprintf(FILE *s, int n) { return fprintf(s, "%d", n); }
int fx_dprintf(int fd, int n) { return dprintf(fd, "%d", n); }

/* Optimised, the header turns vprintf into __vfprintf_chk(stdout, ...);
 * __vprintf_chk is what it calls otherwise. */
int __vprintf_chk(int flag, const char *format, va_list args);

int fx_vprintf(const char *format, ...) {
    va_list args;
    va_start(args, format);
    int n = __vprintf_chk(1, format, args);
    va_end(args);
    return n;
}

int fx_vfprintf(FILE *s, const char *format, ...) {
    va_list args;
    va_start(args, format);
    int n = vfprintf(s, format, args);
    va_end(args);
    return n;
}

int fx_vdprintf(int fd, const char *format, ...) {
    va_list args;
    va_start(args, format);
    int n = vdprintf(fd, format, args);
    va_end(args);
    return n;
}

long fx_read(int fd, size_t n) { char b[64]; return read(fd, b, n); }
long fx_pread(int fd, size_t n) { char b[64]; return pread(fd, b, n, 0); }
long fx_pread64(int fd, size_t n) { char b[64]; return pread64(fd, b, n, 0); }
long fx_recv(int fd, size_t n) { char b[64]; return recv(fd, b, n, MSG_DONTWAIT); }
long fx_recvfrom(int fd, size_t n) {
    char b[64];
    return recvfrom(fd, b, n, MSG_DONTWAIT, NULL, NULL);
}

int fx_poll(int fd, nfds_t n) {
    struct pollfd p[1] = {{fd, POLLIN, 0}};
    return poll(p, n, 0);
}

int fx_ppoll(int fd, nfds_t n) {
    struct pollfd p[1] = {{fd, POLLIN, 0}};
    struct timespec zero = {0, 0};
    return ppoll(p, n, &zero, NULL);
}

long fx_fread(FILE *s, size_t n) { char b[64]; return (long)fread(b, 1, n, s); }
int fx_fgets(FILE *s, int n) { char b[64]; return fgets(b, n, s) != NULL; }

int fx_open(const char *path, int flags) { return open(path, flags); }
int fx_open64(const char *path, int flags) { return open64(path, flags); }
int fx_openat(const char *path, int flags) { return openat(AT_FDCWD, path, flags); }
int fx_openat64(const char *path, int flags) { return openat64(AT_FDCWD, path, flags); }
"#;

/// The checking functions the fixture calls, one per fixture function.
const CHECKED: [&str; 19] = [
    "__printf_chk",
    "__fprintf_chk",
    "__dprintf_chk",
    "__vprintf_chk",
    "__vfprintf_chk",
    "__vdprintf_chk",
    "__read_chk",
    "__pread_chk",
    "__pread64_chk",
    "__recv_chk",
    "__recvfrom_chk",
    "__poll_chk",
    "__ppoll_chk",
    "__fread_chk",
    "__fgets_chk",
    "__open_2",
    "__open64_2",
    "__openat_2",
    "__openat64_2",
];

/// The names `library` imports, from `nm -D --undefined-only`, or `None`
/// outside CI when `nm` is missing.
fn imports(library: &std::path::Path) -> Option<Vec<String>> {
    let output = match Command::new("nm")
        .args(["-D", "--undefined-only"])
        .arg(library)
        .output()
    {
        Ok(o) => o,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !on_ci() => {
            eprintln!("skipped: no `nm` (binutils) to read the fixture's imports");
            return None;
        }
        Err(e) => panic!("cannot run nm: {e}"),
    };
    assert!(output.status.success());
    let text = String::from_utf8_lossy(&output.stdout);
    Some(
        text.lines()
            .filter_map(|l| l.split_whitespace().last())
            .map(|n| n.split('@').next().unwrap_or(n).to_owned())
            .collect(),
    )
}

/// A function of the fixture as type `F`.
///
/// # Safety
/// `F` is the function's type.
unsafe fn function<F: Copy>(handle: *mut c_void, name: &CStr) -> F {
    let address = symbol(handle, name);
    assert_eq!(size_of::<F>(), size_of::<*mut c_void>());
    // SAFETY: a function's address, as a function pointer of its type
    // (the caller's contract).
    unsafe { std::mem::transmute_copy(&address) }
}

#[test]
fn fortified_calls_are_counted_under_the_plain_names_and_forwarded() {
    let dir = TempDir::new("fortify");
    let Some((handle, library)) = compile(&dir, SOURCE, &["-O2", "-D_FORTIFY_SOURCE=2"]) else {
        return;
    };
    // The compiler really made the checking calls, and no plain ones.
    if let Some(imports) = imports(&library) {
        for name in CHECKED {
            assert!(imports.iter().any(|i| i == name), "{name}: {imports:?}");
        }
        for plain in ["printf", "read", "pread64", "recv", "poll", "fread", "open"] {
            assert!(!imports.iter().any(|i| i == plain), "{plain}: {imports:?}");
        }
    }

    type Int = unsafe extern "C" fn(c_int) -> c_int;
    type StreamInt = unsafe extern "C" fn(*mut libc::FILE, c_int) -> c_int;
    type FdInt = unsafe extern "C" fn(c_int, c_int) -> c_int;
    type Format = unsafe extern "C" fn(*const c_char, ...) -> c_int;
    type StreamFormat = unsafe extern "C" fn(*mut libc::FILE, *const c_char, ...) -> c_int;
    type FdFormat = unsafe extern "C" fn(c_int, *const c_char, ...) -> c_int;
    type FdSize = unsafe extern "C" fn(c_int, usize) -> c_long;
    type Poll = unsafe extern "C" fn(c_int, libc::nfds_t) -> c_int;
    type StreamSize = unsafe extern "C" fn(*mut libc::FILE, usize) -> c_long;
    type Open = unsafe extern "C" fn(*const c_char, c_int) -> c_int;
    // SAFETY: the fixture's functions have these types.
    let (printf, fprintf, dprintf): (Int, StreamInt, FdInt) = unsafe {
        (
            function(handle, c"fx_printf"),
            function(handle, c"fx_fprintf"),
            function(handle, c"fx_dprintf"),
        )
    };
    // SAFETY: as above.
    let (vprintf, vfprintf, vdprintf): (Format, StreamFormat, FdFormat) = unsafe {
        (
            function(handle, c"fx_vprintf"),
            function(handle, c"fx_vfprintf"),
            function(handle, c"fx_vdprintf"),
        )
    };
    // SAFETY: as above.
    let reads: [FdSize; 5] = unsafe {
        [
            function(handle, c"fx_read"),
            function(handle, c"fx_pread"),
            function(handle, c"fx_pread64"),
            function(handle, c"fx_recv"),
            function(handle, c"fx_recvfrom"),
        ]
    };
    // SAFETY: as above.
    let (poll, ppoll): (Poll, Poll) =
        unsafe { (function(handle, c"fx_poll"), function(handle, c"fx_ppoll")) };
    // SAFETY: as above.
    let (fread, fgets): (StreamSize, StreamInt) =
        unsafe { (function(handle, c"fx_fread"), function(handle, c"fx_fgets")) };
    // SAFETY: as above.
    let opens: [Open; 4] = unsafe {
        [
            function(handle, c"fx_open"),
            function(handle, c"fx_open64"),
            function(handle, c"fx_openat"),
            function(handle, c"fx_openat64"),
        ]
    };

    // Outside the scope: a five-byte file, a stream on it, /dev/null as a
    // descriptor and a stream, and a datagram socket pair with two
    // messages waiting.
    let path = dir.file("five");
    std::fs::write(dir.0.join("five"), b"hello").unwrap();
    // SAFETY: NUL-terminated path and mode; every descriptor and stream
    // made here is closed once below.
    let (file, stream) = unsafe {
        (
            libc::open(path.as_ptr(), libc::O_RDONLY),
            libc::fopen(path.as_ptr(), c"r".as_ptr()),
        )
    };
    let null = dev_null(libc::O_WRONLY);
    // SAFETY: a descriptor opened above, owned by the stream from here.
    let null_stream = unsafe { libc::fdopen(dev_null(libc::O_WRONLY), c"w".as_ptr()) };
    let mut pair = [0; 2];
    // SAFETY: a two-element array for the pair; two-byte messages.
    unsafe {
        assert_eq!(
            libc::socketpair(libc::AF_UNIX, libc::SOCK_DGRAM, 0, pair.as_mut_ptr()),
            0
        );
        for _ in 0..2 {
            assert_eq!(libc::send(pair[0], c"ab".as_ptr().cast(), 2, 0), 2);
        }
    }
    assert!(file >= 0 && !stream.is_null() && !null_stream.is_null());

    let mut printed = [0; 6];
    let mut read = [0; 5];
    let mut polled = [0; 2];
    let mut streamed = [0; 2];
    let mut opened = [0; 4];
    // SAFETY: live descriptors and streams, formats matching their
    // arguments, sizes within the fixture's 64-byte buffers.
    let b = blocking(|| unsafe {
        printed = [
            printf(0),
            fprintf(null_stream, 123),
            dprintf(null, 45),
            vprintf(c"%.*s".as_ptr(), 0, c"x".as_ptr()),
            vfprintf(null_stream, c"%s".as_ptr(), c"ab".as_ptr()),
            vdprintf(null, c"%s".as_ptr(), c"abc".as_ptr()),
        ];
        read = [
            reads[0](file, 3),
            reads[1](file, 5),
            reads[2](file, 4),
            reads[3](pair[1], 64),
            reads[4](pair[1], 64),
        ];
        polled = [poll(pair[0], 1), ppoll(pair[0], 1)];
        streamed = [fread(stream, 2) as c_int, fgets(stream, 3)];
        for (fd, open) in opened.iter_mut().zip(opens) {
            *fd = open(path.as_ptr(), libc::O_RDONLY);
        }
    });
    // SAFETY: each closed once.
    unsafe {
        for fd in opened.into_iter().chain([file, null]).chain(pair) {
            libc::close(fd);
        }
        libc::fclose(stream);
        libc::fclose(null_stream);
    }

    // What glibc's functions returned: the calls reached them whole.
    assert_eq!(printed, [0, 3, 2, 0, 2, 3]);
    // read takes 3 of "hello"; the preads read from offset 0.
    assert_eq!(read, [3, 5, 4, 2, 2]);
    // The socket's own end is writable, not readable: nothing ready.
    assert_eq!(polled, [0, 0]);
    // fread takes "he", fgets "ll" (two bytes and the NUL).
    assert_eq!(streamed, [2, 1]);
    assert!(opened.iter().all(|&fd| fd >= 0), "{opened:?}");

    for call in [
        BlockingCall::Printf,
        BlockingCall::Fprintf,
        BlockingCall::Dprintf,
        BlockingCall::Vprintf,
        BlockingCall::Vfprintf,
        BlockingCall::Vdprintf,
        BlockingCall::Read,
        BlockingCall::Pread,
        BlockingCall::Pread64,
        BlockingCall::Recv,
        BlockingCall::RecvFrom,
        BlockingCall::Poll,
        BlockingCall::Ppoll,
        BlockingCall::Fread,
        BlockingCall::Fgets,
        BlockingCall::Open,
        BlockingCall::Open64,
        BlockingCall::OpenAt,
        BlockingCall::OpenAt64,
    ] {
        assert_eq!(b.get(call), 1, "{call}: {b}");
    }
    assert_eq!(b.total(), CHECKED.len() as u64, "{b}");
}

unsafe extern "C" {
    /// This crate's definition (the executable's), as a fortified caller
    /// reaches it.
    fn __read_chk(fd: c_int, buf: *mut c_void, count: usize, size: usize) -> isize;
}

#[test]
fn the_c_librarys_checks_still_run() {
    // A read of 8 bytes into a 4-byte buffer: glibc's __read_chk ends the
    // process before reading, which the plain read would not. In a child,
    // its standard error on /dev/null.
    let null = dev_null(libc::O_RDONLY);
    // SAFETY: the child makes only the call under test, then exits; the
    // parent waits for it.
    let child = unsafe { libc::fork() };
    assert!(child >= 0, "fork: {}", std::io::Error::last_os_error());
    if child == 0 {
        let mut buf = [0u8; 4];
        // SAFETY: async-signal-safe calls only; the read is meant to be
        // refused.
        unsafe {
            libc::dup2(null, 2);
            __read_chk(null, buf.as_mut_ptr().cast(), 8, buf.len());
            libc::_exit(0);
        }
    }
    let mut status = 0;
    // SAFETY: the child just made.
    assert_eq!(unsafe { libc::waitpid(child, &mut status, 0) }, child);
    // SAFETY: closed once.
    unsafe { libc::close(null) };
    assert!(
        libc::WIFSIGNALED(status) && libc::WTERMSIG(status) == libc::SIGABRT,
        "status {status:#x}: the overflowing read was not stopped"
    );
}

#[test]
fn a_read_within_its_buffer_passes_the_check_and_is_counted_as_read() {
    let null = dev_null(libc::O_RDONLY);
    let mut buf = [0u8; 8];
    let mut n = -1;
    // SAFETY: 8 bytes into an 8-byte buffer.
    let b = blocking(|| unsafe {
        n = __read_chk(null, buf.as_mut_ptr().cast(), 8, buf.len());
    });
    // SAFETY: closed once.
    unsafe { libc::close(null) };
    assert_eq!(n, 0, "/dev/null reads empty");
    assert_eq!(b.get(BlockingCall::Read), 1, "{b}");
    assert_eq!(b.total(), 1, "{b}");
}

#[test]
fn the_process_calls_this_crates_checking_functions_and_they_forward_to_glibcs() {
    for name in CHECKED {
        let symbol = std::ffi::CString::new(name).unwrap();
        // SAFETY: NUL-terminated names; RTLD_NEXT asks past this executable.
        let (first, next) = unsafe {
            (
                libc::dlsym(libc::RTLD_DEFAULT, symbol.as_ptr()),
                libc::dlsym(libc::RTLD_NEXT, symbol.as_ptr()),
            )
        };
        assert!(!first.is_null() && !next.is_null(), "{name}");
        assert_ne!(first, next, "{name} resolves to the C library's");
        // The printf family's variadic forms forward to the va_list ones.
        if !["__printf_chk", "__fprintf_chk", "__dprintf_chk"].contains(&name) {
            assert_eq!(
                allocgate_interpose::forwarded_address(name),
                Some(next as usize),
                "{name}"
            );
        }
    }
}
