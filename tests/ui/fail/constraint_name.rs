use ddbrel_runtime::Entity;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Entity)]
#[urn(type = "System.Person")]
#[unique(fields(first_name, last_name), name = "Full-Name")]
#[unique(fields(first_name, last_name, birth_year))]
#[unique(fields(first_name, nickname))]
pub struct Person {
    pub first_name: String,
    pub last_name: String,
    pub birth_year: u16,
    #[unique(name = "email")]
    pub email: String,
    #[unique]
    pub email_address: String,
    #[unique(name = "email_address")]
    pub backup_email: String,
    #[unique]
    #[allow(non_snake_case)]
    pub phoneNumber: String,
}

fn main() {}
