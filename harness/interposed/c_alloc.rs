//! C allocation calls: counted with their exact sizes, Rust's once.

use std::ffi::{CStr, c_void};
use std::hint::black_box;
use std::ptr;

use allocgate::CallbackGate;

use crate::{counts, errno, set_errno};

#[test]
fn the_process_calls_this_crates_malloc() {
    // The dynamic linker's answer for the whole process, not only for this
    // binary's own calls.
    for (name, ours) in [
        (c"malloc", allocgate_interpose::malloc as *const c_void),
        (c"free", allocgate_interpose::free as *const c_void),
        (c"calloc", allocgate_interpose::calloc as *const c_void),
        (c"realloc", allocgate_interpose::realloc as *const c_void),
    ] {
        // SAFETY: a NUL-terminated name; RTLD_DEFAULT searches the global scope.
        let found = unsafe { libc::dlsym(libc::RTLD_DEFAULT, name.as_ptr()) };
        assert_eq!(found as *const c_void, ours, "{name:?} resolves elsewhere");
    }
    assert!(allocgate::c_level::is_attached());
}

#[test]
fn a_gate_around_c_malloc_and_free_fails_with_every_call_counted() {
    const INVOCATIONS: u64 = 100;
    const SIZE: usize = 48;
    let run = CallbackGate::new("c-malloc")
        .run(INVOCATIONS, |_| {
            // SAFETY: a fresh block, freed once.
            unsafe { libc::free(black_box(libc::malloc(SIZE))) }
        })
        .unwrap();
    assert!(!run.is_allocation_free());
    assert_eq!(run.allocating_invocations(), INVOCATIONS);
    let total = run.total();
    assert_eq!(total.allocations, INVOCATIONS);
    assert_eq!(total.bytes_allocated, INVOCATIONS * SIZE as u64);
    assert_eq!(total.deallocations, INVOCATIONS);
    assert_eq!(total.largest_request, SIZE as u64);
    assert_eq!(run.stats().counts, total);
    let failure = std::panic::catch_unwind(|| run.assert_allocation_free());
    assert!(failure.is_err(), "the gate must fail");
}

#[test]
fn a_traced_gate_records_a_site_for_every_c_call() {
    const INVOCATIONS: u64 = 10;
    let run = CallbackGate::new("c-malloc-traced")
        .trace_sites()
        .run(INVOCATIONS, |_| {
            // SAFETY: a fresh block, freed once.
            unsafe { libc::free(black_box(libc::malloc(48))) }
        })
        .unwrap();
    let sites = run.sites();
    let allocations: u64 = sites.iter().map(|s| s.allocations()).sum();
    let deallocations: u64 = sites.iter().map(|s| s.deallocations()).sum();
    assert_eq!((allocations, deallocations), (INVOCATIONS, INVOCATIONS));
}

#[test]
fn a_traced_free_keeps_errno() {
    // The stack capture runs on the counting path of a traced `free`; the
    // unwinder it calls must not leave `errno` changed.
    let mut kept = Vec::with_capacity(10);
    CallbackGate::new("c-free-traced-errno")
        .trace_sites()
        .allow_warm_up()
        .run(10, |_| {
            // SAFETY: a fresh block, freed once.
            let block = unsafe { libc::malloc(48) };
            set_errno(libc::EDOM);
            // SAFETY: as above.
            unsafe { libc::free(black_box(block)) };
            allocgate::permit(|| kept.push(errno()));
        })
        .unwrap();
    assert_eq!(kept, [libc::EDOM; 10]);
}

#[test]
fn assert_no_alloc_catches_a_c_malloc() {
    let caught = std::panic::catch_unwind(|| {
        allocgate::assert_no_alloc(|| {
            // SAFETY: a fresh block, freed once.
            unsafe { libc::free(black_box(libc::malloc(16))) }
        })
    });
    assert!(caught.is_err());
}

#[test]
fn strdup_is_counted_through_the_c_librarys_own_malloc_call() {
    let text: &CStr = c"a string the C library copies";
    let mut copy = ptr::null_mut();
    let c = counts(|| {
        // SAFETY: a NUL-terminated string.
        copy = unsafe { libc::strdup(text.as_ptr()) };
    });
    assert!(!copy.is_null());
    let len = text.to_bytes().len() as u64;
    assert_eq!((c.allocations, c.deallocations, c.reallocations), (1, 0, 0));
    assert_eq!(c.bytes_allocated, len + 1, "the text and its NUL");
    // SAFETY: strdup's block, freed once.
    unsafe { libc::free(copy.cast()) };
}

