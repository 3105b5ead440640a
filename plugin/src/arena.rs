//! The component's allocator: a bump arena that empties whenever nothing in it is alive, in front
//! of the general-purpose allocator.
//!
//! A call allocates a few dozen small blocks (arguments, the request, header names and values,
//! the answer) and frees all of them before the next call starts. A general-purpose allocator
//! pays for free lists and coalescing on every one of those; here an allocation is a pointer
//! bump, a free is a counter decrement, and the arena starts over at its beginning once the count
//! reaches zero, which in a reused instance is after every call. The last block can grow or
//! shrink in place, which is how most `Vec` and `String` growth happens.
//!
//! What does not fit, or arrives while the arena is full, goes to the fallback allocator, so a
//! block that lives across calls only costs speed (the arena then reclaims space only from its
//! top), never correctness.

use core::alloc::{GlobalAlloc, Layout};
use core::cell::{Cell, UnsafeCell};

/// Where the arena stands: the next free byte, and how many of its blocks are alive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Cursor {
    top: usize,
    live: usize,
}

/// `N` bytes of bump-allocated memory, then `F` for the rest.
#[repr(C, align(16))]
pub struct CallArena<const N: usize, F> {
    region: UnsafeCell<[u8; N]>,
    cursor: Cell<Cursor>,
    fallback: F,
}

impl<const N: usize, F> CallArena<N, F> {
    pub const fn new(fallback: F) -> Self {
        CallArena {
            region: UnsafeCell::new([0; N]),
            cursor: Cell::new(Cursor { top: 0, live: 0 }),
            fallback,
        }
    }

    fn start(&self) -> usize {
        self.region.get() as usize
    }

    fn owns(&self, ptr: *mut u8) -> bool {
        let p = ptr as usize;
        p >= self.start() && p < self.start() + N
    }

    /// A block of `layout` from the arena, or `None` if it does not fit in what is left.
    fn bump(&self, layout: Layout) -> Option<*mut u8> {
        let mut cursor = self.cursor.get();
        if cursor.live == 0 {
            cursor.top = 0;
        }
        let start = self.start();
        // Offsets are aligned as addresses: the region's start is only 16-byte aligned.
        let address = (start + cursor.top).checked_next_multiple_of(layout.align())?;
        let end = address.checked_add(layout.size())?;
        if end > start + N {
            return None;
        }
        self.cursor.set(Cursor {
            top: end - start,
            live: cursor.live + 1,
        });
        Some(address as *mut u8)
    }

    /// Resizes the arena block at `ptr` without moving it: possible when it is the last block
    /// (and the new size fits) or when it shrinks.
    fn resize_in_place(&self, ptr: *mut u8, old_size: usize, new_size: usize) -> bool {
        let mut cursor = self.cursor.get();
        let offset = ptr as usize - self.start();
        let is_last = offset + old_size == cursor.top;
        if is_last && offset + new_size <= N {
            cursor.top = offset + new_size;
            self.cursor.set(cursor);
            true
        } else {
            new_size <= old_size
        }
    }

    fn release(&self, ptr: *mut u8, size: usize) {
        let mut cursor = self.cursor.get();
        cursor.live -= 1;
        let offset = ptr as usize - self.start();
        if cursor.live == 0 {
            cursor.top = 0;
        } else if offset + size == cursor.top {
            cursor.top = offset;
        }
        self.cursor.set(cursor);
    }

    /// Bytes of the arena in use, counting the gaps freed blocks left below the last live one.
    #[cfg(test)]
    fn used(&self) -> usize {
        let cursor = self.cursor.get();
        if cursor.live == 0 { 0 } else { cursor.top }
    }
}

