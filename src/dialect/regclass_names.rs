//! `'pg_class'::regclass` names PostgreSQL's own catalog relation, as PostgreSQL resolves an
//! unqualified name (`pg_catalog` is searched first). The catalog library resolves such a name in
//! the current schema only, so it was NULL, and client queries that filter on it
//! (`d.classoid = 'pg_class'::regclass`: Metabase, DBeaver, pgjdbc) found nothing. The names
//! of the catalog relations clients ask for are qualified here, before the library's rules run.

use std::ops::ControlFlow;

use sqlparser::ast::{DataType, Expr, Statement, Value, visit_expressions_mut};

/// The `pg_catalog` relations a client names in a `regclass` literal.
const CATALOG_RELATIONS: &[&str] = &[
    "pg_am",
    "pg_attrdef",
    "pg_attribute",
    "pg_class",
    "pg_collation",
    "pg_constraint",
    "pg_database",
    "pg_depend",
    "pg_description",
    "pg_enum",
    "pg_extension",
    "pg_index",
    "pg_inherits",
    "pg_language",
    "pg_namespace",
    "pg_operator",
    "pg_proc",
    "pg_rewrite",
    "pg_roles",
    "pg_sequence",
    "pg_tables",
    "pg_trigger",
    "pg_type",
    "pg_views",
];

/// Qualifies the catalog relation names of `'name'::regclass` literals in `statement`.
pub(super) fn qualify_catalog_relations(statement: &mut Statement) {
    let _ = visit_expressions_mut(statement, |expr: &mut Expr| {
        if let Expr::Cast {
            data_type: DataType::Regclass,
            expr: operand,
            ..
        } = expr
            && let Expr::Value(value) = operand.as_mut()
            && let Value::SingleQuotedString(name) = &mut value.value
            && CATALOG_RELATIONS.contains(&name.as_str())
        {
            *name = format!("pg_catalog.{name}");
        }
        ControlFlow::<()>::Continue(())
    });
}

/// The object-name types whose input functions raise an error for a name that names nothing.
const CHECKED_KINDS: &[&str] = &["regclass", "regtype", "regnamespace"];

/// `'name'::regclass` / `regtype` / `regnamespace` raise PostgreSQL's error for an unknown name
/// (see `semantics::reg_names`); `to_regclass(name)` / `to_regtype` / `to_regnamespace` are
/// the same lookups answering NULL instead. A `regtype` name in SQL's spelling (`integer`,
/// `character varying`) becomes the catalog's (`int4`, `varchar`), as `regtypein` reads it.
pub(super) fn check_object_names(statement: &mut Statement) {
    let _ = visit_expressions_mut(statement, |expr: &mut Expr| {
        if let Some((kind, name)) = object_name_cast(expr) {
            let Expr::Cast { data_type, .. } = &*expr else {
                unreachable!("object_name_cast matched a cast");
            };
            let data_type = data_type.clone();
            let name_text = name.clone();
            if let Expr::Cast { expr: operand, .. } = expr
                && kind == "regtype"
                && let Expr::Value(value) = operand.as_mut()
            {
                value.value = Value::SingleQuotedString(catalog_type_name(&name));
            }
            // Cast again: the result keeps the kind a `::oid` or a comparison expects.
            let mut checked = vec![expr.clone(), text(kind), text(&name_text)];
            // A qualified relation name (plain identifiers): its schema's lookup, checked first.
            if kind == "regclass"
                && let Some((schema, _)) = name_text.split_once('.')
                && !name_text.contains('"')
            {
                checked.push(super::pg_functions::cast(
                    text(schema),
                    object_type("regnamespace"),
                ));
            }
            *expr = super::pg_functions::cast(
                super::pg_rewrites::call(crate::semantics::REG_CHECKED, checked),
                data_type,
            );
        } else if let Some((kind, name)) = lookup_call(expr) {
            let name = match kind {
                "regtype" => catalog_type_name(&name),
                "regclass" if CATALOG_RELATIONS.contains(&name.as_str()) => {
                    format!("pg_catalog.{name}")
                }
                _ => name,
            };
            *expr = super::pg_functions::cast(text(&name), object_type(kind));
        }
        ControlFlow::<()>::Continue(())
    });
}

/// Whether `statement` holds a cast or lookup [`check_object_names`] rewrites.
pub(super) fn has_object_names(statement: &Statement) -> bool {
    sqlparser::ast::visit_expressions(statement, |expr: &Expr| {
        if object_name_cast(expr).is_some() || lookup_call(expr).is_some() {
            return ControlFlow::Break(());
        }
        ControlFlow::Continue(())
    })
    .is_break()
}

/// The bare lower-case name of a cast's type (`regclass` for `pg_catalog.regclass` too).
fn bare_type_name(data_type: &DataType) -> String {
    let type_name = data_type.to_string().to_ascii_lowercase();
    match type_name.strip_prefix("pg_catalog.") {
        Some(bare) => bare.to_string(),
        None => type_name,
    }
}

/// The object-name type `kind` (`regclass`, `regtype`, `regnamespace`) as a cast target.
fn object_type(kind: &str) -> DataType {
    match kind {
        "regclass" => DataType::Regclass,
        other => DataType::Custom(
            sqlparser::ast::ObjectName(vec![sqlparser::ast::ObjectNamePart::Identifier(
                sqlparser::ast::Ident::new(other),
            )]),
            Vec::new(),
        ),
    }
}

fn text(s: &str) -> Expr {
    Expr::Value(Value::SingleQuotedString(s.to_string()).into())
}

