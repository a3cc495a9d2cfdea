//! A test binary opted in to the C-level layer: C code's allocation calls
//! show in allocgate's scopes with their exact sizes, and Rust's are still
//! counted once; the C library's blocking calls, I/O and memory mapping
//! show by name.

mod c_alloc;
mod c_fixture;
mod cancel;
mod fork;
mod fortify;
mod io;
mod locks;
#[path = "../common/panic_message.rs"]
mod panic_message;

use std::ptr;

use allocgate::{BlockingCall, BlockingCounts, Counts, measure};

#[global_allocator]
static ALLOC: allocgate::CountingAlloc = allocgate::CountingAlloc::system();

allocgate_interpose::install!();

/// What `f` made the allocator do on this thread, forbidden calls only.
pub fn counts(f: impl FnOnce()) -> Counts {
    let m = measure(f);
    assert_eq!(m.stats.permitted, Counts::new(), "nothing runs permitted");
    m.stats.counts
}

pub fn errno() -> i32 {
    // SAFETY: this thread's errno, valid for the thread's life.
    unsafe { *libc::__errno_location() }
}

pub fn set_errno(value: i32) {
    // SAFETY: as in `errno`.
    unsafe { *libc::__errno_location() = value };
}

/// The blocking calls `f` made on this thread, forbidden ones only.
pub fn blocking(f: impl FnOnce()) -> BlockingCounts {
    let m = measure(f);
    assert!(
        m.stats.permitted_blocking.is_zero(),
        "nothing runs permitted"
    );
    m.stats.blocking
}

/// Makes one call to `call` that returns at once.
pub fn make(call: BlockingCall) {
    let zero = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: each call gets valid arguments and returns at once.
    unsafe {
        match call {
            BlockingCall::NanoSleep => assert_eq!(libc::nanosleep(&zero, ptr::null_mut()), 0),
            BlockingCall::SchedYield => assert_eq!(libc::sched_yield(), 0),
            other => unreachable!("{other} is not made by this helper"),
        }
    }
}

/// A directory of its own under the system's temporary directory, removed
/// on drop.
pub struct TempDir(pub std::path::PathBuf);

impl TempDir {
    pub fn new(name: &str) -> TempDir {
        let path = std::env::temp_dir().join(format!(
            "allocgate-interposed-{}-{name}",
            std::process::id()
        ));
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }

    /// `name` inside the directory, as a C string.
    pub fn file(&self, name: &str) -> std::ffi::CString {
        use std::os::unix::ffi::OsStrExt;
        std::ffi::CString::new(self.0.join(name).as_os_str().as_bytes()).unwrap()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// True under CI (`CI=true`), where a test that needs a system component
/// must fail, not skip, when it is missing.
pub fn on_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// `/dev/null`, opened outside any scope.
pub fn dev_null(flags: i32) -> i32 {
    // SAFETY: a NUL-terminated path.
    let fd = unsafe { libc::open(c"/dev/null".as_ptr(), flags) };
    assert!(fd >= 0, "/dev/null: {}", std::io::Error::last_os_error());
    fd
}
