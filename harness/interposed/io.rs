//! Waiting for descriptors, file, stream and socket I/O, memory mapping and
//! `syscall`: every call counted by name, forwarded with its arguments.

use std::ffi::{CStr, c_void};
use std::ptr;

use allocgate::{BlockingCall, CallbackGate};

use crate::{TempDir, blocking, dev_null, errno, set_errno};

// Not declared by the libc crate.
unsafe extern "C" {
    fn putc(c: libc::c_int, stream: *mut libc::FILE) -> libc::c_int;
    fn dprintf(fd: libc::c_int, format: *const libc::c_char, ...) -> libc::c_int;
}

#[test]
fn the_process_calls_this_crates_definition_of_every_counted_function() {
    // The executable defines each name (RTLD_DEFAULT finds it first), and
    // the C library defines it too (RTLD_NEXT, past the executable).
    let names = BlockingCall::ALL
        .iter()
        .map(|c| c.name())
        .filter(|&n| n != "futex")
        .chain(["syscall"]);
    for name in names {
        let symbol = std::ffi::CString::new(name).unwrap();
        // SAFETY: NUL-terminated names.
        let (first, next) = unsafe {
            (
                libc::dlsym(libc::RTLD_DEFAULT, symbol.as_ptr()),
                libc::dlsym(libc::RTLD_NEXT, symbol.as_ptr()),
            )
        };
        assert!(!first.is_null() && !next.is_null(), "{name}");
        assert_ne!(first, next, "{name} resolves to the C library's");
    }
}

#[test]
fn every_alias_forwarded_to_is_the_c_librarys_function_of_that_name() {
    for (name, alias) in [
        (c"read", c"__read"),
        (c"write", c"__write"),
        (c"close", c"__close"),
        (c"open", c"__open"),
        (c"open64", c"__open64"),
        (c"pread64", c"__pread64"),
        (c"pwrite64", c"__pwrite64"),
        (c"poll", c"__poll"),
        (c"select", c"__select"),
        (c"send", c"__send"),
        (c"nanosleep", c"__nanosleep"),
        (c"sched_yield", c"__sched_yield"),
        (c"fopen", c"_IO_fopen"),
        (c"fclose", c"_IO_fclose"),
        (c"fread", c"_IO_fread"),
        (c"fwrite", c"_IO_fwrite"),
        (c"fflush", c"_IO_fflush"),
        (c"fputs", c"_IO_fputs"),
        (c"puts", c"_IO_puts"),
        (c"putc", c"_IO_putc"),
        (c"fgets", c"_IO_fgets"),
        (c"vfprintf", c"_IO_vfprintf"),
    ] {
        // SAFETY: NUL-terminated names.
        let (real, aliased) = unsafe {
            (
                libc::dlsym(libc::RTLD_NEXT, name.as_ptr()),
                libc::dlsym(libc::RTLD_NEXT, alias.as_ptr()),
            )
        };
        assert!(!real.is_null(), "{name:?}");
        assert_eq!(real, aliased, "{alias:?} is not {name:?}");
    }
}

