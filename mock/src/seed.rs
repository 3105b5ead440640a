//! The world the mock starts from: users, organizations and repositories, as plain data.
//!
//! A [`Seed`] is what `--data seed.yaml` parses into and what [`Seed::builtin`] builds from
//! [`crate::fixtures`]. It holds no behaviour; `state` turns it into the live Hub and checks that
//! its references (members, group members, namespaces) point at things that exist.

use serde::{Deserialize, Serialize};

use crate::fixtures as fx;

/// Everything the mock knows when it starts; what a seed leaves out does not exist.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Seed {
    /// Personal accounts; usernames must be unique and may not be an organization's name.
    pub users: Vec<SeedUser>,
    /// Organizations, whose members must be among `users`.
    pub orgs: Vec<SeedOrg>,
    /// Repositories, in any namespace (a user's, an organization's, or one that is neither,
    /// such as `library`).
    pub repositories: Vec<SeedRepository>,
}

/// A personal Docker Hub account.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SeedUser {
    /// The login name, and the user's namespace; required.
    pub username: String,
    /// Without one, the user can sign in only with an access token.
    pub password: Option<String>,
    /// Defaults to `<username>@mock.example`.
    pub email: Option<String>,
    /// Profile text, empty when absent.
    pub full_name: Option<String>,
    /// Profile text, empty when absent.
    pub company: Option<String>,
    /// Profile text, empty when absent.
    pub location: Option<String>,
    /// When set, password logins need this code as a second factor.
    pub two_factor_code: Option<String>,
    /// Personal access tokens, which sign in in place of the password.
    pub access_tokens: Vec<SeedAccessToken>,
}

/// A personal access token of a [`SeedUser`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SeedAccessToken {
    /// The name the token is listed under.
    pub label: String,
    /// What a client sends to sign in with it; required, and unique among all seeded tokens.
    pub secret: String,
    /// `repo:admin`, `repo:write` or `repo:read`: the token does no more on a repository than
    /// its widest scope allows, whatever its user may do there (default: `repo:admin`).
    pub scopes: Vec<String>,
    /// Its id in the token API; made up when absent.
    pub uuid: Option<String>,
    /// A disabled token (`false`) is refused at sign-in (default: `true`).
    pub is_active: bool,
}

impl Default for SeedAccessToken {
    fn default() -> Self {
        SeedAccessToken {
            label: String::new(),
            secret: String::new(),
            scopes: vec!["repo:admin".into()],
            uuid: None,
            is_active: true,
        }
    }
}

/// An organization and everything that belongs to it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SeedOrg {
    /// Its namespace; required, and no user's name.
    pub name: String,
    /// Seeded users with their role in the organization.
    pub members: Vec<SeedMember>,
    /// Groups (teams) of members.
    pub groups: Vec<SeedGroup>,
    /// Invitations still pending.
    pub invites: Vec<SeedInvite>,
    /// Organization access tokens, which sign in as the organization itself.
    pub access_tokens: Vec<SeedOrgAccessToken>,
    /// The bearer that makes a SCIM request act for this organization; without one, SCIM
    /// cannot reach it.
    pub scim_token: Option<String>,
    /// The users SCIM provisioning already knows.
    pub scim_users: Vec<SeedScimUser>,
    /// The organization's image-access policy setting.
    pub restricted_images: SeedRestrictedImages,
}

/// A user's membership of an organization.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SeedMember {
    /// A seeded user.
    pub username: String,
    /// `owner`, `editor` or `member`.
    pub role: String,
}

/// A group (team) within an organization.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SeedGroup {
    /// Unique within the organization; the group API addresses groups by it.
    pub name: String,
    /// Free text shown with the group.
    pub description: String,
    /// Its numeric id; the next free one when absent.
    pub id: Option<u64>,
    /// Usernames, each of whom must be a member of the organization.
    pub members: Vec<String>,
}

/// A pending invitation to join an organization.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SeedInvite {
    /// Its id in the invite API; made up when absent.
    pub id: Option<String>,
    /// Who is invited: a username or an email address.
    pub invitee: String,
    /// Who sent it; empty when absent.
    pub inviter: Option<String>,
    /// The group the invitee will join, if any.
    pub team: Option<String>,
    /// `owner`, `editor` or `member` (the default).
    pub role: Option<String>,
}

