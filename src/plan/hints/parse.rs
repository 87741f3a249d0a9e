//! Reads Spark/Databricks hint comments (`/*+ BROADCAST(c), SKEW('o', 'customer_id') */`).
//!
//! sqlparser keeps a hint comment's raw text in `Select.optimizer_hints`; this module turns that
//! text into [`Hint`]s. Names are case-insensitive; a hint that does not parse, or that we do not
//! know, becomes a warning and is left out (Spark ignores such hints too).

use std::fmt;

use sqlparser::tokenizer::{Token, Tokenizer};

use crate::dialect::LakehouseDialect;
use crate::plan::normalize_ident;

/// How a hinted join should be executed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JoinStrategy {
    /// `BROADCAST(t)`: t is collected once and shared by every partition (`CollectLeft`).
    Broadcast,
    /// `SHUFFLE_HASH(t)`: both sides hash-partitioned on the keys, t builds the hash tables.
    ShuffleHash,
    /// `MERGE(t)` / `SHUFFLE_MERGE(t)`: both sides partitioned and sorted, then merged.
    SortMerge,
}

impl JoinStrategy {
    /// The Spark name users wrote, for messages.
    pub fn name(self) -> &'static str {
        match self {
            JoinStrategy::Broadcast => "BROADCAST",
            JoinStrategy::ShuffleHash => "SHUFFLE_HASH",
            JoinStrategy::SortMerge => "MERGE",
        }
    }
}

/// One hint, as the user asked for it.
#[derive(Debug, Clone, PartialEq)]
pub enum Hint {
    /// A join strategy for the joins of one relation (a table name or alias).
    Join {
        strategy: JoinStrategy,
        relation: String,
    },
    /// Salt the joins on `columns` of `relation` for the hot `values` (found when empty).
    Skew {
        relation: String,
        columns: Vec<String>,
        values: Vec<Vec<Literal>>,
    },
    /// `REPARTITION(n, cols)`: hash (or round-robin without columns) the SELECT's rows.
    Repartition {
        partitions: Option<usize>,
        columns: Vec<String>,
    },
    /// `REPARTITION_BY_RANGE(n, cols)`: split the SELECT's rows into ordered ranges.
    RepartitionByRange {
        partitions: Option<usize>,
        columns: Vec<String>,
    },
    /// `COALESCE(n)`: fewer partitions, without hashing.
    Coalesce { partitions: usize },
}

/// A literal in a hint's value list.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// A quoted string.
    Text(String),
    /// A number as written.
    Number(String),
}

impl Literal {
    /// The literal as SQL text (strings quoted).
    pub fn to_sql(&self) -> String {
        match self {
            Literal::Text(s) => format!("'{}'", s.replace('\'', "''")),
            Literal::Number(n) => n.clone(),
        }
    }
}

impl fmt::Display for Hint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = |v: &[String]| v.join(", ");
        match self {
            Hint::Join { strategy, relation } => write!(f, "{}({relation})", strategy.name()),
            Hint::Skew {
                relation,
                columns,
                values,
            } => {
                write!(f, "SKEW('{relation}'")?;
                if !columns.is_empty() {
                    write!(f, ", ({})", list(columns))?;
                }
                if !values.is_empty() {
                    let values: Vec<String> = values
                        .iter()
                        .map(|tuple| {
                            let parts: Vec<String> = tuple.iter().map(Literal::to_sql).collect();
                            if parts.len() == 1 {
                                parts[0].clone()
                            } else {
                                format!("({})", parts.join(", "))
                            }
                        })
                        .collect();
                    write!(f, ", ({})", values.join(", "))?;
                }
                write!(f, ")")
            }
            Hint::Repartition {
                partitions,
                columns,
            }
            | Hint::RepartitionByRange {
                partitions,
                columns,
            } => {
                let name = if matches!(self, Hint::Repartition { .. }) {
                    "REPARTITION"
                } else {
                    "REPARTITION_BY_RANGE"
                };
                let mut args: Vec<String> = partitions.iter().map(|n| n.to_string()).collect();
                args.extend(columns.iter().cloned());
                write!(f, "{name}({})", list(&args))
            }
            Hint::Coalesce { partitions } => write!(f, "COALESCE({partitions})"),
        }
    }
}

/// One argument as written: a name, a string, a number or a parenthesised list.
#[derive(Debug, Clone, PartialEq)]
enum Arg {
    Name(String),
    Text(String),
    Number(String),
    List(Vec<Arg>),
}

