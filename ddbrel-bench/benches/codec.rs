//! Encode and decode of Resource items: ddbrel against `serde_dynamo` with the reserved
//! attributes handled by hand. No I/O: this pair measures the client's own CPU.

use std::hint::black_box;
use std::time::Duration;

use criterion::{BatchSize, Bencher, Criterion, criterion_group, criterion_main};
use ddbrel_bench::{baseline_first, ddbrel_side, fixture, paired, paired_with_input, raw};
use ddbrel_runtime::{Urn, codec, time, unique};
use entities::{Account, Job, JobCollection, User};

fn codec(c: &mut Criterion) {
    let account = Urn::<Account>::new();
    let collection = Urn::<JobCollection>::new();
    let a = account.as_any().clone();
    let col = collection.as_any().clone();
    let user = fixture::user(42);
    let user_urn = Urn::<User>::new();
    let job = fixture::job(42);
    let job_urn = Urn::<Job>::new();
    let parent_ancestors = [a.clone()];

    let encode_user = || {
        ddbrel_side::encode(
            black_box(&user_urn),
            black_box(&user),
            Some(&a),
            Some(&a),
            &[],
        )
        .unwrap()
    };
    let encode_user_raw = || {
        raw::encode_user(
            black_box(user_urn.as_str()),
            black_box(&user),
            account.as_str(),
            &raw::now_text(),
        )
        .unwrap()
    };
    let encode_job = || {
        ddbrel_side::encode(
            black_box(&job_urn),
            black_box(&job),
            Some(&a),
            Some(&col),
            &parent_ancestors,
        )
        .unwrap()
    };
    let encode_job_raw = || {
        raw::encode_job(
            black_box(job_urn.as_str()),
            black_box(&job),
            account.as_str(),
            collection.as_str(),
            &raw::now_text(),
        )
        .unwrap()
    };
    // Decode the items the store writes; each side consumes a fresh clone, made untimed.
    let user_item = encode_user();
    let job_item = encode_job();
    let decode_user = |item| ddbrel_side::decode::<User>(item).unwrap();
    let decode_user_raw = |item| raw::decode::<User>(item).unwrap();
    let decode_job = |item| ddbrel_side::decode::<Job>(item).unwrap();
    let decode_job_raw = |item| raw::decode::<Job>(item).unwrap();

    // Paired by alternation: the ratios in docs/BENCHMARKS.md.
    let budget = Duration::from_secs(2);
    paired("encode User", budget, BATCH, encode_user, encode_user_raw);
    paired("encode Job", budget, BATCH, encode_job, encode_job_raw);
    paired_with_input(
        "decode User",
        budget,
        BATCH,
        || user_item.clone(),
        decode_user,
        decode_user_raw,
    );
    paired_with_input(
        "decode Job",
        budget,
        BATCH,
        || job_item.clone(),
        decode_job,
        decode_job_raw,
    );

    // Criterion, one side after the other.
    pair(
        c,
        "encode User",
        |b| b.iter(encode_user),
        |b| b.iter(encode_user_raw),
    );
    pair(
        c,
        "encode Job",
        |b| b.iter(encode_job),
        |b| b.iter(encode_job_raw),
    );
    pair(
        c,
        "decode User",
        |b| b.iter_batched(|| user_item.clone(), decode_user, BatchSize::SmallInput),
        |b| b.iter_batched(|| user_item.clone(), decode_user_raw, BatchSize::SmallInput),
    );
    pair(
        c,
        "decode Job",
        |b| b.iter_batched(|| job_item.clone(), decode_job, BatchSize::SmallInput),
        |b| b.iter_batched(|| job_item.clone(), decode_job_raw, BatchSize::SmallInput),
    );
    // Where ddbrel's encode of a User spends what the baseline does not: the parts of
    // `ddbrel_side::encode`, each alone.
    let mut g = c.benchmark_group("encode User parts");
    g.bench_function("ddbrel markers_for", |b| {
        b.iter(|| unique::markers_for(black_box(&user), Some(&a), Some(&a)).unwrap())
    });
    g.bench_function("baseline marker key", |b| {
        b.iter(|| raw::user_email_key(black_box(account.as_str()), black_box(&user.email)))
    });
    g.bench_function("ddbrel encode_fields", |b| {
        b.iter(|| codec::encode_fields(black_box(user_urn.as_str()), black_box(&user)).unwrap())
    });
    g.bench_function("baseline to_item", |b| {
        b.iter(|| serde_dynamo::to_item::<_, raw::Item>(black_box(&user)).unwrap())
    });
    g.bench_function("ddbrel check_limits", |b| {
        b.iter(|| codec::check_limits(black_box(&user_item)).unwrap())
    });
    g.bench_function("ddbrel now + format", |b| {
        b.iter(|| time::format(time::now()))
    });
    g.bench_function("baseline now_text", |b| b.iter(raw::now_text));
    g.finish();
}

/// Operations per timed batch of the paired measurement (a few hundred microseconds).
const BATCH: u32 = 100;

/// Measures one pair as a criterion group, ddbrel first unless
/// `DDBREL_BENCH_BASELINE_FIRST=1`.
fn pair(
    c: &mut Criterion,
    name: &str,
    mut ddbrel: impl FnMut(&mut Bencher<'_>),
    mut baseline: impl FnMut(&mut Bencher<'_>),
) {
    let mut g = c.benchmark_group(name);
    if baseline_first() {
        g.bench_function("baseline", &mut baseline);
        g.bench_function("ddbrel", &mut ddbrel);
    } else {
        g.bench_function("ddbrel", &mut ddbrel);
        g.bench_function("baseline", &mut baseline);
    }
    g.finish();
}

fn config() -> Criterion {
    // More samples than the I/O benchmarks: they cost no extra time here (the measurement
    // time is fixed) and tighten the estimate of sub-microsecond operations.
    Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
}

criterion_group! {
    name = benches;
    config = config();
    targets = codec
}
criterion_main!(benches);
