//! The top rows per outer row: `FROM d JOIN LATERAL (SELECT ... FROM t WHERE t.k = d.k ORDER BY
//! x DESC LIMIT n) s ON true` (or `CROSS JOIN LATERAL`, `LEFT JOIN LATERAL`, `, LATERAL`), which
//! DataFusion cannot decorrelate (a LIMIT per outer row). Where the subquery reads the outer row
//! only through equalities of its WHERE (`inner expression = outer column`), it means the first
//! n rows of each group of `t` by those expressions: the subquery numbers its rows per group
//! (`row_number() OVER (PARTITION BY t.k ORDER BY x DESC)`) and the join keeps those up to n
//! with the equal key, which the engine runs as a hash join (a LIMIT may read the outer row:
//! `LIMIT d.top` is compared there). Anything else is left as written (and refused by the
//! planner as before).

use std::collections::HashSet;
use std::ops::ControlFlow;

use sqlparser::ast::{
    self, Expr, GroupByExpr, Join, JoinConstraint, JoinOperator, LimitClause, Query, SelectItem,
    SetExpr, TableFactor, TableWithJoins, Visit, VisitMut, Visitor, VisitorMut,
};

use super::pg_rewrites::{and_all, conjuncts};

/// The column that numbers the subquery's rows per group.
const ROW_COLUMN: &str = "__lateral_row";
/// The columns that carry the subquery's side of each correlating equality.
const KEY_COLUMN: &str = "__lateral_key_";

/// Rewrites the top-n LATERAL subqueries of `statement`.
pub fn rewrite(statement: &mut ast::Statement) {
    let _ = statement.visit(&mut TopNLaterals);
}

/// [`rewrite`] for a query (the query of a CREATE TABLE ... AS).
pub fn rewrite_query(query: &mut Query) {
    let _ = query.visit(&mut TopNLaterals);
}

struct TopNLaterals;

impl VisitorMut for TopNLaterals {
    type Break = ();

    fn pre_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
        if let SetExpr::Select(select) = query.body.as_mut() {
            let mut extra_columns = Vec::new();
            let mut rewritten = Vec::new();
            lateral_commas_as_joins(&mut select.from);
            for table in &mut select.from {
                let mut outer = HashSet::new();
                relation_names(&table.relation, &mut outer);
                for join in &mut table.joins {
                    if let Some(columns) = as_grouped_join(join, &outer) {
                        extra_columns.extend(columns);
                        if let TableFactor::Derived {
                            alias: Some(alias), ..
                        } = &join.relation
                        {
                            rewritten.push(alias.name.value.to_ascii_lowercase());
                        }
                    }
                    relation_names(&join.relation, &mut outer);
                }
            }
            if !extra_columns.is_empty() {
                hide_from_wildcards(&mut select.projection, &extra_columns, &rewritten);
            }
        }
        ControlFlow::Continue(())
    }
}

/// `FROM a, LATERAL (...) s`: the lateral item joined to the one before it, as the comma means.
fn lateral_commas_as_joins(from: &mut Vec<TableWithJoins>) {
    let mut i = 1;
    while i < from.len() {
        let is_lateral = matches!(from[i].relation, TableFactor::Derived { lateral: true, .. })
            && from[i].joins.is_empty();
        if is_lateral {
            let item = from.remove(i);
            from[i - 1].joins.push(Join {
                relation: item.relation,
                global: false,
                join_operator: JoinOperator::CrossJoin(JoinConstraint::None),
            });
        } else {
            i += 1;
        }
    }
}