#[test]
fn writes_reads_opens_and_closes_are_counted_by_name() {
    const WRITES: u64 = 5;
    let null = c"/dev/null";
    let bytes = *b"8 bytes.";
    let mut buffer = [0u8; 8];
    let mut fds = [0; 4];
    // SAFETY: valid paths, buffers and descriptors, each closed once.
    let b = blocking(|| unsafe {
        fds[0] = libc::open(null.as_ptr(), libc::O_WRONLY);
        fds[1] = libc::open64(null.as_ptr(), libc::O_RDONLY);
        fds[2] = libc::openat(libc::AT_FDCWD, null.as_ptr(), libc::O_WRONLY);
        fds[3] = libc::openat64(libc::AT_FDCWD, null.as_ptr(), libc::O_RDONLY);
        for _ in 0..WRITES {
            assert_eq!(libc::write(fds[0], bytes.as_ptr().cast(), 8), 8);
        }
        assert_eq!(libc::pwrite(fds[2], bytes.as_ptr().cast(), 8, 0), 8);
        assert_eq!(libc::pwrite64(fds[2], bytes.as_ptr().cast(), 8, 0), 8);
        let out = libc::iovec {
            iov_base: bytes.as_ptr() as *mut c_void,
            iov_len: 8,
        };
        assert_eq!(libc::writev(fds[0], &out, 1), 8);
        // /dev/null reads as empty.
        assert_eq!(libc::read(fds[1], buffer.as_mut_ptr().cast(), 8), 0);
        assert_eq!(libc::pread(fds[3], buffer.as_mut_ptr().cast(), 8, 0), 0);
        assert_eq!(libc::pread64(fds[3], buffer.as_mut_ptr().cast(), 8, 0), 0);
        let into = libc::iovec {
            iov_base: buffer.as_mut_ptr().cast(),
            iov_len: 8,
        };
        assert_eq!(libc::readv(fds[1], &into, 1), 0);
        libc::fsync(fds[0]);
        libc::fdatasync(fds[0]);
        for fd in fds {
            assert_eq!(libc::close(fd), 0);
        }
    });
    assert!(fds.iter().all(|&fd| fd >= 0), "{fds:?}");
    let expected = [
        (BlockingCall::Open, 1),
        (BlockingCall::Open64, 1),
        (BlockingCall::OpenAt, 1),
        (BlockingCall::OpenAt64, 1),
        (BlockingCall::Write, WRITES),
        (BlockingCall::Pwrite, 1),
        (BlockingCall::Pwrite64, 1),
        (BlockingCall::Writev, 1),
        (BlockingCall::Read, 1),
        (BlockingCall::Pread, 1),
        (BlockingCall::Pread64, 1),
        (BlockingCall::Readv, 1),
        (BlockingCall::Fsync, 1),
        (BlockingCall::Fdatasync, 1),
        (BlockingCall::Close, 4),
    ];
    for (call, n) in expected {
        assert_eq!(b.get(call), n, "{call}: {b}");
    }
    let total: u64 = expected.iter().map(|&(_, n)| n).sum();
    assert_eq!(b.total(), total, "{b}");
}

/// The permission bits of `path`.
fn mode_of(path: &CStr) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    let path = std::path::Path::new(path.to_str().unwrap());
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn creating_opens_forward_the_mode_and_are_counted() {
    // 0o600 survives any usual umask, which only clears group and other bits.
    const MODE: libc::mode_t = 0o600;
    let dir = TempDir::new("creating-opens");
    let paths = [
        dir.file("open"),
        dir.file("open64"),
        dir.file("openat"),
        dir.file("openat64"),
        dir.file("creat"),
        dir.file("creat64"),
    ];
    let flags = libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL;
    let mut fds = [0; 6];
    // SAFETY: NUL-terminated paths in a fresh directory; each descriptor
    // closed once after the scope.
    let b = blocking(|| unsafe {
        fds[0] = libc::open(paths[0].as_ptr(), flags, MODE);
        fds[1] = libc::open64(paths[1].as_ptr(), flags, MODE);
        fds[2] = libc::openat(libc::AT_FDCWD, paths[2].as_ptr(), flags, MODE);
        fds[3] = libc::openat64(libc::AT_FDCWD, paths[3].as_ptr(), flags, MODE);
        fds[4] = libc::creat(paths[4].as_ptr(), MODE);
        fds[5] = libc::creat64(paths[5].as_ptr(), MODE);
    });
    for (fd, path) in fds.iter().zip(&paths) {
        assert!(*fd >= 0, "{path:?}");
        // SAFETY: an open descriptor, closed once.
        unsafe { libc::close(*fd) };
        assert_eq!(mode_of(path), MODE, "{path:?}");
    }
    for call in [
        BlockingCall::Open,
        BlockingCall::Open64,
        BlockingCall::OpenAt,
        BlockingCall::OpenAt64,
        BlockingCall::Creat,
        BlockingCall::Creat64,
    ] {
        assert_eq!(b.get(call), 1, "{call}: {b}");
    }
    assert_eq!(b.total(), 6, "{b}");
}

