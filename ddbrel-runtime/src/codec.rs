//! Encoding and decoding items: the former home of what now lives in `records/`
//! (attribute getters, the Resource record, sizes and limits, DynamoDB-JSON). Every item keeps
//! its path here.

pub use crate::records::attrs::{
    get_opt_s, get_s, get_ss, get_ts, get_u64, get_urn, key_of, n, record_type, s,
};
pub use crate::records::json::{from_dynamodb_json, to_dynamodb_json, to_plain_json};
pub use crate::records::resource::{ResourceMeta, decode, decode_meta, encode_fields, is_reserved};
pub use crate::records::size::{check_limits, item_size, value_size};
