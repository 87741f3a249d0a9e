//! Wire fuzzing: 10,000 random and mutated protocol frames (seeded, so a failure reproduces) from
//! many connections at once, while a healthy session keeps getting correct answers. The server
//! must answer with errors or close the bad connections, and never fall over.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::{TestServer, simple_rows};

/// Frames sent in all.
const FRAMES: usize = 10_000;
/// Connections fuzzing at the same time.
const PARALLEL: usize = 4;
const SEED: u64 = 0xdead_beef_2026;

/// SplitMix64: small, seeded, reproducible.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

fn frame(kind: u8, body: &[u8]) -> Vec<u8> {
    let mut f = vec![kind];
    f.extend_from_slice(&((body.len() + 4) as u32).to_be_bytes());
    f.extend_from_slice(body);
    f
}

fn cstr(s: &[u8]) -> Vec<u8> {
    let mut v = s.to_vec();
    v.push(0);
    v
}

fn startup() -> Vec<u8> {
    let mut body = 196608u32.to_be_bytes().to_vec();
    for part in ["user", "fuzzer", "database", "deltagres", ""] {
        body.extend(cstr(part.as_bytes()));
    }
    let mut f = ((body.len() + 4) as u32).to_be_bytes().to_vec();
    f.extend(body);
    f
}

/// A well-formed frontend message of a random kind.
fn valid_message(rng: &mut Rng) -> Vec<u8> {
    let sql: &[u8] = match rng.below(5) {
        0 => b"SELECT 1",
        1 => b"SELECT count(*) FROM t",
        2 => b"SELECT * FROM t WHERE id = $1",
        3 => b"SELECT nope FROM",
        _ => b"SHOW server_version",
    };
    match rng.below(12) {
        0 | 1 => frame(b'Q', &cstr(sql)),
        2 => {
            let mut b = cstr(b"s1");
            b.extend(cstr(sql));
            b.extend(1i16.to_be_bytes());
            b.extend(20u32.to_be_bytes());
            frame(b'P', &b)
        }
        3 => {
            let mut b = cstr(b"");
            b.extend(cstr(b"s1"));
            b.extend(0i16.to_be_bytes());
            b.extend(1i16.to_be_bytes());
            b.extend(1i32.to_be_bytes());
            b.extend(b"7");
            b.extend(0i16.to_be_bytes());
            frame(b'B', &b)
        }
        4 => frame(b'D', &[b"S".as_slice(), &cstr(b"s1")].concat()),
        5 => frame(b'E', &[cstr(b"").as_slice(), &0i32.to_be_bytes()].concat()),
        6 => frame(b'S', &[]),
        7 => frame(b'H', &[]),
        8 => frame(b'C', &[b"P".as_slice(), &cstr(b"")].concat()),
        9 => frame(b'd', b"1\tx\n"),
        10 => frame(b'c', &[]),
        _ => frame(b'p', &cstr(b"secret")),
    }
}

/// A message broken in one of the ways clients and attackers break them.
fn mutated_message(rng: &mut Rng) -> Vec<u8> {
    let mut m = valid_message(rng);
    match rng.below(8) {
        0 => {
            // Flip random bytes.
            for _ in 0..1 + rng.below(4) {
                let i = rng.below(m.len() as u64) as usize;
                m[i] ^= rng.next() as u8 | 1;
            }
        }
        1 => {
            // A wrong length: zero, negative, short, or huge.
            let len: u32 = match rng.below(4) {
                0 => 0,
                1 => 0xffff_fff0,
                2 => 2,
                _ => 0x3fff_0000,
            };
            m[1..5].copy_from_slice(&len.to_be_bytes());
        }
        2 => m.truncate(1 + rng.below(m.len() as u64) as usize),
        3 => m[0] = rng.next() as u8,
        4 => {
            // Invalid UTF-8 in a query.
            m = frame(
                b'Q',
                &[b"SELECT '".as_slice(), &[0xff, 0xfe, 0xc3], b"'\0"].concat(),
            );
        }
        5 => {
            // A long query string (64 KiB).
            let mut q = b"SELECT '".to_vec();
            q.extend(std::iter::repeat_n(b'a', 65_536));
            q.extend(b"'");
            m = frame(b'Q', &cstr(&q));
        }
        6 => {
            let n = 1 + rng.below(64) as usize;
            m = rng.bytes(n);
        }
        _ => {
            // Deeply nested SQL.
            let depth = 200 + rng.below(800) as usize;
            let sql = format!("SELECT {}1{}", "(".repeat(depth), ")".repeat(depth));
            m = frame(b'Q', &cstr(sql.as_bytes()));
        }
    }
    m
}

