// A filter's value has the field's type: a number for a string field does not compile.
use ddbrel_runtime::Filter;
use entities::Job;

fn main() {
    let _: Filter<Job> = Job::fields().name.equals(5);
}
