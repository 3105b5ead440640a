//! The core's seams over WASI 0.2 imports: [`WasiHttp`] sends requests through
//! `wasi:http/outgoing-handler`, [`WasiClock`] reads `wasi:clocks` and `wasi:random`. The
//! component plugs them into [`crate::client`], and so does the gateway (`gateway/`), which
//! links this crate as a library; neither needs anything of the other.

mod transport;

pub use transport::WasiHttp;

use crate::retry;
use core::time::Duration;

/// wasi clocks and randomness. Sleeping blocks on a pollable, so the host (not the guest) does
/// the waiting and can end the call at its deadline meanwhile.
pub struct WasiClock;

impl retry::Clock for WasiClock {
    fn now_unix(&mut self) -> u64 {
        wasi::clocks::wall_clock::now().seconds
    }

    fn sleep(&mut self, duration: Duration) {
        let nanos = u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX);
        wasi::clocks::monotonic_clock::subscribe_duration(nanos).block();
    }

    fn random(&mut self) -> u64 {
        wasi::random::insecure::get_insecure_random_u64()
    }
}