// SAFETY: blocks come from the region (never handed out twice while alive: the cursor only moves
// back over blocks that were freed, or when none is alive) or from the fallback allocator, and a
// block goes back to whichever gave it, told apart by its address.
unsafe impl<const N: usize, F: GlobalAlloc> GlobalAlloc for CallArena<N, F> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        match self.bump(layout) {
            Some(ptr) => ptr,
            None => unsafe { self.fallback.alloc(layout) },
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if self.owns(ptr) {
            self.release(ptr, layout.size());
        } else {
            unsafe { self.fallback.dealloc(ptr, layout) }
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if !self.owns(ptr) {
            return unsafe { self.fallback.realloc(ptr, layout, new_size) };
        }
        if self.resize_in_place(ptr, layout.size(), new_size) {
            return ptr;
        }
        // SAFETY: the caller guarantees `new_size`, rounded up to `layout.align()`, does not
        // overflow `isize`.
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        let moved = unsafe { self.alloc(new_layout) };
        if !moved.is_null() {
            unsafe {
                core::ptr::copy_nonoverlapping(ptr, moved, layout.size().min(new_size));
                self.dealloc(ptr, layout);
            }
        }
        moved
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::alloc::System;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// The system allocator, counting what it is asked for.
    #[derive(Default)]
    struct Counting {
        allocs: AtomicUsize,
        frees: AtomicUsize,
    }

    unsafe impl GlobalAlloc for Counting {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            self.allocs.fetch_add(1, Ordering::Relaxed);
            unsafe { System.alloc(layout) }
        }
        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            self.frees.fetch_add(1, Ordering::Relaxed);
            unsafe { System.dealloc(ptr, layout) }
        }
    }

    fn arena() -> Box<CallArena<1024, Counting>> {
        Box::new(CallArena::new(Counting::default()))
    }

    fn layout(size: usize, align: usize) -> Layout {
        Layout::from_size_align(size, align).unwrap()
    }

    #[test]
    fn blocks_are_aligned_disjoint_and_from_the_region() {
        let a = arena();
        let sizes = [(3, 1), (8, 8), (1, 2), (24, 16), (5, 4)];
        let blocks: Vec<(*mut u8, Layout)> = sizes
            .iter()
            .map(|&(size, align)| {
                let l = layout(size, align);
                (unsafe { a.alloc(l) }, l)
            })
            .collect();
        for (i, &(p, l)) in blocks.iter().enumerate() {
            assert!(a.owns(p), "block {i} comes from the region");
            assert_eq!(p as usize % l.align(), 0, "block {i} is aligned");
            // Writing a whole block leaves every other one intact.
            unsafe { core::ptr::write_bytes(p, i as u8 + 1, l.size()) };
        }
        for (i, &(p, l)) in blocks.iter().enumerate() {
            let bytes = unsafe { core::slice::from_raw_parts(p, l.size()) };
            assert!(bytes.iter().all(|&b| b == i as u8 + 1), "block {i} kept");
        }
        assert_eq!(a.fallback.allocs.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn the_arena_starts_over_once_nothing_in_it_is_alive() {
        let a = arena();
        let first = unsafe { a.alloc(layout(100, 8)) };
        let second = unsafe { a.alloc(layout(100, 8)) };
        unsafe { a.dealloc(first, layout(100, 8)) };
        // One block is still alive: its space and what precedes it stay taken.
        assert!(a.used() >= 200);
        unsafe { a.dealloc(second, layout(100, 8)) };
        assert_eq!(a.used(), 0);
        let again = unsafe { a.alloc(layout(100, 8)) };
        assert_eq!(again, first, "the next call reuses the same memory");
        unsafe { a.dealloc(again, layout(100, 8)) };
    }

    #[test]
    fn freeing_the_last_block_gives_its_space_back_at_once() {
        let a = arena();
        let keep = unsafe { a.alloc(layout(16, 8)) };
        let temp = unsafe { a.alloc(layout(500, 8)) };
        unsafe { a.dealloc(temp, layout(500, 8)) };
        let next = unsafe { a.alloc(layout(500, 8)) };
        assert_eq!(next, temp);
        unsafe {
            a.dealloc(next, layout(500, 8));
            a.dealloc(keep, layout(16, 8));
        }
    }

    #[test]
    fn what_does_not_fit_goes_to_the_fallback_and_back_to_it() {
        let a = arena();
        let small = unsafe { a.alloc(layout(1000, 8)) };
        assert!(a.owns(small));
        // 1000 of 1024 bytes are taken: this one cannot fit.
        let big = unsafe { a.alloc(layout(100, 8)) };
        assert!(!big.is_null() && !a.owns(big));
        assert_eq!(a.fallback.allocs.load(Ordering::Relaxed), 1);
        unsafe { a.dealloc(big, layout(100, 8)) };
        assert_eq!(a.fallback.frees.load(Ordering::Relaxed), 1);
        unsafe { a.dealloc(small, layout(1000, 8)) };
        assert_eq!(a.used(), 0);
    }

    #[test]
    fn the_last_block_grows_and_shrinks_in_place() {
        let a = arena();
        let p = unsafe { a.alloc(layout(10, 1)) };
        unsafe { core::ptr::copy_nonoverlapping(b"0123456789".as_ptr(), p, 10) };
        let grown = unsafe { a.realloc(p, layout(10, 1), 600) };
        assert_eq!(grown, p);
        let shrunk = unsafe { a.realloc(grown, layout(600, 1), 20) };
        assert_eq!(shrunk, p);
        // The space it gave back is the next block's.
        let next = unsafe { a.alloc(layout(1, 1)) };
        assert_eq!(next as usize, p as usize + 20);
        let bytes = unsafe { core::slice::from_raw_parts(shrunk, 10) };
        assert_eq!(bytes, b"0123456789");
        unsafe {
            a.dealloc(next, layout(1, 1));
            a.dealloc(shrunk, layout(20, 1));
        }
        assert_eq!(a.used(), 0);
    }

    #[test]
    fn a_block_that_cannot_grow_in_place_moves_with_its_bytes() {
        let a = arena();
        let p = unsafe { a.alloc(layout(8, 8)) };
        unsafe { core::ptr::copy_nonoverlapping(b"abcdefgh".as_ptr(), p, 8) };
        let after = unsafe { a.alloc(layout(8, 8)) };
        // Not the last block any more: it moves, within the arena while there is room.
        let moved = unsafe { a.realloc(p, layout(8, 8), 64) };
        assert_ne!(moved, p);
        assert!(a.owns(moved));
        assert_eq!(
            unsafe { core::slice::from_raw_parts(moved, 8) },
            b"abcdefgh"
        );
        // And to the fallback once there is none, still with its bytes.
        let out = unsafe { a.realloc(moved, layout(64, 8), 4096) };
        assert!(!a.owns(out));
        assert_eq!(unsafe { core::slice::from_raw_parts(out, 8) }, b"abcdefgh");
        unsafe {
            a.dealloc(out, layout(4096, 8));
            a.dealloc(after, layout(8, 8));
        }
        assert_eq!(a.used(), 0);
        assert_eq!(a.fallback.frees.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn a_block_from_the_fallback_is_resized_by_the_fallback() {
        let a = arena();
        let big = unsafe { a.alloc(layout(2048, 8)) };
        assert!(!a.owns(big));
        let bigger = unsafe { a.realloc(big, layout(2048, 8), 8192) };
        assert!(!a.owns(bigger));
        unsafe { a.dealloc(bigger, layout(8192, 8)) };
        assert_eq!(a.used(), 0);
    }

    #[test]
    fn rounds_of_mixed_blocks_leave_nothing_behind() {
        // A call's pattern: many small blocks of mixed sizes and alignments, all freed before
        // the next call, in whatever order.
        let a = arena();
        for round in 0..3 {
            let mut v: Vec<*mut u8> = Vec::new();
            for i in 0..40 {
                let l = layout(1 + (i * 7) % 29, 1 << (i % 4));
                let p = unsafe { a.alloc(l) };
                assert!(!p.is_null());
                unsafe { core::ptr::write_bytes(p, round as u8, l.size()) };
                v.push(p);
            }
            for (i, p) in v.into_iter().enumerate() {
                unsafe { a.dealloc(p, layout(1 + (i * 7) % 29, 1 << (i % 4))) };
            }
            assert_eq!(a.used(), 0, "round {round} left nothing behind");
        }
    }
}