/// Parses the text of one hint comment; returns the hints and a warning per hint left out.
pub fn parse_hints(text: &str) -> (Vec<Hint>, Vec<String>) {
    let dialect = LakehouseDialect::default();
    let tokens = match Tokenizer::new(&dialect, text).tokenize() {
        Ok(tokens) => tokens,
        Err(e) => return (Vec::new(), vec![format!("hint /*+{text}*/ ignored: {e}")]),
    };
    let tokens: Vec<Token> = tokens
        .into_iter()
        .filter(|t| !matches!(t, Token::Whitespace(_)))
        .collect();
    let mut hints = Vec::new();
    let mut warnings = Vec::new();
    let mut pos = 0;
    while pos < tokens.len() {
        if tokens[pos] == Token::Comma {
            pos += 1;
            continue;
        }
        let Token::Word(word) = &tokens[pos] else {
            warnings.push(format!(
                "hint /*+{text}*/: unexpected {} ignored",
                tokens[pos]
            ));
            pos += 1;
            continue;
        };
        let name = word.value.to_ascii_uppercase();
        pos += 1;
        let args = if tokens.get(pos) == Some(&Token::LParen) {
            match parse_list(&tokens, &mut pos) {
                Some(args) => args,
                None => {
                    warnings.push(format!("hint {name}: its arguments do not parse; ignored"));
                    break;
                }
            }
        } else {
            Vec::new()
        };
        match build(&name, args) {
            Ok(mut built) => hints.append(&mut built),
            Err(message) => warnings.push(message),
        }
    }
    (hints, warnings)
}

/// Parses `( arg, ... )` starting at the `(`; leaves `pos` after the `)`.
fn parse_list(tokens: &[Token], pos: &mut usize) -> Option<Vec<Arg>> {
    *pos += 1;
    let mut args = Vec::new();
    loop {
        match tokens.get(*pos)? {
            Token::RParen => {
                *pos += 1;
                return Some(args);
            }
            Token::Comma => *pos += 1,
            Token::LParen => args.push(Arg::List(parse_list(tokens, pos)?)),
            Token::Word(w) => {
                args.push(Arg::Name(normalize_ident(&sqlparser::ast::Ident {
                    value: w.value.clone(),
                    quote_style: w.quote_style,
                    span: sqlparser::tokenizer::Span::empty(),
                })));
                *pos += 1;
            }
            Token::SingleQuotedString(s) => {
                args.push(Arg::Text(s.clone()));
                *pos += 1;
            }
            Token::Number(n, _) => {
                args.push(Arg::Number(n.clone()));
                *pos += 1;
            }
            Token::Minus => {
                if let Some(Token::Number(n, _)) = tokens.get(*pos + 1) {
                    args.push(Arg::Number(format!("-{n}")));
                    *pos += 2;
                } else {
                    return None;
                }
            }
            Token::Period => {
                // `schema.table`: keep the last part, which is how relations are named in plans.
                *pos += 1;
                if let (Some(Arg::Name(_)), Some(Token::Word(w))) = (args.last(), tokens.get(*pos))
                {
                    let last = args.len() - 1;
                    args[last] = Arg::Name(w.value.to_ascii_lowercase());
                    *pos += 1;
                }
            }
            _ => return None,
        }
    }
}

fn build(name: &str, args: Vec<Arg>) -> Result<Vec<Hint>, String> {
    let join = |strategy| -> Result<Vec<Hint>, String> {
        if args.is_empty() {
            return Err(format!(
                "hint {name} names no table; write {name}(table_or_alias); ignored"
            ));
        }
        args.iter()
            .map(|a| match a {
                Arg::Name(n) | Arg::Text(n) => Ok(Hint::Join {
                    strategy,
                    relation: n.to_ascii_lowercase(),
                }),
                _ => Err(format!(
                    "hint {name}: expected table names or aliases; ignored"
                )),
            })
            .collect()
    };
    match name {
        "BROADCAST" | "BROADCASTJOIN" | "MAPJOIN" => join(JoinStrategy::Broadcast),
        "SHUFFLE_HASH" => join(JoinStrategy::ShuffleHash),
        "MERGE" | "SHUFFLE_MERGE" | "MERGEJOIN" => join(JoinStrategy::SortMerge),
        "SKEW" => skew(args).map(|h| vec![h]),
        "REPARTITION" | "REPARTITION_BY_RANGE" => {
            let (partitions, columns) = partitions_and_columns(name, &args)?;
            if name == "REPARTITION" {
                Ok(vec![Hint::Repartition {
                    partitions,
                    columns,
                }])
            } else if columns.is_empty() {
                Err(format!(
                    "hint {name} needs at least one column to order by; ignored"
                ))
            } else {
                Ok(vec![Hint::RepartitionByRange {
                    partitions,
                    columns,
                }])
            }
        }
        "COALESCE" => match args.as_slice() {
            [Arg::Number(n)] => match n.parse::<usize>() {
                Ok(n) if n > 0 => Ok(vec![Hint::Coalesce { partitions: n }]),
                _ => Err(format!(
                    "hint COALESCE({n}): the partition count must be a positive integer; ignored"
                )),
            },
            _ => Err("hint COALESCE takes one partition count, e.g. COALESCE(4); ignored".into()),
        },
        other => Err(format!(
            "unknown hint {other} ignored; known hints: BROADCAST, SHUFFLE_HASH, MERGE, SKEW, REPARTITION, REPARTITION_BY_RANGE, COALESCE"
        )),
    }
}

