//! The live Hub: every user, organization, repository, token and event the mock knows.
//!
//! One `HubState` sits behind one mutex; handlers take it for the length of a request and never
//! across an await, so each request sees and leaves a consistent world.

use std::collections::{BTreeMap, HashMap};

use crate::clock;
use crate::config::MockConfig;
use crate::ids::{IdGen, fake_digest};
use crate::seed::{Seed, SeedRepository};

/// When a seed does not say: the mock's fixed "long ago", so seeded output is reproducible.
pub(crate) const SEED_EPOCH: u64 = 1_704_067_200; // 2024-01-01T00:00:00Z
const JOINED_EPOCH: u64 = 1_672_531_200; // 2023-01-01T00:00:00Z

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Role {
    Owner,
    Editor,
    Member,
}

impl Role {
    pub(crate) fn parse(text: &str) -> Option<Role> {
        match text.to_ascii_lowercase().as_str() {
            "owner" => Some(Role::Owner),
            "editor" => Some(Role::Editor),
            "member" => Some(Role::Member),
            _ => None,
        }
    }

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Editor => "editor",
            Role::Member => "member",
        }
    }

    /// The capitalised form the member listings use.
    pub(crate) fn title(self) -> &'static str {
        match self {
            Role::Owner => "Owner",
            Role::Editor => "Editor",
            Role::Member => "Member",
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct User {
    pub id: String,
    pub username: String,
    pub password: Option<String>,
    pub email: String,
    pub full_name: String,
    pub company: String,
    pub location: String,
    pub date_joined: u64,
    pub two_factor_code: Option<String>,
    pub pats: Vec<Pat>,
}

#[derive(Debug, Clone)]
pub(crate) struct Pat {
    pub uuid: String,
    pub label: String,
    pub secret: String,
    pub scopes: Vec<String>,
    pub is_active: bool,
    pub created_at: u64,
    pub last_used: Option<u64>,
    pub expires_at: Option<String>,
    pub creator_ip: String,
    pub creator_ua: String,
}

#[derive(Debug, Clone)]
pub(crate) struct Member {
    pub username: String,
    pub role: Role,
    pub joined: u64,
}

#[derive(Debug, Clone)]
pub(crate) struct Group {
    pub id: u64,
    pub uuid: String,
    pub name: String,
    pub description: String,
    pub members: Vec<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct Invite {
    pub id: String,
    pub org: String,
    pub inviter: String,
    pub invitee: String,
    pub team: Option<String>,
    pub role: Role,
    pub created_at: u64,
}

#[derive(Debug, Clone)]
pub(crate) struct Oat {
    pub id: String,
    pub label: String,
    pub description: String,
    pub secret: String,
    pub created_by: String,
    pub is_active: bool,
    pub created_at: u64,
    pub expires_at: Option<String>,
    pub last_used_at: Option<u64>,
    pub resources: Vec<serde_json::Value>,
}

#[derive(Debug, Clone)]
pub(crate) struct ScimUser {
    pub id: String,
    pub user_name: String,
    pub display_name: String,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub active: bool,
    pub created: u64,
    pub last_modified: u64,
}

#[derive(Debug, Clone)]
pub(crate) struct RestrictedImages {
    pub enabled: bool,
    pub allow_official_images: bool,
    pub allow_verified_publishers: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct Org {
    pub name: String,
    pub members: Vec<Member>,
    pub groups: Vec<Group>,
    pub invites: Vec<Invite>,
    pub oats: Vec<Oat>,
    pub scim_token: Option<String>,
    pub scim_users: Vec<ScimUser>,
    pub restricted_images: RestrictedImages,
}

impl Org {
    pub(crate) fn role_of(&self, username: &str) -> Option<Role> {
        self.members
            .iter()
            .find(|m| m.username == username)
            .map(|m| m.role)
    }

    pub(crate) fn group(&self, name: &str) -> Option<&Group> {
        self.groups.iter().find(|g| g.name == name)
    }

    /// Sorted, so listings and the CSV export do not depend on creation order.
    pub(crate) fn groups_of(&self, username: &str) -> Vec<String> {
        let mut names: Vec<String> = self
            .groups
            .iter()
            .filter(|g| g.members.iter().any(|m| m == username))
            .map(|g| g.name.clone())
            .collect();
        names.sort();
        names
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Image {
    pub architecture: String,
    pub os: String,
    pub variant: Option<String>,
    pub digest: String,
    pub size: u64,
    pub features: String,
    pub os_features: String,
    pub os_version: String,
}

#[derive(Debug, Clone)]
pub(crate) struct Tag {
    pub id: u64,
    pub name: String,
    pub last_updated: u64,
    pub last_updater: String,
    pub images: Vec<Image>,
    /// Pushes since the seed ([`crate::MockHub::push_tag`]); each gives the tag a new digest.
    pub pushes: u32,
}

impl Tag {
    /// The tag's own digest (its image index): the same for the same tag and push.
    pub(crate) fn digest(&self, namespace: &str, repository: &str) -> String {
        if self.pushes == 0 {
            crate::ids::fake_digest(&[namespace, repository, &self.name, "index"])
        } else {
            let push = self.pushes.to_string();
            crate::ids::fake_digest(&[namespace, repository, &self.name, "index", &push])
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct RepoGroup {
    pub group_id: u64,
    pub group_name: String,
    pub permission: String,
}

#[derive(Debug, Clone)]
pub(crate) struct Repo {
    pub id: u64,
    pub namespace: String,
    pub name: String,
    pub description: String,
    pub full_description: String,
    pub is_private: bool,
    /// 1 active, 0 inactive (`update_repository` changes it).
    pub status: i64,
    pub star_count: u64,
    pub pull_count: u64,
    pub last_updated: u64,
    pub date_registered: u64,
    pub immutable_tags: bool,
    pub immutable_tags_rules: Vec<String>,
    pub groups: Vec<RepoGroup>,
    pub tags: Vec<Tag>,
}

/// Who a bearer token speaks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Principal {
    User {
        username: String,
        via: Via,
    },
    /// An organization access token of `org`.
    Org {
        org: String,
        token_id: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Via {
    Password,
    Pat { scopes: Vec<String> },
}

impl Principal {
    /// The name audit events show as the actor.
    pub(crate) fn actor(&self) -> &str {
        match self {
            Principal::User { username, .. } => username,
            Principal::Org { org, .. } => org,
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Session {
    pub principal: Principal,
    pub expires: u64,
}

#[derive(Debug, Clone)]
pub(crate) struct PendingSecondFactor {
    pub username: String,
    pub expires: u64,
}

#[derive(Debug, Clone)]
pub(crate) struct AuditEvent {
    pub account: String,
    pub action: String,
    pub name: String,
    pub actor: String,
    pub data: BTreeMap<String, String>,
    pub timestamp: u64,
    pub description: String,
}

#[derive(Debug)]
pub(crate) struct HubState {
    pub users: BTreeMap<String, User>,
    pub orgs: BTreeMap<String, Org>,
    pub repos: BTreeMap<(String, String), Repo>,
    pub sessions: HashMap<String, Session>,
    pub second_factor: HashMap<String, PendingSecondFactor>,
    pub audit: Vec<AuditEvent>,
    pub ids: IdGen,
    next_id: u64,
    pub token_lifetime_secs: u64,
    pub pat_forbidden_on_org_admin: bool,
}

fn time_or(text: &Option<String>, fallback: u64, what: &str) -> Result<u64, String> {
    match text {
        None => Ok(fallback),
        Some(t) => clock::parse_rfc3339(t)
            .ok_or_else(|| format!("{what}: {t:?} is not a valid RFC 3339 date-time")),
    }
}

impl HubState {
    pub(crate) fn from_config(config: &MockConfig) -> Result<HubState, String> {
        let mut state = HubState {
            users: BTreeMap::new(),
            orgs: BTreeMap::new(),
            repos: BTreeMap::new(),
            sessions: HashMap::new(),
            second_factor: HashMap::new(),
            audit: Vec::new(),
            ids: IdGen::new(0x00d0_c4a4_d000_0001),
            next_id: 100,
            token_lifetime_secs: config.token_lifetime.as_secs().max(1),
            pat_forbidden_on_org_admin: config.pat_forbidden_on_org_admin,
        };
        state.load(&config.seed)?;
        Ok(state)
    }

    pub(crate) fn next_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    fn load(&mut self, seed: &Seed) -> Result<(), String> {
        let mut secrets = std::collections::HashSet::new();
        for su in &seed.users {
            if su.username.is_empty() {
                return Err("a user has no username".into());
            }
            if self.users.contains_key(&su.username) {
                return Err(format!("user {:?} appears twice", su.username));
            }
            let mut pats = Vec::new();
            for (i, sp) in su.access_tokens.iter().enumerate() {
                if sp.secret.is_empty() || !secrets.insert(sp.secret.clone()) {
                    return Err(format!(
                        "user {:?}: access token {i} has an empty or repeated secret",
                        su.username
                    ));
                }
                pats.push(Pat {
                    uuid: sp.uuid.clone().unwrap_or_else(|| self.ids.uuid()),
                    label: sp.label.clone(),
                    secret: sp.secret.clone(),
                    scopes: sp.scopes.clone(),
                    is_active: sp.is_active,
                    created_at: SEED_EPOCH,
                    last_used: None,
                    expires_at: None,
                    creator_ip: "127.0.0.1".into(),
                    creator_ua: "dockhand-mock seed".into(),
                });
            }
            let user = User {
                id: self.ids.hex32(),
                username: su.username.clone(),
                password: su.password.clone(),
                email: su
                    .email
                    .clone()
                    .unwrap_or_else(|| format!("{}@mock.example", su.username)),
                full_name: su.full_name.clone().unwrap_or_default(),
                company: su.company.clone().unwrap_or_default(),
                location: su.location.clone().unwrap_or_default(),
                date_joined: JOINED_EPOCH,
                two_factor_code: su.two_factor_code.clone(),
                pats,
            };
            self.users.insert(user.username.clone(), user);
        }

        for so in &seed.orgs {
            if so.name.is_empty() {
                return Err("an organization has no name".into());
            }
            if self.users.contains_key(&so.name) || self.orgs.contains_key(&so.name) {
                return Err(format!("namespace {:?} is used twice", so.name));
            }
            let ctx = format!("organization {:?}", so.name);
            let mut members = Vec::new();
            for sm in &so.members {
                if !self.users.contains_key(&sm.username) {
                    return Err(format!("{ctx}: member {:?} is not a user", sm.username));
                }
                let role = Role::parse(&sm.role).ok_or_else(|| {
                    format!("{ctx}: role {:?} is not owner/editor/member", sm.role)
                })?;
                members.push(Member {
                    username: sm.username.clone(),
                    role,
                    joined: JOINED_EPOCH,
                });
            }
            let mut groups: Vec<Group> = Vec::new();
            for sg in &so.groups {
                if groups.iter().any(|g| g.name == sg.name) {
                    return Err(format!("{ctx}: group {:?} appears twice", sg.name));
                }
                for m in &sg.members {
                    if !members.iter().any(|x| &x.username == m) {
                        return Err(format!(
                            "{ctx}: group {:?} member {m:?} is not a member of the organization",
                            sg.name
                        ));
                    }
                }
                let id = match sg.id {
                    Some(id) => id,
                    None => self.next_id(),
                };
                groups.push(Group {
                    id,
                    uuid: self.ids.uuid(),
                    name: sg.name.clone(),
                    description: sg.description.clone(),
                    members: sg.members.clone(),
                });
            }
            let mut invites = Vec::new();
            for si in &so.invites {
                let role = match &si.role {
                    None => Role::Member,
                    Some(r) => Role::parse(r).ok_or_else(|| format!("{ctx}: invite role {r:?}"))?,
                };
                invites.push(Invite {
                    id: si.id.clone().unwrap_or_else(|| self.ids.uuid()),
                    org: so.name.clone(),
                    inviter: si.inviter.clone().unwrap_or_default(),
                    invitee: si.invitee.clone(),
                    team: si.team.clone(),
                    role,
                    created_at: SEED_EPOCH,
                });
            }
            let mut oats = Vec::new();
            for (i, st) in so.access_tokens.iter().enumerate() {
                if st.secret.is_empty() || !secrets.insert(st.secret.clone()) {
                    return Err(format!(
                        "{ctx}: access token {i} has an empty or repeated secret"
                    ));
                }
                oats.push(Oat {
                    id: st.id.clone().unwrap_or_else(|| self.ids.uuid()),
                    label: st.label.clone(),
                    description: st.description.clone(),
                    secret: st.secret.clone(),
                    created_by: st.created_by.clone().unwrap_or_default(),
                    is_active: st.is_active,
                    created_at: SEED_EPOCH,
                    expires_at: None,
                    last_used_at: None,
                    resources: st
                        .resources
                        .iter()
                        .map(|r| {
                            serde_json::json!({"type": r.kind, "path": r.path, "scopes": r.scopes})
                        })
                        .collect(),
                });
            }
            let mut scim_users: Vec<ScimUser> = Vec::new();
            for su in &so.scim_users {
                if scim_users
                    .iter()
                    .any(|u| u.user_name.eq_ignore_ascii_case(&su.user_name))
                {
                    return Err(format!("{ctx}: SCIM user {:?} appears twice", su.user_name));
                }
                scim_users.push(ScimUser {
                    id: su.id.clone().unwrap_or_else(|| self.ids.uuid()),
                    user_name: su.user_name.clone(),
                    display_name: su.display_name.clone().unwrap_or_else(|| {
                        su.user_name
                            .split('@')
                            .next()
                            .unwrap_or_default()
                            .to_string()
                    }),
                    given_name: su.given_name.clone(),
                    family_name: su.family_name.clone(),
                    active: su.active,
                    created: SEED_EPOCH,
                    last_modified: SEED_EPOCH,
                });
            }
            let org = Org {
                name: so.name.clone(),
                members,
                groups,
                invites,
                oats,
                scim_token: so.scim_token.clone(),
                scim_users,
                restricted_images: RestrictedImages {
                    enabled: so.restricted_images.enabled,
                    allow_official_images: so.restricted_images.allow_official_images,
                    allow_verified_publishers: so.restricted_images.allow_verified_publishers,
                },
            };
            self.orgs.insert(org.name.clone(), org);
        }

        for sr in &seed.repositories {
            self.load_repository(sr)?;
        }
        Ok(())
    }

    fn load_repository(&mut self, sr: &SeedRepository) -> Result<(), String> {
        let ctx = format!("repository {}/{}", sr.namespace, sr.name);
        if sr.namespace.is_empty() || sr.name.is_empty() {
            return Err(format!("{ctx}: namespace and name are required"));
        }
        let key = (sr.namespace.clone(), sr.name.clone());
        if self.repos.contains_key(&key) {
            return Err(format!("{ctx} appears twice"));
        }
        for rule in &sr.immutable_tags_rules {
            regex::Regex::new(rule).map_err(|e| format!("{ctx}: rule {rule:?}: {e}"))?;
        }
        let last_updated = time_or(&sr.last_updated, SEED_EPOCH, &ctx)?;
        let updater = self.owner_name(&sr.namespace);
        let mut tags: Vec<Tag> = Vec::new();
        for st in &sr.tags {
            if tags.iter().any(|t| t.name == st.name) {
                return Err(format!("{ctx}: tag {:?} appears twice", st.name));
            }
            let images = st
                .images
                .iter()
                .map(|si| Image {
                    architecture: si.architecture.clone(),
                    os: si.os.clone(),
                    variant: si.variant.clone(),
                    digest: si.digest.clone().unwrap_or_else(|| {
                        fake_digest(&[&sr.namespace, &sr.name, &st.name, &si.architecture])
                    }),
                    size: si.size,
                    features: si.features.clone(),
                    os_features: si.os_features.clone(),
                    os_version: si.os_version.clone(),
                })
                .collect();
            let id = self.next_id();
            tags.push(Tag {
                id,
                name: st.name.clone(),
                last_updated: time_or(&st.last_updated, last_updated, &ctx)?,
                last_updater: updater.clone(),
                images,
                pushes: 0,
            });
        }
        if let Some(generated) = &sr.generated_tags {
            for n in 0..generated.count {
                let name = format!("{}{n}", generated.prefix);
                if tags.iter().any(|t| t.name == name) {
                    return Err(format!("{ctx}: generated tag {name:?} clashes"));
                }
                let id = self.next_id();
                tags.push(Tag {
                    id,
                    // Newer numbers are newer tags, so the newest-first listing counts down.
                    last_updated: last_updated.saturating_sub((generated.count - n) as u64 * 60),
                    last_updater: updater.clone(),
                    images: vec![Image {
                        architecture: "amd64".into(),
                        os: "linux".into(),
                        variant: None,
                        digest: fake_digest(&[&sr.namespace, &sr.name, &name]),
                        size: 1_000_000 + n as u64,
                        features: String::new(),
                        os_features: String::new(),
                        os_version: String::new(),
                    }],
                    name,
                    pushes: 0,
                });
            }
        }
        let id = self.next_id();
        let repo = Repo {
            id,
            namespace: sr.namespace.clone(),
            name: sr.name.clone(),
            description: sr.description.clone(),
            full_description: sr.full_description.clone(),
            is_private: sr.is_private,
            status: 1,
            star_count: sr.star_count,
            pull_count: sr.pull_count,
            last_updated,
            date_registered: last_updated.min(SEED_EPOCH),
            immutable_tags: sr.immutable_tags,
            immutable_tags_rules: sr.immutable_tags_rules.clone(),
            groups: Vec::new(),
            tags,
        };
        self.repos.insert(key, repo);
        Ok(())
    }

    /// The user that stands for a namespace in seeded records: the user itself, or an org's
    /// first owner.
    fn owner_name(&self, namespace: &str) -> String {
        if self.users.contains_key(namespace) {
            return namespace.to_string();
        }
        self.orgs
            .get(namespace)
            .and_then(|o| o.members.iter().find(|m| m.role == Role::Owner))
            .map(|m| m.username.clone())
            .unwrap_or_else(|| namespace.to_string())
    }

    pub(crate) fn namespace_exists(&self, namespace: &str) -> bool {
        self.users.contains_key(namespace)
            || self.orgs.contains_key(namespace)
            || self.repos.keys().any(|(ns, _)| ns == namespace)
    }

    pub(crate) fn repo(&self, namespace: &str, name: &str) -> Option<&Repo> {
        self.repos.get(&(namespace.to_string(), name.to_string()))
    }

    pub(crate) fn repo_mut(&mut self, namespace: &str, name: &str) -> Option<&mut Repo> {
        self.repos
            .get_mut(&(namespace.to_string(), name.to_string()))
    }

    /// `tag` pushed (again) to `namespace/repository` at `now`: a new digest and last-pushed
    /// time, or a new linux/amd64 tag. False when the repository does not exist.
    pub(crate) fn push_tag(
        &mut self,
        namespace: &str,
        repository: &str,
        tag: &str,
        now: u64,
    ) -> bool {
        let updater = self.owner_name(namespace);
        let id = self.next_id();
        let Some(repo) = self.repo_mut(namespace, repository) else {
            return false;
        };
        let index = match repo.tags.iter().position(|t| t.name == tag) {
            Some(i) => i,
            None => {
                repo.tags.push(Tag {
                    id,
                    name: tag.to_string(),
                    last_updated: now,
                    last_updater: updater.clone(),
                    images: vec![Image {
                        architecture: "amd64".into(),
                        os: "linux".into(),
                        variant: None,
                        digest: String::new(),
                        size: 1_000_000,
                        features: String::new(),
                        os_features: String::new(),
                        os_version: String::new(),
                    }],
                    pushes: 0,
                });
                repo.tags.len() - 1
            }
        };
        let t = &mut repo.tags[index];
        t.pushes += 1;
        t.last_updated = now;
        t.last_updater = updater;
        let push = t.pushes.to_string();
        for image in &mut t.images {
            image.digest =
                crate::ids::fake_digest(&[namespace, repository, tag, &image.architecture, &push]);
        }
        repo.last_updated = repo.last_updated.max(now);
        true
    }
}
