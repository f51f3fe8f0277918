//! Who asks a service for something: the operator at the command line, or a signed-in
//! person from an address. The one place that decides who may manage what.

use super::audit::Actor;
use crate::domain::SignedInUser;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Caller {
    /// `stook` on the server's own command line: may manage everything.
    Operator,
    User {
        user: SignedInUser,
        client_addr: String,
    },
}

impl Caller {
    pub fn user(user: SignedInUser, client_addr: impl Into<String>) -> Self {
        Caller::User {
            user,
            client_addr: client_addr.into(),
        }
    }

    /// Whether this caller may see and change what `owner_id` owns: the owner, an admin,
    /// or the operator.
    pub fn may_manage(&self, owner_id: i32) -> bool {
        match self {
            Caller::Operator => true,
            Caller::User { user, .. } => user.is_admin() || user.id == owner_id,
        }
    }

    /// An admin, or the operator: may manage anyone's keys and lift an admin's pause.
    pub fn is_admin(&self) -> bool {
        match self {
            Caller::Operator => true,
            Caller::User { user, .. } => user.is_admin(),
        }
    }

    /// The signed-in person, if it is one.
    pub fn signed_in(&self) -> Option<&SignedInUser> {
        match self {
            Caller::Operator => None,
            Caller::User { user, .. } => Some(user),
        }
    }

    /// How the audit log names this caller.
    pub fn actor(&self) -> Actor {
        match self {
            Caller::Operator => Actor::operator(),
            Caller::User { user, client_addr } => Actor::user(user.id, Some(client_addr.clone())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Role;

    fn person(id: i32, role: Role) -> Caller {
        Caller::user(
            SignedInUser {
                id,
                email: format!("{id}@example.com"),
                role,
            },
            "203.0.113.7",
        )
    }

    #[test]
    fn owners_admins_and_the_operator_may_manage() {
        assert!(person(1, Role::Customer).may_manage(1));
        assert!(!person(1, Role::Customer).may_manage(2));
        assert!(person(9, Role::Admin).may_manage(2));
        assert!(Caller::Operator.may_manage(2));
        assert_eq!(
            person(1, Role::Customer).actor().client_addr.as_deref(),
            Some("203.0.113.7")
        );
        assert_eq!(Caller::Operator.actor(), Actor::operator());
    }
}
