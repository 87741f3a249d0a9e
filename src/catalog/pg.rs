//! `pg_catalog` for psql and BI tools, from `datafusion-pg-catalog`, plus the few functions it leaves
//! out that clients call at connect time.

use std::sync::Arc;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::ScalarValue;
use datafusion::logical_expr::{
    ColumnarValue, ScalarUDF, Signature, SimpleScalarUDF, TypeSignature, Volatility, create_udf,
};
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
pub fn install_pg_catalog(ctx: &SessionContext, users: Vec<String>) -> Result<()> {
    datafusion_pg_catalog::setup_pg_catalog(ctx, CATALOG_NAME, EmptyContextProvider)
        .map_err(|e| Error::internal(format!("cannot set up pg_catalog: {e}")))?;
    let catalog = ctx
        .catalog(CATALOG_NAME)
        .ok_or_else(|| Error::internal("the deltagres catalog is not registered"))?;
    // The library's tables walk every table; through the tolerant list an unreadable one is
    // listed without columns instead of failing the walk (see `unreadable`).
    let library_schema: Arc<dyn datafusion::catalog::SchemaProvider> = Arc::new(
        datafusion_pg_catalog::pg_catalog::PgCatalogSchemaProvider::try_new(
            super::unreadable::TolerantCatalogList::wrap(ctx.state().catalog_list().clone()),
            Arc::new(
                datafusion_pg_catalog::pg_catalog::PgCatalogStaticTables::try_new()
                    .map_err(|e| Error::internal(format!("cannot set up pg_catalog: {e}")))?,
            ),
            EmptyContextProvider,
        )
        .map_err(|e| Error::internal(format!("cannot set up pg_catalog: {e}")))?,
    );
    catalog
        .register_schema(
            "pg_catalog",
            Arc::new(super::pg_tables::PgCatalogSchema::new(
                library_schema.clone(),
                ctx.state().catalog_list().clone(),
                users,
            )),
        )
        .map_err(|e| Error::internal(format!("cannot set up pg_catalog: {e}")))?;
    ctx.register_udf(ScalarUDF::from(super::pg_typeof::PgTypeof::new()));
    // psql `\d`: generated columns' expressions (see pg_attrdef).
    ctx.register_udf(ScalarUDF::from(super::pg_attrdef::PgGetExpr::new()));
    // psql `\d`: names for the types of struct and list-of-struct columns.
    if let Some(library) = ctx.state().scalar_functions().get("format_type").cloned() {
        ctx.register_udf(ScalarUDF::from(super::format_type_udf::FormatType::new(
            library,
        )));
    }
    register_constant(
        ctx,
        "version",
        Signature::exact(vec![], Volatility::Stable),
        ScalarValue::Utf8(Some(version_string())),
    );
    // psql `\df`, `\dT`: every function and type we list is visible.
    for name in ["pg_function_is_visible", "pg_type_is_visible"] {
        register_constant(
            ctx,
            name,
            Signature::exact(vec![DataType::Int32], Volatility::Stable),
            ScalarValue::Boolean(Some(true)),
        );
    }
    // dbt's catalog query (`dbt docs generate`) and psql skip other sessions' temporary
    // schemas; a session's temporary tables are not listed in pg_namespace at all.
    register_constant(
        ctx,
        "pg_is_other_temp_schema",
        Signature::any(1, Volatility::Stable),
        ScalarValue::Boolean(Some(false)),
    );
    // psql `\dt+`, DBeaver, pgAdmin: sizes of the Delta tables (see relation_sizes).
    if let Some(delta) = super::provider::shared_delta_catalog(ctx.state().catalog_list().as_ref())
    {
        for function in super::relation_sizes::size_functions(library_schema.clone(), delta) {
            ctx.register_udf(function);
        }
    }
    // `c.oid::regclass` shown as the relation's name (see object_names).
    ctx.register_udf(super::object_names::function(library_schema.clone()));
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
    // psql `\d+`, `\df`, Metabase, SQLAlchemy: descriptions, signatures and serial sequences;
    // we store none, so NULL. Any argument types: clients pass oids as int4, int8 or text.
    let null_text: [(&str, usize); 6] = [
        ("col_description", 2),
        ("obj_description", 2),
        ("shobj_description", 2),
        ("pg_get_function_result", 1),
        ("pg_get_function_arguments", 1),
        ("pg_get_serial_sequence", 2),
    ];
    for (name, arity) in null_text {
        register_constant(
            ctx,
            name,
            Signature::any(arity, Volatility::Stable),
            ScalarValue::Utf8(None),
        );
    }
    ctx.register_udf(ScalarUDF::from(super::expand_array::ExpandArray::new()));
    // pgjdbc `getIndexInfo`: Delta tables have no indexes; the catalog's own keep no definition.
    register_constant(
        ctx,
        "pg_get_indexdef",
        Signature::variadic_any(Volatility::Stable),
        ScalarValue::Utf8(None),
    );
    // psql `\l`, pgAdmin: every database is UTF8 (PostgreSQL's name; the library says UTF-8).
    register_constant(
        ctx,
        "pg_encoding_to_char",
        Signature::any(1, Volatility::Immutable),
        ScalarValue::Utf8(Some("UTF8".into())),
    );
    // SQLAlchemy's column query, pgAdmin and Grafana at connect: every collation is visible, the
    // server is never a standby.
    register_constant(
        ctx,
        "pg_collation_is_visible",
        Signature::any(1, Volatility::Stable),
        ScalarValue::Boolean(Some(true)),
    );
    for name in ["pg_is_in_recovery", "pg_is_wal_replay_paused"] {
        register_constant(
            ctx,
            name,
            Signature::nullary(Volatility::Stable),
            ScalarValue::Boolean(Some(false)),
        );
    }
    // Grafana, pgAdmin, Metabase: settings. The session replaces calls with literal names by the
    // session's values before planning (session::setting_functions); these are for describing
    // prepared statements and for names that are not literals.
    ctx.register_udf(ScalarUDF::from(SimpleScalarUDF::new_with_signature(
        "current_setting",
        Signature::one_of(
            vec![
                TypeSignature::Exact(vec![DataType::Utf8]),
                TypeSignature::Exact(vec![DataType::Utf8, DataType::Boolean]),
            ],
            Volatility::Stable,
        ),
        DataType::Utf8,
        Arc::new(|_args: &[ColumnarValue]| Ok(ColumnarValue::Scalar(ScalarValue::Utf8(None)))),
    )));
    ctx.register_udf(ScalarUDF::from(SimpleScalarUDF::new_with_signature(
        "set_config",
        Signature::exact(
            vec![DataType::Utf8, DataType::Utf8, DataType::Boolean],
            Volatility::Volatile,
        ),
        DataType::Utf8,
        Arc::new(|args: &[ColumnarValue]| Ok(args[1].clone())),
    )));
    // Quoting for dynamic SQL: NULL stays NULL, except `quote_nullable`'s `NULL`.
    type Quote = fn(&[Option<String>]) -> datafusion::error::Result<Option<String>>;
    let quoting: [(&str, Quote); 3] = [
        ("quote_literal", |v| Ok(v[0].as_deref().map(quote_literal))),
        ("quote_nullable", |v| {
            Ok(Some(
                v[0].as_deref()
                    .map_or_else(|| "NULL".to_string(), quote_literal),
            ))
        }),
        ("quote_ident", |v| Ok(v[0].as_deref().map(quote_identifier))),
    ];
    for (name, quote) in quoting {
        ctx.register_udf(ScalarUDF::from(SimpleScalarUDF::new_with_signature(
            name,
            Signature::any(1, Volatility::Immutable),
            DataType::Utf8,
            Arc::new(move |args: &[ColumnarValue]| row_wise(args, quote)),
        )));
    }
    ctx.register_udf(ScalarUDF::from(SimpleScalarUDF::new_with_signature(
        "format",
        Signature::variadic_any(Volatility::Immutable),
        DataType::Utf8,
        Arc::new(|args: &[ColumnarValue]| row_wise(args, format_text)),
    )));
    Ok(())
}

