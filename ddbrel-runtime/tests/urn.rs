//! URNs (SCHEMA.md section 3) and the unique-value encoding (section 6): a table of malformed
//! inputs with the part and reason each is refused for, the accepted forms, typed URNs, serde,
//! and property tests for round trips, panics and the injectivity of the marker encoding.

use ddbrel_runtime::entity::{EntityDescriptor, OnDelete, UniqueConstraint, UniqueScope};
use ddbrel_runtime::unique::{MAX_MARKER_KEY_BYTES, encode_value, marker_key, normalize};
use ddbrel_runtime::{AnyUrn, Entity, Error, Urn, UrnPart};
use proptest::prelude::*;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A canonical version 7 id (RFC 9562 variant).
const ID: &str = "01955556-3cd2-7df2-b839-693fa6fbd505";
const ACCOUNT: &str = "urn:pp:System.Account::01955550-1a2b-7c3d-8e4f-5a6b7c8d9e0f";

// ---------------------------------------------------------------------------------------------
// Hand-written entities (the derive has its own tests).

macro_rules! test_entity {
    ($ty:ident, $desc:ident, $domain:literal, $rt:literal) => {
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        struct $ty {}

        static $desc: EntityDescriptor = EntityDescriptor {
            type_name: stringify!($ty),
            resource_type: $rt,
            domain: $domain,
            schema_version: 1,
            parent: None,
            parents: &[],
            on_delete: OnDelete::Cascade,
            account_scoped: false,
            unique: &[],
            collection: None,
            fields: &[],
        };

        impl Entity for $ty {
            const RESOURCE_TYPE: &'static str = $rt;
            const DOMAIN: &'static str = $domain;
            const SCHEMA_VERSION: u32 = 1;
            const ACCOUNT_SCOPED: bool = false;
            fn descriptor() -> &'static EntityDescriptor {
                &$desc
            }
            fn unique_parts(&self) -> Vec<Option<Vec<String>>> {
                Vec::new()
            }
        }
    };
}

test_entity!(Job, JOB, "pp", "System.Account.Job");
test_entity!(
    JobCollection,
    JOB_COLLECTION,
    "pp",
    "System.Account.JobCollection"
);
test_entity!(AcmeJob, ACME_JOB, "acme", "System.Account.Job");

fn urn(domain: &str, resource_type: &str, id: &str) -> String {
    format!("urn:{domain}:{resource_type}::{id}")
}

// ---------------------------------------------------------------------------------------------
// Malformed inputs.

