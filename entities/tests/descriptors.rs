//! The descriptors of the system's entities are as declared, and `unique_parts` gives the raw
//! parts the store normalizes.

use ddbrel_runtime::unique::encode_value;
use ddbrel_runtime::{
    AccountScoped, Child, Collection, CollectionDescriptor, Entity, EntityDescriptor, MemberOf,
    OnDelete, Root, UniqueConstraint, UniqueScope,
};
use entities::{Account, Job, JobCollection, JobStatus, Label, Plan, Team, User};

fn is_root<E: Root>() {}
fn is_child_of<C: Child<Parent = P>, P: Entity>() {}
fn is_account_scoped<E: AccountScoped>() {}
fn is_member<C: Collection, M: MemberOf<C>>() {}

#[test]
fn relationships_type_check() {
    is_root::<Account>();
    is_child_of::<User, Account>();
    is_child_of::<JobCollection, Account>();
    is_child_of::<Job, JobCollection>();
    is_child_of::<Team, Account>();
    is_child_of::<Label, Account>();
    is_account_scoped::<User>();
    is_account_scoped::<JobCollection>();
    is_account_scoped::<Job>();
    is_account_scoped::<Team>();
    is_account_scoped::<Label>();
    is_member::<Team, User>();
    is_member::<Label, Job>();
    const { assert!(<Team as Collection>::CONVEYS_AUTHORIZATION) };
    const { assert!(!<Label as Collection>::CONVEYS_AUTHORIZATION) };
}

#[test]
fn descriptors_are_as_declared() {
    let base = |type_name, resource_type, parent: Option<&'static str>| EntityDescriptor {
        type_name,
        resource_type,
        domain: "pp",
        schema_version: 1,
        parent,
        parents: match parent {
            None => &[],
            Some(p) => Box::leak(Box::new([p])),
        },
        on_delete: OnDelete::Cascade,
        account_scoped: parent.is_some(),
        unique: &[],
        collection: None,
        fields: &[],
    };
    assert_eq!(
        *Account::descriptor(),
        EntityDescriptor {
            unique: &[UniqueConstraint {
                name: "slug",
                fields: &["slug"],
                scope: UniqueScope::Global,
                case_insensitive: true,
            }],
            fields: &["name", "slug", "plan"],
            ..base("Account", "System.Account", None)
        }
    );
    assert_eq!(
        *User::descriptor(),
        EntityDescriptor {
            unique: &[UniqueConstraint {
                name: "email",
                fields: &["email"],
                scope: UniqueScope::Account,
                case_insensitive: true,
            }],
            fields: &["email", "displayName"],
            ..base("User", "System.Account.User", Some("System.Account"))
        }
    );
    assert_eq!(
        *JobCollection::descriptor(),
        EntityDescriptor {
            unique: &[UniqueConstraint {
                name: "name",
                fields: &["name"],
                scope: UniqueScope::Parent,
                case_insensitive: false,
            }],
            fields: &["name", "description"],
            ..base(
                "JobCollection",
                "System.Account.JobCollection",
                Some("System.Account")
            )
        }
    );
    assert_eq!(
        *Job::descriptor(),
        EntityDescriptor {
            fields: &["name", "status", "schedule"],
            ..base(
                "Job",
                "System.Account.JobCollection.Job",
                Some("System.Account.JobCollection")
            )
        }
    );
    assert_eq!(
        *Team::descriptor(),
        EntityDescriptor {
            collection: Some(CollectionDescriptor {
                members: &["System.Account.User"],
                conveys_authorization: true,
                on_delete: OnDelete::Cascade,
            }),
            fields: &["name"],
            ..base("Team", "System.Account.Team", Some("System.Account"))
        }
    );
    assert_eq!(
        *Label::descriptor(),
        EntityDescriptor {
            collection: Some(CollectionDescriptor {
                members: &["System.Account.JobCollection.Job"],
                conveys_authorization: false,
                on_delete: OnDelete::Cascade,
            }),
            fields: &["name", "color"],
            ..base("Label", "System.Account.Label", Some("System.Account"))
        }
    );
    let all: Vec<&str> = entities::all().iter().map(|d| d.type_name).collect();
    assert_eq!(
        all,
        ["Account", "User", "JobCollection", "Job", "Team", "Label"]
    );
}

