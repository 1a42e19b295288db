//! Bulk creation and cascading deletion of large trees: ddbrel and the naive sequential
//! versions.

use aws_sdk_dynamodb::types::AttributeValue;
use ddbrel_runtime::{Store, Stored};
use entities::{Account, Job, JobCollection};
use futures::stream::{self, StreamExt, TryStreamExt};

use crate::BoxError;
use crate::fixture::{account, collection, job};
use crate::raw::{Item, Raw};

/// An account and its job collections.
pub struct Tree {
    /// The account (the root).
    pub account: Stored<Account>,
    /// The job collections under it.
    pub collections: Vec<Stored<JobCollection>>,
}

/// The records a tree of `collections` collections of `jobs_per` jobs each holds: every
/// resource, the ParentChildRelationship of every non-root resource, the account's slug
/// marker and each collection's name marker.
pub fn tree_records(collections: u64, jobs_per: u64) -> u64 {
    let jobs = collections * jobs_per;
    let resources = 1 + collections + jobs;
    let relationships = collections + jobs;
    let markers = 1 + collections;
    resources + relationships + markers
}

/// Creates an account with `collections` empty job collections.
pub async fn skeleton(store: &Store, collections: u64) -> Result<Tree, BoxError> {
    let account = store.create(account("bulk")).await?;
    let mut cols = Vec::new();
    for i in 0..collections {
        cols.push(
            store
                .create_child(&account, collection(&format!("collection-{i}")))
                .await?,
        );
    }
    Ok(Tree {
        account,
        collections: cols,
    })
}

/// Creates `jobs` jobs spread round-robin over the tree's collections with `create_child`, at
/// most `concurrency` at once.
pub async fn create_jobs_concurrent(
    store: &Store,
    tree: &Tree,
    jobs: u64,
    concurrency: usize,
) -> Result<Vec<Stored<Job>>, BoxError> {
    let n = tree.collections.len() as u64;
    let created = stream::iter(0..jobs)
        .map(|i| {
            let parent = &tree.collections[(i % n) as usize];
            async move { store.create_child(parent, job(i)).await }
        })
        .buffer_unordered(concurrency)
        .try_collect()
        .await?;
    Ok(created)
}

/// The naive version: the same `create_child` calls, one after the other.
pub async fn create_jobs_sequential(
    store: &Store,
    tree: &Tree,
    jobs: u64,
) -> Result<Vec<Stored<Job>>, BoxError> {
    let n = tree.collections.len() as u64;
    let mut created = Vec::with_capacity(jobs as usize);
    for i in 0..jobs {
        let parent = &tree.collections[(i % n) as usize];
        created.push(store.create_child(parent, job(i)).await?);
    }
    Ok(created)
}

/// Builds a tree of `collections` collections of `jobs_per` jobs each (concurrent creates).
pub async fn build_tree(store: &Store, collections: u64, jobs_per: u64) -> Result<Tree, BoxError> {
    let tree = skeleton(store, collections).await?;
    create_jobs_concurrent(store, &tree, collections * jobs_per, 32).await?;
    Ok(tree)
}

/// Every item of one partition, strongly consistent, all pages.
async fn partition(raw: &Raw, pk: &str) -> Result<Vec<Item>, BoxError> {
    let mut items = Vec::new();
    let mut start = None;
    loop {
        let page = raw
            .client
            .query()
            .table_name(&raw.table)
            .key_condition_expression("#pk = :pk")
            .expression_attribute_names("#pk", "PK")
            .expression_attribute_values(":pk", AttributeValue::S(pk.to_string()))
            .consistent_read(true)
            .set_exclusive_start_key(start)
            .send()
            .await?;
        items.extend(page.items.unwrap_or_default());
        match page.last_evaluated_key {
            Some(k) if !k.is_empty() => start = Some(k),
            _ => return Ok(items),
        }
    }
}

async fn delete_item(raw: &Raw, pk: &str, sk: &str) -> Result<(), BoxError> {
    raw.client
        .delete_item()
        .table_name(&raw.table)
        .key("PK", AttributeValue::S(pk.to_string()))
        .key("SK", AttributeValue::S(sk.to_string()))
        .send()
        .await?;
    Ok(())
}

fn text(item: &Item, name: &str) -> Option<String> {
    item.get(name).and_then(|v| v.as_s().ok()).cloned()
}

/// The naive cascading delete of the subtree rooted at `root`: depth first, one strongly
/// consistent Query of each resource's partition (its own item, its `child#` and `member#`
/// records), children first, then one DeleteItem per record (the partition's records and the
/// markers listed in `_uniqueKeys`), one request at a time. No fence, no batching. Returns
/// the number of records deleted.
pub async fn naive_delete(raw: &Raw, root: &str) -> Result<u64, BoxError> {
    // Post-order walk with an explicit stack: a node is expanded (queried) first, and its
    // records are deleted once every child pushed after it has been handled.
    let mut stack: Vec<(String, Option<Vec<Item>>)> = vec![(root.to_string(), None)];
    let mut deleted = 0;
    while let Some((urn, items)) = stack.pop() {
        match items {
            None => {
                let items = partition(raw, &urn).await?;
                let children: Vec<String> = items
                    .iter()
                    .filter_map(|i| text(i, "SK"))
                    .filter_map(|sk| sk.strip_prefix("child#").map(str::to_string))
                    .collect();
                stack.push((urn, Some(items)));
                stack.extend(children.into_iter().map(|c| (c, None)));
            }
            Some(items) => {
                let mut resource = None;
                for item in items {
                    let (Some(pk), Some(sk)) = (text(&item, "PK"), text(&item, "SK")) else {
                        continue;
                    };
                    if pk == sk {
                        resource = Some(item);
                        continue;
                    }
                    delete_item(raw, &pk, &sk).await?;
                    deleted += 1;
                }
                let Some(resource) = resource else { continue };
                if let Some(AttributeValue::Ss(keys)) = resource.get("_uniqueKeys") {
                    for key in keys {
                        delete_item(raw, key, key).await?;
                        deleted += 1;
                    }
                }
                // The root's own relationship record sits in its parent's partition.
                if urn == root
                    && let Some(parent) = text(&resource, "_parentUrn")
                {
                    delete_item(raw, &parent, &format!("child#{urn}")).await?;
                    deleted += 1;
                }
                delete_item(raw, &urn, &urn).await?;
                deleted += 1;
            }
        }
    }
    Ok(deleted)
}

/// The number of items in the table (a consistent Scan, all pages).
pub async fn count_items(raw: &Raw) -> Result<u64, BoxError> {
    let mut count = 0;
    let mut start = None;
    loop {
        let page = raw
            .client
            .scan()
            .table_name(&raw.table)
            .consistent_read(true)
            .set_exclusive_start_key(start)
            .send()
            .await?;
        count += page.count().max(0) as u64;
        match page.last_evaluated_key {
            Some(k) if !k.is_empty() => start = Some(k),
            _ => return Ok(count),
        }
    }
}