/// An organization access token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SeedOrgAccessToken {
    /// Its id in the token API; made up when absent.
    pub id: Option<String>,
    /// The name the token is listed under.
    pub label: String,
    /// Free text shown with the token.
    pub description: String,
    /// What a client sends to sign in with it; required, and unique among all seeded tokens.
    pub secret: String,
    /// The username shown as its creator; empty when absent.
    pub created_by: Option<String>,
    /// A disabled token (`false`) is refused at sign-in (default: `true`).
    pub is_active: bool,
    /// What the token is for, as the token API lists it.
    pub resources: Vec<SeedResource>,
}

impl Default for SeedOrgAccessToken {
    fn default() -> Self {
        SeedOrgAccessToken {
            id: None,
            label: String::new(),
            description: String::new(),
            secret: String::new(),
            created_by: None,
            is_active: true,
            resources: Vec::new(),
        }
    }
}

/// One resource an organization access token is granted, as the token API reports it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SeedResource {
    /// `TYPE_REPO` or `TYPE_ORG`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The repositories or organization it covers, such as `acme/*`.
    pub path: String,
    /// Such as `scope-image-pull`.
    pub scopes: Vec<String>,
}

/// A user as the organization's SCIM provisioning knows them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SeedScimUser {
    /// The SCIM `id`; made up when absent.
    pub id: Option<String>,
    /// The SCIM `userName`: an email address.
    pub user_name: String,
    /// Defaults to the part of `user_name` before the `@`.
    pub display_name: Option<String>,
    /// The SCIM `name.givenName`.
    pub given_name: Option<String>,
    /// The SCIM `name.familyName`.
    pub family_name: Option<String>,
    /// The SCIM `active` flag (default: `true`).
    pub active: bool,
}

impl Default for SeedScimUser {
    fn default() -> Self {
        SeedScimUser {
            id: None,
            user_name: String::new(),
            display_name: None,
            given_name: None,
            family_name: None,
            active: true,
        }
    }
}

/// The organization setting `restricted_images`, reported and changed as stored; the mock does
/// not enforce it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SeedRestrictedImages {
    /// Whether the restriction is on.
    pub enabled: bool,
    /// Whether Docker Official Images stay allowed under it.
    pub allow_official_images: bool,
    /// Whether Verified Publisher images stay allowed under it.
    pub allow_verified_publishers: bool,
}

/// A repository and its tags.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SeedRepository {
    /// The user, organization or other namespace it lives in; required.
    pub namespace: String,
    /// Its name within the namespace; required, and unique there.
    pub name: String,
    /// The short description.
    pub description: String,
    /// The long (README) description.
    pub full_description: String,
    /// A private repository is visible only to those with at least read access to it.
    pub is_private: bool,
    /// Reported as is.
    pub star_count: u64,
    /// Reported as is.
    pub pull_count: u64,
    /// RFC 3339; defaults to the seed's fixed epoch.
    pub last_updated: Option<String>,
    /// The repository's immutable-tags setting, reported and changed as stored (the mock takes
    /// no pushes, so there is nothing for it to refuse).
    pub immutable_tags: bool,
    /// The setting's rules: regular expressions over tag names, each of which must compile.
    pub immutable_tags_rules: Vec<String>,
    /// Tags, with unique names.
    pub tags: Vec<SeedTag>,
    /// Adds `count` synthetic tags `{prefix}{n}` (each with one linux/amd64 image), for
    /// pagination tests that need hundreds of tags.
    pub generated_tags: Option<GeneratedTags>,
}

/// See [`SeedRepository::generated_tags`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GeneratedTags {
    /// How many tags: `{prefix}0` to `{prefix}{count - 1}`, higher numbers newer.
    pub count: usize,
    /// What each tag's name starts with.
    pub prefix: String,
}

/// A tag of a repository.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SeedTag {
    /// Unique within the repository.
    pub name: String,
    /// RFC 3339; defaults to the repository's `last_updated`.
    pub last_updated: Option<String>,
    /// One per platform.
    pub images: Vec<SeedImage>,
}

