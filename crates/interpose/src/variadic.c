/*
 * The C library functions whose last arguments are variadic (or a
 * va_list), which stable Rust cannot define: each reads its arguments, has
 * the Rust side count the call (variadic.rs, fortify.rs), and forwards to
 * glibc's own function, through an alias glibc exports or the address the
 * Rust side looked up.
 */
#undef _FORTIFY_SOURCE /* its inline wrappers would clash with these definitions */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/syscall.h>

/* glibc's aliases, exported under a default version. */
extern int __open(const char *path, int flags, ...);
extern int __open64(const char *path, int flags, ...);
extern int _IO_vfprintf(FILE *stream, const char *format, va_list args);

/* The Rust side: count one call by name. */
void allocgate_interpose_count_open(void);
void allocgate_interpose_count_open64(void);
void allocgate_interpose_count_printf(void);
void allocgate_interpose_count_fprintf(void);
void allocgate_interpose_count_vprintf(void);
void allocgate_interpose_count_vfprintf(void);

/* The Rust side: count one call by name, return the C library's function
 * to forward to. */
void *allocgate_interpose_forward_openat(void);
void *allocgate_interpose_forward_openat64(void);
void *allocgate_interpose_forward_mremap(void);
void *allocgate_interpose_forward_dprintf(void);
void *allocgate_interpose_forward_vdprintf(void);
/* Counts the call when it is a waiting futex operation. */
void *allocgate_interpose_forward_syscall(long number, long op);

typedef int (*openat_fn)(int dir, const char *path, int flags, ...);
typedef void *(*mremap_fn)(void *old, size_t old_len, size_t new_len, int flags, ...);
typedef int (*vdprintf_fn)(int fd, const char *format, va_list args);
typedef long (*syscall_fn)(long number, ...);

/* Whether an open call passes a mode: the C library reads it only then. */
static int takes_mode(int flags) {
    return (flags & O_CREAT) != 0 || (flags & O_TMPFILE) == O_TMPFILE;
}

int open(const char *path, int flags, ...) {
    allocgate_interpose_count_open();
    if (takes_mode(flags)) {
        va_list args;
        va_start(args, flags);
        mode_t mode = va_arg(args, mode_t);
        va_end(args);
        return __open(path, flags, mode);
    }
    return __open(path, flags);
}

int open64(const char *path, int flags, ...) {
    allocgate_interpose_count_open64();
    if (takes_mode(flags)) {
        va_list args;
        va_start(args, flags);
        mode_t mode = va_arg(args, mode_t);
        va_end(args);
        return __open64(path, flags, mode);
    }
    return __open64(path, flags);
}

int openat(int dir, const char *path, int flags, ...) {
    openat_fn real = (openat_fn)allocgate_interpose_forward_openat();
    if (takes_mode(flags)) {
        va_list args;
        va_start(args, flags);
        mode_t mode = va_arg(args, mode_t);
        va_end(args);
        return real(dir, path, flags, mode);
    }
    return real(dir, path, flags);
}

int openat64(int dir, const char *path, int flags, ...) {
    openat_fn real = (openat_fn)allocgate_interpose_forward_openat64();
    if (takes_mode(flags)) {
        va_list args;
        va_start(args, flags);
        mode_t mode = va_arg(args, mode_t);
        va_end(args);
        return real(dir, path, flags, mode);
    }
    return real(dir, path, flags);
}

void *mremap(void *old, size_t old_len, size_t new_len, int flags, ...) {
    mremap_fn real = (mremap_fn)allocgate_interpose_forward_mremap();
    if (flags & MREMAP_FIXED) {
        va_list args;
        va_start(args, flags);
        void *new_address = va_arg(args, void *);
        va_end(args);
        return real(old, old_len, new_len, flags, new_address);
    }
    return real(old, old_len, new_len, flags);
}

/*
 * A system call takes at most six arguments; the caller's count is not
 * known, so six are read, as the C library's own syscall does with the
 * argument registers. The extra reads see whatever the registers or the
 * caller's stack hold and are passed on unused.
 */
long syscall(long number, ...) {
    va_list args;
    va_start(args, number);
    long a = va_arg(args, long);
    long b = va_arg(args, long);
    long c = va_arg(args, long);
    long d = va_arg(args, long);
    long e = va_arg(args, long);
    long f = va_arg(args, long);
    va_end(args);
    syscall_fn real = (syscall_fn)allocgate_interpose_forward_syscall(number, b);
    return real(number, a, b, c, d, e, f);
}

