//! The component's global allocator: [`CallArena`] in front of the standard library's.

use crate::arena::CallArena;
use std::alloc::{GlobalAlloc, Layout, System};

/// Room for what a typical call allocates (arguments, request, an answer of tens of KB); a
/// larger answer, or whatever outgrows it, goes to the system allocator. Pages of it a call never
/// writes cost nothing: the host keeps only written pages resident.
const ARENA_BYTES: usize = 256 * 1024;

#[global_allocator]
static ALLOCATOR: SingleThreaded<CallArena<ARENA_BYTES, System>> =
    SingleThreaded(CallArena::new(System));

/// An allocator whose state is not thread-safe, declared shareable.
struct SingleThreaded<A>(A);

// SAFETY: a wasm32-wasip2 component has one thread; no two calls into the allocator overlap.
unsafe impl<A> Sync for SingleThreaded<A> {}

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
