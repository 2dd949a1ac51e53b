//! Value equality as DynamoDB's expressions see it: numbers by value, sets regardless
//! of member order, lists and maps element by element.

use super::AttributeValue;

pub(super) fn same_value(a: &AttributeValue, b: &AttributeValue) -> bool {
    use AttributeValue as V;
    match (a, b) {
        (V::SS(x), V::SS(y)) => same_members(x, y),
        (V::NS(x), V::NS(y)) => same_members(x, y),
        (V::BS(x), V::BS(y)) => same_members(x, y),
        (V::L(x), V::L(y)) => x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same_value(p, q)),
        (V::M(x), V::M(y)) => {
            x.len() == y.len() && x.iter().all(|(k, p)| y.get(k).is_some_and(|q| same_value(p, q)))
        }
        _ => a == b,
    }
}

/// Set equality (members are distinct within each set).
fn same_members<T: PartialEq>(x: &[T], y: &[T]) -> bool {
    x.len() == y.len() && x.iter().all(|m| y.contains(m))
}