fn partitions_and_columns(
    name: &str,
    args: &[Arg],
) -> Result<(Option<usize>, Vec<String>), String> {
    let mut partitions = None;
    let mut columns = Vec::new();
    for (i, arg) in args.iter().enumerate() {
        match arg {
            Arg::Number(n) if i == 0 => match n.parse::<usize>() {
                Ok(n) if n > 0 => partitions = Some(n),
                _ => {
                    return Err(format!(
                        "hint {name}({n}): the partition count must be a positive integer; ignored"
                    ));
                }
            },
            Arg::Name(c) => columns.push(c.clone()),
            _ => {
                return Err(format!(
                    "hint {name} takes a partition count and column names; ignored"
                ));
            }
        }
    }
    Ok((partitions, columns))
}

fn skew(args: Vec<Arg>) -> Result<Hint, String> {
    let usage = "hint SKEW takes ('table' [, 'column' | ('c1', 'c2')] [, (values)]); ignored";
    let mut args = args.into_iter();
    let relation = match args.next() {
        Some(Arg::Text(t) | Arg::Name(t)) => t.to_ascii_lowercase(),
        _ => return Err(usage.into()),
    };
    let columns = match args.next() {
        None => Vec::new(),
        Some(Arg::Text(c) | Arg::Name(c)) => vec![c.to_ascii_lowercase()],
        Some(Arg::List(cs)) => cs
            .into_iter()
            .map(|c| match c {
                Arg::Text(c) | Arg::Name(c) => Ok(c.to_ascii_lowercase()),
                _ => Err(usage.to_string()),
            })
            .collect::<Result<_, _>>()?,
        Some(_) => return Err(usage.into()),
    };
    let literal = |a: Arg| match a {
        Arg::Text(t) => Ok(Literal::Text(t)),
        Arg::Number(n) => Ok(Literal::Number(n)),
        _ => Err(usage.to_string()),
    };
    let tuple = |a: Arg| match a {
        Arg::List(items) => items.into_iter().map(literal).collect(),
        single => literal(single).map(|l| vec![l]),
    };
    let values: Vec<Vec<Literal>> = match args.next() {
        None => Vec::new(),
        Some(Arg::List(items)) if columns.len() <= 1 => items
            .into_iter()
            .map(|a| literal(a).map(|l| vec![l]))
            .collect::<Result<_, _>>()?,
        Some(Arg::List(items)) => items.into_iter().map(tuple).collect::<Result<_, _>>()?,
        Some(single) => vec![tuple(single)?],
    };
    if args.next().is_some() {
        return Err(usage.into());
    }
    if !columns.is_empty() && values.iter().any(|t| t.len() != columns.len()) {
        return Err(format!(
            "hint SKEW('{relation}'): each skewed value needs one part per column ({}); ignored",
            columns.len()
        ));
    }
    Ok(Hint::Skew {
        relation,
        columns,
        values,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_spark_hint_forms() {
        let (hints, warnings) = parse_hints(
            " broadcast(c), SHUFFLE_HASH(o) MERGE(i) SKEW('o', 'customer_id', ('customer_1', 'customer_2')) REPARTITION(8, day) COALESCE(2) NOPE(x)",
        );
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].contains("unknown hint NOPE"));
        assert_eq!(hints.len(), 6);
        assert_eq!(hints[0].to_string(), "BROADCAST(c)");
        assert_eq!(
            hints[3],
            Hint::Skew {
                relation: "o".into(),
                columns: vec!["customer_id".into()],
                values: vec![
                    vec![Literal::Text("customer_1".into())],
                    vec![Literal::Text("customer_2".into())]
                ],
            }
        );
        assert_eq!(
            hints[4],
            Hint::Repartition {
                partitions: Some(8),
                columns: vec!["day".into()]
            }
        );
    }

    #[test]
    fn bad_arguments_are_warnings() {
        let (hints, warnings) = parse_hints("COALESCE(0) BROADCAST SKEW(1)");
        assert!(hints.is_empty());
        assert_eq!(warnings.len(), 3, "{warnings:?}");
    }
}