/// The names a relation is referred to by (its alias, or its table name's last part).
fn relation_names(relation: &TableFactor, names: &mut HashSet<String>) {
    match relation {
        TableFactor::Table { name, alias, .. } => match alias {
            Some(alias) => {
                names.insert(alias.name.value.to_ascii_lowercase());
            }
            None => {
                if let Some(last) = name.0.last().and_then(|p| p.as_ident()) {
                    names.insert(last.value.to_ascii_lowercase());
                }
            }
        },
        TableFactor::Derived {
            alias: Some(alias), ..
        }
        | TableFactor::Function {
            alias: Some(alias), ..
        }
        | TableFactor::UNNEST {
            alias: Some(alias), ..
        } => {
            names.insert(alias.name.value.to_ascii_lowercase());
        }
        TableFactor::NestedJoin {
            table_with_joins, ..
        } => {
            relation_names(&table_with_joins.relation, names);
            for join in &table_with_joins.joins {
                relation_names(&join.relation, names);
            }
        }
        _ => {}
    }
}

/// Rewrites one join to a top-n LATERAL subquery; returns the columns it added.
fn as_grouped_join(join: &mut Join, outer: &HashSet<String>) -> Option<Vec<String>> {
    let (on, left) = match &join.join_operator {
        JoinOperator::CrossJoin(JoinConstraint::None) => (None, false),
        JoinOperator::Join(JoinConstraint::On(on))
        | JoinOperator::Inner(JoinConstraint::On(on)) => (Some(on.clone()), false),
        JoinOperator::Left(JoinConstraint::On(on))
        | JoinOperator::LeftOuter(JoinConstraint::On(on)) => (Some(on.clone()), true),
        _ => return None,
    };
    let TableFactor::Derived {
        lateral: true,
        subquery,
        alias: Some(alias),
        ..
    } = &join.relation
    else {
        return None;
    };
    let plan = GroupedTopN::of(subquery, outer)?;
    let alias_name = alias.name.to_string();
    let grouped = plan.grouped_query()?;
    let mut condition: Vec<Expr> = Vec::new();
    for (i, outer_side) in plan.outer_keys.iter().enumerate() {
        condition.push(parse_expr(&format!(
            "{alias_name}.{KEY_COLUMN}{} = {outer_side}",
            i + 1
        ))?);
    }
    condition.push(parse_expr(&format!(
        "{alias_name}.{ROW_COLUMN} <= {}",
        plan.last_row
    ))?);
    if let Some(offset) = &plan.offset {
        condition.push(parse_expr(&format!(
            "{alias_name}.{ROW_COLUMN} > {offset}"
        ))?);
    }
    if let Some(on) = on.filter(|on| !is_true(on)) {
        condition.push(on);
    }
    let condition = and_all(condition)?;
    let mut columns: Vec<String> = (1..=plan.outer_keys.len())
        .map(|i| format!("{KEY_COLUMN}{i}"))
        .collect();
    columns.push(ROW_COLUMN.to_string());
    if let TableFactor::Derived {
        lateral, subquery, ..
    } = &mut join.relation
    {
        *lateral = false;
        **subquery = grouped;
    }
    join.join_operator = if left {
        JoinOperator::LeftOuter(JoinConstraint::On(condition))
    } else {
        JoinOperator::Inner(JoinConstraint::On(condition))
    };
    Some(columns)
}

/// What a top-n LATERAL subquery is made of, once taken apart.
struct GroupedTopN {
    /// The subquery's select list, ORDER BY (select-list names replaced by what they name),
    /// FROM and the conditions that do not read the outer row, as text.
    projection: String,
    order_by: String,
    from: String,
    filter: Option<String>,
    /// Each correlating equality's inner and outer side.
    inner_keys: Vec<String>,
    outer_keys: Vec<String>,
    /// `LIMIT` + `OFFSET` and `OFFSET`, as text.
    last_row: String,
    offset: Option<String>,
}

