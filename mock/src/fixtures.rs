//! Names and secrets of the built-in seed, for tests and for anyone driving `dockhand mock`.
//!
//! Every secret here is fake and says so in its text, so that one found in a log is recognisably
//! the mock's and never mistaken for (or scanned as) a real credential.

/// An ordinary user: owner of [`ORG`], owner of [`ALICE_REPO`].
pub const ALICE: &str = "alice";
pub const ALICE_PASSWORD: &str = "mock-password-alice";
pub const ALICE_EMAIL: &str = "alice@acme.example";
/// Alice's personal access token with every scope (`repo:admin`).
pub const ALICE_PAT: &str = "dckr_pat_mock_alice_admin_0000000001";
pub const ALICE_PAT_UUID: &str = "a11ce000-0000-4000-8000-000000000001";
pub const ALICE_PAT_LABEL: &str = "mock admin token";
/// Alice's read-only personal access token (`repo:read`), for scope checks.
pub const ALICE_PAT_READ_ONLY: &str = "dckr_pat_mock_alice_readonly_000002";
pub const ALICE_PAT_READ_ONLY_UUID: &str = "a11ce000-0000-4000-8000-000000000002";

/// A user with two-factor authentication: password login needs [`BOB_TOTP_CODE`].
pub const BOB: &str = "bob";
pub const BOB_PASSWORD: &str = "mock-password-bob";
pub const BOB_EMAIL: &str = "bob@acme.example";
pub const BOB_PAT: &str = "dckr_pat_mock_bob_admin_000000000003";
pub const BOB_PAT_UUID: &str = "b0b00000-0000-4000-8000-000000000003";
/// The one-time code the mock accepts for bob's second factor (it never changes).
pub const BOB_TOTP_CODE: &str = "123456";

/// A plain member of [`ORG`] (no owner rights), for permission failures.
pub const CAROL: &str = "carol";
pub const CAROL_PASSWORD: &str = "mock-password-carol";
pub const CAROL_EMAIL: &str = "carol@acme.example";
pub const CAROL_PAT: &str = "dckr_pat_mock_carol_admin_0000000004";
pub const CAROL_PAT_UUID: &str = "ca401000-0000-4000-8000-000000000004";

/// A user outside every organization.
pub const MALLORY: &str = "mallory";
pub const MALLORY_PASSWORD: &str = "mock-password-mallory";
pub const MALLORY_PAT: &str = "dckr_pat_mock_mallory_0000000000005";

/// The organization: alice owner, bob editor, carol member.
pub const ORG: &str = "acme";
/// An organization access token of [`ORG`], exchanged with identifier [`ORG`].
pub const ORG_OAT: &str = "dckr_oat_mock_acme_0000000000000006";
pub const ORG_OAT_ID: &str = "0a700000-0000-4000-8000-000000000006";
pub const ORG_OAT_LABEL: &str = "mock automation token";
/// The bearer that the SCIM routes accept (SCIM is provisioned for [`ORG`]).
pub const SCIM_TOKEN: &str = "dsa_scim_mock_acme_0000000000000007";
/// Groups of [`ORG`]: `owners` = {alice}; `developers` = {alice, bob}.
pub const GROUP_OWNERS: &str = "owners";
pub const GROUP_DEVELOPERS: &str = "developers";
pub const GROUP_OWNERS_ID: u64 = 1001;
pub const GROUP_DEVELOPERS_ID: u64 = 1002;
/// The pending invite of [`ORG`] (to the `developers` group).
pub const INVITE_ID: &str = "1a717e00-0000-4000-8000-000000000008";
pub const INVITEE: &str = "dave@example.com";
/// SCIM users provisioned in [`ORG`].
pub const SCIM_USER_ALICE_ID: &str = "5c100000-0000-4000-8000-000000000009";
pub const SCIM_USER_CAROL_ID: &str = "5c100000-0000-4000-8000-000000000010";

/// The public official image.
pub const LIBRARY: &str = "library";
pub const ALPINE: &str = "alpine";
/// Tags of `library/alpine`, newest first.
pub const ALPINE_TAGS: &[&str] = &["latest", "3.20", "edge", "3.19", "3.18"];
/// Alice's public repository `alice/demo`.
pub const ALICE_REPO: &str = "demo";
/// The private repository `acme/private`.
pub const PRIVATE_REPO: &str = "private";
