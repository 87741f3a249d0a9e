//! PostgreSQL's formatting functions (`to_char`, `to_date`, `to_timestamp`) held to PostgreSQL 15's
//! own answers: the same expressions run on both servers, compared as the text the wire carries, in UTC and in a zone
//! with daylight saving; patterns neither implements in full are an error, never an echo.

use tokio_postgres::{Client, SimpleQueryMessage};

use crate::support::{Postgres, TestServer};

/// Expressions whose text must be PostgreSQL's, over dates, timestamps, timestamptz and numbers.
const EXPRESSIONS: &[&str] = &[
    "to_char(DATE '2024-03-05', 'YYYY-MM-DD')",
    "to_char(DATE '2024-03-05', 'YYYY-MM')",
    "to_char(DATE '2024-03-05', 'FMMonth DD, YYYY')",
    "to_char(DATE '2024-03-05', 'Month')",
    "to_char(DATE '2024-03-05', 'Dy DD Mon YYYY')",
    "to_char(DATE '2024-12-31', 'DDD IW IYYY Q WW D ID')",
    "to_char(DATE '2024-03-01', 'DDth FMDDth')",
    "to_char(DATE '2024-03-11', 'DDth')",
    "to_char(DATE '2024-03-22', 'DDTH')",
    "to_char(TIMESTAMP '2002-04-20 17:31:12.66', 'HH12:MI:SS')",
    "to_char(TIMESTAMP '2002-04-20 17:31:12.66', 'HH24:MI:SS.MS US')",
    "to_char(TIMESTAMP '2002-04-20 00:05:00', 'HH12:MI AM')",
    "to_char(TIMESTAMP '2002-04-20 12:05:00', 'HH:MI p.m.')",
    "to_char(TIMESTAMP '2002-04-20 17:31:12', '\"Day\" DAY \"of\" YYYY')",
    "to_char(TIMESTAMP '2002-04-20 17:31:12', 'YYYY-MM-DD\"T\"HH24:MI:SS')",
    "to_char(TIMESTAMP '2002-04-20 17:31:12', 'SSSS CC J RM')",
    "to_char(TIMESTAMPTZ '2024-07-01 12:00:00+00', 'YYYY-MM-DD HH24:MI:SS TZ OF')",
    "to_char(TIMESTAMPTZ '2024-01-15 23:30:00+00', 'YYYY-MM-DD HH24:MI TZH:TZM')",
    "to_char(DATE '2024-03-05', 'YYYY-MM-DD HH24 TZ')",
    "to_char(NULL::date, 'YYYY')",
    "to_char(125, '999')",
    "to_char(-125, '999')",
    "to_char(1234.5, '9999.99')",
    "to_char(1234.5, 'FM9999.99')",
    "to_char(1234567.891, '9G999G999D99')",
    "to_char(1234567.891, 'FM999,999,990.00')",
    "to_char(0.005, '0.00')",
    "to_char(-125.8, '999D99S')",
    "to_char(-125.8, '999D99PR')",
    "to_char(12345, '999')",
    "to_char(7, '000')",
    "to_char(-7, 'MI00')",
    "to_char(3.5::double precision, '9D9')",
    "to_date('05 Dec 2000', 'DD Mon YYYY')",
    "to_date('2024-02-29', 'YYYY-MM-DD')",
    "to_date('20240229', 'YYYYMMDD')",
    "to_date('March 5, 2024', 'Month DD, YYYY')",
    // The instants to_timestamp denotes (in the session's zone), shown through to_char.
    "to_char(to_timestamp('2024-03-05 17:31:12', 'YYYY-MM-DD HH24:MI:SS'), 'YYYY-MM-DD HH24:MI:SS.US OF')",
    "to_char(to_timestamp('05/03/2024 05:31 PM', 'DD/MM/YYYY HH12:MI AM'), 'YYYY-MM-DD HH24:MI:SS OF')",
    "to_char(to_timestamp('2024-03-05 17:31:12.123456', 'YYYY-MM-DD HH24:MI:SS.US'), 'YYYY-MM-DD HH24:MI:SS.US OF')",
    "to_char(to_timestamp('2024-07-05 17:31 +05:30', 'YYYY-MM-DD HH24:MI TZH:TZM'), 'YYYY-MM-DD HH24:MI OF')",
];

/// Statements that must fail on both servers, with the same SQLSTATE class.
const ERRORS: &[&str] = &[
    "SELECT to_date('2024-02-30', 'YYYY-MM-DD')",
    "SELECT to_date('2024-13-01', 'YYYY-MM-DD')",
];

/// The text of the one value a query returns, or the error's SQLSTATE.
async fn answer(client: &Client, sql: &str) -> Result<Option<String>, String> {
    match client.simple_query(sql).await {
        Ok(messages) => Ok(messages
            .into_iter()
            .find_map(|m| match m {
                SimpleQueryMessage::Row(row) => Some(row.get(0).map(str::to_string)),
                _ => None,
            })
            .flatten()),
        Err(e) => Err(e
            .code()
            .map(|c| c.code().to_string())
            .unwrap_or_else(|| e.to_string())),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn formatting_functions_answer_as_postgresql() {
    let postgres = Postgres::start();
    let pg = postgres.client().await;
    let server = TestServer::start().await;
    let ours = server.client().await;
    let mut differences = Vec::new();
    for zone in ["UTC", "Europe/Berlin"] {
        for client in [&pg, &ours] {
            client
                .batch_execute(&format!("SET TIME ZONE '{zone}'"))
                .await
                .unwrap();
        }
        for expression in EXPRESSIONS {
            let sql = format!("SELECT {expression}");
            let expected = answer(&pg, &sql).await;
            let got = answer(&ours, &sql).await;
            if expected != got {
                differences.push(format!(
                    "[{zone}] {sql}\n  postgres:  {expected:?}\n  deltagres: {got:?}"
                ));
            }
        }
    }
    for sql in ERRORS {
        let expected = answer(&pg, sql).await;
        let got = answer(&ours, sql).await;
        let class =
            |r: &Result<Option<String>, String>| r.as_ref().err().map(|c| c[..2].to_string());
        assert!(expected.is_err(), "{sql} fails on PostgreSQL: {expected:?}");
        if class(&expected) != class(&got) {
            differences.push(format!(
                "{sql}\n  postgres:  {expected:?}\n  deltagres: {got:?}"
            ));
        }
    }
    assert!(
        differences.is_empty(),
        "{} of {} answers differ from PostgreSQL 15's:\n{}",
        differences.len(),
        EXPRESSIONS.len() * 2 + ERRORS.len(),
        differences.join("\n")
    );
    // A pattern that is not implemented fails; it is never echoed back as text.
    let unsupported = answer(&ours, "SELECT to_char(INTERVAL '15 hours', 'CC')").await;
    assert_eq!(unsupported, Err("0A000".into()));
    server.stop().await;
}