/// One platform's image under a tag; every field is reported as the Hub reports it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SeedImage {
    /// Such as `amd64` or `arm64`.
    pub architecture: String,
    /// Such as `linux`.
    pub os: String,
    /// Such as `v8` for `arm64`.
    pub variant: Option<String>,
    /// Derived from the repository, tag and platform when absent.
    pub digest: Option<String>,
    /// In bytes.
    pub size: u64,
    /// The platform's CPU features.
    pub features: String,
    /// The platform's OS features.
    pub os_features: String,
    /// The platform's OS version (Windows images have one).
    pub os_version: String,
}

fn user(name: &str, password: &str, email: &str, full_name: &str) -> SeedUser {
    SeedUser {
        username: name.into(),
        password: Some(password.into()),
        email: Some(email.into()),
        full_name: Some(full_name.into()),
        company: Some("Acme Mock Corp".into()),
        location: Some("Loopback".into()),
        two_factor_code: None,
        access_tokens: Vec::new(),
    }
}

fn pat(label: &str, secret: &str, uuid: &str, scopes: &[&str]) -> SeedAccessToken {
    SeedAccessToken {
        label: label.into(),
        secret: secret.into(),
        scopes: scopes.iter().map(|s| s.to_string()).collect(),
        uuid: Some(uuid.into()),
        is_active: true,
    }
}

fn image(arch: &str, variant: Option<&str>, size: u64) -> SeedImage {
    SeedImage {
        architecture: arch.into(),
        os: "linux".into(),
        variant: variant.map(str::to_string),
        digest: None,
        size,
        features: String::new(),
        os_features: String::new(),
        os_version: String::new(),
    }
}

fn member(name: &str, role: &str) -> SeedMember {
    SeedMember {
        username: name.into(),
        role: role.into(),
    }
}