#[test]
fn io_keeps_the_c_librarys_errno_and_outside_a_scope_counts_nothing() {
    let fd = dev_null(libc::O_WRONLY);
    let worker = std::thread::spawn(move || {
        for _ in 0..100 {
            // SAFETY: an open descriptor and a one-byte buffer.
            assert_eq!(unsafe { libc::write(fd, b"x".as_ptr().cast(), 1) }, 1);
        }
    });
    let mut errors = (0, 0);
    let b = blocking(|| {
        // A successful call leaves errno alone; a failing one sets it.
        set_errno(libc::EDOM);
        // SAFETY: an open descriptor and a one-byte buffer.
        assert_eq!(unsafe { libc::write(fd, b"x".as_ptr().cast(), 1) }, 1);
        errors.0 = errno();
        // SAFETY: a closed descriptor number: the call fails with EBADF.
        assert_eq!(unsafe { libc::write(-1, b"x".as_ptr().cast(), 1) }, -1);
        errors.1 = errno();
    });
    worker.join().unwrap();
    // SAFETY: opened above, closed once.
    unsafe { libc::close(fd) };
    assert_eq!(errors, (libc::EDOM, libc::EBADF));
    // The worker's 100 writes, on a thread without a scope, are not here.
    assert_eq!(b.get(BlockingCall::Write), 2, "{b}");
    assert_eq!(b.total(), 2, "{b}");
}

#[test]
fn polls_and_selects_with_zero_timeouts_are_counted_by_name() {
    let fd = dev_null(libc::O_WRONLY);
    // SAFETY: no preconditions; closed below.
    let epoll = unsafe { libc::epoll_create1(0) };
    assert!(epoll >= 0);
    let zero_ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    let mut zero_tv = libc::timeval {
        tv_sec: 0,
        tv_usec: 0,
    };
    let mut results = [0; 6];
    // SAFETY: valid descriptors, event buffers and timeouts; every call
    // returns at once.
    let b = blocking(|| unsafe {
        let mut pfd = libc::pollfd {
            fd,
            events: libc::POLLOUT,
            revents: 0,
        };
        results[0] = libc::poll(&mut pfd, 1, 0);
        results[1] = libc::ppoll(&mut pfd, 1, &zero_ts, ptr::null());
        results[2] = libc::select(
            0,
            ptr::null_mut(),
            ptr::null_mut(),
            ptr::null_mut(),
            &mut zero_tv,
        );
        results[3] = libc::pselect(
            0,
            ptr::null_mut(),
            ptr::null_mut(),
            ptr::null_mut(),
            &zero_ts,
            ptr::null(),
        );
        let mut event = libc::epoll_event { events: 0, u64: 0 };
        results[4] = libc::epoll_wait(epoll, &mut event, 1, 0);
        results[5] = libc::epoll_pwait(epoll, &mut event, 1, 0, ptr::null());
    });
    // SAFETY: opened above, closed once.
    unsafe {
        libc::close(epoll);
        libc::close(fd);
    }
    // /dev/null is always writable; nothing was added to the epoll set.
    assert_eq!(results, [1, 1, 0, 0, 0, 0]);
    for call in [
        BlockingCall::Poll,
        BlockingCall::Ppoll,
        BlockingCall::Select,
        BlockingCall::Pselect,
        BlockingCall::EpollWait,
        BlockingCall::EpollPwait,
    ] {
        assert_eq!(b.get(call), 1, "{call}: {b}");
    }
    assert_eq!(b.total(), 6, "{b}");
}

#[test]
fn stream_calls_are_counted_by_name_and_write_what_they_were_given() {
    let dir = TempDir::new("streams");
    let path = dir.file("stream.txt");
    let mut line = [0 as libc::c_char; 64];
    let mut tail = [0u8; 8];
    let mut read = 0;
    // SAFETY: valid paths, modes, buffers and formats; each stream closed
    // once.
    let b = blocking(|| unsafe {
        let out = libc::fopen(path.as_ptr(), c"w".as_ptr());
        assert!(!out.is_null());
        assert!(libc::fputs(c"text".as_ptr(), out) >= 0);
        assert_eq!(libc::fputc(i32::from(b'a'), out), i32::from(b'a'));
        assert_eq!(putc(i32::from(b'b'), out), i32::from(b'b'));
        assert_eq!(libc::fwrite(b"xyz".as_ptr().cast(), 1, 3, out), 3);
        assert_eq!(libc::fprintf(out, c" %d\n".as_ptr(), 42), 4);
        assert_eq!(libc::fflush(out), 0);
        assert_eq!(libc::fclose(out), 0);
        let input = libc::fopen64(path.as_ptr(), c"r".as_ptr());
        assert!(!input.is_null());
        assert!(!libc::fgets(line.as_mut_ptr(), 64, input).is_null());
        read = libc::fread(tail.as_mut_ptr().cast(), 1, 8, input);
        assert_eq!(libc::fclose(input), 0);
        // Formats that print nothing: standard output stays clean.
        assert_eq!(libc::printf(c"%s".as_ptr(), c"".as_ptr()), 0);
    });
    // SAFETY: fgets wrote a NUL-terminated line.
    let line = unsafe { CStr::from_ptr(line.as_ptr()) };
    assert_eq!(line, c"textabxyz 42\n");
    assert_eq!(read, 0, "the file is one line");
    for call in [
        BlockingCall::Fopen,
        BlockingCall::Fputs,
        BlockingCall::Fputc,
        BlockingCall::Putc,
        BlockingCall::Fwrite,
        BlockingCall::Fprintf,
        BlockingCall::Fflush,
        BlockingCall::Fopen64,
        BlockingCall::Fgets,
        BlockingCall::Fread,
        BlockingCall::Printf,
    ] {
        assert_eq!(b.get(call), 1, "{call}: {b}");
    }
    assert_eq!(b.get(BlockingCall::Fclose), 2, "{b}");
    // The streams' own writes, reads and locks are glibc's internal calls.
    assert_eq!(b.total(), 13, "{b}");
}