#[test]
fn consts_match_descriptors() {
    fn check<E: Entity>() {
        let d = E::descriptor();
        assert_eq!(E::RESOURCE_TYPE, d.resource_type);
        assert_eq!(E::DOMAIN, d.domain);
        assert_eq!(E::SCHEMA_VERSION, d.schema_version);
        assert_eq!(E::ACCOUNT_SCOPED, d.account_scoped);
    }
    check::<Account>();
    check::<User>();
    check::<JobCollection>();
    check::<Job>();
    check::<Team>();
    check::<Label>();
}

#[test]
fn descriptor_fields_are_what_serde_writes() {
    let collection = JobCollection {
        name: "Nightly".into(),
        description: Some("ETL".into()),
    };
    let json = serde_json::to_value(&collection).unwrap();
    let mut written: Vec<&str> = json
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    written.sort_unstable();
    let mut declared = JobCollection::descriptor().fields.to_vec();
    declared.sort_unstable();
    assert_eq!(written, declared);

    let user = User {
        email: "a@example.com".into(),
        display_name: "Ada".into(),
    };
    let json = serde_json::to_value(&user).unwrap();
    assert!(json.get("displayName").is_some());
}

#[test]
fn unique_parts_are_raw_and_none_holds_no_marker() {
    let account = Account {
        name: "Acme".into(),
        slug: "Acme-Corp".into(),
        plan: Plan::Team,
    };
    assert_eq!(
        account.unique_parts(),
        vec![Some(vec!["Acme-Corp".to_string()])]
    );

    let user = User {
        email: "Ada@Example.COM".into(),
        display_name: "Ada".into(),
    };
    assert_eq!(
        user.unique_parts(),
        vec![Some(vec!["Ada@Example.COM".to_string()])]
    );

    let collection = JobCollection {
        name: "Nightly".into(),
        description: None,
    };
    assert_eq!(
        collection.unique_parts(),
        vec![Some(vec!["Nightly".to_string()])]
    );

    let job = Job {
        name: "etl".into(),
        status: JobStatus::Active,
        schedule: None,
    };
    assert!(job.unique_parts().is_empty());
    assert!(Team { name: "Ops".into() }.unique_parts().is_empty());
}

#[test]
fn case_insensitive_constraints_normalize() {
    // `slug` is case-insensitive: differently cased slugs give one marker value.
    let constraint = &Account::descriptor().unique[0];
    let value = |slug: &str| {
        let account = Account {
            name: "Acme".into(),
            slug: slug.into(),
            plan: Plan::Free,
        };
        let parts = account.unique_parts().remove(0).unwrap();
        encode_value(&parts, constraint.case_insensitive)
    };
    assert_eq!(value("ACME-Corp"), value("acme-corp"));
    assert_eq!(value("acme-corp"), "acme-corp");

    // `JobCollection.name` is case-sensitive: only NFC normalization applies.
    let constraint = &JobCollection::descriptor().unique[0];
    assert!(!constraint.case_insensitive);
    assert_eq!(encode_value(&["Nightly".into()], false), "Nightly");
    assert_eq!(
        encode_value(&["Cafe\u{301}".into()], constraint.case_insensitive),
        "Caf\u{e9}"
    );
}

#[test]
fn urns() {
    let urn = Job::new_urn();
    assert!(
        urn.as_str()
            .starts_with("urn:pp:System.Account.JobCollection.Job::")
    );
    assert_eq!(Job::parse_urn(urn.as_str()).unwrap(), urn);
    assert_eq!(
        Job::urn_prefix(),
        "urn:pp:System.Account.JobCollection.Job::"
    );
    // A JobCollection URN is not a Job URN, though one type name starts the other.
    let collection = JobCollection::new_urn();
    assert!(Job::parse_urn(collection.as_str()).is_err());
    assert!(!collection.as_str().starts_with(&Job::urn_prefix()));
}
