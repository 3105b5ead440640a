//! Names and secrets of the built-in seed, for tests and for anyone driving `dockhand mock`.
//!
//! Every secret here is fake and says so in its text, so that one found in a log is recognisably
//! the mock's and never mistaken for (or scanned as) a real credential.

/// An ordinary user: owner of [`ORG`], owner of [`ALICE_REPO`].
pub const ALICE: &str = "alice";
/// Alice's password; she has no second factor, so it signs in on its own.
pub const ALICE_PASSWORD: &str = "mock-password-alice";
/// Alice's email address, also her SCIM `userName`.
pub const ALICE_EMAIL: &str = "alice@acme.example";
/// Alice's personal access token with every scope (`repo:admin`).
pub const ALICE_PAT: &str = "dckr_pat_mock_alice_admin_0000000001";
/// [`ALICE_PAT`]'s id in the access-token API.
pub const ALICE_PAT_UUID: &str = "a11ce000-0000-4000-8000-000000000001";
/// [`ALICE_PAT`]'s label in the access-token API.
pub const ALICE_PAT_LABEL: &str = "mock admin token";
/// Alice's read-only personal access token (`repo:read`), for scope checks.
pub const ALICE_PAT_READ_ONLY: &str = "dckr_pat_mock_alice_readonly_000002";
/// [`ALICE_PAT_READ_ONLY`]'s id in the access-token API.
pub const ALICE_PAT_READ_ONLY_UUID: &str = "a11ce000-0000-4000-8000-000000000002";

/// A user with two-factor authentication: password login needs [`BOB_TOTP_CODE`].
pub const BOB: &str = "bob";
/// Bob's password, which signs in only together with [`BOB_TOTP_CODE`].
pub const BOB_PASSWORD: &str = "mock-password-bob";
/// Bob's email address.
pub const BOB_EMAIL: &str = "bob@acme.example";
/// Bob's personal access token (`repo:admin`), which needs no second factor.
pub const BOB_PAT: &str = "dckr_pat_mock_bob_admin_000000000003";
/// [`BOB_PAT`]'s id in the access-token API.
pub const BOB_PAT_UUID: &str = "b0b00000-0000-4000-8000-000000000003";
/// The one-time code the mock accepts for bob's second factor (it never changes).
pub const BOB_TOTP_CODE: &str = "123456";

/// A plain member of [`ORG`] (no owner rights), for permission failures.
pub const CAROL: &str = "carol";
/// Carol's password.
pub const CAROL_PASSWORD: &str = "mock-password-carol";
/// Carol's email address, also her SCIM `userName`.
pub const CAROL_EMAIL: &str = "carol@acme.example";
/// Carol's personal access token: `repo:admin`, though as a plain member she can do less in
/// [`ORG`], so failures come from her role, not the token.
pub const CAROL_PAT: &str = "dckr_pat_mock_carol_admin_0000000004";
/// [`CAROL_PAT`]'s id in the access-token API.
pub const CAROL_PAT_UUID: &str = "ca401000-0000-4000-8000-000000000004";

/// A user outside every organization.
pub const MALLORY: &str = "mallory";
/// Mallory's password.
pub const MALLORY_PASSWORD: &str = "mock-password-mallory";
/// Mallory's personal access token (`repo:admin`): every refusal she meets is for want of
/// membership.
pub const MALLORY_PAT: &str = "dckr_pat_mock_mallory_0000000000005";

/// The organization: alice owner, bob editor, carol member.
pub const ORG: &str = "acme";
/// An organization access token of [`ORG`], exchanged with identifier [`ORG`].
pub const ORG_OAT: &str = "dckr_oat_mock_acme_0000000000000006";
/// [`ORG_OAT`]'s id in the organization-access-token API.
pub const ORG_OAT_ID: &str = "0a700000-0000-4000-8000-000000000006";
/// [`ORG_OAT`]'s label.
pub const ORG_OAT_LABEL: &str = "mock automation token";
/// The bearer that the SCIM routes accept (SCIM is provisioned for [`ORG`]).
pub const SCIM_TOKEN: &str = "dsa_scim_mock_acme_0000000000000007";
/// The group of [`ORG`] whose only member is alice.
pub const GROUP_OWNERS: &str = "owners";
/// The group of [`ORG`] with alice and bob in it, which [`INVITEE`] is invited to.
pub const GROUP_DEVELOPERS: &str = "developers";
/// [`GROUP_OWNERS`]'s numeric id.
pub const GROUP_OWNERS_ID: u64 = 1001;
/// [`GROUP_DEVELOPERS`]'s numeric id.
pub const GROUP_DEVELOPERS_ID: u64 = 1002;
/// The pending invite of [`ORG`] (to the `developers` group).
pub const INVITE_ID: &str = "1a717e00-0000-4000-8000-000000000008";
/// Who [`INVITE_ID`] invites: an email address with no account behind it.
pub const INVITEE: &str = "dave@example.com";
/// The SCIM id of alice, provisioned in [`ORG`] as [`ALICE_EMAIL`].
pub const SCIM_USER_ALICE_ID: &str = "5c100000-0000-4000-8000-000000000009";
/// The SCIM id of carol, provisioned in [`ORG`] as [`CAROL_EMAIL`].
pub const SCIM_USER_CAROL_ID: &str = "5c100000-0000-4000-8000-000000000010";

/// The namespace of official images, which belongs to no seeded user or organization.
pub const LIBRARY: &str = "library";
/// The public official image `library/alpine`, with several tags and platforms.
pub const ALPINE: &str = "alpine";
/// Tags of `library/alpine`, newest first.
pub const ALPINE_TAGS: &[&str] = &["latest", "3.20", "edge", "3.19", "3.18"];
/// Alice's public repository `alice/demo`.
pub const ALICE_REPO: &str = "demo";
/// The private repository `acme/private`.
pub const PRIVATE_REPO: &str = "private";
