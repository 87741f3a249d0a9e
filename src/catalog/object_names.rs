//! `pg_object_name(oid, kind)`: what PostgreSQL's output functions of `regclass` and
//! `regnamespace` print for an OID, a relation's name (schema-qualified when its schema is
//! neither `pg_catalog` nor the current one, quoted where it needs to be) or a schema's; the
//! OID itself when it names nothing. The dialect plans `c.oid::regclass` in a select list and
//! `c.oid::regclass::text` as this (they printed the number), `dialect::regclass_names`.
//!
//! Asynchronous: the names come from the catalog library's `pg_class` and `pg_namespace`.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::array::{Array, AsArray, StringArray};
use datafusion::arrow::datatypes::{DataType, Int64Type};
use datafusion::catalog::SchemaProvider;
use datafusion::error::Result;
use datafusion::execution::session_state::SessionStateBuilder;
use datafusion::logical_expr::async_udf::{AsyncScalarUDF, AsyncScalarUDFImpl};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

/// The function's name, as the dialect calls it.
pub const OBJECT_NAME_FUNCTION: &str = "pg_object_name";

/// `pg_object_name` (see the module header).
#[derive(Debug)]
struct ObjectName {
    signature: Signature,
    /// The library's `pg_catalog`.
    library: Arc<dyn SchemaProvider>,
}

impl PartialEq for ObjectName {
    fn eq(&self, _other: &Self) -> bool {
        true
    }
}

impl Eq for ObjectName {}

impl Hash for ObjectName {
    fn hash<H: Hasher>(&self, state: &mut H) {
        OBJECT_NAME_FUNCTION.hash(state);
    }
}

/// The function over the library's `pg_catalog`.
pub(super) fn function(library: Arc<dyn SchemaProvider>) -> ScalarUDF {
    AsyncScalarUDF::new(Arc::new(ObjectName {
        signature: Signature::any(2, Volatility::Stable),
        library,
    }))
    .into_scalar_udf()
}

impl ScalarUDFImpl for ObjectName {
    fn name(&self) -> &str {
        OBJECT_NAME_FUNCTION
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, _args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        datafusion::common::internal_err!("{OBJECT_NAME_FUNCTION} runs asynchronously")
    }
}

#[async_trait]
impl AsyncScalarUDFImpl for ObjectName {
    async fn invoke_async_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let oids = args.args[0].to_array(args.number_rows)?;
        let oids = datafusion::arrow::compute::cast(&oids, &DataType::Int64)?;
        let oids = oids.as_primitive::<Int64Type>();
        let kind = match &args.args[1] {
            ColumnarValue::Scalar(kind) => kind.try_as_str().flatten().unwrap_or("").to_string(),
            ColumnarValue::Array(_) => String::new(),
        };
        let current_schema = args.config_options.catalog.default_schema.clone();
        let state = SessionStateBuilder::new().build();
        let schemas = super::descriptions::namespace_names(self.library.as_ref(), &state).await?;
        let names: HashMap<i64, String> = match kind.as_str() {
            "regnamespace" => schemas
                .into_iter()
                .map(|(oid, name)| (i64::from(oid), super::pg::quote_identifier(&name)))
                .collect(),
            _ => super::descriptions::relation_oids(self.library.as_ref(), &state)
                .await?
                .into_iter()
                .map(|((schema, name), oid)| {
                    let name = if schema == "pg_catalog" || schema == current_schema {
                        super::pg::quote_identifier(&name)
                    } else {
                        format!(
                            "{}.{}",
                            super::pg::quote_identifier(&schema),
                            super::pg::quote_identifier(&name)
                        )
                    };
                    (i64::from(oid), name)
                })
                .collect(),
        };
        let out: StringArray = (0..oids.len())
            .map(|row| {
                oids.is_valid(row).then(|| {
                    let oid = oids.value(row);
                    names.get(&oid).cloned().unwrap_or_else(|| oid.to_string())
                })
            })
            .collect();
        Ok(ColumnarValue::Array(Arc::new(out)))
    }
}
