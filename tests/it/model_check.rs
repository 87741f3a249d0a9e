//! A seeded random sequence of INSERT / UPDATE / DELETE / MERGE / OPTIMIZE [WHERE] [ZORDER BY]
//! statements run on deltagres and on an in-memory model of the same table; the table's rows
//! must equal the model's after every few steps. The model is plain Rust over a map of rows,
//! written from SQL's rules (three-valued comparisons: a NULL matches no `=`, `<>` or `IN`), so it
//! shares no code with the server.
//!
//! `DELTAGRES_MODEL_STEPS` (default 2000) and `DELTAGRES_MODEL_SEED` change the run; a failure
//! prints the seed, the step and the statements so far.

use std::collections::BTreeMap;

use crate::support::{TestServer, simple_rows};

/// A small deterministic generator (xorshift64*), so a seed always gives the same statements.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// One row: `k` and `p` may be NULL, `v` never is.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Row {
    k: Option<i64>,
    v: i64,
    p: Option<i64>,
}

type Model = BTreeMap<i64, Row>;

fn sql_int(x: Option<i64>) -> String {
    x.map(|x| x.to_string()).unwrap_or_else(|| "NULL".into())
}

/// A predicate on one nullable column, as SQL text and as the model evaluates it.
struct Predicate {
    sql: String,
    holds: Box<dyn Fn(Option<i64>) -> bool>,
}

fn predicate(rng: &mut Rng, column: &str, domain: u64) -> Predicate {
    let x = rng.below(domain) as i64;
    let y = rng.below(domain) as i64;
    match rng.below(6) {
        0 => Predicate {
            sql: format!("{column} = {x}"),
            holds: Box::new(move |c| c == Some(x)),
        },
        1 => Predicate {
            sql: format!("{column} <> {x}"),
            holds: Box::new(move |c| c.is_some_and(|c| c != x)),
        },
        2 => Predicate {
            sql: format!("{column} >= {x}"),
            holds: Box::new(move |c| c.is_some_and(|c| c >= x)),
        },
        3 => Predicate {
            sql: format!("{column} < {x}"),
            holds: Box::new(move |c| c.is_some_and(|c| c < x)),
        },
        4 => Predicate {
            sql: format!("{column} IN ({x}, {y})"),
            holds: Box::new(move |c| c.is_some_and(|c| c == x || c == y)),
        },
        _ => Predicate {
            sql: format!("{column} IS NULL"),
            holds: Box::new(|c| c.is_none()),
        },
    }
}

/// A partition predicate OPTIMIZE WHERE accepts (no IS NULL there).
fn partition_predicate(rng: &mut Rng) -> Predicate {
    loop {
        let p = predicate(rng, "p", PARTITIONS);
        if !p.sql.contains("IS NULL") {
            return p;
        }
    }
}

const PARTITIONS: u64 = 4;
/// Tables the steps are spread over.
const TABLES: u64 = 4;
const KEYS: u64 = 8;

fn random_row(rng: &mut Rng) -> Row {
    Row {
        k: (!rng.chance(10)).then(|| rng.below(KEYS) as i64),
        v: rng.below(1000) as i64,
        p: (!rng.chance(10)).then(|| rng.below(PARTITIONS) as i64),
    }
}