/// `pg_attribute.atttypmod` of a column of this Arrow type: clients (JDBC `getColumns` and
/// `ResultSetMetaData`, psql `\d`, `format_type`) read a decimal's precision and scale from it.
pub fn type_modifier(data_type: &DataType) -> i32 {
    match data_type {
        DataType::Decimal32(p, s)
        | DataType::Decimal64(p, s)
        | DataType::Decimal128(p, s)
        | DataType::Decimal256(p, s) => ((i32::from(*p) << 16) | (i32::from(*s) & 0xffff)) + 4,
        _ => -1,
    }
}

/// PostgreSQL's internal name (`int8`, `numeric`, `_int4`, `jsonb`) of the type an Arrow column
/// is sent as (see [`wire_type`]).
pub fn type_name(data_type: &DataType) -> String {
    wire_type(data_type).name().to_string()
}

/// The PostgreSQL type a column of `data_type` is sent as in a RowDescription and listed as in
/// `pg_attribute.atttypid`: one mapping for both, so psql's `\d` and a driver's metadata name
/// what the client receives (`bigint[]`, `record`, `jsonb` for maps and lists of lists).
pub fn wire_type(data_type: &DataType) -> pgwire::api::Type {
    if sent_as_json(data_type) {
        return pgwire::api::Type::JSONB;
    }
    arrow_pg::datatypes::into_pg_type(data_type).unwrap_or(pgwire::api::Type::TEXT)
}

