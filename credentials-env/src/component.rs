//! The component's side: the WIT export, the environment import, and what a component that
//! links no std must define itself (an allocator, `cabi_realloc`, a panic handler).

use alloc::string::String;

use crate::{Kind, variable};

mod bindings {
    wit_bindgen::generate!({
        inline: "
            package dockhand:credentials-env;

            world provider {
                export dockhand:hub/credentials@0.4.0;
            }
        ",
        path: "../wit",
        world: "dockhand:credentials-env/provider",
    });
}

use bindings::exports::dockhand::hub::credentials::{Credential, CredentialKind, Guest};

struct Provider;

impl Guest for Provider {
    fn get(account: String, kind: CredentialKind) -> Result<Option<Credential>, String> {
        let kind = match kind {
            CredentialKind::Hub => Kind::Hub,
            CredentialKind::Scim => Kind::Scim,
        };
        let name = variable(&account, kind)?;
        let token = wasi::cli::environment::get_environment()
            .into_iter()
            .find_map(|(key, value)| (key == name).then_some(value));
        Ok(token
            .filter(|t| !t.is_empty())
            .map(|token| Credential { token }))
    }

    fn invalidate(_account: String, _kind: CredentialKind) {
        // Nothing is cached: the next `get` reads the environment again.
    }
}

bindings::export!(Provider with_types_in bindings);

#[global_allocator]
static ALLOCATOR: dlmalloc::GlobalDlmalloc = dlmalloc::GlobalDlmalloc;

/// A panic is a bug; the host reports the trap (the provider imports no stdio to print to).
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    core::arch::wasm32::unreachable()
}

/// The canonical ABI's allocation entry point, which std would define on wasm32-wasip2: the host
/// calls it for the strings it passes in (the account name) and the guest's bindings for the
/// ones they return.
///
/// # Safety
/// Called per the canonical ABI: `old` is null with `old_len` 0, or a block this function gave
/// out with that size and `align`; `align` is a power of two.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cabi_realloc(
    old: *mut u8,
    old_len: usize,
    align: usize,
    new_len: usize,
) -> *mut u8 {
    use alloc::alloc::{Layout, alloc, realloc};
    let Ok(layout) = Layout::from_size_align(new_len.max(1), align) else {
        core::arch::wasm32::unreachable()
    };
    // SAFETY: per this function's contract, `old` came from here with `old_len` and `align`.
    let block = unsafe {
        if old.is_null() {
            alloc(layout)
        } else {
            realloc(
                old,
                Layout::from_size_align_unchecked(old_len.max(1), align),
                new_len.max(1),
            )
        }
    };
    if block.is_null() {
        core::arch::wasm32::unreachable()
    }
    block
}

/// C's `memcmp`, which the compiler calls to compare strings (here, each variable's name with
/// the one wanted); `compiler_builtins` does not provide it for this target and no C library is
/// linked.
///
/// # Safety
/// `a` and `b` are valid for reads of `n` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn memcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    for i in 0..n {
        // SAFETY: `i < n`, and both are readable for `n` bytes by this function's contract.
        let (x, y) = unsafe { (*a.add(i), *b.add(i)) };
        if x != y {
            return i32::from(x) - i32::from(y);
        }
    }
    0
}