/// One connection's bytes and how many frames they hold.
fn connection_script(rng: &mut Rng) -> (Vec<u8>, usize) {
    let mut bytes = Vec::new();
    let mut frames = 1;
    match rng.below(10) {
        0 => {
            let n = 1 + rng.below(200) as usize;
            bytes.extend(rng.bytes(n));
        }
        1 => {
            let mut f = startup();
            let i = rng.below(f.len() as u64) as usize;
            f[i] ^= 0x5a;
            bytes.extend(f);
        }
        2 => {
            bytes.extend(8u32.to_be_bytes());
            bytes.extend(80877103u32.to_be_bytes());
            bytes.extend(startup());
            frames += 1;
        }
        _ => bytes.extend(startup()),
    }
    for _ in 0..1 + rng.below(30) {
        bytes.extend(if rng.chance(50) {
            mutated_message(rng)
        } else {
            valid_message(rng)
        });
        frames += 1;
    }
    (bytes, frames)
}

async fn fuzz_connection(addr: std::net::SocketAddr, bytes: Vec<u8>) {
    let Ok(mut socket) = TcpStream::connect(addr).await else {
        return;
    };
    let _ = socket.write_all(&bytes).await;
    let mut sink = [0u8; 8192];
    let _ = tokio::time::timeout(Duration::from_millis(100), async {
        while let Ok(n) = socket.read(&mut sink).await {
            if n == 0 {
                break;
            }
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_bad_frames_do_not_hurt_a_healthy_session() {
    let server = TestServer::start().await;
    let healthy = server.client().await;
    healthy
        .batch_execute("CREATE TABLE t (id BIGINT, name TEXT); INSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, 'c')")
        .await
        .unwrap();

    let done = Arc::new(AtomicBool::new(false));
    let answers = Arc::new(AtomicUsize::new(0));
    let checker = {
        let done = done.clone();
        let answers = answers.clone();
        tokio::spawn(async move {
            while !done.load(Ordering::SeqCst) {
                let rows = simple_rows(&healthy, "SELECT count(*), min(name) FROM t").await;
                assert_eq!(rows, vec![vec![Some("3".into()), Some("a".into())]]);
                answers.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            healthy
        })
    };

    let mut rng = Rng(SEED);
    let mut sent = 0;
    let mut connections = 0;
    let mut running = tokio::task::JoinSet::new();
    while sent < FRAMES {
        let (bytes, frames) = connection_script(&mut rng);
        sent += frames;
        connections += 1;
        if running.len() >= PARALLEL {
            running.join_next().await;
        }
        running.spawn(fuzz_connection(server.addr, bytes));
    }
    while running.join_next().await.is_some() {}
    done.store(true, Ordering::SeqCst);
    let healthy = checker
        .await
        .expect("the healthy session kept getting right answers");
    assert!(answers.load(Ordering::SeqCst) > 0);
    assert!(
        sent >= FRAMES && connections > 100,
        "{sent} frames over {connections} connections"
    );

    // The server takes new sessions and the old one still works.
    let fresh = server.client().await;
    assert_eq!(
        simple_rows(&fresh, "SELECT count(*) FROM t").await,
        vec![vec![Some("3".into())]]
    );
    assert_eq!(
        simple_rows(&healthy, "SELECT 1").await,
        vec![vec![Some("1".into())]]
    );
    server.stop().await;
}