int printf(const char *format, ...) {
    allocgate_interpose_count_printf();
    va_list args;
    va_start(args, format);
    int written = _IO_vfprintf(stdout, format, args);
    va_end(args);
    return written;
}

int fprintf(FILE *stream, const char *format, ...) {
    allocgate_interpose_count_fprintf();
    va_list args;
    va_start(args, format);
    int written = _IO_vfprintf(stream, format, args);
    va_end(args);
    return written;
}

int vprintf(const char *format, va_list args) {
    allocgate_interpose_count_vprintf();
    return _IO_vfprintf(stdout, format, args);
}

int vfprintf(FILE *stream, const char *format, va_list args) {
    allocgate_interpose_count_vfprintf();
    return _IO_vfprintf(stream, format, args);
}

int dprintf(int fd, const char *format, ...) {
    vdprintf_fn real = (vdprintf_fn)allocgate_interpose_forward_dprintf();
    va_list args;
    va_start(args, format);
    int written = real(fd, format, args);
    va_end(args);
    return written;
}

int vdprintf(int fd, const char *format, va_list args) {
    vdprintf_fn real = (vdprintf_fn)allocgate_interpose_forward_vdprintf();
    return real(fd, format, args);
}

/*
 * _FORTIFY_SOURCE's checking variants of the printf family, which a
 * fortified build calls for every printf, fprintf, ...: counted as the
 * plain function, forwarded to glibc's own checking function (its va_list
 * form, which the Rust side looked up), so its checks still run. `flag`
 * is the fortification level.
 */
typedef int (*vprintf_chk_fn)(int flag, const char *format, va_list args);
typedef int (*vfprintf_chk_fn)(FILE *stream, int flag, const char *format, va_list args);
typedef int (*vdprintf_chk_fn)(int fd, int flag, const char *format, va_list args);

void *allocgate_interpose_forward_printf_chk(void);
void *allocgate_interpose_forward_vprintf_chk(void);
void *allocgate_interpose_forward_fprintf_chk(void);
void *allocgate_interpose_forward_vfprintf_chk(void);
void *allocgate_interpose_forward_dprintf_chk(void);
void *allocgate_interpose_forward_vdprintf_chk(void);

int __printf_chk(int flag, const char *format, ...) {
    vprintf_chk_fn real = (vprintf_chk_fn)allocgate_interpose_forward_printf_chk();
    va_list args;
    va_start(args, format);
    int written = real(flag, format, args);
    va_end(args);
    return written;
}

int __vprintf_chk(int flag, const char *format, va_list args) {
    vprintf_chk_fn real = (vprintf_chk_fn)allocgate_interpose_forward_vprintf_chk();
    return real(flag, format, args);
}

int __fprintf_chk(FILE *stream, int flag, const char *format, ...) {
    vfprintf_chk_fn real = (vfprintf_chk_fn)allocgate_interpose_forward_fprintf_chk();
    va_list args;
    va_start(args, format);
    int written = real(stream, flag, format, args);
    va_end(args);
    return written;
}

int __vfprintf_chk(FILE *stream, int flag, const char *format, va_list args) {
    vfprintf_chk_fn real = (vfprintf_chk_fn)allocgate_interpose_forward_vfprintf_chk();
    return real(stream, flag, format, args);
}

int __dprintf_chk(int fd, int flag, const char *format, ...) {
    vdprintf_chk_fn real = (vdprintf_chk_fn)allocgate_interpose_forward_dprintf_chk();
    va_list args;
    va_start(args, format);
    int written = real(fd, flag, format, args);
    va_end(args);
    return written;
}

int __vdprintf_chk(int fd, int flag, const char *format, va_list args) {
    vdprintf_chk_fn real = (vdprintf_chk_fn)allocgate_interpose_forward_vdprintf_chk();
    return real(fd, flag, format, args);
}

/* Referred to from Rust (keep_definitions), so that the linker takes this
 * object, and with it every definition above, into the program. */
void *const allocgate_interpose_variadic[18] = {
    (void *)open,          (void *)open64,         (void *)openat,
    (void *)openat64,      (void *)mremap,         (void *)syscall,
    (void *)printf,        (void *)fprintf,        (void *)vprintf,
    (void *)vfprintf,      (void *)dprintf,        (void *)vdprintf,
    (void *)__printf_chk,  (void *)__vprintf_chk,  (void *)__fprintf_chk,
    (void *)__vfprintf_chk, (void *)__dprintf_chk, (void *)__vdprintf_chk,
};
