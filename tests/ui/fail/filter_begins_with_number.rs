// `begins_with` is for fields stored as strings.
use ddbrel_runtime::{Entity, Filter};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, Entity)]
#[urn(type = "Ui.Task")]
struct Task {
    title: String,
    priority: u8,
}

fn main() {
    let _: Filter<Task> = Task::fields().title.begins_with("fix");
    let _: Filter<Task> = Task::fields().priority.begins_with("1");
}
