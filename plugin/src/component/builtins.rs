//! What the standard library and its C library would provide, and the component, linking
//! neither, defines itself: the canonical ABI's `cabi_realloc` (std exports it on
//! wasm32-wasip2, and wit-bindgen counts on that there) and C's `memcmp`, which the compiler
//! calls for slice and string comparisons (memcpy and memset are wasm instructions;
//! `compiler_builtins` provides no memcmp for this target).

use alloc::alloc::{Layout, alloc, dealloc, handle_alloc_error, realloc};

/// The memory the host asks for when it passes lists and strings into the component.
///
/// # Safety
/// Called by the host per the canonical ABI: `old_ptr`/`old_len` are a block this function
/// gave out earlier with the same `align` (or null and 0), and `align` is a power of two.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cabi_realloc(
    old_ptr: *mut u8,
    old_len: usize,
    align: usize,
    new_len: usize,
) -> *mut u8 {
    if new_len == 0 {
        if old_len != 0 {
            // Left allocated, it would keep the call arena from ever starting over.
            unsafe { dealloc(old_ptr, Layout::from_size_align_unchecked(old_len, align)) };
        }
        // A zero-sized block: any aligned non-null address will do.
        return align as *mut u8;
    }
    let Ok(layout) = Layout::from_size_align(new_len, align) else {
        core::arch::wasm32::unreachable()
    };
    let ptr = if old_len == 0 {
        unsafe { alloc(layout) }
    } else {
        let old = unsafe { Layout::from_size_align_unchecked(old_len, align) };
        unsafe { realloc(old_ptr, old, new_len) }
    };
    if ptr.is_null() {
        handle_alloc_error(layout);
    }
    ptr
}

/// Compares `n` bytes, as C's `memcmp`: the difference of the first pair that differs.
///
/// # Safety
/// `a` and `b` are readable for `n` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn memcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    // A plain loop: `<[u8]>::cmp` would compile to a call of this very function.
    let mut i = 0;
    while i < n {
        let (x, y) = unsafe { (*a.add(i), *b.add(i)) };
        if x != y {
            return i32::from(x) - i32::from(y);
        }
        i += 1;
    }
    0
}
