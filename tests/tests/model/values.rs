//! The values resources take: the entity kinds of the model and their fields.

use ddbrel_runtime::Entity;
use entities::{Account, Job, JobCollection, JobStatus, Label, Plan as BillingPlan, Team, User};

/// The values unique fields take: few, so that collisions are frequent, with case variants,
/// the two characters the marker encoding escapes, and a precomposed and a decomposed `é`.
pub(crate) const POOL: [&str; 8] = [
    "ops",
    "Ops",
    "ops#1",
    "50%",
    "caf\u{e9}",
    "cafe\u{301}",
    "CAF\u{c9}",
    "OPS#1",
];

/// Each pool value as a case-sensitive constraint encodes it (NFC, `%` and `#` escaped),
/// written out by hand rather than computed with the code under test.
pub(crate) const CASE_SENSITIVE: [&str; 8] = [
    "ops",
    "Ops",
    "ops%231",
    "50%25",
    "caf\u{e9}",
    "caf\u{e9}",
    "CAF\u{c9}",
    "OPS%231",
];

/// Each pool value as a case-insensitive constraint encodes it (NFC, lowercase, NFC, escaped).
pub(crate) const CASE_INSENSITIVE: [&str; 8] = [
    "ops",
    "ops",
    "ops%231",
    "50%25",
    "caf\u{e9}",
    "caf\u{e9}",
    "caf\u{e9}",
    "ops%231",
];

pub(crate) const EMAIL_DOMAIN: &str = "@example.com";

pub(crate) const ALL: [Kind; 6] = [
    Kind::Account,
    Kind::User,
    Kind::JobCollection,
    Kind::Job,
    Kind::Team,
    Kind::Label,
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Kind {
    Account,
    User,
    JobCollection,
    Job,
    Team,
    Label,
}

impl Kind {
    pub(crate) fn resource_type(self) -> &'static str {
        match self {
            Kind::Account => Account::RESOURCE_TYPE,
            Kind::User => User::RESOURCE_TYPE,
            Kind::JobCollection => JobCollection::RESOURCE_TYPE,
            Kind::Job => Job::RESOURCE_TYPE,
            Kind::Team => Team::RESOURCE_TYPE,
            Kind::Label => Label::RESOURCE_TYPE,
        }
    }

    pub(crate) fn parent(self) -> Option<Kind> {
        match self {
            Kind::Account => None,
            Kind::Job => Some(Kind::JobCollection),
            _ => Some(Kind::Account),
        }
    }

    /// The unique constraint of the type: its name and whether it is case-insensitive.
    pub(crate) fn unique(self) -> Option<(&'static str, bool)> {
        match self {
            Kind::Account => Some(("slug", true)),
            Kind::User => Some(("email", true)),
            Kind::JobCollection => Some(("name", false)),
            _ => None,
        }
    }
}

/// An entity's own fields, as the model keeps them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Data {
    Account(Account),
    User(User),
    JobCollection(JobCollection),
    Job(Job),
    Team(Team),
    Label(Label),
}

impl Data {
    /// A new resource of `kind` made at `step`, holding pool value `v` if the type has a
    /// unique field.
    pub(crate) fn new(kind: Kind, step: usize, v: u8) -> Data {
        let p = POOL[usize::from(v)];
        match kind {
            Kind::Account => Data::Account(Account {
                name: format!("Account {step}"),
                slug: p.to_string(),
                plan: BillingPlan::Free,
            }),
            Kind::User => Data::User(User {
                email: format!("{p}{EMAIL_DOMAIN}"),
                display_name: format!("User {step}"),
            }),
            Kind::JobCollection => Data::JobCollection(JobCollection {
                name: p.to_string(),
                description: step.is_multiple_of(2).then(|| format!("made at {step}")),
            }),
            Kind::Job => Data::Job(Job {
                name: format!("job {step}"),
                status: JobStatus::Active,
                schedule: step
                    .is_multiple_of(3)
                    .then(|| "0 9 * * MON-FRI".to_string()),
            }),
            Kind::Team => Data::Team(Team {
                name: format!("team {step}"),
            }),
            Kind::Label => Data::Label(Label {
                name: format!("label {step}"),
                color: "#00ff00".into(),
            }),
        }
    }

    /// The data after setting the unique field to pool value `v`.
    pub(crate) fn with_unique(&self, v: u8) -> Data {
        let p = POOL[usize::from(v)];
        let mut d = self.clone();
        match &mut d {
            Data::Account(a) => a.slug = p.to_string(),
            Data::User(u) => u.email = format!("{p}{EMAIL_DOMAIN}"),
            Data::JobCollection(c) => c.name = p.to_string(),
            _ => {}
        }
        d
    }

    /// The data after changing non-unique field number `field` (modulo what the type has) at
    /// `step`.
    pub(crate) fn with_change(&self, field: u8, step: usize) -> Data {
        let mut d = self.clone();
        match &mut d {
            Data::Account(a) => match field % 2 {
                0 => a.name = format!("Account renamed at {step}"),
                _ => {
                    a.plan = match a.plan {
                        BillingPlan::Free => BillingPlan::Team,
                        BillingPlan::Team => BillingPlan::Enterprise,
                        BillingPlan::Enterprise => BillingPlan::Free,
                    }
                }
            },
            Data::User(u) => u.display_name = format!("User renamed at {step}"),
            Data::JobCollection(c) => {
                c.description = match c.description {
                    Some(_) => None,
                    None => Some(format!("described at {step}")),
                }
            }
            Data::Job(j) => match field % 3 {
                0 => j.name = format!("job renamed at {step}"),
                1 => {
                    j.status = match j.status {
                        JobStatus::Active => JobStatus::Paused,
                        JobStatus::Paused => JobStatus::Disabled,
                        JobStatus::Disabled => JobStatus::Active,
                    }
                }
                _ => {
                    j.schedule = match j.schedule {
                        Some(_) => None,
                        None => Some(format!("{} * * * *", step % 60)),
                    }
                }
            },
            Data::Team(t) => t.name = format!("team renamed at {step}"),
            Data::Label(l) => match field % 2 {
                0 => l.name = format!("label renamed at {step}"),
                _ => l.color = format!("#{:06x}", step * 4099),
            },
        }
        d
    }
}
