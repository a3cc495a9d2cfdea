//! Frames that no name tells apart from user code: the C library's own
//! functions (`strdup` calling `malloc`), and the functions a C-level
//! layer defines under the C library's names (its `malloc`, `free`, …).
//! Both are found by address when a stack is named, after the run:
//! `dladdr` says which loaded object and which exported function an
//! address lies in.

/// The C library loaded in this process, as `dladdr` and `dlsym` see it.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[derive(Debug)]
pub(crate) struct CLibrary {
    /// The handle `dlopen` gives for the loaded `libc.so.6`.
    handle: *mut libc::c_void,
    /// The address it is loaded at (`dladdr`'s `dli_fbase`).
    base: *mut libc::c_void,
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
impl CLibrary {
    /// The loaded C library, or `None` when it cannot be found.
    pub(crate) fn find() -> Option<CLibrary> {
        // SAFETY: a NUL-terminated name; RTLD_NOLOAD only looks the object
        // up among those already loaded, it loads nothing.
        let handle =
            unsafe { libc::dlopen(c"libc.so.6".as_ptr(), libc::RTLD_LAZY | libc::RTLD_NOLOAD) };
        if handle.is_null() {
            return None;
        }
        // SAFETY: a live handle and a NUL-terminated name.
        let malloc = unsafe { libc::dlsym(handle, c"malloc".as_ptr()) };
        let base = object(malloc.cast())?.dli_fbase;
        Some(CLibrary { handle, base })
    }

    /// Whether the code at return address `ip` is the C library's, or a
    /// function that replaces one of the C library's for the process: an
    /// exported function whose name the process binds to it and that the
    /// C library also defines.
    pub(crate) fn owns(&self, ip: usize) -> bool {
        // The call instruction, not the one after it, which may belong to
        // the next function.
        let Some(info) = object(ip.saturating_sub(1) as *const libc::c_void) else {
            return false;
        };
        if info.dli_fbase == self.base {
            return true;
        }
        if info.dli_sname.is_null() || info.dli_saddr.is_null() {
            return false;
        }
        // SAFETY: `dli_sname` is a NUL-terminated name in the object's
        // symbol table; RTLD_DEFAULT searches the process's global scope.
        let bound = unsafe { libc::dlsym(libc::RTLD_DEFAULT, info.dli_sname) };
        // SAFETY: as above, searching the C library and its dependencies.
        let libc_own = unsafe { libc::dlsym(self.handle, info.dli_sname) };
        bound == info.dli_saddr && !libc_own.is_null() && libc_own != info.dli_saddr
    }
}

/// `dladdr`'s answer for `addr`, if it lies in a loaded object.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn object(addr: *const libc::c_void) -> Option<libc::Dl_info> {
    let mut info = libc::Dl_info {
        dli_fname: std::ptr::null(),
        dli_fbase: std::ptr::null_mut(),
        dli_sname: std::ptr::null(),
        dli_saddr: std::ptr::null_mut(),
    };
    // SAFETY: `info` is valid for writes; `dladdr` only reads the loader's
    // tables for any address.
    let found = unsafe { libc::dladdr(addr, &mut info) };
    (found != 0).then_some(info)
}

/// Elsewhere no frame is told apart by address.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
#[derive(Debug)]
pub(crate) struct CLibrary;

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
impl CLibrary {
    pub(crate) fn find() -> Option<CLibrary> {
        None
    }

    pub(crate) fn owns(&self, _ip: usize) -> bool {
        false
    }
}

#[cfg(all(test, target_os = "linux", target_env = "gnu"))]
mod tests {
    use super::*;

    #[test]
    fn the_c_librarys_code_is_its_own_and_this_crates_is_not() {
        let c = CLibrary::find().expect("libc.so.6 is loaded");
        // Return addresses: one byte past a call instruction inside each.
        let in_libc = libc::strlen as *const () as usize + 1;
        assert!(c.owns(in_libc));
        let in_here = CLibrary::owns as *const () as usize + 1;
        assert!(!c.owns(in_here));
        // Without a layer in this binary, `malloc` is the C library's.
        // SAFETY: a NUL-terminated name.
        let malloc = unsafe { libc::dlsym(libc::RTLD_DEFAULT, c"malloc".as_ptr()) };
        assert!(c.owns(malloc as usize + 1));
    }
}
