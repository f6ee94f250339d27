//! Who may read and change which part of a client record.
//!
//! A nurse reads care fields but not contract prices; finance reads contracts but not health
//! notes; a chef sees diets and allergies but nothing clinical; reception sees who the client is
//! and how to reach them. Site scope is checked first: another site's clients do not exist for a
//! site-scoped user.

use serde::Serialize;
use tend_core::{Actor, Role, SiteId};

use crate::lifecycle::ClientStatus;
use crate::record::{Client, ClientChanges, ClientField, NewClient};

/// Parts of the record that share one access rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldGroup {
    /// Name, category, status, source, owner, consultant, follow-up date, language.
    Identity,
    /// Phone, e-mail, birth date.
    Contact,
    /// Expected due date, diet, religion.
    Care,
    /// Allergies.
    Allergies,
    /// Health notes.
    Clinical,
    /// Contract package and price.
    Contract,
}

impl ClientField {
    pub fn group(self) -> FieldGroup {
        use ClientField::*;
        match self {
            FullName | Category | Status | SourceChannel | ConsultantId | OwnerId
            | NextFollowUpOn | Language => FieldGroup::Identity,
            Phone | Email | BirthDate => FieldGroup::Contact,
            ExpectedDueDate | Diet | Religion => FieldGroup::Care,
            Allergies => FieldGroup::Allergies,
            HealthNotes => FieldGroup::Clinical,
            ContractPackage | ContractPriceCents => FieldGroup::Contract,
        }
    }
}

/// What an actor wants to do with clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAction<'a> {
    List,
    Read,
    Create(&'a NewClient),
    Update(&'a ClientChanges),
    Transition(ClientStatus),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccessDenied {
    /// The client belongs to a site the actor cannot see. Callers report this as "not found".
    #[error("no such client at a site you can access")]
    OtherSite { site_id: SiteId },
    #[error("a {role} may not {action}")]
    Action { role: Role, action: &'static str },
    #[error("a {role} may not change {}", fields.iter().map(|f| f.as_str()).collect::<Vec<_>>().join(", "))]
    Fields {
        role: Role,
        fields: Vec<ClientField>,
    },
}

impl AccessDenied {
    pub fn code(&self) -> &'static str {
        match self {
            AccessDenied::OtherSite { .. } => "client.not_found",
            AccessDenied::Action { .. } | AccessDenied::Fields { .. } => "access.forbidden",
        }
    }
}

pub fn can_read(role: Role, field: ClientField) -> bool {
    use FieldGroup::*;
    use Role::*;
    let group = field.group();
    match role {
        Admin | StoreManager | Consultant => true,
        Expert | Operator => group != Contract,
        Chef => matches!(group, Identity | Care | Allergies),
        Receptionist => matches!(group, Identity | Contact),
        Finance => matches!(group, Identity | Contact | Contract),
    }
}

pub fn can_write(role: Role, field: ClientField) -> bool {
    use FieldGroup::*;
    use Role::*;
    if field == ClientField::Status {
        // Status moves only through lifecycle transitions.
        return false;
    }
    let group = field.group();
    match role {
        Admin | StoreManager | Consultant => true,
        Expert | Operator => matches!(group, Care | Allergies | Clinical),
        Receptionist => matches!(group, Identity | Contact),
        Finance => group == Contract,
        Chef => false,
    }
}

fn may_transition(role: Role, to: ClientStatus) -> bool {
    match role {
        Role::Admin | Role::StoreManager | Role::Consultant => true,
        // The front desk checks clients in and out.
        Role::Receptionist => matches!(to, ClientStatus::CheckedIn | ClientStatus::CheckedOut),
        // After-care is run by the clinical team.
        Role::Expert | Role::Operator => to == ClientStatus::InFollowUp,
        Role::Chef | Role::Finance => false,
    }
}

/// Decides whether `actor` may do `action` to clients of `site_id`.
pub fn authorize(
    actor: &Actor,
    action: ClientAction<'_>,
    site_id: SiteId,
) -> Result<(), AccessDenied> {
    if !actor.can_access_site(site_id) {
        return Err(AccessDenied::OtherSite { site_id });
    }
    let role = actor.role;
    let fields_denied = |fields: Vec<ClientField>| {
        let denied: Vec<ClientField> = fields
            .into_iter()
            .filter(|field| !can_write(role, *field))
            .collect();
        if denied.is_empty() {
            Ok(())
        } else {
            Err(AccessDenied::Fields {
                role,
                fields: denied,
            })
        }
    };
    match action {
        ClientAction::List | ClientAction::Read => Ok(()),
        ClientAction::Create(new_client) => {
            if !matches!(
                role,
                Role::Admin | Role::StoreManager | Role::Consultant | Role::Receptionist
            ) {
                return Err(AccessDenied::Action {
                    role,
                    action: "register clients",
                });
            }
            // Name, category and the initial status come with every new record.
            let set = new_client
                .fields()
                .into_iter()
                .filter(|field| {
                    !matches!(
                        field,
                        ClientField::FullName | ClientField::Category | ClientField::Status
                    )
                })
                .collect();
            fields_denied(set)
        }
        ClientAction::Update(changes) => fields_denied(changes.fields()),
        ClientAction::Transition(to) => {
            if may_transition(role, to) {
                Ok(())
            } else {
                Err(AccessDenied::Action {
                    role,
                    action: "move clients to this status",
                })
            }
        }
    }
}

/// A client record as one role may see it: hidden fields are blanked and listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClientView {
    #[serde(flatten)]
    pub client: Client,
    pub hidden_fields: Vec<ClientField>,
}

/// The record as `role` may see it.
pub fn view_for(role: Role, client: &Client) -> ClientView {
    let mut visible = client.clone();
    let hidden: Vec<ClientField> = ClientField::ALL
        .into_iter()
        .filter(|field| !can_read(role, *field))
        .collect();
    for field in &hidden {
        blank(&mut visible, *field);
    }
    ClientView {
        client: visible,
        hidden_fields: hidden,
    }
}

/// The sensitive fields with a value that `role` reads when it opens this client: a non-empty
/// answer means the read must be written to the audit trail.
pub fn sensitive_fields_read(role: Role, client: &Client) -> Vec<&'static str> {
    let filled = [
        (ClientField::Allergies, client.allergies.is_some()),
        (ClientField::HealthNotes, client.health_notes.is_some()),
    ];
    filled
        .into_iter()
        .filter(|(field, has_value)| *has_value && can_read(role, *field))
        .map(|(field, _)| field.as_str())
        .collect()
}

fn blank(client: &mut Client, field: ClientField) {
    use ClientField::*;
    match field {
        Phone => client.phone = None,
        Email => client.email = None,
        BirthDate => client.birth_date = None,
        ExpectedDueDate => client.expected_due_date = None,
        Language => client.language = None,
        Diet => client.diet = None,
        Religion => client.religion = None,
        Allergies => client.allergies = None,
        HealthNotes => client.health_notes = None,
        SourceChannel => client.source_channel = None,
        ConsultantId => client.consultant_id = None,
        NextFollowUpOn => client.next_follow_up_on = None,
        OwnerId => client.owner_id = None,
        ContractPackage => client.contract_package = None,
        ContractPriceCents => client.contract_price_cents = None,
        // Every role sees who the client is and where they stand.
        FullName | Category | Status => {}
    }
}