#[test]
fn calloc_counts_a_zeroed_allocation_of_the_product() {
    const COUNT: usize = 7;
    const SIZE: usize = 12;
    let mut block = ptr::null_mut();
    // SAFETY: a plain request.
    let c = counts(|| block = unsafe { libc::calloc(COUNT, SIZE) });
    assert!(!block.is_null());
    assert_eq!((c.allocations, c.zeroed), (1, 1));
    assert_eq!(c.bytes_allocated, (COUNT * SIZE) as u64);
    // SAFETY: calloc's block holds COUNT * SIZE bytes.
    let bytes = unsafe { std::slice::from_raw_parts(block.cast::<u8>(), COUNT * SIZE) };
    assert!(bytes.iter().all(|&b| b == 0));
    // SAFETY: calloc's block, freed once.
    unsafe { libc::free(block) };
}

#[test]
fn realloc_counts_a_reallocation_from_the_usable_size() {
    const NEW: usize = 4096;
    // SAFETY: a plain request; the block is live until freed below.
    let block = unsafe { libc::malloc(24) };
    assert!(!block.is_null());
    // SAFETY: a live block.
    let usable = unsafe { libc::malloc_usable_size(block) } as u64;
    assert!(usable >= 24);
    let mut grown = ptr::null_mut();
    // SAFETY: a live block, replaced by the result.
    let c = counts(|| grown = unsafe { libc::realloc(block, NEW) });
    assert!(!grown.is_null());
    assert_eq!((c.allocations, c.deallocations, c.reallocations), (0, 0, 1));
    assert_eq!(c.realloc_bytes_from, usable);
    assert_eq!(c.realloc_bytes_to, NEW as u64);
    assert_eq!(c.realloc_bytes_grown, NEW as u64 - usable);
    // SAFETY: realloc's block, freed once.
    unsafe { libc::free(grown) };
}

#[test]
fn realloc_of_null_allocates_and_to_zero_frees() {
    let mut block = ptr::null_mut();
    // SAFETY: realloc of null is malloc.
    let c = counts(|| block = unsafe { libc::realloc(ptr::null_mut(), 40) });
    assert_eq!(
        (c.allocations, c.reallocations, c.bytes_allocated),
        (1, 0, 40)
    );
    // SAFETY: a live block.
    let usable = unsafe { libc::malloc_usable_size(block) } as u64;
    // SAFETY: glibc frees the block and returns null.
    let c = counts(|| block = unsafe { libc::realloc(block, 0) });
    assert!(block.is_null());
    assert_eq!((c.deallocations, c.reallocations), (1, 0));
    assert_eq!(c.bytes_deallocated, usable);
}

#[test]
fn reallocarray_counts_the_product_and_rejects_an_overflow_uncounted() {
    let mut block = ptr::null_mut();
    // SAFETY: reallocarray of null allocates.
    let c = counts(|| block = unsafe { libc::reallocarray(ptr::null_mut(), 3, 20) });
    assert!(!block.is_null());
    assert_eq!((c.allocations, c.bytes_allocated), (1, 60));
    let mut failed = ptr::null_mut();
    set_errno(0);
    // SAFETY: the product overflows; the block stays live.
    let c = counts(|| failed = unsafe { libc::reallocarray(block, usize::MAX, 2) });
    assert!(failed.is_null());
    assert_eq!(errno(), libc::ENOMEM);
    assert!(c.is_zero());
    // SAFETY: the live block, freed once.
    unsafe { libc::free(block) };
}