/// `(input, part at fault, substring of the reason)`.
fn malformed() -> Vec<(String, UrnPart, &'static str)> {
    use UrnPart::*;
    let ok = |d: &str, t: &str, id: &str| urn(d, t, id);
    let acct = "System.Account";
    vec![
        // The text as a whole.
        (String::new(), Structure, "empty string"),
        ("urn:".into(), Structure, "missing `:` after the domain"),
        ("urn:pp".into(), Structure, "missing `:` after the domain"),
        ("urn:pp:".into(), Structure, "missing `::`"),
        (format!("urn:pp:{acct}"), Structure, "missing `::`"),
        (format!("urn:pp:{acct}:{ID}"), Structure, "missing `::`"),
        (
            format!("urn:pp:{acct}::{ID}:"),
            Structure,
            "in or after the resource id",
        ),
        (
            format!("urn:pp:{acct}:::{ID}"),
            Structure,
            "in or after the resource id",
        ),
        (
            format!("urn:pp:{acct}::{ID}::x"),
            Structure,
            "in or after the resource id",
        ),
        (
            format!("urn:pp::{acct}::{ID}"),
            Structure,
            "before the resource type",
        ),
        (
            format!("urn:pp:System:Account::{ID}"),
            Structure,
            "before the resource type",
        ),
        (
            format!(" {}", ok("pp", acct, ID)),
            Structure,
            "whitespace or control character at byte 0",
        ),
        (
            format!("{} ", ok("pp", acct, ID)),
            Structure,
            "whitespace or control character at byte 59",
        ),
        (
            format!("urn:pp:System. Account::{ID}"),
            Structure,
            "whitespace or control character",
        ),
        (
            format!("urn:pp:System.Account::{ID}\n"),
            Structure,
            "whitespace or control character",
        ),
        (
            format!("urn:pp:System.Account\t::{ID}"),
            Structure,
            "whitespace or control character",
        ),
        (
            format!("urn:pp:System.Account::\0{ID}"),
            Structure,
            "whitespace or control character",
        ),
        (
            format!("urn:pp:System.Account::{ID}\u{7f}"),
            Structure,
            "whitespace or control character",
        ),
        (
            format!("urn:pp:System.Account::{ID}\r"),
            Structure,
            "whitespace or control character",
        ),
        (ok("pé", acct, ID), Structure, "non-ASCII character 'é'"),
        (
            ok("pp", "System.Écoles", ID),
            Structure,
            "non-ASCII character 'É'",
        ),
        (
            ok("pp", "System.\u{410}ccount", ID),
            Structure,
            "non-ASCII character 'А'",
        ),
        (
            ok("pp", acct, "０1955556-3cd2-7df2-b839-693fa6fbd505"),
            Structure,
            "non-ASCII character '０'",
        ),
        (
            format!("{}\u{200b}", ok("pp", acct, ID)),
            Structure,
            "non-ASCII character",
        ),
        (
            format!("urn:pp:{acct}::{ID}\u{a0}"),
            Structure,
            "non-ASCII character",
        ),
        // The scheme.
        (format!("pp:{acct}::{ID}"), Scheme, "must start with `urn:`"),
        (
            format!("URN:pp:{acct}::{ID}"),
            Scheme,
            "must start with `urn:`",
        ),
        (
            format!("Urn:pp:{acct}::{ID}"),
            Scheme,
            "must start with `urn:`",
        ),
        (
            format!("urnpp:{acct}::{ID}"),
            Scheme,
            "must start with `urn:`",
        ),
        (
            format!("uri:pp:{acct}::{ID}"),
            Scheme,
            "must start with `urn:`",
        ),
        // The domain.
        (format!("urn::{acct}::{ID}"), Domain, "empty domain"),
        (
            ok("1pp", acct, ID),
            Domain,
            "must start with a lowercase letter",
        ),
        (
            ok("-pp", acct, ID),
            Domain,
            "must start with a lowercase letter",
        ),
        (
            ok("PP", acct, ID),
            Domain,
            "must start with a lowercase letter",
        ),
        (
            ok("pP", acct, ID),
            Domain,
            "may hold only a-z, 0-9 and `-`, found 'P'",
        ),
        (
            ok("p_p", acct, ID),
            Domain,
            "may hold only a-z, 0-9 and `-`, found '_'",
        ),
        (ok("p.p", acct, ID), Domain, "found '.'"),
        (
            ok(&"a".repeat(33), acct, ID),
            Domain,
            "domain is 33 characters, at most 32",
        ),
        (
            ok(&format!("p{}", "-".repeat(40)), acct, ID),
            Domain,
            "at most 32",
        ),
        // The resource type.
        (
            format!("urn:pp:::{ID}"),
            ResourceType,
            "empty resource type",
        ),
        (
            ok("pp", "System.account", ID),
            ResourceType,
            "must start with an uppercase letter",
        ),
        (
            ok("pp", "system", ID),
            ResourceType,
            "must start with an uppercase letter",
        ),
        (
            ok("pp", "System.1Job", ID),
            ResourceType,
            "must start with an uppercase letter",
        ),
        (
            ok("pp", "System..Job", ID),
            ResourceType,
            "segment 2 of the resource type is empty",
        ),
        (
            ok("pp", ".System.Job", ID),
            ResourceType,
            "segment 1 of the resource type is empty",
        ),
        (
            ok("pp", "System.Job.", ID),
            ResourceType,
            "segment 3 of the resource type is empty",
        ),
        (
            ok("pp", ".", ID),
            ResourceType,
            "segment 1 of the resource type is empty",
        ),
        (
            ok("pp", "System.Job-Collection", ID),
            ResourceType,
            "may hold only A-Z, a-z and 0-9, found '-'",
        ),
        (
            ok("pp", "System.Job_Collection", ID),
            ResourceType,
            "found '_'",
        ),
        (ok("pp", "System/Job", ID), ResourceType, "found '/'"),
        (ok("pp", "System#Job", ID), ResourceType, "found '#'"),
        // The resource id.
        (format!("urn:pp:{acct}::"), ResourceId, "empty resource id"),
        (
            ok("pp", acct, "01955556-3CD2-7df2-b839-693fa6fbd505"),
            ResourceId,
            "lowercase hex",
        ),
        (
            ok("pp", acct, "01955556-3cd2-7df2-B839-693fa6fbd505"),
            ResourceId,
            "lowercase hex",
        ),
        (
            ok("pp", acct, "01955556-3cd2-4df2-b839-693fa6fbd505"),
            ResourceId,
            "version 4 UUID",
        ),
        (
            ok("pp", acct, "01955556-3cd2-1df2-b839-693fa6fbd505"),
            ResourceId,
            "version 1 UUID",
        ),
        (
            ok("pp", acct, "01955556-3cd2-8df2-b839-693fa6fbd505"),
            ResourceId,
            "version 8 UUID",
        ),
        (
            ok("pp", acct, "00000000-0000-0000-0000-000000000000"),
            ResourceId,
            "version 0 UUID",
        ),
        (
            ok("pp", acct, "ffffffff-ffff-ffff-ffff-ffffffffffff"),
            ResourceId,
            "version f UUID",
        ),
        (
            ok("pp", acct, "01955556-3cd2-7df2-c839-693fa6fbd505"),
            ResourceId,
            "RFC 9562 variant",
        ),
        (
            ok("pp", acct, "01955556-3cd2-7df2-7839-693fa6fbd505"),
            ResourceId,
            "RFC 9562 variant",
        ),
        (
            ok("pp", acct, "01955556-3cd2-7df2-e839-693fa6fbd505"),
            ResourceId,
            "RFC 9562 variant",
        ),
        (
            ok("pp", acct, "019555563cd27df2b839693fa6fbd505"),
            ResourceId,
            "found 32 characters",
        ),
        (
            ok("pp", acct, "{01955556-3cd2-7df2-b839-693fa6fbd505}"),
            ResourceId,
            "found 38 characters",
        ),
        (
            ok("pp", acct, "01955556-3cd2-7df2-b839-693fa6fbd50"),
            ResourceId,
            "found 35 characters",
        ),
        (
            ok("pp", acct, "01955556-3cd2-7df2-b839-693fa6fbd5050"),
            ResourceId,
            "found 37 characters",
        ),
        (
            ok("pp", acct, "01955556-3cd2-7df2-b839-693fa6fbd505/x"),
            ResourceId,
            "found 38 characters",
        ),
        (
            ok("pp", acct, "urn-uuid-3cd2-7df2-b839-693fa6fbd505"),
            ResourceId,
            "not a hex digit",
        ),
        (
            ok("pp", acct, "0195555-63cd2-7df2-b839-693fa6fbd505"),
            ResourceId,
            "'-' at position 8, not a hex digit",
        ),
        (
            ok("pp", acct, "01955556_3cd2-7df2-b839-693fa6fbd505"),
            ResourceId,
            "needs `-` at position 9",
        ),
        (
            ok("pp", acct, "01955556-3cd2-7df2-b839-693fa6fbd50g"),
            ResourceId,
            "'g' at position 36, not a hex digit",
        ),
    ]
}

