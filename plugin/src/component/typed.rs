//! What the typed exports in `generated/exports.rs` share.
//!
//! wit-bindgen would give each of the 60 typed functions its own lifting of `call-options` and
//! its own lowering of `result<response, hub-error>` (about 2 KB of code each, ~105 KB in all).
//! So the bindings skip them, and the generated exports do two things by hand: lift their record's
//! fields into named JSON arguments through [`Lift`], then hand over to [`ArgsBuilder::call`]. That
//! stashes the arguments and runs wit-bindgen's glue of the `catalog.call` export, which lifts the
//! caller's `call-options`, calls [`Component`]'s `call` (which finds the stash and runs the typed
//! operation) and lowers the result. The typed functions return what `call` returns, from the same
//! return area, so `call`'s post-return frees it ([`post_return`]).

use crate::prelude::*;

use super::bindings::exports::dockhand::hub::catalog;
use super::exports::{
    CALL_PARAMS_ALIGN, CALL_PARAMS_AT, CALL_PARAMS_SIZE, OPTIONS_ALIGN, OPTIONS_SIZE, store_options,
};
use super::{ArgsBuilder, Component, SingleThreaded};
use alloc::alloc::{Layout, alloc, dealloc, handle_alloc_error};
use core::cell::Cell;
use core::ptr::NonNull;
use serde_json::Value;

