// Every attribute form, checked at run time through the descriptors, `unique_parts` and the
// trait impls; the `find_by_*` signatures are checked by compiling calls to them.
use ddbrel_runtime::{
    AccountScoped, Child, Collection, CollectionDescriptor, Entity, MemberOf, OnDelete, Root, Store,
    Stored, UniqueConstraint, UniqueScope, Urn,
};
use serde::{Deserialize, Serialize};

/// Upgrades items written before version 3: `handle` became `slug`.
fn upgrade_tenant(from: u32, item: &mut ddbrel_runtime::Item) -> ddbrel_runtime::Result<()> {
    if from < 3
        && let Some(v) = item.remove("handle")
    {
        item.insert("slug".into(), v);
    }
    Ok(())
}

/// A root in its own domain, at schema version 3.
#[derive(Debug, Serialize, Deserialize, Entity)]
#[urn(type = "Acme.Tenant", domain = "acme-prod")]
#[entity(version = 3, migrate = upgrade_tenant)]
pub struct Tenant {
    #[unique(scope = global, case_insensitive)]
    pub slug: String,
    #[unique(name = "billing_ref")]
    pub billing_reference: Option<String>,
}

/// A child of `Tenant`, account-scoped, with field-level and composite constraints and
/// serde renames.
#[derive(Debug, Serialize, Deserialize, Entity)]
#[urn(type = "Acme.Tenant.Project", domain = "acme-prod")]
#[parent(Tenant)]
#[account_scoped]
#[serde(rename_all = "camelCase")]
#[unique(
    fields(owner_email, project_code),
    scope = account,
    case_insensitive = true,
    name = "owner_code"
)]
#[unique(fields(region, project_code))]
pub struct Project {
    #[unique(scope = parent)]
    pub display_name: String,
    pub owner_email: String,
    pub project_code: u32,
    pub region: Option<String>,
    #[serde(rename = "desc")]
    pub description: String,
    #[serde(skip)]
    pub cached: u64,
    #[serde(skip_serializing, default)]
    pub transient: String,
    #[serde(default)]
    pub archived: bool,
    #[unique(case_insensitive = false)]
    pub r#type: String,
}

/// A grandchild whose unique fields are named like the lookup's own parameters.
#[derive(Debug, Serialize, Deserialize, Entity)]
#[urn(type = "Acme.Tenant.Project.Task", domain = "acme-prod")]
#[parent(crate::Project)]
#[account_scoped]
pub struct Task {
    #[unique(scope = parent)]
    pub parent: String,
    #[unique(scope = account)]
    pub store: String,
    #[unique(scope = account, name = "account_number")]
    pub account: u64,
}

/// A collection of projects and tenants whose membership conveys authorization.
#[derive(Debug, Serialize, Deserialize, Entity)]
#[urn(type = "Acme.Tenant.Portfolio", domain = "acme-prod")]
#[parent(Tenant)]
#[account_scoped]
#[collection(of(Project, crate::Tenant), conveys_authorization = true)]
pub struct Portfolio {
    pub name: String,
}

/// A collection that does not convey authorization.
#[derive(Debug, Serialize, Deserialize, Entity)]
#[urn(type = "Acme.Tag", domain = "acme-prod")]
#[collection(of(Task), conveys_authorization = false)]
pub struct Tag {
    pub name: String,
}

fn is_root<E: Root>() {}
fn is_child_of<C: Child<Parent = P>, P: Entity>() {}
fn is_account_scoped<E: AccountScoped>() {}
fn has_account<E: AccountScoped<Account = A>, A: Entity>() {}
fn is_member<C: Collection, M: MemberOf<C>>() {}
fn is_send<T: Send>(_: &T) {}

/// Never called: checks that the lookups have the documented signatures.
#[allow(dead_code)]
async fn lookups(
    store: &Store,
    tenant: &Urn<Tenant>,
    project: &Urn<Project>,
) -> ddbrel_runtime::Result<()> {
    let _: Option<Stored<Tenant>> = Tenant::find_by_slug(store, "acme").await?;
    let _: Option<Stored<Tenant>> =
        Tenant::find_by_billing_ref(store, Some("B-1".to_string())).await?;
    let _: Option<Stored<Project>> = Project::find_by_display_name(store, tenant, "Apollo").await?;
    let _: Option<Stored<Project>> =
        Project::find_by_owner_code(store, tenant, "ada@example.com", 7u32).await?;
    let _: Option<Stored<Project>> =
        Project::find_by_region_project_code(store, "eu", 7u32).await?;
    let _: Option<Stored<Project>> = Project::find_by_type(store, String::from("x")).await?;
    let _: Option<Stored<Task>> = Task::find_by_parent(store, project, "p").await?;
    let _: Option<Stored<Task>> = Task::find_by_store(store, tenant, "s").await?;
    let _: Option<Stored<Task>> = Task::find_by_account_number(store, tenant, 42u64).await?;
    is_send(&Tenant::find_by_slug(store, "acme"));
    is_send(&Project::find_by_owner_code(store, tenant, "a", 1u32));
    Ok(())
}

