//! COPY FROM STDIN / TO STDOUT in PostgreSQL's text and CSV formats, held to PostgreSQL 15: the
//! same files are loaded into both with psql's `\copy` and exported again, and the bytes must be
//! the same; errors carry the same SQLSTATE. A COPY that fails or is abandoned commits nothing.

use std::path::Path;
use std::process::{Command, Output};

use futures::SinkExt;

use crate::support::{Postgres, TestServer, require_tool, simple_rows};

const TABLE: &str = "CREATE TABLE ct (i INT, b BIGINT, t TEXT, f BOOLEAN, d DATE, \
                     ts TIMESTAMP, n NUMERIC(10,2), x DOUBLE PRECISION)";

/// Rows in text format, with every escape PostgreSQL defines.
const TEXT_DATA: &str = "1\t10000000000\tplain\tt\t2024-02-29\t2024-01-02 03:04:05\t12.5\t1.5\n\
2\t-3\ttab\\there\tf\t1999-12-31\t2000-01-01 00:00:00\t-0.25\t-0.25\n\
3\t\\N\tline\\nbreak and back\\\\slash\ttrue\t\\N\t\\N\t0\t1e20\n\
4\t0\t\\\\N is text\tfalse\t2024-01-01\t2024-06-30 23:59:59\t99999999.99\t0\n\
5\t7\t\"quoted\" \\101\\x42 stra\u{df}e \u{2713}\t\\N\t2024-01-01\t\\N\t\\N\t\\N\n\
6\t8\t\t\\N\t\\N\t\\N\t\\N\t\\N\n";

/// Rows in CSV: quoted delimiters, doubled quotes, a line break inside quotes, `""` (empty
/// text) beside an empty field (NULL).
const CSV_DATA: &str = "i,b,t,f,d,ts,n,x\n\
11,1,\"a,b\",t,2024-03-01,2024-03-01 10:00:00,1.25,2\n\
12,2,\"say \"\"hi\"\"\",f,,,,\n\
13,3,\"two\nlines\",true,2024-03-02,,3,\n\
14,4,\"\",,,,,\n\
15,5,,false,2024-03-03,2024-03-03 00:00:01,-1,-3.5\n";

fn psql(url: &str, commands: &[&str]) -> Output {
    let mut command = Command::new(require_tool("psql"));
    command.arg(url).args([
        "-X",
        "-q",
        "-v",
        "ON_ERROR_STOP=1",
        "-v",
        "VERBOSITY=verbose",
    ]);
    for c in commands {
        command.args(["-c", c]);
    }
    command.output().expect("psql runs")
}

/// Loads both files and exports the table in both formats; returns (text, csv) output.
fn load_and_export(url: &str, dir: &Path) -> (String, String) {
    let text = dir.join("rows.txt");
    let csv = dir.join("rows.csv");
    let out = psql(
        url,
        &[
            "DROP TABLE IF EXISTS ct",
            TABLE,
            &format!("\\copy ct FROM '{}'", text.display()),
            &format!(
                "\\copy ct FROM '{}' WITH (FORMAT csv, HEADER)",
                csv.display()
            ),
        ],
    );
    assert!(
        out.status.success(),
        "load on {url}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let export = |format: &str| {
        let out = psql(
            url,
            &[&format!(
                "COPY (SELECT * FROM ct ORDER BY i) TO STDOUT{format}"
            )],
        );
        assert!(
            out.status.success(),
            "export on {url}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8")
    };
    (export(""), export(" WITH (FORMAT csv, HEADER)"))
}

