//! The component's global allocator: [`CallArena`] in front of dlmalloc.

use super::SingleThreaded;
use crate::arena::CallArena;
use core::alloc::{GlobalAlloc, Layout};
use dlmalloc::GlobalDlmalloc;

/// Room for what a typical call allocates (arguments, request, an answer of tens of KB); a
/// larger answer, or whatever outgrows it, goes to dlmalloc. Pages of it a call never
/// writes cost nothing: the host keeps only written pages resident.
const ARENA_BYTES: usize = 256 * 1024;

#[global_allocator]
static ALLOCATOR: SingleThreaded<CallArena<ARENA_BYTES, GlobalDlmalloc>> =
    SingleThreaded(CallArena::new(GlobalDlmalloc));

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