#[test]
fn malformed_urns_are_refused_naming_the_part_and_the_reason() {
    let cases = malformed();
    assert!(cases.len() >= 35, "only {} cases", cases.len());
    let mut failures = Vec::new();
    for (input, part, reason) in &cases {
        match AnyUrn::parse(input) {
            Ok(u) => failures.push(format!("{input:?}: accepted as {u}")),
            Err(err) => {
                let text = err.to_string();
                if err.part() != *part {
                    failures.push(format!(
                        "{input:?}: part {:?}, expected {part:?} ({text})",
                        err.part()
                    ));
                }
                if !text.contains(reason) || !err.reason().contains(reason) {
                    failures.push(format!("{input:?}: {text:?} lacks {reason:?}"));
                }
                if !text.contains(&part.to_string()) {
                    failures.push(format!("{input:?}: {text:?} does not name the part {part}"));
                }
                if err.input() != input {
                    failures.push(format!("{input:?}: error keeps input {:?}", err.input()));
                }
            }
        }
        // The typed parser and FromStr refuse the same text for the same reason.
        match Urn::<Job>::parse(input) {
            Ok(u) => failures.push(format!("{input:?}: Urn<Job> accepted {u}")),
            Err(err) if err.part() != *part => failures.push(format!(
                "{input:?}: Urn<Job> says {:?}, expected {part:?}",
                err.part()
            )),
            Err(_) => {}
        }
        if input.parse::<AnyUrn>().is_ok() {
            failures.push(format!("{input:?}: FromStr accepted it"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_part_is_covered_by_the_table() {
    let cases = malformed();
    for part in [
        UrnPart::Structure,
        UrnPart::Scheme,
        UrnPart::Domain,
        UrnPart::ResourceType,
        UrnPart::ResourceId,
    ] {
        assert!(
            cases.iter().filter(|(_, p, _)| *p == part).count() >= 3,
            "too few cases for {part:?}"
        );
    }
}

#[test]
fn long_inputs_are_cut_in_the_error_without_splitting_a_character() {
    let huge = format!("urn:pp:{}::{ID}", "A".repeat(1 << 20));
    // Valid grammar, but longer than DynamoDB's keys can hold: refused, saying why.
    let err = AnyUrn::parse(&huge).unwrap_err();
    assert_eq!(err.part(), UrnPart::Structure);
    assert!(err.reason().contains("at most 1013"), "{err}");
    // The longest URN that fits is accepted.
    let longest = format!("urn:pp:{}::{ID}", "A".repeat(1013 - 4 - 3 - 2 - 36));
    assert_eq!(longest.len(), 1013);
    assert_eq!(AnyUrn::parse(&longest).unwrap().as_str(), longest);
    assert!(AnyUrn::parse(&format!("urn:pp:B{}", &longest[7..])).is_err());

    let bad = format!("urn:pp:{}.::{ID}", "A".repeat(5000));
    let err = AnyUrn::parse(&bad).unwrap_err();
    assert_eq!(err.part(), UrnPart::Structure);
    assert!(
        err.input().len() <= 200 + '…'.len_utf8(),
        "{}",
        err.input().len()
    );
    assert!(err.to_string().len() < 400);

    // 3-byte characters: byte 200 is not a character boundary.
    let euros = "€".repeat(100);
    let err = AnyUrn::parse(&euros).unwrap_err();
    assert_eq!(err.part(), UrnPart::Structure);
    assert!(err.input().ends_with('…'));
    assert!(euros.starts_with(err.input().trim_end_matches('…')));
}

// ---------------------------------------------------------------------------------------------
// Accepted forms.

#[test]
fn accepted_forms_round_trip_and_expose_their_parts() {
    let domain32 = "abcdefghijklmnopqrstuvwxyz0123-5";
    assert_eq!(domain32.len(), 32);
    let cases = [
        ("pp", "System.Account"),
        ("pp", "System.Account.JobCollection.Job"),
        ("my-domain", "System.Account"),
        ("p-", "A"),
        ("x", "A"),
        ("a1", "V2.Job3.X1y.ABC"),
        (domain32, "System.Account"),
        ("pp", "Z9z9Z9"),
    ];
    let ids = [
        ID,
        "01955556-3cd2-7df2-8839-693fa6fbd505",
        "01955556-3cd2-7df2-9839-693fa6fbd505",
        "01955556-3cd2-7df2-a839-693fa6fbd505",
        "00000000-0000-7000-8000-000000000000",
        "ffffffff-ffff-7fff-bfff-ffffffffffff",
    ];
    for (domain, resource_type) in cases {
        for id in ids {
            let text = urn(domain, resource_type, id);
            let parsed = AnyUrn::parse(&text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(parsed.to_string(), text);
            assert_eq!(parsed.as_str(), text);
            assert_eq!(parsed.domain(), domain);
            assert_eq!(parsed.resource_type(), resource_type);
            assert_eq!(parsed.id(), Uuid::parse_str(id).unwrap());
            assert_eq!(parsed.id().to_string(), id);
            assert_eq!(
                parsed.type_prefix(),
                format!("urn:{domain}:{resource_type}::")
            );
            assert!(parsed.type_prefix().ends_with("::"));
            assert!(text.starts_with(parsed.type_prefix()));
            assert_eq!(
                ddbrel_runtime::urn::type_prefix(domain, resource_type),
                parsed.type_prefix()
            );
            let again: AnyUrn = parsed.to_string().parse().unwrap();
            assert_eq!(again, parsed);
            let built = AnyUrn::new(domain, resource_type, parsed.id()).unwrap();
            assert_eq!(built, parsed);
            assert_eq!(built.type_prefix(), parsed.type_prefix());
            assert_eq!(format!("{parsed:?}"), format!("AnyUrn({text})"));
        }
    }
}

#[test]
fn type_prefix_separates_types_that_are_prefixes_of_each_other() {
    let job = Urn::<Job>::new();
    let collection = Urn::<JobCollection>::new();
    assert_eq!(Urn::<Job>::prefix(), "urn:pp:System.Account.Job::");
    assert!(Urn::<Job>::prefix().ends_with("::"));
    assert!(job.as_str().starts_with(&Urn::<Job>::prefix()));
    assert!(job.as_str().starts_with(job.as_any().type_prefix()));
    // Without `::` the Job prefix would also select JobCollections.
    assert!(collection.as_str().starts_with("urn:pp:System.Account.Job"));
    assert!(!collection.as_str().starts_with(&Urn::<Job>::prefix()));
    assert!(!job.as_str().starts_with(&Urn::<JobCollection>::prefix()));
}

#[test]
fn new_urns_are_v7_and_sort_by_creation_time() {
    let a = Urn::<Job>::new();
    std::thread::sleep(std::time::Duration::from_millis(2));
    let b = Urn::<Job>::new();
    assert_eq!(a.id().get_version_num(), 7);
    assert_eq!(a.id().get_variant(), uuid::Variant::RFC4122);
    assert!(a < b, "{a} then {b}");
    assert!(a.as_str() < b.as_str());
    assert_eq!(Urn::<Job>::parse(a.as_str()).unwrap(), a);
}

#[test]
fn constructors_check_each_part() {
    let v7 = Uuid::parse_str(ID).unwrap();
    let v4 = Uuid::parse_str("01955556-3cd2-4df2-b839-693fa6fbd505").unwrap();
    let bad_variant = Uuid::parse_str("01955556-3cd2-7df2-c839-693fa6fbd505").unwrap();
    for (domain, rt, id, part) in [
        ("", "System", v7, UrnPart::Domain),
        ("PP", "System", v7, UrnPart::Domain),
        ("p:p", "System", v7, UrnPart::Domain),
        ("pp", "", v7, UrnPart::ResourceType),
        ("pp", "System..Job", v7, UrnPart::ResourceType),
        ("pp", "System::Job", v7, UrnPart::ResourceType),
        ("pp", "system", v7, UrnPart::ResourceType),
        ("pp", "System", v4, UrnPart::ResourceId),
        ("pp", "System", Uuid::nil(), UrnPart::ResourceId),
        ("pp", "System", Uuid::max(), UrnPart::ResourceId),
        ("pp", "System", bad_variant, UrnPart::ResourceId),
    ] {
        let err = AnyUrn::new(domain, rt, id).unwrap_err();
        assert_eq!(err.part(), part, "{domain:?} {rt:?} {id}: {err}");
    }
    let err = Urn::<Job>::from_id(v4).unwrap_err();
    assert_eq!(err.part(), UrnPart::ResourceId);
    assert!(err.to_string().contains("version 4"), "{err}");
    let job = Urn::<Job>::from_id(v7).unwrap();
    assert_eq!(job.as_str(), urn("pp", "System.Account.Job", ID));
    assert_eq!(job.id(), v7);
}

#[test]
fn typed_urns_refuse_another_type_or_domain() {
    let job_text = urn("pp", "System.Account.Job", ID);
    let job = Urn::<Job>::parse(&job_text).unwrap();
    assert_eq!(job.as_str(), job_text);
    assert_eq!(job.to_string(), job_text);
    assert!(job.as_any().is::<Job>());
    assert!(!job.as_any().is::<JobCollection>());
    assert!(!job.as_any().is::<AcmeJob>());
    assert_eq!(job, *job.as_any());
    assert_eq!(format!("{job:?}"), format!("Urn({job_text})"));

    // Another resource type.
    let coll_text = urn("pp", "System.Account.JobCollection", ID);
    let err = Urn::<Job>::parse(&coll_text).unwrap_err();
    assert_eq!(err.part(), UrnPart::ResourceType);
    assert!(
        err.to_string().contains(
            "expected a System.Account.Job URN, found a System.Account.JobCollection URN"
        ),
        "{err}"
    );
    let err = coll_text.parse::<Urn<Job>>().unwrap_err();
    assert_eq!(err.part(), UrnPart::ResourceType);
    let err = AnyUrn::parse(&coll_text)
        .unwrap()
        .typed::<Job>()
        .unwrap_err();
    assert_eq!(err.part(), UrnPart::ResourceType);
    let err = Urn::<Job>::parse(ACCOUNT).unwrap_err();
    assert_eq!(err.part(), UrnPart::ResourceType);

    // Another domain, same resource type.
    let acme_text = urn("acme", "System.Account.Job", ID);
    let err = Urn::<Job>::parse(&acme_text).unwrap_err();
    assert_eq!(err.part(), UrnPart::Domain);
    assert!(err.to_string().contains("expected domain \"pp\""), "{err}");
    let err = Urn::<AcmeJob>::parse(&job_text).unwrap_err();
    assert_eq!(err.part(), UrnPart::Domain);
    let acme = Urn::<AcmeJob>::parse(&acme_text).unwrap();
    assert_eq!(acme.as_any().domain(), "acme");
    assert_eq!(Urn::<AcmeJob>::prefix(), "urn:acme:System.Account.Job::");

    // Conversions keep the text.
    let any: AnyUrn = job.clone().into();
    assert_eq!(any.as_str(), job_text);
    assert_eq!(any.clone().typed::<Job>().unwrap(), job);
    assert_eq!(Urn::<Job>::try_from(any).unwrap(), job);
    assert_eq!(job.clone().into_any().as_str(), job_text);
}

// ---------------------------------------------------------------------------------------------
// Serde.

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Holder {
    any: AnyUrn,
    job: Urn<Job>,
    maybe: Option<Urn<Job>>,
}

#[test]
fn serde_round_trips_as_a_plain_string() {
    let job = Urn::<Job>::new();
    let any = AnyUrn::parse(ACCOUNT).unwrap();

    let json = serde_json::to_string(&any).unwrap();
    assert_eq!(json, format!("\"{ACCOUNT}\""));
    assert_eq!(serde_json::from_str::<AnyUrn>(&json).unwrap(), any);

    let json = serde_json::to_string(&job).unwrap();
    assert_eq!(json, format!("\"{job}\""));
    assert_eq!(serde_json::from_str::<Urn<Job>>(&json).unwrap(), job);
    assert_eq!(
        &serde_json::from_str::<AnyUrn>(&json).unwrap(),
        job.as_any()
    );

    let holder = Holder {
        any: any.clone(),
        job: job.clone(),
        maybe: None,
    };
    let value = serde_json::to_value(&holder).unwrap();
    assert_eq!(value["any"], ACCOUNT);
    assert_eq!(value["job"], job.as_str());
    assert_eq!(serde_json::from_value::<Holder>(value).unwrap(), holder);

    // From an owned string (not borrowed from the input).
    let value = serde_json::Value::String(job.to_string());
    assert_eq!(serde_json::from_value::<Urn<Job>>(value).unwrap(), job);
    // With an escape in the JSON text, which cannot be borrowed.
    let escaped = format!("\"{}\"", ACCOUNT.replace(':', "\\u003a"));
    assert_eq!(serde_json::from_str::<AnyUrn>(&escaped).unwrap(), any);
}

#[test]
fn serde_refuses_malformed_strings_and_wrong_types() {
    for (input, _, reason) in malformed() {
        let json = serde_json::to_string(&input).unwrap();
        let err = serde_json::from_str::<AnyUrn>(&json).unwrap_err();
        assert!(err.to_string().contains(reason), "{input:?}: {err}");
        assert!(
            serde_json::from_str::<Urn<Job>>(&json).is_err(),
            "{input:?}"
        );
    }
    for json in [
        "42",
        "null",
        "true",
        "[]",
        "{}",
        &format!("[\"{ACCOUNT}\"]"),
    ] {
        assert!(serde_json::from_str::<AnyUrn>(json).is_err(), "{json}");
        assert!(serde_json::from_str::<Urn<Job>>(json).is_err(), "{json}");
    }
    let wrong_type = serde_json::to_string(ACCOUNT).unwrap();
    let err = serde_json::from_str::<Urn<Job>>(&wrong_type).unwrap_err();
    assert!(
        err.to_string()
            .contains("expected a System.Account.Job URN"),
        "{err}"
    );
    let wrong_domain = serde_json::to_string(&urn("acme", "System.Account.Job", ID)).unwrap();
    let err = serde_json::from_str::<Urn<Job>>(&wrong_domain).unwrap_err();
    assert!(err.to_string().contains("expected domain"), "{err}");

    let holder = format!(r#"{{"any": "{ACCOUNT}", "job": "{ACCOUNT}", "maybe": null}}"#);
    assert!(serde_json::from_str::<Holder>(&holder).is_err());
}

// ---------------------------------------------------------------------------------------------
// Property tests on URNs.

fn domain_strategy() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9-]{0,31}"
}

fn resource_type_strategy() -> impl Strategy<Value = String> {
    prop::collection::vec("[A-Z][A-Za-z0-9]{0,12}", 1..=4).prop_map(|s| s.join("."))
}

fn v7_strategy() -> impl Strategy<Value = Uuid> {
    prop_oneof![
        Just(()).prop_map(|_| Uuid::now_v7()),
        (0u64..(1u64 << 48), any::<[u8; 10]>()).prop_map(|(millis, bytes)| {
            uuid::Builder::from_unix_timestamp_millis(millis, &bytes).into_uuid()
        }),
    ]
}

/// A valid URN with one character inserted, replaced or removed.
fn near_miss_strategy() -> impl Strategy<Value = String> {
    let chars = prop_oneof![
        Just(':'),
        Just('.'),
        Just('-'),
        Just(' '),
        Just('#'),
        Just('A'),
        Just('a'),
        Just('7'),
        Just('F'),
        Just('é'),
        Just('\u{0}'),
        any::<char>(),
    ];
    (
        domain_strategy(),
        resource_type_strategy(),
        v7_strategy(),
        0usize..3,
        any::<prop::sample::Index>(),
        chars,
    )
        .prop_map(|(d, t, id, op, at, c)| {
            let mut chars: Vec<char> = urn(&d, &t, &id.to_string()).chars().collect();
            let i = at.index(chars.len());
            match op {
                0 => chars.insert(i, c),
                1 => chars[i] = c,
                _ => {
                    chars.remove(i);
                }
            }
            chars.into_iter().collect()
        })
}

/// Parsing never panics; whatever it accepts is canonical (prints back as the input) and
/// whatever it refuses keeps the input in the error.
fn check_total(input: &str) -> Result<(), TestCaseError> {
    match AnyUrn::parse(input) {
        Ok(u) => {
            prop_assert_eq!(u.as_str(), input);
            prop_assert_eq!(u.to_string(), input);
            prop_assert!(u.type_prefix().ends_with("::"));
            let rebuilt = AnyUrn::new(u.domain(), u.resource_type(), u.id());
            prop_assert_eq!(rebuilt.as_ref().ok(), Some(&u));
            prop_assert_eq!(u.id().get_version_num(), 7);
        }
        Err(e) => {
            prop_assert!(!e.reason().is_empty());
            prop_assert!(e.to_string().contains(e.reason()));
            if input.len() <= 200 {
                prop_assert_eq!(e.input(), input);
            }
        }
    }
    let _ = Urn::<Job>::parse(input);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn generated_urns_round_trip(
        domain in domain_strategy(),
        resource_type in resource_type_strategy(),
        id in v7_strategy(),
    ) {
        let text = urn(&domain, &resource_type, &id.to_string());
        let parsed = AnyUrn::parse(&text).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(parsed.to_string(), text.clone());
        prop_assert_eq!(parsed.domain(), domain.as_str());
        prop_assert_eq!(parsed.resource_type(), resource_type.as_str());
        prop_assert_eq!(parsed.id(), id);
        prop_assert_eq!(parsed.type_prefix(), format!("urn:{domain}:{resource_type}::"));
        let built = AnyUrn::new(&domain, &resource_type, id)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(&built, &parsed);
        prop_assert_eq!(built.to_string(), text.clone());
        let json = serde_json::to_string(&built).unwrap();
        prop_assert_eq!(serde_json::from_str::<AnyUrn>(&json).unwrap(), parsed);
        // A typed URN of another type refuses it unless it is exactly that type.
        let typed = Urn::<Job>::parse(&text);
        prop_assert_eq!(
            typed.is_ok(),
            domain == "pp" && resource_type == "System.Account.Job"
        );
    }

    #[test]
    fn ordering_of_urns_is_ordering_of_their_text(
        a in (domain_strategy(), resource_type_strategy(), v7_strategy()),
        b in (domain_strategy(), resource_type_strategy(), v7_strategy()),
    ) {
        let a = AnyUrn::new(&a.0, &a.1, a.2).unwrap();
        let b = AnyUrn::new(&b.0, &b.1, b.2).unwrap();
        prop_assert_eq!(a.cmp(&b), a.as_str().cmp(b.as_str()));
        prop_assert_eq!(a == b, a.as_str() == b.as_str());
    }

    #[test]
    fn arbitrary_strings_never_panic(input in any::<String>()) {
        check_total(&input)?;
    }

    #[test]
    fn urnish_strings_never_panic(input in "[a-zA-Z0-9:.\\- ]{0,80}") {
        check_total(&input)?;
    }

    #[test]
    fn urn_shaped_strings_never_panic(
        input in "(urn|URN|ur)?:?[a-z0-9-]{0,4}:{0,3}[A-Za-z0-9.]{0,12}:{0,3}[0-9a-fA-F-]{30,40}:?"
    ) {
        check_total(&input)?;
    }

    #[test]
    fn near_misses_never_panic_and_stay_canonical(input in near_miss_strategy()) {
        check_total(&input)?;
    }
}

// ---------------------------------------------------------------------------------------------
// Unique-value encoding (SCHEMA.md section 6).

fn parts(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// Splits an encoded value back into its parts: the inverse of `encode_value` on normalized
/// parts, which is what makes the encoding injective.
fn decode_value(encoded: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut chars = encoded.chars();
    while let Some(c) = chars.next() {
        match c {
            '#' => out.push(String::new()),
            '%' => {
                let escape: String = chars.by_ref().take(2).collect();
                let last = out.last_mut().expect("never empty");
                match escape.as_str() {
                    "23" => last.push('#'),
                    "25" => last.push('%'),
                    other => panic!("stray escape %{other} in {encoded:?}"),
                }
            }
            c => out.last_mut().expect("never empty").push(c),
        }
    }
    out
}

#[test]
fn separators_and_escapes_never_collide_with_composites() {
    let enc = |v: &[&str]| encode_value(&parts(v), false);
    assert_eq!(
        enc(&["ops#1", "50%"]),
        "ops%231#50%25",
        "SCHEMA.md's example"
    );
    assert_eq!(enc(&["a#b"]), "a%23b");
    assert_eq!(enc(&["a", "b"]), "a#b");
    assert_ne!(enc(&["a#b"]), enc(&["a", "b"]));
    assert_ne!(enc(&["a%23b"]), enc(&["a#b"]));
    assert_eq!(enc(&["a%23b"]), "a%2523b");
    assert_ne!(enc(&["a%"]), enc(&["a%25"]));
    assert_ne!(enc(&["a#", "b"]), enc(&["a", "#b"]));
    assert_ne!(enc(&["#"]), enc(&["", ""]));
    assert_ne!(enc(&["%"]), enc(&["%25"]));
    assert_ne!(enc(&["", "a"]), enc(&["a", ""]));
    assert_eq!(enc(&[""]), "", "an empty string is a value");
    assert_eq!(enc(&["", ""]), "#");
    assert_eq!(enc(&["%%##"]), "%25%25%23%23");
    // Nothing else is escaped.
    assert_eq!(enc(&["a b/c:d.e-f_g~h"]), "a b/c:d.e-f_g~h");
    for v in [&["a#b"][..], &["a", "b"], &["%23", "#%"], &["", "#", ""]] {
        assert_eq!(decode_value(&enc(v)), parts(v));
    }
}

#[test]
fn values_are_nfc_normalized() {
    assert_eq!(normalize("e\u{301}", false), "é");
    assert_eq!(normalize("é", false), "é");
    assert_eq!(
        encode_value(&parts(&["caf", "e\u{301}"]), false),
        encode_value(&parts(&["caf", "é"]), false)
    );
    assert_eq!(
        encode_value(&parts(&["cafe\u{301}"]), true),
        encode_value(&parts(&["CAFÉ"]), true)
    );
    // Singleton decompositions: the Kelvin and Ångström signs.
    assert_eq!(normalize("\u{212a}", false), "K");
    assert_eq!(normalize("\u{212b}", false), "\u{c5}");
    // Hangul jamo compose.
    assert_eq!(normalize("\u{1100}\u{1161}", false), "\u{ac00}");
    // Case-sensitive constraints keep the case.
    assert_eq!(normalize("ÉCOLE", false), "ÉCOLE");
    assert_ne!(
        encode_value(&parts(&["Acme"]), false),
        encode_value(&parts(&["acme"]), false)
    );
}

#[test]
fn case_insensitive_values_are_lowercased_including_non_ascii() {
    assert_eq!(normalize("ÉCOLE", true), "école");
    assert_eq!(normalize("E\u{301}COLE", true), "école");
    assert_eq!(normalize("Alice@Example.COM", true), "alice@example.com");
    assert_eq!(normalize("ПРИВЕТ", true), "привет");
    assert_eq!(normalize("ÅNGSTRÖM", true), "ångström");
    // Default lowercase mapping, not full case folding: ß stays ß, ẞ becomes ß.
    assert_eq!(normalize("Straße", true), "straße");
    assert_eq!(normalize("STRAẞE", true), "straße");
    assert_ne!(normalize("STRASSE", true), normalize("straße", true));
    // Lowercasing, then NFC again.
    assert_eq!(normalize("\u{212a}", true), "k");
    for s in ["ÉCOLE", "e\u{301}", "İstanbul", "ΣΑΣ", "\u{1E9E}"] {
        let once = normalize(s, true);
        assert_eq!(normalize(&once, true), once, "{s:?}: idempotent");
    }
    assert_eq!(
        encode_value(&parts(&["ÉCOLE", "Ops#1"]), true),
        encode_value(&parts(&["école", "ops#1"]), true)
    );
    assert_eq!(encode_value(&parts(&["Ops#1"]), true), "ops%231");
}

fn user_email() -> UniqueConstraint {
    UniqueConstraint {
        name: "email",
        fields: &["email"],
        scope: UniqueScope::Account,
        case_insensitive: true,
    }
}

#[test]
fn marker_keys_follow_the_contract() {
    let key = marker_key(
        "System.Account.User",
        &user_email(),
        ACCOUNT,
        &parts(&["Alice@Example.com"]),
    )
    .unwrap();
    assert_eq!(
        key,
        format!("unique#System.Account.User#email#{ACCOUNT}#alice@example.com")
    );
    let slug = UniqueConstraint {
        name: "slug",
        fields: &["slug"],
        scope: UniqueScope::Global,
        case_insensitive: false,
    };
    assert_eq!(
        marker_key("System.Account", &slug, "global", &parts(&["acme"])).unwrap(),
        "unique#System.Account#slug#global#acme"
    );
    let composite = UniqueConstraint {
        name: "name_team",
        fields: &["name", "team"],
        scope: UniqueScope::Parent,
        case_insensitive: false,
    };
    assert_eq!(
        marker_key("System.Job", &composite, ACCOUNT, &parts(&["ops#1", "50%"])).unwrap(),
        format!("unique#System.Job#name_team#{ACCOUNT}#ops%231#50%25")
    );
}

#[test]
fn marker_keys_over_1024_bytes_are_refused() {
    let c = user_email();
    let prefix_len = format!("unique#System.Account.User#email#{ACCOUNT}#").len();
    let fits = "a".repeat(MAX_MARKER_KEY_BYTES - prefix_len);
    let key = marker_key(
        "System.Account.User",
        &c,
        ACCOUNT,
        std::slice::from_ref(&fits),
    )
    .unwrap();
    assert_eq!(key.len(), MAX_MARKER_KEY_BYTES);

    let over = format!("{fits}b");
    match marker_key("System.Account.User", &c, ACCOUNT, &[over]) {
        Err(Error::KeyTooLong {
            attribute,
            size,
            limit,
            key,
        }) => {
            assert_eq!(size, MAX_MARKER_KEY_BYTES + 1);
            assert_eq!(limit, 1024);
            assert!(
                attribute.contains("System.Account.User.email"),
                "{attribute}"
            );
            assert!(key.len() < 200, "the key is cut for the message");
        }
        other => panic!("expected KeyTooLong, got {other:?}"),
    }

    // Bytes count, not characters: 400 euro signs are 1200 bytes.
    let err = marker_key("System.Account.User", &c, ACCOUNT, &["€".repeat(400)]).unwrap_err();
    assert!(
        matches!(err, Error::KeyTooLong { size, .. } if size > 1200),
        "{err:?}"
    );
    assert!(err.to_string().contains("1024"), "{err}");

    // Escaping counts: 330 `#` escape to 990 bytes.
    let err = marker_key("System.Account.User", &c, ACCOUNT, &["#".repeat(330)]).unwrap_err();
    assert!(matches!(err, Error::KeyTooLong { .. }), "{err:?}");

    // A huge value is refused too, and the message stays short.
    let err = marker_key("System.Account.User", &c, ACCOUNT, &["x".repeat(1 << 20)]).unwrap_err();
    assert!(err.to_string().len() < 400);
}

fn part_strategy() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            Just("#".to_string()),
            Just("%".to_string()),
            Just("%23".to_string()),
            Just("%25".to_string()),
            Just("2".to_string()),
            Just("3".to_string()),
            Just("a".to_string()),
            Just("A".to_string()),
            Just("é".to_string()),
            Just("É".to_string()),
            Just("e\u{301}".to_string()),
            Just("\u{301}".to_string()),
            Just("ß".to_string()),
            Just("\u{212a}".to_string()),
            any::<char>().prop_map(String::from),
        ],
        0..6,
    )
    .prop_map(|v| v.concat())
}

fn parts_strategy() -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec(part_strategy(), 1..4)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn encode_value_is_injective(
        a in parts_strategy(),
        b in parts_strategy(),
        case_insensitive in any::<bool>(),
    ) {
        let norm = |v: &[String]| -> Vec<String> {
            v.iter().map(|p| normalize(p, case_insensitive)).collect()
        };
        let (na, nb) = (norm(&a), norm(&b));
        let (ea, eb) = (encode_value(&a, case_insensitive), encode_value(&b, case_insensitive));
        prop_assert_eq!(na == nb, ea == eb, "{:?} -> {:?}, {:?} -> {:?}", a, ea, b, eb);
        prop_assert_eq!(decode_value(&ea), na);
        prop_assert_eq!(decode_value(&eb), nb);
    }

    #[test]
    fn encode_value_is_injective_on_near_collisions(
        a in parts_strategy(),
        split in any::<prop::sample::Index>(),
    ) {
        // The same text cut into parts, and the text with the cut as a literal `#`.
        let joined = a.join("#");
        let chars: Vec<char> = joined.chars().collect();
        let i = split.index(chars.len() + 1);
        let left: String = chars[..i].iter().collect();
        let right: String = chars[i..].iter().collect();
        let whole = vec![format!("{left}#{right}")];
        let cut = vec![left, right];
        prop_assert_ne!(encode_value(&whole, false), encode_value(&cut, false));
    }

    #[test]
    fn normalize_is_idempotent(s in part_strategy(), case_insensitive in any::<bool>()) {
        let once = normalize(&s, case_insensitive);
        prop_assert_eq!(normalize(&once, case_insensitive), once);
    }
}
