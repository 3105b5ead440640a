//! The component's global allocator: [`CallArena`] in front of dlmalloc, which takes its memory
//! from what the component starts with before it grows the memory.

use super::SingleThreaded;
use crate::arena::CallArena;
use core::alloc::{GlobalAlloc, Layout};
use core::arch::wasm32;
use core::cell::{Cell, UnsafeCell};
use dlmalloc::Dlmalloc;

/// Room for what a typical call allocates (arguments, request, an answer of tens of KB); a
/// larger answer, or whatever outgrows it, goes to dlmalloc. Pages of it a call never writes
/// cost nothing: the host keeps only written pages resident.
const ARENA_BYTES: usize = 256 * 1024;

#[global_allocator]
static ALLOCATOR: SingleThreaded<CallArena<ARENA_BYTES, Fallback>> =
    SingleThreaded(CallArena::new(Fallback));

/// dlmalloc's state, a static of its own: its initial values are not all zero, and inside
/// `ALLOCATOR` they would move the whole arena from zeroed memory into the component's data.
static DLMALLOC: SingleThreaded<UnsafeCell<Dlmalloc<InitialMemoryFirst>>> = SingleThreaded(
    UnsafeCell::new(Dlmalloc::new_with_allocator(InitialMemoryFirst {
        initial_taken: Cell::new(false),
    })),
);

/// Where dlmalloc gets memory: first the part of the initial memory after the component's
/// data (`__heap_base` to `__heap_end`, most of the 2 MiB plugin/build.rs asks for), then
/// `memory.grow`. dlmalloc's own wasm source hands that part over only on
/// wasm32-unknown-unknown; elsewhere it grows at its first allocation, which in every fresh
/// instance costs the host's pooling allocator an `mprotect` to open the pages and another to
/// close them when the slot is reset.
struct InitialMemoryFirst {
    initial_taken: Cell<bool>,
}

unsafe extern "C" {
    /// Set by the linker: the end of the data, and the end of the initial memory.
    static __heap_base: u8;
    static __heap_end: u8;
}

const WASM_PAGE: usize = 64 * 1024;

// SAFETY: `alloc` hands out memory nothing else uses: the initial part once (the stack lies
// below the data, the data below `__heap_base`), then only pages `memory.grow` has just added.
// Nothing is ever given back (wasm memory cannot shrink), which the other methods say.
unsafe impl dlmalloc::Allocator for InitialMemoryFirst {
    fn alloc(&self, size: usize) -> (*mut u8, usize, u32) {
        if !self.initial_taken.get() {
            let base = &raw const __heap_base as usize;
            let end = &raw const __heap_end as usize;
            if end.saturating_sub(base) >= size {
                self.initial_taken.set(true);
                return (base as *mut u8, end - base, 0);
            }
        }
        let pages = size.div_ceil(WASM_PAGE);
        match wasm32::memory_grow(0, pages) {
            usize::MAX => (core::ptr::null_mut(), 0, 0),
            previous => ((previous * WASM_PAGE) as *mut u8, pages * WASM_PAGE, 0),
        }
    }

    fn remap(&self, _: *mut u8, _: usize, _: usize, _: bool) -> *mut u8 {
        core::ptr::null_mut()
    }

    fn free_part(&self, _: *mut u8, _: usize, _: usize) -> bool {
        false
    }

    fn free(&self, _: *mut u8, _: usize) -> bool {
        false
    }

    fn can_release_part(&self, _: u32) -> bool {
        false
    }

    /// Memory past the data is zero until used, and grown pages are zero.
    fn allocates_zeros(&self) -> bool {
        true
    }

    fn page_size(&self) -> usize {
        WASM_PAGE
    }
}

/// [`DLMALLOC`] as a `GlobalAlloc`.
struct Fallback;

impl Fallback {
    /// # Safety
    /// No other reference to dlmalloc's state is alive: the component has one thread, and
    /// dlmalloc does not call back into the allocator.
    #[allow(clippy::mut_from_ref)]
    unsafe fn dlmalloc(&self) -> &mut Dlmalloc<InitialMemoryFirst> {
        unsafe { &mut *DLMALLOC.0.get() }
    }
}

// SAFETY: each method forwards to dlmalloc's counterpart, whose contract is `GlobalAlloc`'s.
unsafe impl GlobalAlloc for Fallback {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        unsafe { self.dlmalloc().malloc(layout.size(), layout.align()) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        unsafe { self.dlmalloc().calloc(layout.size(), layout.align()) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { self.dlmalloc().free(ptr, layout.size(), layout.align()) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        unsafe {
            self.dlmalloc()
                .realloc(ptr, layout.size(), layout.align(), new_size)
        }
    }
}

// SAFETY: every method forwards to the wrapped allocator unchanged.
unsafe impl<A: GlobalAlloc> GlobalAlloc for SingleThreaded<A> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        unsafe { self.0.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { self.0.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        unsafe { self.0.realloc(ptr, layout, new_size) }
    }
}
