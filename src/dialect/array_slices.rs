//! Array slices with an open end, `a[:2]` and `a[2:]` (PostgreSQL: from the first element, to
//! the last), which DataFusion refused (0A000 "Slice subscript requires a lower bound"): the
//! missing bound is 1, or the array's length.

use sqlparser::ast::{AccessExpr, DataType, Expr, Subscript};

use super::pg_functions::{cast, number};
use super::pg_rewrites::call;

/// Fills in the open bounds of the slices in `expr` (a subscripted expression).
pub fn rewrite(expr: &mut Expr) {
    let Expr::CompoundFieldAccess { root, access_chain } = expr else {
        return;
    };
    for i in 0..access_chain.len() {
        let open = matches!(
            &access_chain[i],
            AccessExpr::Subscript(Subscript::Slice {
                lower_bound,
                upper_bound,
                stride: None,
            }) if lower_bound.is_none() || upper_bound.is_none()
        );
        if !open {
            continue;
        }
        // The array this subscript slices: the root and the accesses before it.
        let sliced = match i {
            0 => root.as_ref().clone(),
            _ => Expr::CompoundFieldAccess {
                root: root.clone(),
                access_chain: access_chain[..i].to_vec(),
            },
        };
        if let AccessExpr::Subscript(Subscript::Slice {
            lower_bound,
            upper_bound,
            ..
        }) = &mut access_chain[i]
        {
            lower_bound.get_or_insert_with(|| number(1));
            upper_bound.get_or_insert_with(|| {
                cast(call("cardinality", vec![sliced]), DataType::BigInt(None))
            });
        }
    }
}
