//! `pg_catalog` for psql and BI tools, from `datafusion-pg-catalog`, plus the few functions it leaves
//! out that clients call at connect time.

use std::sync::Arc;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::ScalarValue;
use datafusion::logical_expr::{ColumnarValue, Volatility, create_udf};
use datafusion::prelude::SessionContext;
use datafusion_pg_catalog::pg_catalog::context::EmptyContextProvider;

use super::CATALOG_NAME;
use crate::error::{Error, Result};

/// The `version()` string: PostgreSQL-shaped so drivers that parse it (JDBC, SQLAlchemy) accept it.
pub fn version_string() -> String {
    format!(
        "PostgreSQL 16.0 (deltagres {}) on {}-linux, compiled by rustc",
        env!("CARGO_PKG_VERSION"),
        std::env::consts::ARCH
    )
}

/// Registers `pg_catalog` inside the `deltagres` catalog and the connect-time functions.
pub fn install_pg_catalog(ctx: &SessionContext) -> Result<()> {
    datafusion_pg_catalog::setup_pg_catalog(ctx, CATALOG_NAME, EmptyContextProvider)
        .map_err(|e| Error::internal(format!("cannot set up pg_catalog: {e}")))?;
    let version = version_string();
    ctx.register_udf(create_udf(
        "version",
        vec![],
        DataType::Utf8,
        Volatility::Stable,
        Arc::new(move |_args: &[ColumnarValue]| {
            Ok(ColumnarValue::Scalar(ScalarValue::Utf8(Some(
                version.clone(),
            ))))
        }),
    ));
    // psql `\df`, `\dT`: every function and type we list is visible.
    for name in ["pg_function_is_visible", "pg_type_is_visible"] {
        ctx.register_udf(create_udf(
            name,
            vec![DataType::Int32],
            DataType::Boolean,
            Volatility::Stable,
            Arc::new(|_args: &[ColumnarValue]| {
                Ok(ColumnarValue::Scalar(ScalarValue::Boolean(Some(true))))
            }),
        ));
    }
    // psql `\dt+`: per-table sizes are not tracked by OID here (DESCRIBE DETAIL has them): NULL.
    ctx.register_udf(create_udf(
        "pg_table_size",
        vec![DataType::Int32],
        DataType::Int64,
        Volatility::Stable,
        Arc::new(|_args: &[ColumnarValue]| Ok(ColumnarValue::Scalar(ScalarValue::Int64(None)))),
    ));
    // psql `\dt+`: sizes in PostgreSQL's human form.
    ctx.register_udf(create_udf(
        "pg_size_pretty",
        vec![DataType::Int64],
        DataType::Utf8,
        Volatility::Immutable,
        Arc::new(|args: &[ColumnarValue]| {
            let arrays = ColumnarValue::values_to_arrays(args)?;
            let sizes = datafusion::arrow::array::AsArray::as_primitive::<
                datafusion::arrow::datatypes::Int64Type,
            >(&arrays[0]);
            let pretty: datafusion::arrow::array::StringArray =
                sizes.iter().map(|v| v.map(size_pretty)).collect();
            Ok(ColumnarValue::Array(Arc::new(pretty)))
        }),
    ));
    // psql `\d+`, `\df`: descriptions and function signatures; we store none, so NULL.
    let null_text: [(&str, Vec<DataType>); 5] = [
        ("col_description", vec![DataType::Int32, DataType::Int32]),
        ("obj_description", vec![DataType::Int32, DataType::Utf8]),
        ("shobj_description", vec![DataType::Int32, DataType::Utf8]),
        ("pg_get_function_result", vec![DataType::Int32]),
        ("pg_get_function_arguments", vec![DataType::Int32]),
    ];
    for (name, args) in null_text {
        ctx.register_udf(create_udf(
            name,
            args,
            DataType::Utf8,
            Volatility::Stable,
            Arc::new(|_args: &[ColumnarValue]| Ok(ColumnarValue::Scalar(ScalarValue::Utf8(None)))),
        ));
    }
    Ok(())
}

/// PostgreSQL's `pg_size_pretty`: bytes below 10 kB, then kB, MB, GB, TB (rounded, base 1024).
fn size_pretty(bytes: i64) -> String {
    let units = ["bytes", "kB", "MB", "GB", "TB", "PB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value.abs() >= 10.0 * 1024.0 - 0.5 && unit + 1 < units.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{} {}", value.round() as i64, units[unit])
}

#[cfg(test)]
mod tests {
    #[test]
    fn size_pretty_matches_postgres() {
        assert_eq!(super::size_pretty(8191), "8191 bytes");
        assert_eq!(super::size_pretty(10 * 1024), "10 kB");
        assert_eq!(super::size_pretty(5 * 1024 * 1024 * 1024), "5120 MB");
    }
}