#[test]
fn posix_memalign_counts_the_size_and_keeps_errno() {
    const ALIGN: usize = 64;
    const SIZE: usize = 200;
    let mut block = ptr::null_mut();
    let mut result = -1;
    set_errno(libc::EDOM);
    // SAFETY: `block` is valid for the write.
    let c = counts(|| result = unsafe { libc::posix_memalign(&mut block, ALIGN, SIZE) });
    assert_eq!(result, 0);
    assert_eq!(errno(), libc::EDOM);
    assert_eq!(block as usize % ALIGN, 0);
    assert_eq!((c.allocations, c.bytes_allocated), (1, SIZE as u64));
    // SAFETY: posix_memalign's block, freed once.
    unsafe { libc::free(block) };

    // An alignment that is not a power of two fails before the allocator.
    let mut none = ptr::null_mut();
    // SAFETY: `none` is valid for the write.
    let c = counts(|| result = unsafe { libc::posix_memalign(&mut none, 24, SIZE) });
    assert_eq!(result, libc::EINVAL);
    assert!(c.is_zero());
}

#[test]
fn aligned_alloc_memalign_valloc_and_pvalloc_count_the_requested_bytes() {
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as usize;
    let calls: [(
        &str,
        usize,
        usize,
        unsafe extern "C" fn(usize) -> *mut c_void,
    ); 2] = [
        ("valloc", 100, page, allocgate_interpose::valloc),
        ("pvalloc", 100, page, allocgate_interpose::pvalloc),
    ];
    for (name, size, align, call) in calls {
        let mut block = ptr::null_mut();
        // SAFETY: a plain request.
        let c = counts(|| block = unsafe { call(size) });
        assert_eq!(block as usize % align, 0, "{name}");
        assert_eq!(
            (c.allocations, c.bytes_allocated),
            (1, size as u64),
            "{name}"
        );
        // SAFETY: the block, freed once.
        unsafe { libc::free(block) };
    }
    let aligned: [(&str, unsafe extern "C" fn(usize, usize) -> *mut c_void); 2] = [
        ("aligned_alloc", libc::aligned_alloc),
        ("memalign", libc::memalign),
    ];
    for (name, call) in aligned {
        const ALIGN: usize = 256;
        const SIZE: usize = 512;
        let mut block = ptr::null_mut();
        // SAFETY: a power-of-two alignment dividing the size.
        let c = counts(|| block = unsafe { call(ALIGN, SIZE) });
        assert_eq!(block as usize % ALIGN, 0, "{name}");
        assert_eq!(
            (c.allocations, c.bytes_allocated),
            (1, SIZE as u64),
            "{name}"
        );
        // SAFETY: the block, freed once.
        unsafe { libc::free(block) };
    }
}

#[test]
fn rust_allocations_are_counted_once() {
    // One allocation and one deallocation of 36 bytes, as without the layer.
    let c = counts(|| drop(black_box(Box::new([0u8; 36]))));
    assert_eq!((c.allocations, c.deallocations, c.reallocations), (1, 1, 0));
    assert_eq!((c.bytes_allocated, c.bytes_deallocated), (36, 36));

    // Zeroed (System calls calloc), grown (realloc) and over-aligned
    // (posix_memalign) requests: one call each.
    let c = counts(|| {
        let mut v = black_box(vec![0u8; 100]);
        v.reserve_exact(900);
        drop(v);
    });
    assert_eq!((c.allocations, c.zeroed, c.reallocations), (1, 1, 1));
    assert_eq!(c.bytes_allocated, 100);
    assert_eq!((c.realloc_bytes_from, c.realloc_bytes_to), (100, 1000));
    assert_eq!((c.deallocations, c.bytes_deallocated), (1, 1000));

    #[repr(align(4096))]
    struct Page([u8; 4096]);
    let c = counts(|| assert_eq!(black_box(Box::new(Page([7; 4096]))).0[4095], 7));
    assert_eq!((c.allocations, c.deallocations), (1, 1));
    assert_eq!(c.bytes_allocated, 4096);
}

#[test]
fn free_of_null_is_not_counted_and_free_keeps_errno() {
    // SAFETY: free of null does nothing.
    let c = counts(|| unsafe { libc::free(ptr::null_mut()) });
    assert!(c.is_zero());

    // Inside a scope (the layer's counting path) and outside it.
    for in_scope in [true, false] {
        // SAFETY: a plain request.
        let block = unsafe { libc::malloc(8) };
        assert!(!block.is_null());
        set_errno(libc::EDOM);
        // SAFETY: the block, freed once.
        let free = || unsafe { libc::free(block) };
        if in_scope {
            assert_eq!(counts(free).deallocations, 1);
        } else {
            free();
        }
        assert_eq!(errno(), libc::EDOM, "in scope: {in_scope}");
    }
}