fn main() {
    let mut old = ddbrel_runtime::Item::new();
    old.insert(
        "handle".into(),
        aws_sdk_dynamodb::types::AttributeValue::S("acme".into()),
    );
    <Tenant as Entity>::migrate(1, &mut old).unwrap();
    assert!(old.contains_key("slug") && !old.contains_key("handle"));
    is_root::<Tenant>();
    is_root::<Tag>();
    is_child_of::<Project, Tenant>();
    is_child_of::<Task, Project>();
    is_child_of::<Portfolio, Tenant>();
    is_account_scoped::<Project>();
    is_account_scoped::<Task>();
    is_account_scoped::<Portfolio>();
    // A Task's parent Project is account-scoped: its account is the Project's, a Tenant.
    has_account::<Project, Tenant>();
    has_account::<Task, Tenant>();
    has_account::<Portfolio, Tenant>();
    is_member::<Portfolio, Project>();
    is_member::<Portfolio, Tenant>();
    is_member::<Tag, Task>();
    assert!(<Portfolio as Collection>::CONVEYS_AUTHORIZATION);
    assert!(!<Tag as Collection>::CONVEYS_AUTHORIZATION);

    assert_eq!(Tenant::DOMAIN, "acme-prod");
    assert_eq!(Tenant::SCHEMA_VERSION, 3);
    assert_eq!(Tenant::urn_prefix(), "urn:acme-prod:Acme.Tenant::");
    assert!(Project::ACCOUNT_SCOPED);
    assert!(!Tenant::ACCOUNT_SCOPED);

    let tenant = Tenant::descriptor();
    assert_eq!(tenant.schema_version, 3);
    assert_eq!(tenant.domain, "acme-prod");
    assert_eq!(
        tenant.unique,
        &[
            UniqueConstraint {
                name: "slug",
                fields: &["slug"],
                scope: UniqueScope::Global,
                case_insensitive: true,
            },
            UniqueConstraint {
                name: "billing_ref",
                fields: &["billing_reference"],
                scope: UniqueScope::Global,
                case_insensitive: false,
            },
        ]
    );

    let project = Project::descriptor();
    assert_eq!(project.type_name, "Project");
    assert_eq!(project.parent, Some("Acme.Tenant"));
    assert!(project.account_scoped);
    assert_eq!(
        project.fields,
        &[
            "displayName",
            "ownerEmail",
            "projectCode",
            "region",
            "desc",
            "archived",
            "type"
        ]
    );
    assert_eq!(
        project.unique,
        &[
            UniqueConstraint {
                name: "display_name",
                fields: &["displayName"],
                scope: UniqueScope::Parent,
                case_insensitive: false,
            },
            UniqueConstraint {
                name: "type",
                fields: &["type"],
                scope: UniqueScope::Global,
                case_insensitive: false,
            },
            UniqueConstraint {
                name: "owner_code",
                fields: &["ownerEmail", "projectCode"],
                scope: UniqueScope::Account,
                case_insensitive: true,
            },
            UniqueConstraint {
                name: "region_project_code",
                fields: &["region", "projectCode"],
                scope: UniqueScope::Global,
                case_insensitive: false,
            },
        ]
    );

    let p = Project {
        display_name: "Apollo".into(),
        owner_email: "Ada@Example.com".into(),
        project_code: 7,
        region: None,
        description: String::new(),
        cached: 0,
        transient: String::new(),
        archived: false,
        r#type: "Rocket".into(),
    };
    assert_eq!(
        p.unique_parts(),
        vec![
            Some(vec!["Apollo".to_string()]),
            Some(vec!["Rocket".to_string()]),
            Some(vec!["Ada@Example.com".to_string(), "7".to_string()]),
            None,
        ]
    );
    let p = Project {
        region: Some("eu".into()),
        ..p
    };
    assert_eq!(
        p.unique_parts()[3],
        Some(vec!["eu".to_string(), "7".to_string()])
    );

    let t = Tenant {
        slug: "acme".into(),
        billing_reference: None,
    };
    assert_eq!(t.unique_parts(), vec![Some(vec!["acme".to_string()]), None]);

    assert_eq!(Task::descriptor().parent, Some("Acme.Tenant.Project"));
    assert_eq!(
        Task::descriptor()
            .unique
            .iter()
            .map(|u| u.name)
            .collect::<Vec<_>>(),
        ["parent", "store", "account_number"]
    );

    assert_eq!(
        Portfolio::descriptor().collection,
        Some(CollectionDescriptor {
            members: &["Acme.Tenant.Project", "Acme.Tenant"],
            conveys_authorization: true,
            on_delete: OnDelete::Cascade,
        })
    );
    assert_eq!(
        Tag::descriptor().collection,
        Some(CollectionDescriptor {
            members: &["Acme.Tenant.Project.Task"],
            conveys_authorization: false,
            on_delete: OnDelete::Cascade,
        })
    );
    assert_eq!(Portfolio::descriptor().unique, &[]);
}
