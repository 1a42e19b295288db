//! Arbitrary bytes, taken as text when they are UTF-8, through the strict URN parser: it must
//! not panic, and a URN it accepts prints back as exactly the input and parses again to an
//! equal URN (SCHEMA.md section 3: only the canonical spelling is accepted).

#![no_main]

use ddbrel_runtime::{AnyUrn, Urn};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(urn) = AnyUrn::parse(input) else {
        return;
    };
    let printed = urn.to_string();
    assert_eq!(printed, input, "a URN prints as its canonical input");
    assert_eq!(urn.as_str(), input);
    let again = AnyUrn::parse(&printed).expect("a printed URN parses");
    assert_eq!(again, urn);
    assert!(input.is_ascii(), "URNs are pure ASCII");
    assert!(input.len() <= 1013, "URNs are at most 1013 bytes");
    // A typed URN accepts exactly the URNs of its type.
    let job = Urn::<entities::Job>::parse(input);
    assert_eq!(job.is_ok(), urn.is::<entities::Job>());
    if let Ok(job) = job {
        assert_eq!(job.as_any(), &urn);
    }
});