/// The SQLSTATE psql reports (VERBOSITY verbose prints `ERROR:  22P04: ...`).
fn sqlstate(out: &Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr);
    stderr
        .split("ERROR:  ")
        .nth(1)
        .and_then(|rest| rest.split(':').next())
        .unwrap_or_default()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copy_text_and_csv_round_trip_as_in_postgresql() {
    let postgres = Postgres::start();
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("rows.txt"), TEXT_DATA).unwrap();
    std::fs::write(dir.path().join("rows.csv"), CSV_DATA).unwrap();
    let expected = load_and_export(&postgres.url(), dir.path());
    let ours = load_and_export(&server.url(), dir.path());
    assert_eq!(ours.0, expected.0, "COPY TO text format");
    assert_eq!(ours.1, expected.1, "COPY TO csv format");

    // Malformed input: the same SQLSTATE as PostgreSQL, and nothing is loaded.
    for (name, data, options) in [
        ("few.txt", "1\t2\n", ""),
        ("many.txt", "1\t2\t3\t4\t5\t6\t7\t8\t9\n", ""),
        ("type.txt", "x\t2\t3\tt\t2024-01-01\t\\N\t\\N\t\\N\n", ""),
        ("date.txt", "1\t2\t3\tt\t2024-02-30\t\\N\t\\N\t\\N\n", ""),
        ("nodate.txt", "1\t2\t3\tt\tsoon\t\\N\t\\N\t\\N\n", ""),
        (
            "range.txt",
            "99999999999\t2\t3\tt\t\\N\t\\N\t\\N\t\\N\n",
            "",
        ),
        ("bool.txt", "1\t2\t3\tmaybe\t\\N\t\\N\t\\N\t\\N\n", ""),
        ("quote.csv", "1,2,\"open\n", " WITH (FORMAT csv)"),
    ] {
        let file = dir.path().join(name);
        std::fs::write(&file, data).unwrap();
        let copy = format!("\\copy ct FROM '{}'{options}", file.display());
        let theirs = psql(&postgres.url(), &[&copy]);
        let ours = psql(&server.url(), &[&copy]);
        assert!(!theirs.status.success() && !ours.status.success(), "{name}");
        assert_eq!(
            sqlstate(&ours),
            sqlstate(&theirs),
            "{name}: ours {}\ntheirs {}",
            String::from_utf8_lossy(&ours.stderr),
            String::from_utf8_lossy(&theirs.stderr)
        );
    }
    let c = server.client().await;
    assert_eq!(
        simple_rows(&c, "SELECT count(*) FROM ct").await,
        vec![vec![Some("11".into())]],
        "failed COPYs load nothing"
    );
    server.stop().await;
}

