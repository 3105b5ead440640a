//! Identifiers and secrets that look like the Hub's (v4 UUIDs, trimmed hex ids, `dckr_pat_…`).
//!
//! They come from a seeded generator rather than the OS so that two runs of the same test see the
//! same ids, which keeps failures reproducible.

const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

#[derive(Debug, Clone)]
pub(crate) struct IdGen {
    state: u64,
}

impl IdGen {
    pub(crate) fn new(seed: u64) -> Self {
        IdGen { state: seed }
    }

    /// splitmix64: tiny, and every seed gives a full-period sequence.
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub(crate) fn uuid(&mut self) -> String {
        let hi = self.next_u64();
        let lo = self.next_u64();
        let hi = (hi & !0xF000) | 0x4000;
        let lo = (lo & !(0xC << 60)) | (0x8 << 60);
        format!(
            "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
            hi >> 32,
            (hi >> 16) & 0xFFFF,
            hi & 0xFFFF,
            lo >> 48,
            lo & 0xFFFF_FFFF_FFFF
        )
    }

    /// The Hub's "UUID trimmed" user ids: 32 hex digits.
    pub(crate) fn hex32(&mut self) -> String {
        format!("{:016x}{:016x}", self.next_u64(), self.next_u64())
    }

    pub(crate) fn secret(&mut self, prefix: &str, len: usize) -> String {
        let mut out = String::from(prefix);
        for _ in 0..len {
            out.push(ALPHABET[(self.next_u64() % ALPHABET.len() as u64) as usize] as char);
        }
        out
    }
}

/// A stable digest-looking string for seed images that do not name one.
pub(crate) fn fake_digest(parts: &[&str]) -> String {
    let mut rng = IdGen::new(fnv(parts));
    let words: String = (0..4).map(|_| format!("{:016x}", rng.next_u64())).collect();
    format!("sha256:{words}")
}

/// FNV-1a, used to derive stable values (digests, signatures) from text.
pub(crate) fn fnv(parts: &[&str]) -> u64 {
    let mut hash = 0xcbf2_9ce4_8422_2325_u64;
    for part in parts {
        for byte in part.bytes().chain([0xff]) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_are_v4_shaped() {
        let mut g = IdGen::new(7);
        let id = g.uuid();
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "4");
        assert!(matches!(&id[19..20], "8" | "9" | "a" | "b"));
        assert_ne!(id, g.uuid());
    }
}