/// The next statement and what it does to the model.
fn step(rng: &mut Rng, table: &str, model: &mut Model, next_id: &mut i64) -> String {
    match rng.below(100) {
        0..=29 => {
            let rows: Vec<(i64, Row)> = (0..1 + rng.below(6))
                .map(|_| {
                    *next_id += 1;
                    (*next_id, random_row(rng))
                })
                .collect();
            let values: Vec<String> = rows
                .iter()
                .map(|(id, r)| format!("({id}, {}, {}, {})", sql_int(r.k), r.v, sql_int(r.p)))
                .collect();
            model.extend(rows);
            format!("INSERT INTO {table} VALUES {}", values.join(", "))
        }
        30..=49 => {
            let column = if rng.chance(50) { "k" } else { "p" };
            let pred = predicate(rng, column, KEYS);
            let column_is_k = pred.sql.starts_with('k');
            let add = rng.below(50) as i64;
            let move_to = rng.chance(30).then(|| rng.below(PARTITIONS) as i64);
            for row in model.values_mut() {
                let c = if column_is_k { row.k } else { row.p };
                if (pred.holds)(c) {
                    row.v += add;
                    if let Some(p) = move_to {
                        row.p = Some(p);
                    }
                }
            }
            let set_p = move_to.map(|p| format!(", p = {p}")).unwrap_or_default();
            format!("UPDATE {table} SET v = v + {add}{set_p} WHERE {}", pred.sql)
        }
        50..=59 => {
            let column = if rng.chance(50) { "k" } else { "p" };
            let pred = predicate(rng, column, KEYS);
            let column_is_k = pred.sql.starts_with('k');
            model.retain(|_, row| !(pred.holds)(if column_is_k { row.k } else { row.p }));
            format!("DELETE FROM {table} WHERE {}", pred.sql)
        }
        60..=79 => {
            // A source of distinct ids, some present and some new. Matched rows whose source v
            // is a multiple of 3 are deleted, other matched rows updated, new ones inserted.
            let existing: Vec<i64> = model.keys().copied().collect();
            let mut ids = Vec::new();
            for _ in 0..1 + rng.below(8) {
                let id = if !existing.is_empty() && rng.chance(60) {
                    existing[rng.below(existing.len() as u64) as usize]
                } else {
                    *next_id += 1;
                    *next_id
                };
                if !ids.contains(&id) {
                    ids.push(id);
                }
            }
            let mut values = Vec::new();
            for id in ids {
                let r = random_row(rng);
                values.push(format!(
                    "({id}, {}, {}, {})",
                    sql_int(r.k),
                    r.v,
                    sql_int(r.p)
                ));
                match model.get_mut(&id) {
                    Some(_) if r.v % 3 == 0 => {
                        model.remove(&id);
                    }
                    Some(row) => {
                        row.v = r.v;
                        row.k = r.k;
                    }
                    None => {
                        model.insert(id, r);
                    }
                }
            }
            format!(
                "MERGE INTO {table} AS t USING (VALUES {}) AS s(id, k, v, p) ON t.id = s.id \
                 WHEN MATCHED AND s.v % 3 = 0 THEN DELETE \
                 WHEN MATCHED THEN UPDATE SET v = s.v, k = s.k \
                 WHEN NOT MATCHED THEN INSERT (id, k, v, p) VALUES (s.id, s.k, s.v, s.p)",
                values.join(", ")
            )
        }
        _ => {
            let filter = if rng.chance(60) {
                format!(" WHERE {}", partition_predicate(rng).sql)
            } else {
                String::new()
            };
            let zorder = match rng.below(3) {
                0 => "",
                1 => " ZORDER BY (k)",
                _ => " ZORDER BY (v, k)",
            };
            format!("OPTIMIZE {table}{filter}{zorder}")
        }
    }
}

fn expected_rows(model: &Model) -> Vec<Vec<Option<String>>> {
    model
        .iter()
        .map(|(id, r)| {
            vec![
                Some(id.to_string()),
                r.k.map(|k| k.to_string()),
                Some(r.v.to_string()),
                r.p.map(|p| p.to_string()),
            ]
        })
        .collect()
}

/// Runs `steps` statements on `table` with its own seed, checking against its model every
/// 20 steps; returns the rows left.
async fn check_table(server: &TestServer, table: String, seed: u64, steps: usize) -> usize {
    let c = server.client().await;
    c.batch_execute(&format!(
        "CREATE TABLE {table} (id BIGINT, k BIGINT, v BIGINT, p BIGINT) PARTITIONED BY (p)"
    ))
    .await
    .unwrap();
    let mut rng = Rng(seed | 1);
    let mut model = Model::new();
    let mut next_id = 0i64;
    let mut log: Vec<String> = Vec::new();
    for n in 1..=steps {
        let sql = step(&mut rng, &table, &mut model, &mut next_id);
        if let Err(e) = c.simple_query(&sql).await {
            panic!(
                "{table} (seed {seed}), step {n}: {sql} failed: {e:?}\nstatements so far:\n{}",
                log.join(";\n")
            );
        }
        log.push(sql);
        if n % 20 == 0 || n == steps {
            let actual =
                simple_rows(&c, &format!("SELECT id, k, v, p FROM {table} ORDER BY id")).await;
            let expected = expected_rows(&model);
            if actual != expected {
                let recent = log.len().saturating_sub(20);
                panic!(
                    "{table} (seed {seed}), step {n}: the table has {} rows, the model {}\n\
                     first difference: {:?}\nlast statements:\n{}",
                    actual.len(),
                    expected.len(),
                    actual
                        .iter()
                        .zip(&expected)
                        .find(|(a, e)| a != e)
                        .map(|(a, e)| format!("table {a:?} vs model {e:?}")),
                    log[recent..].join(";\n")
                );
            }
        }
    }
    model.len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_writes_and_optimizes_match_an_in_memory_model() {
    let steps: usize = std::env::var("DELTAGRES_MODEL_STEPS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2000);
    let seed: u64 = std::env::var("DELTAGRES_MODEL_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5EED_DE17A);
    let server = std::sync::Arc::new(TestServer::start().await);
    // One table per session, all at once: the same number of statements over shorter
    // histories, and writers of different tables side by side.
    let mut tasks = Vec::new();
    for n in 0..TABLES {
        let server = server.clone();
        let per_table = steps / TABLES as usize;
        tasks.push(tokio::spawn(async move {
            check_table(&server, format!("pt{n}"), seed.wrapping_add(n), per_table).await
        }));
    }
    let mut rows = 0;
    for task in tasks {
        rows += task.await.expect("a table's sequence matched its model");
    }
    println!("{steps} statements (seed {seed}), {rows} rows in the end");
    match std::sync::Arc::try_unwrap(server) {
        Ok(server) => server.stop().await,
        Err(_) => panic!("the server is still shared"),
    }
}