/// Whether a column of `data_type` goes to the client as `jsonb`: what the encoder has no type
/// for, and structs holding nested values (the encoder's composite text leaves a nested
/// composite unquoted, `(1,(1))`, which no client parses back), alone or in a list.
pub fn sent_as_json(data_type: &DataType) -> bool {
    nested(data_type)
        && (arrow_pg::datatypes::into_pg_type(data_type).is_err() || deep_struct(data_type))
}

/// A struct with a nested field, or a list of such structs.
fn deep_struct(data_type: &DataType) -> bool {
    match data_type {
        DataType::Struct(fields) => fields.iter().any(|f| nested(f.data_type())),
        DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _) => {
            deep_struct(f.data_type())
        }
        _ => false,
    }
}

fn nested(data_type: &DataType) -> bool {
    matches!(
        data_type,
        DataType::Map(..)
            | DataType::List(_)
            | DataType::LargeList(_)
            | DataType::FixedSizeList(..)
            | DataType::ListView(_)
            | DataType::LargeListView(_)
            | DataType::Struct(_)
    )
}

/// The PostgreSQL type a column is sent as and listed as: its [`wire_type`], or json / jsonb /
/// uuid for a column declared so (stored as text, marked in the table's schema:
/// `plan::column_input`).
pub fn field_wire_type(field: &datafusion::arrow::datatypes::Field) -> pgwire::api::Type {
    use crate::semantics::{CharKind, CharType};
    if crate::semantics::is_uuid(field) {
        return pgwire::api::Type::UUID;
    }
    match crate::semantics::json_flavor_of(field) {
        Some(crate::semantics::JsonFlavor::Json) => pgwire::api::Type::JSON,
        Some(crate::semantics::JsonFlavor::Jsonb) => pgwire::api::Type::JSONB,
        None => match CharType::of(field) {
            Some(CharType {
                kind: CharKind::Varchar,
                ..
            }) => pgwire::api::Type::VARCHAR,
            Some(CharType {
                kind: CharKind::Char,
                ..
            }) => pgwire::api::Type::BPCHAR,
            None => wire_type(field.data_type()),
        },
    }
}

/// `atttypmod` / the RowDescription's type modifier of a column: a `varchar(n)` / `char(n)`
/// column's length, else what its Arrow type carries ([`type_modifier`]).
pub fn field_type_modifier(field: &datafusion::arrow::datatypes::Field) -> i32 {
    match crate::semantics::CharType::of(field) {
        Some(char_type) => char_type.type_modifier(),
        None => type_modifier(field.data_type()),
    }
}

/// A column type as PostgreSQL's `format_type` writes it (`bigint`, `numeric(12,2)`,
/// `timestamp without time zone`, `text[]`, `jsonb`): what DESCRIBE and SHOW CREATE TABLE print.
pub fn format_type(field: &datafusion::arrow::datatypes::Field) -> String {
    if crate::semantics::json_flavor_of(field).is_some() || crate::semantics::is_uuid(field) {
        return field_wire_type(field).name().to_string();
    }
    if let Some(char_type) = crate::semantics::CharType::of(field) {
        return char_type.pg_name();
    }
    let data_type = field.data_type();
    match data_type {
        DataType::Decimal32(p, s)
        | DataType::Decimal64(p, s)
        | DataType::Decimal128(p, s)
        | DataType::Decimal256(p, s) => format!("numeric({p},{s})"),
        DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _)
            if !sent_as_json(data_type) =>
        {
            format!("{}[]", format_type(f))
        }
        other => sql_name(&type_name(other)).to_string(),
    }
}