impl GroupedTopN {
    fn of(subquery: &Query, outer: &HashSet<String>) -> Option<Self> {
        if subquery.with.is_some() || subquery.fetch.is_some() || !subquery.locks.is_empty() {
            return None;
        }
        let (limit, offset) = match &subquery.limit_clause {
            Some(LimitClause::LimitOffset {
                limit: Some(limit),
                offset,
                limit_by,
            }) if limit_by.is_empty() => (limit.clone(), offset.as_ref().map(|o| o.value.clone())),
            _ => return None,
        };
        let SetExpr::Select(select) = subquery.body.as_ref() else {
            return None;
        };
        let plain = select.distinct.is_none()
            && select.having.is_none()
            && select.named_window.is_empty()
            && select.qualify.is_none()
            && select.into.is_none()
            && matches!(&select.group_by, GroupByExpr::Expressions(e, m) if e.is_empty() && m.is_empty());
        // A window function sees the rows of one outer row in PostgreSQL, all the rows here.
        if !plain || select.from.is_empty() || has_window(&select.projection) {
            return None;
        }
        let mut inner = HashSet::new();
        for table in &select.from {
            relation_names(&table.relation, &mut inner);
            for join in &table.joins {
                relation_names(&join.relation, &mut inner);
            }
        }
        let outer_only: HashSet<String> = outer.difference(&inner).cloned().collect();
        if outer_only.is_empty() {
            return None;
        }
        let reads_outer = |node: &dyn VisitNode| node.reads(&outer_only);
        let mut inner_keys = Vec::new();
        let mut outer_keys = Vec::new();
        let mut rest = Vec::new();
        for condition in select.selection.clone().map(conjuncts).unwrap_or_default() {
            if !reads_outer(&condition) {
                rest.push(condition);
                continue;
            }
            let Expr::BinaryOp {
                left,
                op: ast::BinaryOperator::Eq,
                right,
            } = &condition
            else {
                return None;
            };
            let (inner_side, outer_side) = match (reads_outer(left), reads_outer(right)) {
                (false, true) if is_outer_column(right) => (left, right),
                (true, false) if is_outer_column(left) => (right, left),
                _ => return None,
            };
            inner_keys.push(inner_side.to_string());
            outer_keys.push(outer_side.to_string());
        }
        if inner_keys.is_empty()
            || reads_outer(&select.projection)
            || reads_outer(&select.from)
            || reads_outer(&subquery.order_by)
        {
            return None;
        }
        let order_by = match &subquery.order_by {
            None => String::new(),
            Some(order_by) => match &order_by.kind {
                ast::OrderByKind::Expressions(items) => items
                    .iter()
                    .map(|item| {
                        let mut item = item.clone();
                        item.expr = named_in_select_list(&item.expr, &select.projection)?;
                        Some(item.to_string())
                    })
                    .collect::<Option<Vec<_>>>()?
                    .join(", "),
                ast::OrderByKind::All(_) => return None,
            },
        };
        let last_row = match &offset {
            Some(offset) => format!("({limit}) + ({offset})"),
            None => limit.to_string(),
        };
        Some(GroupedTopN {
            projection: select
                .projection
                .iter()
                .map(|item| item.to_string())
                .collect::<Vec<_>>()
                .join(", "),
            order_by,
            from: select
                .from
                .iter()
                .map(|t| t.to_string())
                .collect::<Vec<_>>()
                .join(", "),
            filter: and_all(rest).map(|e| e.to_string()),
            inner_keys,
            outer_keys,
            last_row,
            offset: offset.map(|o| o.to_string()),
        })
    }

    /// The subquery without its LIMIT, numbering its rows per group of the inner keys.
    fn grouped_query(&self) -> Option<Query> {
        let keys = self.inner_keys.join(", ");
        let key_columns = self
            .inner_keys
            .iter()
            .enumerate()
            .map(|(i, k)| format!(", {k} AS {KEY_COLUMN}{}", i + 1))
            .collect::<String>();
        let order_by = match self.order_by.as_str() {
            "" => String::new(),
            order_by => format!(" ORDER BY {order_by}"),
        };
        let filter = match &self.filter {
            Some(filter) => format!(" WHERE {filter}"),
            None => String::new(),
        };
        let sql = format!(
            "SELECT {}{key_columns}, row_number() OVER (PARTITION BY {keys}{order_by}) AS {ROW_COLUMN} FROM {}{filter}",
            self.projection, self.from
        );
        let mut statements = super::parser::parse_statements(&sql).ok()?;
        match statements.pop()? {
            super::Statement::Sql(statement) => match *statement {
                ast::Statement::Query(query) => Some(*query),
                _ => None,
            },
            _ => None,
        }
    }
}

