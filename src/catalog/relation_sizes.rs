//! `pg_relation_size`, `pg_table_size`, `pg_total_relation_size` and `pg_indexes_size` of our
//! relations, for psql `\dt+` / `\d+`, DBeaver's and pgAdmin's table lists and monitoring
//! queries. A Delta table's size is the bytes of the data files its current version reads (what
//! DESCRIBE DETAIL calls `sizeInBytes`; the log is not counted, as PostgreSQL does not count its
//! WAL); its indexes' size is 0 (a Delta table has none); a view is 0 bytes, as in PostgreSQL, and
//! so are the catalog's own relations, which keep no storage here. An OID that names no relation
//! is NULL, as in PostgreSQL. The library answered 0 for every table (a silent wrong answer)
//! and `pg_table_size` was NULL.
//!
//! The functions are asynchronous: a size needs the table's current snapshot.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::array::{Array, AsArray, Int64Array};
use datafusion::arrow::datatypes::{DataType, Int64Type};
use datafusion::catalog::SchemaProvider;
use datafusion::error::Result;
use datafusion::execution::session_state::SessionStateBuilder;
use datafusion::logical_expr::async_udf::{AsyncScalarUDF, AsyncScalarUDFImpl};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

use super::{DeltaCatalog, TableRef};

/// Which size a function answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Measure {
    /// The table's data (`pg_relation_size`, `pg_table_size`, `pg_total_relation_size`).
    Data,
    /// Its indexes (`pg_indexes_size`): none.
    Indexes,
}

/// One of the size functions (see the module header).
#[derive(Debug)]
struct RelationSize {
    name: &'static str,
    measure: Measure,
    signature: Signature,
    /// The library's `pg_catalog`, whose `pg_class` and `pg_namespace` give each OID's name.
    library: Arc<dyn SchemaProvider>,
    delta: Arc<DeltaCatalog>,
}

impl PartialEq for RelationSize {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for RelationSize {}

impl Hash for RelationSize {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.name.hash(state);
    }
}

/// The size functions over `delta`'s tables, OIDs read from the library's `pg_catalog`.
pub(super) fn size_functions(
    library: Arc<dyn SchemaProvider>,
    delta: Arc<DeltaCatalog>,
) -> Vec<ScalarUDF> {
    [
        ("pg_relation_size", Measure::Data),
        ("pg_table_size", Measure::Data),
        ("pg_total_relation_size", Measure::Data),
        ("pg_indexes_size", Measure::Indexes),
    ]
    .into_iter()
    .map(|(name, measure)| {
        AsyncScalarUDF::new(Arc::new(RelationSize {
            name,
            measure,
            // `pg_relation_size(rel, fork)` names a fork too: the main fork is the data.
            signature: Signature::variadic_any(Volatility::Stable),
            library: library.clone(),
            delta: delta.clone(),
        }))
        .into_scalar_udf()
    })
    .collect()
}

impl ScalarUDFImpl for RelationSize {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int64)
    }

    fn invoke_with_args(&self, _args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        datafusion::common::internal_err!("{} runs asynchronously", self.name)
    }
}

#[async_trait]
impl AsyncScalarUDFImpl for RelationSize {
    async fn invoke_async_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let Some(first) = args.args.first() else {
            return datafusion::common::plan_err!("{} needs a relation", self.name);
        };
        let relations = first.to_array(args.number_rows)?;
        let by_text = relations.data_type().is_string();
        let names = self.relation_names(&relations).await?;
        let mut sizes: HashMap<(String, String), Option<i64>> = HashMap::new();
        let mut out = Vec::with_capacity(names.len());
        for name in names {
            let size = match name {
                None => None,
                Some(name) => match sizes.get(&name) {
                    Some(size) => *size,
                    None => {
                        let size = self.size_of(&name).await;
                        // A name, unlike an OID, must name a relation (PostgreSQL's regclass
                        // input fails on it).
                        if by_text && size.is_none() {
                            let error = crate::error::Error::undefined_table(&name.1);
                            return Err(datafusion::error::DataFusionError::External(Box::new(
                                error,
                            )));
                        }
                        sizes.insert(name, size);
                        size
                    }
                },
            };
            out.push(size);
        }
        Ok(ColumnarValue::Array(Arc::new(Int64Array::from(out))))
    }
}

impl RelationSize {
    /// The (schema, name) each argument names: an OID, or a relation's name (`'t'`, `'s.t'`;
    /// an unqualified name is looked up in `public`).
    async fn relation_names(&self, relations: &dyn Array) -> Result<Vec<Option<(String, String)>>> {
        if relations.data_type().is_string() || relations.data_type().is_null() {
            let texts = datafusion::arrow::compute::cast(relations, &DataType::Utf8)?;
            let texts = texts.as_string::<i32>();
            return Ok((0..texts.len())
                .map(|row| {
                    texts.is_valid(row).then(|| {
                        let text = texts.value(row);
                        match text.split_once('.') {
                            Some((schema, name)) => (schema.to_string(), name.to_string()),
                            None => ("public".to_string(), text.to_string()),
                        }
                    })
                })
                .collect());
        }
        let oids = datafusion::arrow::compute::cast(relations, &DataType::Int64)?;
        let oids = oids.as_primitive::<Int64Type>();
        let state = SessionStateBuilder::new().build();
        let by_name = super::descriptions::relation_oids(self.library.as_ref(), &state).await?;
        let by_oid: HashMap<i64, (String, String)> = by_name
            .into_iter()
            .map(|(name, oid)| (i64::from(oid), name))
            .collect();
        Ok((0..oids.len())
            .map(|row| {
                oids.is_valid(row)
                    .then(|| by_oid.get(&oids.value(row)).cloned())
                    .flatten()
            })
            .collect())
    }

    /// The size of the relation `(schema, name)`; None when there is no such relation.
    async fn size_of(&self, (schema, name): &(String, String)) -> Option<i64> {
        let table_ref = TableRef {
            schema: schema.clone(),
            table: name.clone(),
        };
        if self.delta.table_exists(&table_ref) {
            if self.measure == Measure::Indexes {
                return Some(0);
            }
            // An unreadable table's own queries say why; its size is unknown.
            let table = self.delta.load(&table_ref).await.ok()?;
            let snapshot = table.snapshot().ok()?;
            return Some(snapshot.log_data().iter().map(|file| file.size()).sum());
        }
        // An unqualified catalog relation's name (`'pg_class'`) was looked up in `public`.
        let catalog_relation = self.delta.view(&table_ref).is_some()
            || schema == "pg_catalog"
            || schema == "information_schema"
            || schema == "public" && self.library.table_exist(name);
        catalog_relation.then_some(0)
    }
}