/// A COPY into `big` that has been sent 20,000 rows and is still open.
async fn copy_rows(
    c: &tokio_postgres::Client,
    text: &str,
) -> std::pin::Pin<Box<tokio_postgres::CopyInSink<bytes::Bytes>>> {
    let mut sink = Box::pin(
        c.copy_in::<_, bytes::Bytes>("COPY big FROM STDIN")
            .await
            .unwrap(),
    );
    for i in 0..20_000 {
        sink.send(bytes::Bytes::from(format!("{i}\t{text}\n")))
            .await
            .unwrap();
    }
    sink
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copy_streams_large_input_and_an_abandoned_copy_commits_nothing() {
    let server = TestServer::start().await;
    let c = server.client().await;
    c.batch_execute("CREATE TABLE big (id BIGINT NOT NULL, v TEXT)")
        .await
        .unwrap();
    // 300,000 rows in many CopyData messages: lines span message boundaries.
    let sink = c
        .copy_in::<_, bytes::Bytes>("COPY big FROM STDIN")
        .await
        .unwrap();
    futures::pin_mut!(sink);
    let mut chunk = String::new();
    for i in 0..300_000 {
        chunk.push_str(&format!("{i}\tvalue number {i}\n"));
        if chunk.len() > 10_007 {
            let (head, tail) = chunk.split_at(chunk.len() / 2);
            sink.send(bytes::Bytes::from(head.to_string()))
                .await
                .unwrap();
            sink.send(bytes::Bytes::from(tail.to_string()))
                .await
                .unwrap();
            chunk.clear();
        }
    }
    sink.send(bytes::Bytes::from(chunk)).await.unwrap();
    assert_eq!(sink.finish().await.unwrap(), 300_000);
    assert_eq!(
        simple_rows(&c, "SELECT count(*), sum(id), max(v) FROM big").await,
        vec![vec![
            Some("300000".into()),
            Some("44999850000".into()),
            Some("value number 99999".into())
        ]]
    );
    let versions = "SELECT max(version) FROM \"big$history\"";
    assert_eq!(
        simple_rows(&c, versions).await,
        vec![vec![Some("1".into())]],
        "one COPY, one version"
    );

    // Abandoned part way (CopyFail): nothing is committed.
    {
        let sink = copy_rows(&c, "abandoned").await;
        // Dropped without finish: tokio-postgres sends CopyFail.
        drop(sink);
    }
    // A NULL in a NOT NULL column at the end fails the COPY: nothing is committed either.
    let mut sink = copy_rows(&c, "fine").await;
    sink.send(bytes::Bytes::from("\\N\tnot fine\n"))
        .await
        .unwrap();
    let err = sink.as_mut().finish().await.expect_err("NULL id");
    assert_eq!(crate::support::sqlstate(&err), "23502", "{err}");
    assert_eq!(
        simple_rows(&c, "SELECT count(*) FROM big").await,
        vec![vec![Some("300000".into())]]
    );
    assert_eq!(
        simple_rows(&c, versions).await,
        vec![vec![Some("1".into())]],
        "failed COPYs leave no version"
    );

    // A column list into a partitioned table: the other columns are NULL.
    c.batch_execute("CREATE TABLE pc (id INT, d DATE, note TEXT) PARTITIONED BY (d)")
        .await
        .unwrap();
    let mut sink = Box::pin(
        c.copy_in::<_, bytes::Bytes>("COPY pc (d, id) FROM STDIN WITH (FORMAT csv)")
            .await
            .unwrap(),
    );
    sink.send(bytes::Bytes::from(
        "2024-01-01,1
2024-01-02,2
2024-01-01,3
",
    ))
    .await
    .unwrap();
    assert_eq!(sink.as_mut().finish().await.unwrap(), 3);
    assert_eq!(
        simple_rows(
            &c,
            "SELECT d, count(*), count(note) FROM pc GROUP BY d ORDER BY d"
        )
        .await,
        vec![
            vec![
                Some("2024-01-01".into()),
                Some("2".into()),
                Some("0".into())
            ],
            vec![
                Some("2024-01-02".into()),
                Some("1".into()),
                Some("0".into())
            ],
        ]
    );
    server.stop().await;
}

/// `\copy` with `FORMAT binary` both ways, with PostgreSQL 15 as the oracle: PostgreSQL's binary
/// export of every column type loads here with the same values, and our binary export loads
/// into PostgreSQL with the same values. bytea goes through text and binary COPY unchanged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copy_binary_format_round_trips_with_postgresql() {
    let postgres = Postgres::start();
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("rows.txt"), TEXT_DATA).unwrap();
    std::fs::write(dir.path().join("rows.csv"), CSV_DATA).unwrap();
    let (pg_text, _) = load_and_export(&postgres.url(), dir.path());
    load_and_export(&server.url(), dir.path());
    let run = |url: &str, commands: &[&str]| {
        let out = psql(url, commands);
        assert!(
            out.status.success(),
            "{url}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8")
    };
    let export_text = "COPY (SELECT * FROM cb ORDER BY i) TO STDOUT";
    let reload = |from: &Path| {
        [
            "DROP TABLE IF EXISTS cb".to_string(),
            TABLE.replace("ct (", "cb ("),
            format!("\\copy cb FROM '{}' WITH (FORMAT binary)", from.display()),
        ]
    };
    // PostgreSQL's binary data, loaded here.
    let theirs = dir.path().join("theirs.bin");
    run(
        &postgres.url(),
        &[&format!(
            "\\copy (SELECT * FROM ct ORDER BY i) TO '{}' WITH (FORMAT binary)",
            theirs.display()
        )],
    );
    let load: Vec<String> = reload(&theirs).into();
    let load: Vec<&str> = load.iter().map(String::as_str).collect();
    run(&server.url(), &load);
    assert_eq!(
        run(&server.url(), &[export_text]),
        pg_text,
        "PostgreSQL's binary COPY loaded here"
    );
    // Our binary data, loaded into PostgreSQL.
    let ours = dir.path().join("ours.bin");
    run(
        &server.url(),
        &[&format!(
            "\\copy (SELECT * FROM ct ORDER BY i) TO '{}' WITH (FORMAT binary)",
            ours.display()
        )],
    );
    let load: Vec<String> = reload(&ours).into();
    let load: Vec<&str> = load.iter().map(String::as_str).collect();
    run(&postgres.url(), &load);
    assert_eq!(
        run(&postgres.url(), &[export_text]),
        pg_text,
        "our binary COPY loaded into PostgreSQL"
    );
    // An empty result is still a well-formed file (header and trailer).
    let empty = dir.path().join("empty.bin");
    run(
        &server.url(),
        &[&format!(
            "\\copy (SELECT * FROM ct WHERE false) TO '{}' WITH (FORMAT binary)",
            empty.display()
        )],
    );
    let load: Vec<String> = reload(&empty).into();
    let load: Vec<&str> = load.iter().map(String::as_str).collect();
    run(&postgres.url(), &load);
    // Garbage is 22P04 on both.
    let garbage = dir.path().join("garbage.bin");
    std::fs::write(&garbage, b"not a copy file").unwrap();
    let copy = format!(
        "\\copy ct FROM '{}' WITH (FORMAT binary)",
        garbage.display()
    );
    let (ours, theirs) = (
        psql(&server.url(), &[&copy]),
        psql(&postgres.url(), &[&copy]),
    );
    assert_eq!(sqlstate(&ours), sqlstate(&theirs));
    assert_eq!(sqlstate(&ours), "22P04");

    // bytea: hex and escape input, exported as hex, through text and binary COPY.
    let bytea = dir.path().join("bytea.txt");
    std::fs::write(&bytea, "1\t\\\\x0102ff\n2\t\\\\001a\\\\\\\\b\n3\t\\N\n").unwrap();
    let bytea_round_trip = |url: &str| {
        let bin = dir.path().join(format!("bytea-{}.bin", url.len()));
        run(
            url,
            &[
                "DROP TABLE IF EXISTS cy",
                "CREATE TABLE cy (i INT, b BYTEA)",
                &format!("\\copy cy FROM '{}'", bytea.display()),
                &format!("\\copy cy TO '{}' WITH (FORMAT binary)", bin.display()),
                &format!("\\copy cy FROM '{}' WITH (FORMAT binary)", bin.display()),
            ],
        );
        run(url, &["COPY (SELECT * FROM cy ORDER BY i, b) TO STDOUT"])
    };
    let expected = bytea_round_trip(&postgres.url());
    assert!(expected.contains("\\\\x0102ff"), "{expected}");
    assert_eq!(bytea_round_trip(&server.url()), expected);
    server.stop().await;
}

