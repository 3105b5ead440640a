//! The audit log: which actions exist, and the event each write operation of the mock appends.
//!
//! One table drives both the `/actions` listing and the events, so every action an event can
//! carry is one a client can also find in the listing.

use std::collections::BTreeMap;

use crate::state::{AuditEvent, HubState};

pub(crate) struct ActionInfo {
    pub group: &'static str,
    pub name: &'static str,
    pub label: &'static str,
    pub description: &'static str,
    /// Completes "<actor> ... <name>" in an event's description.
    pub verb: &'static str,
}

const fn a(
    group: &'static str,
    name: &'static str,
    label: &'static str,
    description: &'static str,
    verb: &'static str,
) -> ActionInfo {
    ActionInfo {
        group,
        name,
        label,
        description,
        verb,
    }
}

pub(crate) const GROUPS: &[(&str, &str)] = &[
    ("org", "Organization"),
    ("repo", "Repository"),
    ("account", "Account"),
];

pub(crate) const ACTIONS: &[ActionInfo] = &[
    a(
        "org",
        "member.remove",
        "Member Removed",
        "A member left the organization or was removed from it.",
        "removed member",
    ),
    a(
        "org",
        "member.role.change",
        "Member Role Changed",
        "A member's role in the organization changed.",
        "changed the role of",
    ),
    a(
        "org",
        "member.invite.send",
        "Member Invited",
        "Someone was invited to join the organization.",
        "invited",
    ),
    a(
        "org",
        "member.invite.cancel",
        "Invite Cancelled",
        "A pending invitation was withdrawn.",
        "cancelled the invitation of",
    ),
    a(
        "org",
        "member.invite.resend",
        "Invite Resent",
        "A pending invitation was sent again.",
        "resent the invitation of",
    ),
    a(
        "org",
        "team.create",
        "Team Created",
        "A team (group) was added to the organization.",
        "created team",
    ),
    a(
        "org",
        "team.update",
        "Team Updated",
        "A team's name or description changed.",
        "updated team",
    ),
    a(
        "org",
        "team.delete",
        "Team Deleted",
        "A team was removed from the organization.",
        "deleted team",
    ),
    a(
        "org",
        "team.member.add",
        "Team Member Added",
        "A user joined a team.",
        "added a member to team",
    ),
    a(
        "org",
        "team.member.remove",
        "Team Member Removed",
        "A user left a team.",
        "removed a member from team",
    ),
    a(
        "org",
        "settings.update",
        "Settings Updated",
        "The organization's settings changed.",
        "updated the settings of",
    ),
    a(
        "org",
        "access_token.create",
        "Access Token Created",
        "An organization access token was issued.",
        "created access token",
    ),
    a(
        "org",
        "access_token.update",
        "Access Token Updated",
        "An organization access token was changed.",
        "updated access token",
    ),
    a(
        "org",
        "access_token.delete",
        "Access Token Deleted",
        "An organization access token was revoked.",
        "deleted access token",
    ),
    a(
        "org",
        "scim.user.create",
        "SCIM User Provisioned",
        "The identity provider provisioned a user.",
        "provisioned",
    ),
    a(
        "org",
        "scim.user.update",
        "SCIM User Updated",
        "The identity provider changed a user.",
        "updated provisioned user",
    ),
    a(
        "repo",
        "repo.create",
        "Repository Created",
        "A repository was created.",
        "created repository",
    ),
    a(
        "repo",
        "repo.immutable_tags.update",
        "Tag Immutability Updated",
        "The immutable-tag rules of a repository changed.",
        "changed tag immutability of",
    ),
    a(
        "repo",
        "repo.group.assign",
        "Team Access Granted",
        "A team was given access to a repository.",
        "granted team access to",
    ),
    a(
        "repo",
        "repo.update",
        "Repository Updated",
        "A repository's description, overview or status changed.",
        "updated repository",
    ),
    a(
        "repo",
        "repo.delete",
        "Repository Deleted",
        "A repository was deleted with its tags.",
        "deleted repository",
    ),
    a(
        "repo",
        "repo.tag.delete",
        "Tag Deleted",
        "A tag was deleted from a repository.",
        "deleted a tag of",
    ),
    a(
        "account",
        "pat.create",
        "Personal Token Created",
        "A personal access token was issued.",
        "created personal access token",
    ),
    a(
        "account",
        "pat.update",
        "Personal Token Updated",
        "A personal access token was renamed, enabled or disabled.",
        "updated personal access token",
    ),
    a(
        "account",
        "pat.delete",
        "Personal Token Deleted",
        "A personal access token was revoked.",
        "deleted personal access token",
    ),
];

impl HubState {
    /// Appends an event to `account`'s log. `action` must be in [`ACTIONS`].
    pub(crate) fn audit(
        &mut self,
        account: &str,
        action: &str,
        name: &str,
        actor: &str,
        data: &[(&str, &str)],
        now: u64,
    ) {
        let verb = ACTIONS
            .iter()
            .find(|x| x.name == action)
            .map(|x| x.verb)
            .unwrap_or(action);
        debug_assert!(
            ACTIONS.iter().any(|x| x.name == action),
            "unknown action {action}"
        );
        let data: BTreeMap<String, String> = data
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        self.audit.push(AuditEvent {
            account: account.to_string(),
            action: action.to_string(),
            name: name.to_string(),
            actor: actor.to_string(),
            description: format!("{actor} {verb} {name}"),
            data,
            timestamp: now,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_is_in_a_group() {
        for action in ACTIONS {
            assert!(
                GROUPS.iter().any(|(g, _)| *g == action.group),
                "{}",
                action.name
            );
        }
    }
}