impl Seed {
    /// The out-of-the-box world: see [`crate::fixtures`] for every name and secret in it.
    pub fn builtin() -> Seed {
        let mut alice = user(fx::ALICE, fx::ALICE_PASSWORD, fx::ALICE_EMAIL, "Alice Mock");
        alice.access_tokens = vec![
            pat(
                fx::ALICE_PAT_LABEL,
                fx::ALICE_PAT,
                fx::ALICE_PAT_UUID,
                &["repo:admin"],
            ),
            pat(
                "mock read-only token",
                fx::ALICE_PAT_READ_ONLY,
                fx::ALICE_PAT_READ_ONLY_UUID,
                &["repo:read"],
            ),
        ];
        let mut bob = user(fx::BOB, fx::BOB_PASSWORD, fx::BOB_EMAIL, "Bob Mock");
        bob.two_factor_code = Some(fx::BOB_TOTP_CODE.into());
        bob.access_tokens = vec![pat(
            "mock bob token",
            fx::BOB_PAT,
            fx::BOB_PAT_UUID,
            &["repo:admin"],
        )];
        let mut carol = user(fx::CAROL, fx::CAROL_PASSWORD, fx::CAROL_EMAIL, "Carol Mock");
        carol.access_tokens = vec![pat(
            "mock carol token",
            fx::CAROL_PAT,
            fx::CAROL_PAT_UUID,
            &["repo:admin"],
        )];
        let mut mallory = user(
            fx::MALLORY,
            fx::MALLORY_PASSWORD,
            "mallory@elsewhere.example",
            "Mallory Mock",
        );
        mallory.company = None;
        mallory.access_tokens = vec![pat(
            "mock mallory token",
            fx::MALLORY_PAT,
            "3a110000-0000-4000-8000-000000000005",
            &["repo:admin"],
        )];

        let acme = SeedOrg {
            name: fx::ORG.into(),
            members: vec![
                member(fx::ALICE, "owner"),
                member(fx::BOB, "editor"),
                member(fx::CAROL, "member"),
            ],
            groups: vec![
                SeedGroup {
                    name: fx::GROUP_OWNERS.into(),
                    description: "Organization owners".into(),
                    id: Some(fx::GROUP_OWNERS_ID),
                    members: vec![fx::ALICE.into()],
                },
                SeedGroup {
                    name: fx::GROUP_DEVELOPERS.into(),
                    description: "People who push images".into(),
                    id: Some(fx::GROUP_DEVELOPERS_ID),
                    members: vec![fx::ALICE.into(), fx::BOB.into()],
                },
            ],
            invites: vec![SeedInvite {
                id: Some(fx::INVITE_ID.into()),
                invitee: fx::INVITEE.into(),
                inviter: Some(fx::ALICE.into()),
                team: Some(fx::GROUP_DEVELOPERS.into()),
                role: Some("member".into()),
            }],
            access_tokens: vec![SeedOrgAccessToken {
                id: Some(fx::ORG_OAT_ID.into()),
                label: fx::ORG_OAT_LABEL.into(),
                description: "Used by the mock's tests".into(),
                secret: fx::ORG_OAT.into(),
                created_by: Some(fx::ALICE.into()),
                is_active: true,
                resources: vec![SeedResource {
                    kind: "TYPE_REPO".into(),
                    path: format!("{}/*", fx::ORG),
                    scopes: vec!["scope-image-pull".into(), "scope-image-push".into()],
                }],
            }],
            scim_token: Some(fx::SCIM_TOKEN.into()),
            scim_users: vec![
                SeedScimUser {
                    id: Some(fx::SCIM_USER_ALICE_ID.into()),
                    user_name: fx::ALICE_EMAIL.into(),
                    display_name: Some(fx::ALICE.into()),
                    given_name: Some("Alice".into()),
                    family_name: Some("Mock".into()),
                    active: true,
                },
                SeedScimUser {
                    id: Some(fx::SCIM_USER_CAROL_ID.into()),
                    user_name: fx::CAROL_EMAIL.into(),
                    display_name: Some(fx::CAROL.into()),
                    given_name: Some("Carol".into()),
                    family_name: Some("Mock".into()),
                    active: true,
                },
            ],
            restricted_images: SeedRestrictedImages {
                enabled: false,
                allow_official_images: true,
                allow_verified_publishers: true,
            },
        };

        let alpine_dates = [
            "2025-06-02T10:00:00Z",
            "2025-06-02T09:00:00Z",
            "2025-05-30T08:00:00Z",
            "2025-01-08T12:00:00Z",
            "2024-09-06T12:00:00Z",
        ];
        let alpine_tags = fx::ALPINE_TAGS
            .iter()
            .zip(alpine_dates)
            .enumerate()
            .map(|(i, (name, date))| {
                let amd = image("amd64", None, 3_620_000 + i as u64 * 1000);
                let arm = image("arm64", Some("v8"), 3_990_000 + i as u64 * 1000);
                SeedTag {
                    name: name.to_string(),
                    last_updated: Some(date.into()),
                    images: vec![amd, arm, image("386", None, 3_480_000)],
                }
            })
            .collect();

        Seed {
            users: vec![alice, bob, carol, mallory],
            orgs: vec![acme],
            repositories: vec![
                SeedRepository {
                    namespace: fx::LIBRARY.into(),
                    name: fx::ALPINE.into(),
                    description: "A minimal Docker image based on Alpine Linux".into(),
                    full_description:
                        "# Alpine (mock)\n\nA tiny base image, served by the mock Hub.".into(),
                    star_count: 11_000,
                    pull_count: 9_000_000_000,
                    last_updated: Some("2025-06-02T10:00:00Z".into()),
                    tags: alpine_tags,
                    ..SeedRepository::default()
                },
                SeedRepository {
                    namespace: fx::ALICE.into(),
                    name: fx::ALICE_REPO.into(),
                    description: "Alice's demo application".into(),
                    star_count: 3,
                    pull_count: 42,
                    last_updated: Some("2025-03-01T09:30:00Z".into()),
                    tags: vec![SeedTag {
                        name: "latest".into(),
                        last_updated: Some("2025-03-01T09:30:00Z".into()),
                        images: vec![image("amd64", None, 12_345_678)],
                    }],
                    ..SeedRepository::default()
                },
                SeedRepository {
                    namespace: fx::ORG.into(),
                    name: fx::PRIVATE_REPO.into(),
                    description: "Acme's internal service".into(),
                    is_private: true,
                    pull_count: 7,
                    last_updated: Some("2025-04-15T16:00:00Z".into()),
                    tags: vec![
                        SeedTag {
                            name: "v1.0.0".into(),
                            last_updated: Some("2025-04-15T16:00:00Z".into()),
                            images: vec![image("amd64", None, 50_000_000)],
                        },
                        SeedTag {
                            name: "v0.9.0".into(),
                            last_updated: Some("2025-03-15T16:00:00Z".into()),
                            images: vec![image("amd64", None, 49_000_000)],
                        },
                    ],
                    ..SeedRepository::default()
                },
            ],
        }
    }
}