/// `'name'::kind` with a checked kind and a name that is not an OID: (kind, name).
fn object_name_cast(expr: &Expr) -> Option<(&'static str, String)> {
    let Expr::Cast {
        data_type,
        expr: operand,
        ..
    } = expr
    else {
        return None;
    };
    let type_name = bare_type_name(data_type);
    let kind = CHECKED_KINDS.iter().find(|k| type_name == **k)?;
    let Expr::Value(value) = operand.as_ref() else {
        return None;
    };
    let Value::SingleQuotedString(name) = &value.value else {
        return None;
    };
    (!name.is_empty() && !name.bytes().all(|b| b.is_ascii_digit())).then(|| (*kind, name.clone()))
}

/// `to_regclass('name')` (or `to_regtype`, `to_regnamespace`, `pg_catalog.`-qualified or not)
/// over a quoted name: (kind, name).
fn lookup_call(expr: &Expr) -> Option<(&'static str, String)> {
    use sqlparser::ast::{FunctionArg, FunctionArgExpr, FunctionArguments};
    let Expr::Function(function) = expr else {
        return None;
    };
    let called = function.name.to_string().to_ascii_lowercase();
    let called = called.strip_prefix("pg_catalog.").unwrap_or(&called);
    let kind = CHECKED_KINDS
        .iter()
        .find(|k| called.strip_prefix("to_") == Some(**k))?;
    let FunctionArguments::List(list) = &function.args else {
        return None;
    };
    let [FunctionArg::Unnamed(FunctionArgExpr::Expr(Expr::Value(value)))] = list.args.as_slice()
    else {
        return None;
    };
    match &value.value {
        Value::SingleQuotedString(name) => Some((*kind, name.clone())),
        _ => None,
    }
}

/// The catalog name (`pg_type.typname`) of a type as SQL spells it; other names unchanged.
fn catalog_type_name(name: &str) -> String {
    let spelled = name.trim().to_ascii_lowercase();
    let spelled = spelled.split_whitespace().collect::<Vec<_>>().join(" ");
    let catalog = match spelled.as_str() {
        "integer" | "int" => "int4",
        "smallint" => "int2",
        "bigint" => "int8",
        "real" => "float4",
        "double precision" | "float" => "float8",
        "boolean" => "bool",
        "character varying" => "varchar",
        "character" | "char" => "bpchar",
        "decimal" => "numeric",
        "timestamp without time zone" => "timestamp",
        "timestamp with time zone" => "timestamptz",
        "time without time zone" => "time",
        "time with time zone" => "timetz",
        _ => return name.to_string(),
    };
    catalog.to_string()
}

/// Object-ID casts shown as names, as PostgreSQL's output functions show them:
/// `c.oid::regclass::text` (and a select-list item `c.oid::regclass`) is the relation's name,
/// schema-qualified when the schema is neither `pg_catalog` nor the current one, quoted where
/// it needs to be; `::regnamespace` the schema's name; a select-list `::regtype` the type's
/// name (`format_type`). An OID that names nothing stays its number, as there. A bare cast
/// elsewhere than the outermost select list stays an OID: it is compared with other OIDs
/// (`attrelid = c.oid::regclass`).
pub(super) fn names_of_object_ids(statement: &mut Statement) {
    let _ = visit_expressions_mut(statement, |expr: &mut Expr| {
        if let Expr::Cast {
            expr: inner,
            data_type: DataType::Text | DataType::Varchar(_),
            ..
        } = expr
            && let Some(name) = object_name_of(inner)
        {
            *expr = name;
        }
        ControlFlow::<()>::Continue(())
    });
    let Statement::Query(query) = statement else {
        return;
    };
    let sqlparser::ast::SetExpr::Select(select) = query.body.as_mut() else {
        return;
    };
    for item in &mut select.projection {
        if let sqlparser::ast::SelectItem::UnnamedExpr(e)
        | sqlparser::ast::SelectItem::ExprWithAlias { expr: e, .. } = item
            && let Some(name) = object_name_of(e).or_else(|| type_name_of(e))
        {
            *e = name;
        }
    }
}

/// A cast of a computed OID (not a constant) to an object-name type: the OID and the type's
/// bare name (`regclass` for `pg_catalog.regclass` too).
fn computed_oid_cast(expr: &Expr) -> Option<(&Expr, String)> {
    let Expr::Cast {
        expr: oid,
        data_type,
        ..
    } = expr
    else {
        return None;
    };
    if matches!(oid.as_ref(), Expr::Value(_)) {
        return None;
    }
    Some((oid, bare_type_name(data_type)))
}

/// `oid::regclass` / `oid::regnamespace` (oid not a constant) as the name it shows
/// (`catalog::object_names`).
fn object_name_of(expr: &Expr) -> Option<Expr> {
    let (oid, kind) = computed_oid_cast(expr)?;
    matches!(kind.as_str(), "regclass" | "regnamespace").then(|| {
        super::pg_rewrites::call(
            crate::catalog::OBJECT_NAME_FUNCTION,
            vec![oid.clone(), text(&kind)],
        )
    })
}

/// `oid::regtype` (oid not a constant) as the type's name.
fn type_name_of(expr: &Expr) -> Option<Expr> {
    let (oid, kind) = computed_oid_cast(expr)?;
    (kind == "regtype").then(|| {
        super::pg_rewrites::call("format_type", vec![oid.clone(), Expr::value(Value::Null)])
    })
}