/// bytea and array columns are read by PostgreSQL's input functions: `\x` hex and the escape
/// form for bytea, `{...}` with quotes and NULL for arrays. The export must be PostgreSQL's to
/// the byte; malformed values fail with its SQLSTATE and load nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copy_reads_bytea_and_arrays_as_postgresql() {
    let postgres = Postgres::start();
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let rows = dir.path().join("rows.txt");
    std::fs::write(
        &rows,
        "1\t\\\\x00ff41\t{1,2,NULL}\t{a,\"b c\",NULL,\"NULL\",\"q\\\\\"\"}\n\
         2\ta\\\\001b\\\\\\\\\t{}\t\\N\n\
         3\t\\N\t\\N\t{\"\"}\n",
    )
    .unwrap();
    let run = |url: &str, commands: &[&str]| {
        let out = psql(url, commands);
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).to_string(),
            sqlstate(&out),
        )
    };
    let load = [
        "CREATE TABLE cb (i INT, b BYTEA, xs INT[], ts TEXT[])".to_string(),
        format!("\\copy cb FROM '{}'", rows.display()),
        "COPY (SELECT i, b, length(b), xs, ts, ts[2] FROM cb ORDER BY i) TO STDOUT".to_string(),
    ];
    let load: Vec<&str> = load.iter().map(String::as_str).collect();
    let expected = run(&postgres.url(), &load);
    assert!(expected.0, "PostgreSQL loads the rows");
    assert_eq!(run(&server.url(), &load), expected);
    for (name, data) in [
        ("odd.txt", "9\t\\\\x0\t\\N\t\\N\n"),
        ("escape.txt", "9\ta\\\\9\t\\N\t\\N\n"),
        ("element.txt", "9\t\\N\t{1,x}\t\\N\n"),
        ("brace.txt", "9\t\\N\t{1,2\t\\N\n"),
    ] {
        let file = dir.path().join(name);
        std::fs::write(&file, data).unwrap();
        let copy = format!("\\copy cb FROM '{}'", file.display());
        let theirs = run(&postgres.url(), &[&copy]);
        assert!(!theirs.0, "{name} fails on PostgreSQL");
        assert_eq!(run(&server.url(), &[&copy]), theirs, "{name}");
    }
    let c = server.client().await;
    assert_eq!(
        simple_rows(&c, "SELECT count(*) FROM cb").await,
        vec![vec![Some("3".into())]],
        "failed COPYs load nothing"
    );
    server.stop().await;
}
