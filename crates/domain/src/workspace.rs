//! Workspaces and the roles of their members.

use crate::{Invalid, single_line};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkspaceName(String);

impl WorkspaceName {
    pub const MAX: usize = 80;

    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        single_line(raw, "a workspace name", Self::MAX).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A member's role, from most to least powerful.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    Owner,
    Admin,
    Editor,
    Viewer,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Owner, Role::Admin, Role::Editor, Role::Viewer];

    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        match raw.trim() {
            "owner" => Ok(Self::Owner),
            "admin" => Ok(Self::Admin),
            "editor" => Ok(Self::Editor),
            "viewer" => Ok(Self::Viewer),
            _ => Err(Invalid::new("Choose owner, admin, editor or viewer.")),
        }
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Owner => "owner",
            Self::Admin => "admin",
            Self::Editor => "editor",
            Self::Viewer => "viewer",
        }
    }

    pub fn label(&self) -> &'static str {
        match self {
            Self::Owner => "Owner",
            Self::Admin => "Admin",
            Self::Editor => "Editor",
            Self::Viewer => "Viewer",
        }
    }

    /// Owners and admins manage members and read the activity log.
    pub fn can_manage_members(&self) -> bool {
        matches!(self, Self::Owner | Self::Admin)
    }

    /// Owners, admins and editors write, schedule and publish posts and manage campaigns and
    /// media; viewers only read.
    pub fn can_publish(&self) -> bool {
        !matches!(self, Self::Viewer)
    }

    /// Whether a member with this role may give `target` to someone, or change or remove a
    /// member who holds `current`. Owners may do anything; admins manage everyone below owner
    /// and cannot make owners.
    pub fn may_manage(&self, current: Role, target: Option<Role>) -> bool {
        match self {
            Self::Owner => true,
            Self::Admin => current != Self::Owner && target != Some(Self::Owner),
            Self::Editor | Self::Viewer => false,
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_and_rank() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()).unwrap(), role);
        }
        assert!(Role::parse("superuser").is_err());
        assert!(Role::Owner < Role::Viewer);
    }

    #[test]
    fn admins_cannot_touch_owners_or_make_them() {
        assert!(Role::Owner.may_manage(Role::Owner, Some(Role::Viewer)));
        assert!(Role::Admin.may_manage(Role::Editor, Some(Role::Admin)));
        assert!(!Role::Admin.may_manage(Role::Owner, Some(Role::Viewer)));
        assert!(!Role::Admin.may_manage(Role::Editor, Some(Role::Owner)));
        assert!(!Role::Editor.may_manage(Role::Viewer, None));
    }

    #[test]
    fn workspace_names() {
        assert_eq!(WorkspaceName::parse(" Acme ").unwrap().as_str(), "Acme");
        assert_eq!(
            WorkspaceName::parse("").unwrap_err().0,
            "Enter a workspace name."
        );
        assert!(
            WorkspaceName::parse(&"w".repeat(81))
                .unwrap_err()
                .0
                .starts_with("Workspace name can be at most 80")
        );
    }
}