#[test]
fn dprintf_is_counted_and_writes_to_its_descriptor() {
    let mut pipe = [0; 2];
    // SAFETY: a two-element array for the descriptors.
    assert_eq!(unsafe { libc::pipe(pipe.as_mut_ptr()) }, 0);
    let mut written = 0;
    // SAFETY: an open descriptor and a format matching its argument.
    let b = blocking(|| written = unsafe { dprintf(pipe[1], c"%d-%s".as_ptr(), 7, c"x".as_ptr()) });
    let mut text = [0u8; 8];
    // SAFETY: open descriptors and a buffer of the given length.
    let n = unsafe {
        let n = libc::read(pipe[0], text.as_mut_ptr().cast(), 8);
        libc::close(pipe[0]);
        libc::close(pipe[1]);
        n
    };
    assert_eq!((written, n), (3, 3));
    assert_eq!(&text[..3], b"7-x");
    assert_eq!(b.get(BlockingCall::Dprintf), 1, "{b}");
    assert_eq!(b.total(), 1, "{b}");
}

#[test]
fn a_send_and_recv_pair_of_each_kind_is_counted_by_name() {
    let mut pair = [0; 2];
    // SAFETY: a two-element array for the descriptors.
    let made = unsafe { libc::socketpair(libc::AF_UNIX, libc::SOCK_DGRAM, 0, pair.as_mut_ptr()) };
    assert_eq!(made, 0);
    let mut received = [[0u8; 4]; 3];
    let mut sizes = [0; 6];
    // SAFETY: connected datagram sockets, valid buffers and message headers.
    let b = blocking(|| unsafe {
        sizes[0] = libc::send(pair[0], b"one".as_ptr().cast(), 3, 0);
        sizes[1] = libc::sendto(pair[0], b"two".as_ptr().cast(), 3, 0, ptr::null(), 0);
        let mut out = libc::iovec {
            iov_base: b"six".as_ptr() as *mut c_void,
            iov_len: 3,
        };
        let mut message: libc::msghdr = std::mem::zeroed();
        message.msg_iov = &mut out;
        message.msg_iovlen = 1;
        sizes[2] = libc::sendmsg(pair[0], &message, 0);
        sizes[3] = libc::recv(pair[1], received[0].as_mut_ptr().cast(), 4, 0);
        sizes[4] = libc::recvfrom(
            pair[1],
            received[1].as_mut_ptr().cast(),
            4,
            0,
            ptr::null_mut(),
            ptr::null_mut(),
        );
        let mut into = libc::iovec {
            iov_base: received[2].as_mut_ptr().cast(),
            iov_len: 4,
        };
        let mut message: libc::msghdr = std::mem::zeroed();
        message.msg_iov = &mut into;
        message.msg_iovlen = 1;
        sizes[5] = libc::recvmsg(pair[1], &mut message, 0);
    });
    // SAFETY: opened above, closed once.
    unsafe {
        libc::close(pair[0]);
        libc::close(pair[1]);
    }
    assert_eq!(sizes, [3; 6]);
    assert_eq!(received, [*b"one\0", *b"two\0", *b"six\0"]);
    for call in [
        BlockingCall::Send,
        BlockingCall::SendTo,
        BlockingCall::SendMsg,
        BlockingCall::Recv,
        BlockingCall::RecvFrom,
        BlockingCall::RecvMsg,
    ] {
        assert_eq!(b.get(call), 1, "{call}: {b}");
    }
    assert_eq!(b.total(), 6, "{b}");
}