/// An ORDER BY item that names a select-list column (`ORDER BY total`, `ORDER BY 2`): the
/// expression it names, since the window's ORDER BY sees the FROM's columns only.
pub(super) fn named_in_select_list(expr: &Expr, projection: &[SelectItem]) -> Option<Expr> {
    match expr {
        Expr::Value(v) => {
            if let ast::Value::Number(n, _) = &v.value {
                let position: usize = n.parse().ok()?;
                return match projection.get(position.checked_sub(1)?)? {
                    SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => {
                        Some(e.clone())
                    }
                    _ => None,
                };
            }
            Some(expr.clone())
        }
        Expr::Identifier(name) => Some(
            projection
                .iter()
                .find_map(|item| match item {
                    SelectItem::ExprWithAlias { expr, alias }
                        if alias.value.eq_ignore_ascii_case(&name.value) =>
                    {
                        Some(expr.clone())
                    }
                    _ => None,
                })
                .unwrap_or_else(|| expr.clone()),
        ),
        _ => Some(expr.clone()),
    }
}

/// Whether a select list calls a window function.
fn has_window(projection: &Vec<SelectItem>) -> bool {
    let mut found = false;
    let _ = sqlparser::ast::visit_expressions(projection, |expr: &Expr| {
        if matches!(expr, Expr::Function(f) if f.over.is_some()) {
            found = true;
            return ControlFlow::Break(());
        }
        ControlFlow::Continue(())
    });
    found
}

/// `outer.column`: the only outer side a correlating equality may have.
fn is_outer_column(expr: &Expr) -> bool {
    matches!(expr, Expr::CompoundIdentifier(parts) if parts.len() == 2)
}

fn is_true(expr: &Expr) -> bool {
    matches!(expr, Expr::Value(v) if v.value == ast::Value::Boolean(true))
}

fn parse_expr(sql: &str) -> Option<Expr> {
    sqlparser::parser::Parser::new(&sqlparser::dialect::PostgreSqlDialect {})
        .try_with_sql(sql)
        .and_then(|mut parser| parser.parse_expr())
        .ok()
}

/// The outer query's `*` / `s.*` (`s` a rewritten subquery) leave out the columns the rewrite
/// added.
fn hide_from_wildcards(projection: &mut [SelectItem], columns: &[String], rewritten: &[String]) {
    let excluded = || {
        Some(ast::ExcludeSelectItem::Multiple(
            columns
                .iter()
                .map(|c| ast::ObjectName::from(vec![ast::Ident::new(c.as_str())]))
                .collect(),
        ))
    };
    for item in projection {
        match item {
            SelectItem::Wildcard(options) if options.opt_exclude.is_none() => {
                options.opt_exclude = excluded();
            }
            SelectItem::QualifiedWildcard(
                ast::SelectItemQualifiedWildcardKind::ObjectName(name),
                options,
            ) if options.opt_exclude.is_none()
                && rewritten.contains(&name.to_string().to_ascii_lowercase()) =>
            {
                options.opt_exclude = excluded();
            }
            _ => {}
        }
    }
}

/// A syntax-tree node that can be searched for references to outer relations.
trait VisitNode {
    /// Whether the node names a column of one of `outer`'s relations (`outer.column`).
    fn reads(&self, outer: &HashSet<String>) -> bool;
}

impl<T: Visit> VisitNode for T {
    fn reads(&self, outer: &HashSet<String>) -> bool {
        struct Finder<'a>(&'a HashSet<String>);
        impl Visitor for Finder<'_> {
            type Break = ();
            fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<()> {
                if let Expr::CompoundIdentifier(parts) = expr
                    && parts.len() >= 2
                    && self
                        .0
                        .contains(&parts[parts.len() - 2].value.to_ascii_lowercase())
                {
                    return ControlFlow::Break(());
                }
                ControlFlow::Continue(())
            }
        }
        self.visit(&mut Finder(outer)).is_break()
    }
}