/// [`format_type`] without the type's modifiers (`numeric`, `character varying(10)[]` is
/// `character varying[]`), as `pg_typeof` and PostgreSQL's type-mismatch messages write a type.
pub fn format_type_name(field: &datafusion::arrow::datatypes::Field) -> String {
    if field.data_type() == &DataType::Null {
        return "unknown".to_string();
    }
    let full = format_type(field);
    let mut name = String::with_capacity(full.len());
    let mut depth = 0usize;
    for c in full.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            _ if depth == 0 => name.push(c),
            _ => {}
        }
    }
    name
}

/// The SQL name of a PostgreSQL internal type name (`int8` -> `bigint`), as `format_type` and
/// `information_schema` write it; names without a long form stay as they are.
pub(super) fn sql_name(udt: &str) -> &str {
    match udt {
        "bool" => "boolean",
        "int2" => "smallint",
        "int4" => "integer",
        "int8" => "bigint",
        "float4" => "real",
        "float8" => "double precision",
        "varchar" => "character varying",
        "bpchar" => "character",
        "time" => "time without time zone",
        "timetz" => "time with time zone",
        "timestamp" => "timestamp without time zone",
        "timestamptz" => "timestamp with time zone",
        other => other,
    }
}

/// Registers a function that returns `value` whatever its arguments.
pub(super) fn register_constant(
    ctx: &SessionContext,
    name: &str,
    signature: Signature,
    value: ScalarValue,
) {
    let data_type = value.data_type();
    ctx.register_udf(ScalarUDF::from(SimpleScalarUDF::new_with_signature(
        name,
        signature,
        data_type,
        Arc::new(move |_args: &[ColumnarValue]| Ok(ColumnarValue::Scalar(value.clone()))),
    )));
}

/// Applies `f` to each row's argument values (as PostgreSQL text, NULL as `None`); a text result.
fn row_wise(
    args: &[ColumnarValue],
    f: fn(&[Option<String>]) -> datafusion::error::Result<Option<String>>,
) -> datafusion::error::Result<ColumnarValue> {
    use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
    let rows = args
        .iter()
        .find_map(|a| match a {
            ColumnarValue::Array(array) => Some(array.len()),
            ColumnarValue::Scalar(_) => None,
        })
        .unwrap_or(1);
    let arrays = ColumnarValue::values_to_arrays(args)?;
    let options = FormatOptions::default();
    let formatters = arrays
        .iter()
        .map(|a| ArrayFormatter::try_new(a.as_ref(), &options))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let mut out = datafusion::arrow::array::StringBuilder::new();
    let mut values = Vec::with_capacity(arrays.len());
    for row in 0..rows {
        values.clear();
        for (array, formatter) in arrays.iter().zip(&formatters) {
            // Logical nulls: a NULL literal arrives as a NullArray, which has no null buffer.
            let valid = array
                .logical_nulls()
                .is_none_or(|nulls| nulls.is_valid(row));
            values.push(valid.then(|| formatter.value(row).to_string()));
        }
        out.append_option(f(&values)?);
    }
    let array = Arc::new(out.finish());
    Ok(
        if args.iter().all(|a| matches!(a, ColumnarValue::Scalar(_))) {
            ColumnarValue::Scalar(ScalarValue::try_from_array(array.as_ref(), 0)?)
        } else {
            ColumnarValue::Array(array)
        },
    )
}