#[test]
fn mapping_calls_are_counted_by_name_and_mremap_forwards_its_target() {
    // SAFETY: no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as usize;
    let anonymous = libc::MAP_PRIVATE | libc::MAP_ANONYMOUS;
    let rw = libc::PROT_READ | libc::PROT_WRITE;
    // A two-page region reserved outside the scope: mremap's fixed target.
    // SAFETY: a fresh anonymous mapping.
    let target =
        unsafe { libc::mmap(ptr::null_mut(), 2 * page, libc::PROT_NONE, anonymous, -1, 0) };
    assert_ne!(target, libc::MAP_FAILED);
    let mut moved = ptr::null_mut();
    // SAFETY: fresh anonymous mappings, each unmapped once; mremap moves
    // the first onto the reserved target, which it replaces.
    let b = blocking(|| unsafe {
        let one = libc::mmap(ptr::null_mut(), page, rw, anonymous, -1, 0);
        assert_ne!(one, libc::MAP_FAILED);
        let two = libc::mmap64(ptr::null_mut(), page, rw, anonymous, -1, 0);
        assert_ne!(two, libc::MAP_FAILED);
        assert_eq!(libc::mprotect(two, page, libc::PROT_READ), 0);
        assert_eq!(libc::madvise(two, page, libc::MADV_DONTNEED), 0);
        assert_eq!(libc::munmap(two, page), 0);
        moved = libc::mremap(
            one,
            page,
            2 * page,
            libc::MREMAP_MAYMOVE | libc::MREMAP_FIXED,
            target,
        );
        assert_ne!(moved, libc::MAP_FAILED);
        assert_eq!(libc::munmap(moved, 2 * page), 0);
    });
    assert_eq!(moved, target, "the fifth argument reached the C library");
    for (call, n) in [
        (BlockingCall::Mmap, 1),
        (BlockingCall::Mmap64, 1),
        (BlockingCall::Mprotect, 1),
        (BlockingCall::Madvise, 1),
        (BlockingCall::Munmap, 2),
        (BlockingCall::Mremap, 1),
    ] {
        assert_eq!(b.get(call), n, "{call}: {b}");
    }
    assert_eq!(b.total(), 7, "{b}");
}

#[test]
fn syscall_forwards_every_argument_and_counts_no_other_call() {
    let fd = dev_null(libc::O_WRONLY);
    let mut written = 0;
    // SAFETY: a write of a 5-byte buffer to an open descriptor.
    let b = blocking(|| {
        written = unsafe { libc::syscall(libc::SYS_write, fd, b"hello".as_ptr(), 5usize) }
    });
    // SAFETY: opened above, closed once.
    unsafe { libc::close(fd) };
    assert_eq!(written, 5);
    assert!(b.is_zero(), "{b}");
}

#[test]
fn a_traced_gate_counts_the_callbacks_io_not_the_unwinders() {
    // Capturing a stack runs the unwinder, which may read files and map
    // memory: none of it is the callback's.
    const INVOCATIONS: u64 = 4;
    let fd = dev_null(libc::O_WRONLY);
    let run = CallbackGate::new("c-io-traced")
        .trace_sites()
        .check_hazards()
        .run(INVOCATIONS, |_| {
            // SAFETY: a fresh block freed once; an open descriptor.
            unsafe {
                libc::free(std::hint::black_box(libc::malloc(32)));
                assert_eq!(libc::write(fd, b"x".as_ptr().cast(), 1), 1);
            }
        })
        .unwrap();
    // SAFETY: opened above, closed once.
    unsafe { libc::close(fd) };
    let stats = run.stats();
    assert_eq!(stats.blocking.get(BlockingCall::Write), INVOCATIONS);
    assert_eq!(stats.blocking.total(), INVOCATIONS, "{}", stats.blocking);
    assert_eq!(
        (run.total().allocations, run.total().deallocations),
        (INVOCATIONS, INVOCATIONS)
    );
}
