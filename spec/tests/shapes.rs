//! The catalog's result shapes: one for every operation, each within the shape subset.

use dockhand_spec::Catalog;
use dockhand_spec::shape::{check, result_shape};

#[test]
fn every_operation_says_what_it_returns() {
    let catalog = Catalog::load_default().unwrap();
    let missing: Vec<&str> = catalog
        .operations()
        .filter(|(_, op)| result_shape(op).is_none())
        .map(|(_, op)| op.name.as_str())
        .collect();
    assert!(missing.is_empty(), "no result shape for {missing:?}");
    for (_, op) in catalog.operations() {
        let shape = result_shape(op).unwrap();
        assert_eq!(check(&shape), Vec::<String>::new(), "{}", op.name);
    }
}