/// PostgreSQL's `format(fmt, args...)`: `%s`, `%I`, `%L` and `%%`, each with an optional
/// position (`%2$s`), `-` flag and width (`%-10s`, `%5s`; `*` widths are refused).
fn format_text(values: &[Option<String>]) -> datafusion::error::Result<Option<String>> {
    let Some(Some(template)) = values.first() else {
        return Ok(None);
    };
    let args = &values[1..];
    let mut next_arg = 0usize;
    let mut out = String::with_capacity(template.len());
    let mut chars = template.chars().peekable();
    let error = |message: String| datafusion::error::DataFusionError::Plan(message);
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        if chars.peek() == Some(&'%') {
            chars.next();
            out.push('%');
            continue;
        }
        // [position$][-][width]type
        let mut digits = String::new();
        while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
            digits.push(*d);
            chars.next();
        }
        let mut position = None;
        if !digits.is_empty() && chars.peek() == Some(&'$') {
            chars.next();
            let n: usize = digits.parse().unwrap_or(0);
            if n == 0 {
                return Err(error(
                    "format specifies argument 0, but arguments are numbered from 1".into(),
                ));
            }
            position = Some(n - 1);
            digits.clear();
        }
        let mut left = false;
        if digits.is_empty() {
            while chars.peek() == Some(&'-') {
                left = true;
                chars.next();
            }
            while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                digits.push(*d);
                chars.next();
            }
        }
        let width: usize = digits.parse().unwrap_or(0);
        let spec = chars.next();
        if spec == Some('*') {
            return Err(error(
                "format() widths given by an argument (`*`) are not supported".into(),
            ));
        }
        let index = position.unwrap_or(next_arg);
        next_arg = index + 1;
        let arg = args
            .get(index)
            .ok_or_else(|| error("too few arguments for format()".into()))?;
        let text = match (spec, arg) {
            (Some('s'), Some(v)) => v.clone(),
            (Some('s'), None) => String::new(),
            (Some('I'), Some(v)) => quote_identifier(v),
            (Some('L'), Some(v)) => quote_literal(v),
            (Some('L'), None) => "NULL".to_string(),
            (Some('I'), None) => {
                return Err(error(
                    "null values cannot be formatted as an SQL identifier".into(),
                ));
            }
            (other, _) => {
                return Err(error(format!(
                    "unrecognized format() type specifier \"{}\"",
                    other.map(String::from).unwrap_or_default()
                )));
            }
        };
        let pad = width.saturating_sub(text.chars().count());
        if left {
            out.push_str(&text);
            out.extend(std::iter::repeat_n(' ', pad));
        } else {
            out.extend(std::iter::repeat_n(' ', pad));
            out.push_str(&text);
        }
    }
    Ok(Some(out))
}

/// PostgreSQL's `quote_literal`: quotes doubled, and a text holding a backslash written as an
/// `E'...'` string with the backslashes doubled.
fn quote_literal(text: &str) -> String {
    let quoted = text.replace('\'', "''");
    if text.contains('\\') {
        format!("E'{}'", quoted.replace('\\', "\\\\"))
    } else {
        format!("'{quoted}'")
    }
}

/// An identifier quoted only when PostgreSQL would need it.
pub(super) fn quote_identifier(name: &str) -> String {
    let plain = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if plain {
        name.to_string()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
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
    use super::*;

    #[test]
    fn format_matches_postgres() {
        let v = |s: &[Option<&str>]| s.iter().map(|x| x.map(String::from)).collect::<Vec<_>>();
        assert_eq!(
            format_text(&v(&[
                Some("%I.%I = %L, %s%%"),
                Some("public"),
                Some("My T"),
                Some("it's"),
                None
            ]))
            .unwrap()
            .as_deref(),
            Some("public.\"My T\" = 'it''s', %")
        );
    }

    #[test]
    fn format_takes_positions_flags_and_widths() {
        let v = |s: &[Option<&str>]| s.iter().map(|x| x.map(String::from)).collect::<Vec<_>>();
        let f = |s: &[Option<&str>]| format_text(&v(s)).unwrap();
        assert_eq!(
            f(&[Some("%5s|%-5s|"), Some("a"), Some("b")]).as_deref(),
            Some("    a|b    |")
        );
        assert_eq!(
            f(&[Some("%2$s %1$s %s"), Some("a"), Some("b")]).as_deref(),
            Some("b a b")
        );
        assert!(format_text(&v(&[Some("%*s"), Some("3"), Some("a")])).is_err());
        assert!(format_text(&v(&[Some("%3$s"), Some("a")])).is_err());
    }

    #[test]
    fn size_pretty_matches_postgres() {
        assert_eq!(super::size_pretty(8191), "8191 bytes");
        assert_eq!(super::size_pretty(10 * 1024), "10 kB");
        assert_eq!(super::size_pretty(5 * 1024 * 1024 * 1024), "5120 MB");
    }
}
