//! Waiting for descriptors (`poll`, `select`, `epoll_wait` and their
//! signal-mask variants), file and socket I/O, and memory mapping: each
//! records its name and forwards to glibc's own implementation (see
//! [`real`](crate::real) for how each is reached). `open`, `open64`,
//! `openat`, `openat64` and `mremap`, whose last argument is variadic, are
//! defined in C (see [`variadic`](crate::variadic)).

use std::ffi::{c_char, c_int, c_void};

use libc::{
    epoll_event, fd_set, iovec, mode_t, msghdr, nfds_t, off_t, off64_t, pollfd, sigset_t, sockaddr,
    socklen_t, timespec, timeval,
};

use crate::real::{aliased, forwarded};

// Exported by glibc under a default version (GLIBC_2.2.5 on x86-64), the
// functions behind the names this module defines; calling them does not
// go back through this module.
unsafe extern "C-unwind" {
    pub(crate) fn __read(fd: c_int, buf: *mut c_void, count: usize) -> isize;
    pub(crate) fn __write(fd: c_int, buf: *const c_void, count: usize) -> isize;
    pub(crate) fn __close(fd: c_int) -> c_int;
    pub(crate) fn __pread64(fd: c_int, buf: *mut c_void, count: usize, offset: off64_t) -> isize;
    pub(crate) fn __pwrite64(fd: c_int, buf: *const c_void, count: usize, offset: off64_t)
    -> isize;
    pub(crate) fn __poll(fds: *mut pollfd, n: nfds_t, timeout: c_int) -> c_int;
    pub(crate) fn __select(
        n: c_int,
        read: *mut fd_set,
        write: *mut fd_set,
        except: *mut fd_set,
        timeout: *mut timeval,
    ) -> c_int;
    pub(crate) fn __send(fd: c_int, buf: *const c_void, len: usize, flags: c_int) -> isize;
}

aliased!(poll(fds: *mut pollfd, n: nfds_t, timeout: c_int) -> c_int = Poll, __poll);
forwarded!(
    ppoll(fds: *mut pollfd, n: nfds_t, timeout: *const timespec, mask: *const sigset_t) -> c_int = Ppoll
);
aliased!(
    select(
        n: c_int,
        read: *mut fd_set,
        write: *mut fd_set,
        except: *mut fd_set,
        timeout: *mut timeval
    ) -> c_int = Select, __select
);
forwarded!(
    pselect(
        n: c_int,
        read: *mut fd_set,
        write: *mut fd_set,
        except: *mut fd_set,
        timeout: *const timespec,
        mask: *const sigset_t
    ) -> c_int = Pselect
);
forwarded!(
    epoll_wait(epfd: c_int, events: *mut epoll_event, max: c_int, timeout: c_int) -> c_int = EpollWait
);
forwarded!(
    epoll_pwait(
        epfd: c_int,
        events: *mut epoll_event,
        max: c_int,
        timeout: c_int,
        mask: *const sigset_t
    ) -> c_int = EpollPwait
);

forwarded!(creat(path: *const c_char, mode: mode_t) -> c_int = Creat);
forwarded!(creat64(path: *const c_char, mode: mode_t) -> c_int = Creat64);
aliased!(read(fd: c_int, buf: *mut c_void, count: usize) -> isize = Read, __read);
aliased!(write(fd: c_int, buf: *const c_void, count: usize) -> isize = Write, __write);
forwarded!(pread(fd: c_int, buf: *mut c_void, count: usize, offset: off_t) -> isize = Pread);
aliased!(
    pread64(fd: c_int, buf: *mut c_void, count: usize, offset: off64_t) -> isize = Pread64, __pread64
);
forwarded!(pwrite(fd: c_int, buf: *const c_void, count: usize, offset: off_t) -> isize = Pwrite);
aliased!(
    pwrite64(fd: c_int, buf: *const c_void, count: usize, offset: off64_t) -> isize = Pwrite64, __pwrite64
);
forwarded!(readv(fd: c_int, iov: *const iovec, count: c_int) -> isize = Readv);
forwarded!(writev(fd: c_int, iov: *const iovec, count: c_int) -> isize = Writev);
aliased!(close(fd: c_int) -> c_int = Close, __close);
forwarded!(fsync(fd: c_int) -> c_int = Fsync);
forwarded!(fdatasync(fd: c_int) -> c_int = Fdatasync);

aliased!(send(fd: c_int, buf: *const c_void, len: usize, flags: c_int) -> isize = Send, __send);
forwarded!(
    sendto(
        fd: c_int,
        buf: *const c_void,
        len: usize,
        flags: c_int,
        to: *const sockaddr,
        to_len: socklen_t
    ) -> isize = SendTo
);
forwarded!(sendmsg(fd: c_int, message: *const msghdr, flags: c_int) -> isize = SendMsg);
forwarded!(recv(fd: c_int, buf: *mut c_void, len: usize, flags: c_int) -> isize = Recv);
forwarded!(
    recvfrom(
        fd: c_int,
        buf: *mut c_void,
        len: usize,
        flags: c_int,
        from: *mut sockaddr,
        from_len: *mut socklen_t
    ) -> isize = RecvFrom
);
forwarded!(recvmsg(fd: c_int, message: *mut msghdr, flags: c_int) -> isize = RecvMsg);

forwarded!(
    mmap(
        addr: *mut c_void,
        len: usize,
        prot: c_int,
        flags: c_int,
        fd: c_int,
        offset: off_t
    ) -> *mut c_void = Mmap
);
forwarded!(
    mmap64(
        addr: *mut c_void,
        len: usize,
        prot: c_int,
        flags: c_int,
        fd: c_int,
        offset: off64_t
    ) -> *mut c_void = Mmap64
);
forwarded!(munmap(addr: *mut c_void, len: usize) -> c_int = Munmap);
forwarded!(mprotect(addr: *mut c_void, len: usize, prot: c_int) -> c_int = Mprotect);
forwarded!(madvise(addr: *mut c_void, len: usize, advice: c_int) -> c_int = Madvise);

/// Refers to every function defined here (see
/// [`alloc::keep_definitions`](crate::alloc)).
pub(crate) fn keep_definitions() {
    let table: [*const c_void; 30] = [
        poll as *const c_void,
        ppoll as *const c_void,
        select as *const c_void,
        pselect as *const c_void,
        epoll_wait as *const c_void,
        epoll_pwait as *const c_void,
        creat as *const c_void,
        creat64 as *const c_void,
        read as *const c_void,
        write as *const c_void,
        pread as *const c_void,
        pread64 as *const c_void,
        pwrite as *const c_void,
        pwrite64 as *const c_void,
        readv as *const c_void,
        writev as *const c_void,
        close as *const c_void,
        fsync as *const c_void,
        fdatasync as *const c_void,
        send as *const c_void,
        sendto as *const c_void,
        sendmsg as *const c_void,
        recv as *const c_void,
        recvfrom as *const c_void,
        recvmsg as *const c_void,
        mmap as *const c_void,
        mmap64 as *const c_void,
        munmap as *const c_void,
        mprotect as *const c_void,
        madvise as *const c_void,
    ];
    std::hint::black_box(table);
}