/// The typed call in progress: its catalog name and arguments, from [`ArgsBuilder::call`] to
/// `Component::call`.
static TYPED: SingleThreaded<Cell<Option<(&'static str, ArgsBuilder)>>> =
    SingleThreaded(Cell::new(None));

/// Takes the typed call that [`ArgsBuilder::call`] stashed, if `call` runs on behalf of one.
pub(crate) fn take_typed_call() -> Option<(&'static str, ArgsBuilder)> {
    TYPED.0.take()
}

/// Frees a typed function's result once the host has read it.
///
/// # Safety
/// `ret` is what a typed export returned, and the host has not freed it yet.
pub(crate) unsafe fn post_return(ret: *mut u8) {
    unsafe { catalog::__post_return_call::<Component>(ret) }
}

/// A field that JSON text carries (nested objects): parsed into the argument.
pub(crate) struct JsonText;

/// A WIT field type, as the canonical ABI passes it to an export: flat in core parameters (a
/// record that flattens to 16 values or fewer, counting `call-options`) or in memory.
pub(crate) trait Lift {
    /// The core parameters the type flattens to.
    type Flat;
    /// The type's alignment in memory.
    const ALIGN: usize;

    /// Lifts the flat form into `args` (an absent option adds nothing), taking ownership of any
    /// memory it points to.
    ///
    /// # Safety
    /// `flat` is a valid lowering of the type by the host.
    unsafe fn lift(args: &mut ArgsBuilder, name: &'static str, flat: Self::Flat);

    /// Lifts the value stored at `p` into `args`, taking ownership of any memory it points to.
    ///
    /// # Safety
    /// `p` points to a valid, suitably aligned lowering of the type by the host.
    unsafe fn load(args: &mut ArgsBuilder, name: &'static str, p: *const u8);
}

/// Takes ownership of a string the host allocated with `cabi_realloc`.
///
/// # Safety
/// `ptr` and `len` describe a UTF-8 string that the host lowered.
unsafe fn lift_string(ptr: *mut u8, len: usize) -> String {
    // The canonical ABI only ever passes valid UTF-8, as wit-bindgen also assumes.
    unsafe { String::from_raw_parts(ptr, len, len) }
}

/// Reads a `(pointer, length)` pair: a string or list in memory.
///
/// # Safety
/// `p` points to 8 readable bytes, 4-aligned.
unsafe fn load_pair(p: *const u8) -> (*mut u8, usize) {
    unsafe { (p.cast::<*mut u8>().read(), p.add(4).cast::<usize>().read()) }
}

impl Lift for String {
    type Flat = (*mut u8, usize);
    const ALIGN: usize = 4;

    unsafe fn lift(args: &mut ArgsBuilder, name: &'static str, (ptr, len): Self::Flat) {
        let text = unsafe { lift_string(ptr, len) };
        args.insert(name, Value::String(text));
    }

    unsafe fn load(args: &mut ArgsBuilder, name: &'static str, p: *const u8) {
        unsafe { Self::lift(args, name, load_pair(p)) }
    }
}

impl Lift for JsonText {
    type Flat = (*mut u8, usize);
    const ALIGN: usize = 4;

    unsafe fn lift(args: &mut ArgsBuilder, name: &'static str, (ptr, len): Self::Flat) {
        let text = unsafe { lift_string(ptr, len) };
        args.insert_json(name, &text);
    }

    unsafe fn load(args: &mut ArgsBuilder, name: &'static str, p: *const u8) {
        unsafe { Self::lift(args, name, load_pair(p)) }
    }
}

impl Lift for i64 {
    type Flat = i64;
    const ALIGN: usize = 8;

    unsafe fn lift(args: &mut ArgsBuilder, name: &'static str, value: i64) {
        args.insert(name, Value::from(value));
    }

    unsafe fn load(args: &mut ArgsBuilder, name: &'static str, p: *const u8) {
        unsafe { Self::lift(args, name, p.cast::<i64>().read()) }
    }
}

impl Lift for f64 {
    type Flat = f64;
    const ALIGN: usize = 8;

    unsafe fn lift(args: &mut ArgsBuilder, name: &'static str, value: f64) {
        args.insert(name, Value::from(value));
    }

    unsafe fn load(args: &mut ArgsBuilder, name: &'static str, p: *const u8) {
        unsafe { Self::lift(args, name, p.cast::<f64>().read()) }
    }
}

impl Lift for bool {
    type Flat = i32;
    const ALIGN: usize = 1;

    unsafe fn lift(args: &mut ArgsBuilder, name: &'static str, value: i32) {
        args.insert(name, Value::Bool(value != 0));
    }

    unsafe fn load(args: &mut ArgsBuilder, name: &'static str, p: *const u8) {
        unsafe { Self::lift(args, name, i32::from(p.read())) }
    }
}

impl Lift for Vec<String> {
    type Flat = (*mut u8, usize);
    const ALIGN: usize = 4;

    unsafe fn lift(args: &mut ArgsBuilder, name: &'static str, (base, len): Self::Flat) {
        let items: Vec<String> = (0..len)
            .map(|i| unsafe {
                let (ptr, len) = load_pair(base.add(i * 8));
                lift_string(ptr, len)
            })
            .collect();
        if len > 0 {
            // The host allocated the array of (pointer, length) pairs; the strings are ours now.
            unsafe { dealloc(base, Layout::from_size_align_unchecked(len * 8, 4)) };
        }
        args.insert(name, Value::from(items));
    }

    unsafe fn load(args: &mut ArgsBuilder, name: &'static str, p: *const u8) {
        unsafe { Self::lift(args, name, load_pair(p)) }
    }
}

impl Lift for Vec<i64> {
    type Flat = (*mut u8, usize);
    const ALIGN: usize = 4;

    unsafe fn lift(args: &mut ArgsBuilder, name: &'static str, (ptr, len): Self::Flat) {
        // The host allocated the list with `s64`'s size and alignment, as a `Vec<i64>` does.
        let items = unsafe { Vec::from_raw_parts(ptr.cast::<i64>(), len, len) };
        args.insert(name, Value::from(items));
    }

    unsafe fn load(args: &mut ArgsBuilder, name: &'static str, p: *const u8) {
        unsafe { Self::lift(args, name, load_pair(p)) }
    }
}

impl<T: Lift> Lift for Option<T> {
    /// The discriminant, then the payload (zeros when absent).
    type Flat = (i32, T::Flat);
    const ALIGN: usize = T::ALIGN;

    unsafe fn lift(args: &mut ArgsBuilder, name: &'static str, (some, flat): Self::Flat) {
        if some != 0 {
            unsafe { T::lift(args, name, flat) }
        }
    }

    unsafe fn load(args: &mut ArgsBuilder, name: &'static str, p: *const u8) {
        // A one-byte discriminant, then the payload at its own alignment.
        if unsafe { p.read() } != 0 {
            unsafe { T::load(args, name, p.add(T::ALIGN)) }
        }
    }
}

impl ArgsBuilder {
    /// Starts a typed call. Like wit-bindgen's glue, runs the static constructors before
    /// anything else (the first allocation included).
    #[inline(never)]
    pub(crate) fn start() -> ArgsBuilder {
        wit_bindgen::rt::run_ctors_once();
        ArgsBuilder::default()
    }

    /// Adds a field passed in core parameters.
    ///
    /// # Safety
    /// As [`Lift::lift`].
    #[inline(never)]
    // The generator emits it for a typed function whose parameters fit the canonical ABI's 16
    // flat values; since `call-options` takes 16 on its own, none does today.
    #[allow(dead_code)]
    pub(crate) unsafe fn put<T: Lift>(&mut self, name: &'static str, flat: T::Flat) {
        unsafe { T::lift(self, name, flat) }
    }

    /// Adds a field passed in memory at `p`.
    ///
    /// # Safety
    /// As [`Lift::load`].
    #[inline(never)]
    pub(crate) unsafe fn load<T: Lift>(&mut self, name: &'static str, p: *const u8) {
        unsafe { T::load(self, name, p) }
    }

    /// Runs the typed call `name` with these arguments and the flat `call-options` `o0`..`o15`
    /// (as the canonical ABI passes `option<string>, option<string>, option<bool>, option<u32>,
    /// option<u32>, option<u32>, option<u32>`), and returns the lowered result. The generated
    /// callers pass as many as `cargo xtask gen` counts, so a change to `call-options` that is
    /// not made here too does not compile.
    ///
    /// # Safety
    /// The options are a valid lowering of `call-options` by the host.
    #[inline(never)]
    #[allow(clippy::too_many_arguments)]
    pub(crate) unsafe fn call(
        self,
        name: &'static str,
        o0: i32,
        o1: *mut u8,
        o2: usize,
        o3: i32,
        o4: *mut u8,
        o5: usize,
        o6: i32,
        o7: i32,
        o8: i32,
        o9: i32,
        o10: i32,
        o11: i32,
        o12: i32,
        o13: i32,
        o14: i32,
        o15: i32,
    ) -> *mut u8 {
        unsafe {
            let params = Self::call_params(name, self);
            store_options(
                params.add(CALL_PARAMS_AT[2]),
                o0,
                o1,
                o2,
                o3,
                o4,
                o5,
                o6,
                o7,
                o8,
                o9,
                o10,
                o11,
                o12,
                o13,
                o14,
                o15,
            );
            catalog::_export_call_cabi::<Component>(params)
        }
    }

    /// [`Self::call`] for a function whose parameters the host passed in memory at `p` (`size`
    /// bytes, aligned to `align`), with `call-options` at offset `options`. Frees that memory.
    ///
    /// # Safety
    /// `p` is the parameter block the host allocated for this export, and every field before
    /// `call-options` has been lifted.
    #[inline(never)]
    pub(crate) unsafe fn call_spilled(
        self,
        name: &'static str,
        p: *mut u8,
        options: usize,
        size: usize,
        align: usize,
    ) -> *mut u8 {
        unsafe {
            let result = self.call_with_options(name, p.add(options));
            dealloc(p, Layout::from_size_align_unchecked(size, align));
            result
        }
    }

    /// Hands over to the `catalog.call` export's glue with `call-options` copied from `options`
    /// (in memory form); the strings they point to become that glue's to free.
    ///
    /// # Safety
    /// `options` points to `OPTIONS_SIZE` readable bytes, a valid lowering of `call-options`.
    unsafe fn call_with_options(self, name: &'static str, options: *const u8) -> *mut u8 {
        unsafe {
            let params = Self::call_params(name, self);
            core::ptr::copy_nonoverlapping(options, params.add(CALL_PARAMS_AT[2]), OPTIONS_SIZE);
            catalog::_export_call_cabi::<Component>(params)
        }
    }

    /// Stashes the typed call and allocates the parameter block of `catalog.call`, with empty
    /// `operation` and `args-json` and `call-options` left for the caller to store.
    ///
    /// With its 18 flat values `call`'s parameters do not fit the canonical ABI's 16, so its glue
    /// reads them from a block in memory and frees that block. The layout is the WIT's, computed
    /// by `cargo xtask gen` (`CALL_PARAMS_*`, `OPTIONS_*` in the generated exports).
    fn call_params(name: &'static str, args: ArgsBuilder) -> *mut u8 {
        TYPED.0.set(Some((name, args)));
        // SAFETY: the layout has a non-zero size and a power-of-two alignment (the WIT's), and
        // only plain integers and pointers are written, each at an offset the layout provides.
        unsafe {
            let layout = Layout::from_size_align_unchecked(CALL_PARAMS_SIZE, CALL_PARAMS_ALIGN);
            let params = alloc(layout);
            if params.is_null() {
                handle_alloc_error(layout);
            }
            // Empty strings own no memory.
            let empty = NonNull::<u8>::dangling().as_ptr();
            for at in [CALL_PARAMS_AT[0], CALL_PARAMS_AT[1]] {
                params.add(at).cast::<*mut u8>().write(empty);
                params.add(at + 4).cast::<usize>().write(0);
            }
            params
        }
    }
}

const _: () = assert!(OPTIONS_ALIGN <= CALL_PARAMS_ALIGN);
