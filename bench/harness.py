#!/usr/bin/env python3
"""deltagres against other tools on the retail data set (`bench/run.sh` installs what this needs).

  python3 bench/harness.py [--scale 1e5|1e6|1e7] [--only CASE[,CASE]] [--runs N] [--keep]

Cases (each starts its own servers, so one case's memory does not carry into the next):
  report    07_report's analytic queries and the skewed join: deltagres over the wire vs DuckDB
            reading the very parquet files of the Delta tables deltagres loaded (stages 01-02)
  merge     05_merge_updates' MERGE of a day's change feed into retail.orders: deltagres vs the
            `deltalake` Python package on a copy of the same Delta table
  zorder    OPTIMIZE ZORDER BY (customer_id, order_date) vs deltalake's optimize.z_order, then the
            share of files a point filter on each column reads
  wire      SELECT 1 latency (pgbench, 1 and 16 clients, simple and extended protocol) and streaming
            retail.orders to psycopg in binary format: deltagres vs PostgreSQL 15
  pipeline  `deltagres pipeline run` of sql/retail for every day vs bench/spark_pipeline.py (PySpark)
  skew      the skewed join with and without the SKEW hint at 2, 8 and 16 target partitions
  objectstore  loading the raw tables and 07_report's queries with data_dir on an S3 stand-in
            (moto, tests/s3_standin.py) vs on local disk: the price of object storage here
  console   SELECT 1 (pgbench, 1 and 16 clients) on a server with the web console on vs one with
            it off (`http.listen = ""`), runs interleaved: the console's per-statement cost

Every case checks that the systems agree (row counts, and full results where they are small)
before its timings are reported; a disagreement marks the row "MISMATCH" and fails the run.
Writes bench/results/<date>-<scale>.md, .json and .png (the ratios to deltagres).
"""
import argparse
import datetime
import glob
import hashlib
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from decimal import Decimal
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SQL_DIR = ROOT / "sql" / "retail"
DAYS = ["2024-01-01", "2024-01-02", "2024-01-03"]
CASES = ["report", "merge", "zorder", "wire", "commits", "pipeline", "skew", "objectstore", "console"]
POINT_CUSTOMER = "customer_42"
POINT_DAY = "2024-01-02"
T0 = time.time()


def log(msg):
    print(f"[{time.time() - T0:7.1f}s] {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- processes and memory


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def status_kb(pid, key):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def reset_hwm(pid):
    """Resets VmHWM to the current RSS (Linux clear_refs 5), so the next read is this run's peak."""
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def tree_pids(pid):
    pids, todo = [], [pid]
    while todo:
        p = todo.pop()
        pids.append(p)
        for task in glob.glob(f"/proc/{p}/task/*/children"):
            try:
                todo.extend(int(c) for c in open(task).read().split())
            except OSError:
                pass
    return pids


def pss_kb(pid):
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class TreeSampler:
    """Peak of the summed PSS of a process tree (PostgreSQL's postmaster and its backends), sampled
    every 50 ms: PSS shares shared memory between the processes instead of counting it in each."""

    def __init__(self, pid):
        self.pid, self.peak, self._stop = pid, 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, sum(pss_kb(p) for p in tree_pids(self.pid)))
            self._stop.wait(0.05)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def deltagres_env():
    """The environment a deltagres process is started with: this one without DELTAGRES_BIN, which
    names the binary for the harness and which deltagres would refuse as an unknown config key."""
    return {k: v for k, v in os.environ.items() if k != "DELTAGRES_BIN"}


def timed_child(cmd, env=None, cwd=None):
    """Runs cmd; returns (seconds, peak RSS in KB of the process and its waited children, stdout)."""
    start = time.time()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=env, cwd=cwd, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        secs = time.time() - start
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd[:4]))} exited {proc.returncode}: {stderr[-3000:]}")
    return secs, usage.ru_maxrss, stdout


def worker(name, **kw):
    """Runs one of the in-process Python systems in a fresh interpreter (its own peak RSS)."""
    _, peak, out = timed_child([sys.executable, __file__, "--worker", name, json.dumps(kw)])
    result = json.loads(out.strip().splitlines()[-1])
    result["peak_kb"] = peak
    return result


# ---------------------------------------------------------------- servers


def stage_sql(stage, day, input_dir):
    text = (SQL_DIR / f"{stage}.sql").read_text()
    return (text.replace("${run_date}", day).replace("${input_dir}", str(input_dir))
            .replace("${vacuum_retain_hours}", "168"))


class Deltagres:
    def __init__(self, binary, work, name, allowed, data_dir=None, env=None):
        self.binary, self.dir, self.allowed = binary, Path(work) / name, allowed
        self.data_dir, self.extra_env = data_dir, env or {}
        self.proc = None

    def start(self):
        shutil.rmtree(self.dir, ignore_errors=True)
        self.dir.mkdir(parents=True)
        self.port = free_port()
        env = dict(deltagres_env(), DELTAGRES_STORAGE_ALLOWED_PATHS=str(self.allowed), DELTAGRES_LOG_LEVEL="warn",
                   DELTAGRES_SERVER_SHUTDOWN_GRACE_SECS="1", **self.extra_env)
        self.log = open(self.dir / "server.log", "w")
        # cwd without a config.toml: built-in defaults plus the overrides above.
        self.proc = subprocess.Popen([self.binary, "serve", "--listen", f"127.0.0.1:{self.port}",
                                      "--data-dir", self.data_dir or str(self.dir / "data")],
                                     cwd=self.dir, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        self.dsn = f"host=127.0.0.1 port={self.port} user=bench dbname=deltagres"
        wait_ready(self.dsn, self.proc)
        return self

    @property
    def pid(self):
        return self.proc.pid

    def connect(self):
        import psycopg
        return psycopg.connect(self.dsn, autocommit=True)

    def psql(self, script):
        subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", str(self.port),
                        "-U", "bench", "-d", "deltagres", "-f", "-"],
                       input=script, text=True, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def load_raw(self, input_dir):
        """Stages 01 and 02 of the pipeline for every day: retail.orders, customers, inventory."""
        self.psql("\n".join(stage_sql("01_setup", DAYS[0], input_dir) if i == 0 else stage_sql("02_load_raw", d, input_dir)
                            for i, d in enumerate([None] + DAYS)))

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def wait_ready(dsn, proc=None, timeout=60):
    import psycopg
    deadline = time.time() + timeout
    while True:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before accepting connections")
        try:
            psycopg.connect(dsn, connect_timeout=2).close()
            return
        except psycopg.OperationalError:
            if time.time() > deadline:
                raise
            time.sleep(0.1)


def pg_bindir():
    for d in ("/usr/lib/postgresql/15/bin",):
        if os.path.exists(f"{d}/pg_ctl"):
            return d
    pg_ctl = shutil.which("pg_ctl")
    if pg_ctl:
        return str(Path(os.path.realpath(pg_ctl)).parent)
    raise RuntimeError("no PostgreSQL server (pg_ctl) found: run bench/run.sh, which installs postgresql-15")


class Postgres:
    """A throwaway PostgreSQL cluster (initdb in a temp dir, default settings, loopback only)."""

    def __init__(self, work):
        self.dir = Path(work) / "postgres"
        self.bin = pg_bindir()

    def _as_postgres(self, args, **kw):
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        return subprocess.run(prefix + args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **kw)

    def start(self):
        shutil.rmtree(self.dir, ignore_errors=True)
        self.dir.mkdir(parents=True)
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
        self.port = free_port()
        self._as_postgres([f"{self.bin}/initdb", "-D", str(self.dir / "data"), "-U", "bench", "--auth=trust",
                           "-E", "UTF8", "--no-sync"])
        self._as_postgres([f"{self.bin}/pg_ctl", "-D", str(self.dir / "data"), "-l", str(self.dir / "server.log"),
                           "-w", "-o", f"-p {self.port} -c listen_addresses=127.0.0.1 "
                                       f"-c unix_socket_directories={self.dir}", "start"])
        self.dsn = f"host=127.0.0.1 port={self.port} user=bench dbname=postgres"
        wait_ready(self.dsn)
        self.pid = int((self.dir / "data" / "postmaster.pid").read_text().split()[0])
        return self

    def connect(self):
        import psycopg
        return psycopg.connect(self.dsn, autocommit=True)

    def stop(self):
        try:
            self._as_postgres([f"{self.bin}/pg_ctl", "-D", str(self.dir / "data"), "-m", "fast", "-w", "stop"])
        except subprocess.CalledProcessError:
            pass

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


# ---------------------------------------------------------------- results


class Bench:
    def __init__(self, args, work, binary):
        self.args, self.work, self.bin = args, Path(work), binary
        self.input = self.work / "input"
        self.rows = []          # one dict per (case, system)
        self.failures = []      # (case, error)
        self.mismatches = []
        self.skipped = []       # (case, reason)
        self.versions = {}

    def runs(self, kind):
        if self.args.runs:
            return self.args.runs
        n = self.args.scale_n
        return {"fast": 5 if n <= 1e6 else 3,
                "medium": 3 if n <= 1e6 else 2,
                "slow": 2 if n <= 1e6 else 1}[kind]

    def record(self, case, system, times, peak_kb, notes="", unit="s", baseline=False):
        self.rows.append({"case": case, "system": system, "times": list(times), "peak_kb": peak_kb,
                          "notes": notes, "unit": unit, "baseline": baseline})
        log(f"{case:32s} {system:28s} median {statistics.median(times):.4f} {unit}  peak {peak_kb / 1024:.0f} MB  {notes}")

    def check(self, case, what, a, b):
        """Both systems must agree before their timings mean anything."""
        if a != b:
            self.mismatches.append(f"{case}: {what}: {a!r} != {b!r}")
            log(f"MISMATCH {case}: {what}: {a!r} != {b!r}")
            return False
        return True

    def deltagres(self, name):
        return Deltagres(self.bin, self.work, name, self.work)


def fmt_secs(x, unit):
    if unit == "ms":
        return f"{x:.3f} ms"
    return f"{x:.3f} s" if x < 10 else f"{x:.1f} s"


def ratio_of(rows, row):
    base = [r for r in rows if r["case"] == row["case"] and r["baseline"]]
    if not base:
        return None
    return statistics.median(row["times"]) / statistics.median(base[0]["times"])


def machine_header(bench):
    mem_kb = status_line("/proc/meminfo", "MemTotal")
    cpu = ""
    try:
        cpu = next(l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    osname = platform.platform()
    try:
        osname = next(l.split("=", 1)[1].strip().strip('"') for l in open("/etc/os-release")
                      if l.startswith("PRETTY_NAME")) + f" (kernel {platform.release()})"
    except (OSError, StopIteration):
        pass
    return {"cores": os.cpu_count(), "cpu": cpu, "memory_gib": round(mem_kb / 1024 / 1024, 1), "os": osname}


def status_line(path, key):
    for line in open(path):
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def collect_versions(bench):
    v = bench.versions

    def cmd(args):
        try:
            return subprocess.run(args, capture_output=True, text=True, timeout=60).stdout.strip() or \
                subprocess.run(args, capture_output=True, text=True, timeout=60).stderr.strip()
        except Exception as e:  # noqa: BLE001 - a missing tool is reported as such
            return f"unavailable ({e.__class__.__name__})"

    git = cmd(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"])
    dirty = cmd(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no", "src"])
    v["deltagres"] = f"{cmd([bench.bin, '--version'])} (release build, commit {git}{' + uncommitted src changes' if dirty else ''})"
    try:
        v["PostgreSQL"] = cmd([f"{pg_bindir()}/postgres", "--version"])
        v["pgbench"] = cmd([f"{pg_bindir()}/pgbench", "--version"])
    except RuntimeError as e:
        v["PostgreSQL"] = str(e)
    for mod in ("duckdb", "deltalake", "psycopg", "pyarrow", "pyspark", "matplotlib"):
        try:
            m = __import__(mod)
            v[mod] = getattr(m, "__version__", "?")
        except ImportError as e:
            v[mod] = f"not installed ({e})"
    v["Python"] = platform.python_version()
    java = subprocess.run(["java", "-version"], capture_output=True, text=True) if shutil.which("java") else None
    v["Java"] = java.stderr.splitlines()[0] if java else "not installed"


def write_results(bench, started):
    out_dir = HERE / "results"
    out_dir.mkdir(exist_ok=True)
    stem = f"{started:%Y-%m-%d}-{bench.args.scale}" + (f"-{bench.args.only.replace(',', '+')}" if bench.args.only else "")
    md, js, png = out_dir / f"{stem}.md", out_dir / f"{stem}.json", out_dir / f"{stem}.png"
    machine = machine_header(bench)
    lines = [f"# deltagres benchmarks, {bench.args.scale} orders ({started:%Y-%m-%d %H:%M})", "",
             f"Command: `bench/run.sh --scale {bench.args.scale}" + (f" --only {bench.args.only}" if bench.args.only else "")
             + (f" --runs {bench.args.runs}" if bench.args.runs else "") + "`; total "
             f"{time.time() - T0:.0f} s.", "",
             f"- Machine: {machine['cores']} cores ({machine['cpu']}), {machine['memory_gib']} GiB memory, {machine['os']}"]
    lines += [f"- {k}: {val}" for k, val in bench.versions.items()]
    lines += ["- Data: `deltagres gen retail --orders {0}` (3 days, 100,000 customers, 60% of orders on customer_1)"
              .format(bench.args.scale),
              "- Servers run on loopback, started by the harness for each case; deltagres with built-in defaults "
              "(target partitions = cores, 4 GiB memory pool), PostgreSQL 15 with initdb defaults.",
              "- Peak RSS: deltagres = the server's VmHWM (reset to the current RSS before each run with "
              "clear_refs, so it includes what the server already held); PostgreSQL = the serving backend's "
              "VmHWM (streaming) or the peak summed PSS of the postmaster and its backends (pgbench); "
              "DuckDB / deltalake / Spark / `deltagres pipeline run` = peak RSS of a fresh process per case "
              "(Spark: JVM VmHWM + Python driver).",
              "- ratio = this system's median / the case's baseline median (the deltagres row, or the plain join "
              "for skew): below 1 is faster than deltagres. Wire latency rows show latency in the time columns: p50 with 1 client, pgbench's mean with 16.",
              ""]
    lines += ["| case | system | runs | median | min | max | peak RSS | ratio | notes |", "|---|---|---|---|---|---|---|---|---|"]
    for r in bench.rows:
        t = r["times"]
        ratio = ratio_of(bench.rows, r)
        lines.append("| {} | {} | {} | {} | {} | {} | {} | {} | {} |".format(
            r["case"], r["system"], len(t), fmt_secs(statistics.median(t), r["unit"]), fmt_secs(min(t), r["unit"]),
            fmt_secs(max(t), r["unit"]), f"{r['peak_kb'] / 1024:,.0f} MB" if r["peak_kb"] else "n/a",
            "1 (baseline)" if r["baseline"] else (f"{ratio:.2f}" if ratio is not None else ""), r["notes"]))
    if bench.mismatches:
        lines += ["", "## Mismatches (results differ between systems: these timings compare different answers)", ""]
        lines += [f"- {m}" for m in bench.mismatches]
    if bench.failures or bench.skipped:
        lines += ["", "## Cases that failed or were skipped", ""]
        lines += [f"- {c}: {e}" for c, e in bench.failures + bench.skipped]
    lines.append("")
    md.write_text("\n".join(lines))
    js.write_text(json.dumps({"scale": bench.args.scale, "date": started.isoformat(), "machine": machine,
                              "versions": bench.versions, "rows": bench.rows, "mismatches": bench.mismatches,
                              "failures": bench.failures, "skipped": bench.skipped}, indent=1, default=str))
    chart(bench, png)
    log(f"wrote {md}, {js.name}, {png.name}")
    return md


def chart(bench, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    bars = [(f"{r['case']} | {r['system']}", ratio_of(bench.rows, r)) for r in bench.rows if not r["baseline"]]
    bars = [(label, ratio) for label, ratio in bars if ratio]
    if not bars:
        return
    fig, ax = plt.subplots(figsize=(10, 0.32 * len(bars) + 1.6))
    labels = [b[0] for b in bars][::-1]
    values = [b[1] for b in bars][::-1]
    colors = ["#c44e52" if v < 1 else "#4c72b0" for v in values]
    ax.barh(labels, values, color=colors)
    ax.axvline(1, color="black", linewidth=1)
    ax.set_xscale("log")
    ax.set_xlabel("median time / baseline median time, log scale (baseline: deltagres; for skew: the plain join)\n"
                  "right of 1 (blue): slower than the baseline; left of 1 (red): faster")
    ax.set_title(f"deltagres benchmarks, {bench.args.scale} orders")
    for y, v in enumerate(values):
        ax.text(v, y, f" {v:.2f}", va="center", fontsize=8)
    ax.tick_params(axis="y", labelsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


# ---------------------------------------------------------------- result comparison


def normalize(rows):
    """Rows as sortable strings: numbers rounded to cents, so DECIMAL(22,2) vs DECIMAL(38,2) agree."""
    out = []
    for row in rows:
        cells = []
        for v in row:
            if isinstance(v, (Decimal, float)):
                cells.append(f"{float(v):.2f}")
            else:
                cells.append(str(v))
        out.append("|".join(cells))
    out.sort()
    return out


def digest(rows):
    norm = normalize(rows)
    return len(norm), hashlib.sha256("\n".join(norm).encode()).hexdigest()[:16]


# ---------------------------------------------------------------- case 1: report


REPORT_QUERIES = {
    # 07_report's MERGE source, over every day
    "report: revenue by segment": """
        SELECT o.order_date, c.segment, count(*) AS orders, sum(o.amount) AS revenue
        FROM retail.orders o JOIN retail.customers c ON o.customer_id = c.customer_id
        GROUP BY o.order_date, c.segment""",
    # 07_report's two checks, over every day
    "report: negative amounts": "SELECT count(*) AS n FROM retail.orders WHERE amount < 0",
    "report: orphan orders": """
        SELECT count(*) AS n FROM retail.orders o
        WHERE NOT EXISTS (SELECT 1 FROM retail.customers c WHERE c.customer_id = o.customer_id)""",
    # 03_skew_join's join (the hint is a comment to DuckDB)
    "report: skewed join": """
        SELECT /*+ SKEW('o', 'customer_id', ('customer_1')) */
               o.order_date, o.customer_id, c.segment, count(*) AS orders, sum(o.amount) AS amount
        FROM retail.orders o JOIN retail.customers c ON o.customer_id = c.customer_id
        GROUP BY o.order_date, o.customer_id, c.segment""",
}


def case_report(b):
    import deltalake
    runs = b.runs("fast")
    with b.deltagres("report") as dg:
        dg.load_raw(b.input)
        files = {t: deltalake.DeltaTable(str(dg.dir / "data" / "retail" / t)).file_uris()
                 for t in ("orders", "customers")}
        conn = dg.connect()
        for name, sql in REPORT_QUERIES.items():
            times, peak = [], 0
            for _ in range(runs):
                reset_hwm(dg.pid)
                start = time.time()
                with conn.cursor() as cur:
                    cur.execute(sql)
                    rows = cur.fetchall()
                times.append(time.time() - start)
                peak = max(peak, status_kb(dg.pid, "VmHWM"))
            n, h = digest(rows)
            b.record(name, "deltagres", times, peak, f"{n} rows", baseline=True)
            duck = worker("duckdb_query", files=files, sql=sql, runs=runs)
            ok = b.check(name, "rows (count, digest)", (n, h), (duck["rows"], duck["digest"]))
            b.record(name, "DuckDB (same parquet files)", duck["times"], duck["peak_kb"],
                     f"{duck['rows']} rows" + ("" if ok else " MISMATCH"))
        conn.close()


def w_duckdb_query(files, sql, runs):
    import duckdb
    con = duckdb.connect()
    con.execute("CREATE SCHEMA retail")
    # Delta tables keep partition values in the path (order_date=...), not in the files.
    con.execute(f"CREATE VIEW retail.orders AS SELECT * FROM read_parquet({files['orders']!r}, hive_partitioning = true)")
    con.execute(f"CREATE VIEW retail.customers AS SELECT * FROM read_parquet({files['customers']!r})")
    times = []
    for _ in range(runs):
        start = time.time()
        rows = con.execute(sql).fetchall()
        times.append(time.time() - start)
    n, h = digest(rows)
    return {"times": times, "rows": n, "digest": h, "version": duckdb.__version__}


# ---------------------------------------------------------------- case 2: merge


def case_merge(b):
    runs = b.runs("medium")
    day = DAYS[0]
    sql = stage_sql("05_merge_updates", day, b.input)
    with b.deltagres("merge") as dg:
        dg.load_raw(b.input)
        snapshot = b.work / "merge_orders_v0"
        shutil.rmtree(snapshot, ignore_errors=True)
        shutil.copytree(dg.dir / "data" / "retail" / "orders", snapshot)
        conn = dg.connect()
        notices = []
        conn.add_notice_handler(lambda d: notices.append(d.message_primary or ""))
        cur = conn.cursor()
        cur.execute("DESCRIBE HISTORY retail.orders LIMIT 1")
        v0 = cur.fetchone()[0]
        times, peak = [], 0
        for i in range(runs):
            if i:  # RESTORE to the current version is an error ("should be less then last available version")
                cur.execute(f"RESTORE TABLE retail.orders TO VERSION AS OF {v0}")
            reset_hwm(dg.pid)
            start = time.time()
            cur.execute(sql)
            times.append(time.time() - start)
            peak = max(peak, status_kb(dg.pid, "VmHWM"))
        metrics = dict(re.findall(r"(num_\w+_rows)=(\d+)", next(n for n in reversed(notices) if "num_affected_rows" in n)))
        cur.execute(f"SELECT count(*), count(updated_on) FROM retail.orders WHERE order_date = DATE '{day}'")
        dg_counts = list(cur.fetchone())
        cur.execute("SELECT count(*) FROM retail.orders")
        dg_total = cur.fetchone()[0]
        conn.close()
    dg_m = [int(metrics["num_updated_rows"]), int(metrics["num_deleted_rows"]), int(metrics["num_inserted_rows"])]
    b.record("merge: 1 day's feed into orders", "deltagres", times, peak,
             f"updated/deleted/inserted {dg_m}; day rows {dg_counts[0]}", baseline=True)
    py = worker("deltalake_merge", snapshot=str(snapshot), updates=str(b.input / "updates" / f"order_date={day}"),
                day=day, runs=runs, work=str(b.work / "merge_py"))
    ok = b.check("merge", "updated/deleted/inserted", dg_m, py["metrics"])
    ok &= b.check("merge", "day rows, rows with updated_on, all rows", dg_counts + [dg_total], py["counts"])
    b.record("merge: 1 day's feed into orders", "deltalake (Python)", py["times"], py["peak_kb"],
             f"updated/deleted/inserted {py['metrics']}; day rows {py['counts'][0]}" + ("" if ok else " MISMATCH"))


def w_deltalake_merge(snapshot, updates, day, runs, work):
    import pyarrow as pa
    import pyarrow.dataset as ds
    import pyarrow.parquet as pq
    from deltalake import DeltaTable

    cols = ["order_id", "customer_id", "sku", "quantity", "unit_price", "amount", "status", "order_ts", "order_date"]
    times = []
    for _ in range(runs):
        shutil.rmtree(work, ignore_errors=True)
        shutil.copytree(snapshot, work)
        start = time.time()
        src = pq.read_table(sorted(glob.glob(f"{updates}/*.parquet")), partitioning=None)
        src = src.append_column("updated_on", pa.array([datetime.date.fromisoformat(day)] * src.num_rows, pa.date32()))
        m = (DeltaTable(work)
             .merge(source=src, source_alias="s", target_alias="t", merge_schema=True,
                    predicate=f"t.order_id = s.order_id AND t.order_date = s.order_date AND t.order_date = '{day}'")
             .when_matched_delete(predicate="s.op = 'delete'")
             .when_matched_update(updates={"status": "s.status", "amount": "s.amount", "quantity": "s.quantity",
                                           "updated_on": "s.updated_on"})
             .when_not_matched_insert(updates={c: f"s.{c}" for c in cols + ["updated_on"]}, predicate="s.op <> 'delete'")
             .execute())
        times.append(time.time() - start)
    table = DeltaTable(work).to_pyarrow_dataset()
    day_rows = table.to_table(filter=ds.field("order_date") == pa.scalar(datetime.date.fromisoformat(day)))
    counts = [day_rows.num_rows, day_rows.num_rows - day_rows.column("updated_on").null_count, table.count_rows()]
    metrics = [m["num_target_rows_updated"], m["num_target_rows_deleted"], m["num_target_rows_inserted"]]
    return {"times": times, "metrics": metrics, "counts": counts}


# ---------------------------------------------------------------- case 3: zorder


def scan_share(cur, where):
    cur.execute(f"EXPLAIN ANALYZE SELECT count(*), sum(quantity) FROM retail.orders WHERE {where}")
    line = next(r[0] for r in cur.fetchall() if "DeltaScanExec" in r[0])
    m = re.search(r"files=(\d+) of=(\d+)", line)
    return int(m.group(1)), int(m.group(2))


def case_zorder(b):
    runs = b.runs("slow") if b.args.scale_n >= 1e7 else b.runs("medium")
    with b.deltagres("zorder") as dg:
        dg.load_raw(b.input)
        snapshot = b.work / "zorder_orders_v0"
        shutil.rmtree(snapshot, ignore_errors=True)
        shutil.copytree(dg.dir / "data" / "retail" / "orders", snapshot)
        conn = dg.connect()
        cur = conn.cursor()
        cur.execute("DESCRIBE HISTORY retail.orders LIMIT 1")
        v0 = cur.fetchone()[0]
        cur.execute("DESCRIBE DETAIL retail.orders")
        size = dict(zip([d.name for d in cur.description], cur.fetchone()))["sizeInBytes"]
        # ~16 files per day, so a point filter has files to skip at every scale
        target = max(32 << 10, size // (16 * len(DAYS)))
        cur.execute(f"SET deltagres.optimize.target_file_size = '{target}'")
        times, peak = [], 0
        for i in range(runs):
            if i:  # RESTORE to the current version is an error ("should be less then last available version")
                cur.execute(f"RESTORE TABLE retail.orders TO VERSION AS OF {v0}")
            reset_hwm(dg.pid)
            start = time.time()
            cur.execute("OPTIMIZE retail.orders ZORDER BY (customer_id, order_date)")
            cur.fetchall()
            times.append(time.time() - start)
            peak = max(peak, status_kb(dg.pid, "VmHWM"))
        cust = scan_share(cur, f"customer_id = '{POINT_CUSTOMER}'")
        dayf = scan_share(cur, f"order_date = DATE '{POINT_DAY}'")
        cur.execute(f"SELECT count(*) FROM retail.orders WHERE customer_id = '{POINT_CUSTOMER}'")
        counts = [cur.fetchone()[0]]
        cur.execute("SELECT count(*) FROM retail.orders")
        counts.append(cur.fetchone()[0])
        conn.close()
    share = lambda f: f"{f[0]}/{f[1]} files ({100 * f[0] / f[1]:.0f}%)"
    b.record("zorder: OPTIMIZE ZORDER BY", "deltagres", times, peak,
             f"target {target // 1024} KiB; customer_id = '{POINT_CUSTOMER}' reads {share(cust)}, "
             f"order_date reads {share(dayf)}", baseline=True)
    py = worker("deltalake_zorder", snapshot=str(snapshot), target=target, runs=runs, work=str(b.work / "zorder_py"))
    ok = b.check("zorder", "rows of customer, all rows", counts, py["counts"])
    b.record("zorder: OPTIMIZE ZORDER BY", "deltalake (Python)", py["times"], py["peak_kb"],
             f"z_order(['customer_id']) (partition columns refused); customer_id reads {share(py['customer'])}, "
             f"order_date reads {share(py['day'])} (by file stats)" + ("" if ok else " MISMATCH"))


def w_deltalake_zorder(snapshot, target, runs, work):
    import pyarrow as pa
    import pyarrow.dataset as ds
    from deltalake import DeltaTable

    times = []
    for _ in range(runs):
        shutil.rmtree(work, ignore_errors=True)
        shutil.copytree(snapshot, work)
        start = time.time()
        # order_date is the partition column: delta-rs refuses partition columns in z_order
        # ("Z-order columns cannot be partition columns"); deltagres leaves them out of the key too.
        DeltaTable(work).optimize.z_order(["customer_id"], target_size=target)
        times.append(time.time() - start)
    dt = DeltaTable(work)
    adds = pa.table(dt.get_add_actions(flatten=True)).to_pylist()
    day = datetime.date.fromisoformat(POINT_DAY)
    cust = sum(1 for a in adds if a["min.customer_id"] <= POINT_CUSTOMER <= a["max.customer_id"])
    days = sum(1 for a in adds if a["partition.order_date"] == day)
    data = dt.to_pyarrow_dataset()
    counts = [data.count_rows(filter=ds.field("customer_id") == POINT_CUSTOMER), data.count_rows()]
    return {"times": times, "customer": [cust, len(adds)], "day": [days, len(adds)], "counts": counts}


# ---------------------------------------------------------------- case 4: wire


def pgbench(dsn_port, dbname, clients, mode, seconds, workdir, script="SELECT 1;\n"):
    """One pgbench run of `script` (`SELECT 1;`); returns (p50 ms, p99 ms, tps)."""
    workdir = Path(workdir)
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    (workdir / "select1.sql").write_text(script)
    cmd = ["pgbench", "-n", "-f", "select1.sql", "-M", mode, "-c", str(clients), "-j", str(min(clients, 2)),
           "-T", str(seconds), "-l", "-h", "127.0.0.1", "-p", str(dsn_port), "-U", "bench", dbname]
    res = subprocess.run(cmd, cwd=workdir, capture_output=True, text=True)
    if res.returncode != 0:
        raise RuntimeError(f"pgbench failed ({res.returncode}): {res.stderr.strip()[-1500:]}")
    lat = []
    for f in workdir.glob("pgbench_log.*"):
        for line in open(f):
            parts = line.split()
            if len(parts) >= 3 and parts[2].isdigit():
                lat.append(int(parts[2]) / 1000)
    lat.sort()
    tps = float(re.search(r"tps = ([\d.]+)", res.stdout).group(1))
    if clients > 1:
        # pgbench's per-transaction log times are unreliable with many clients per thread (one
        # clock reading serves several clients: 70% of PostgreSQL's came out as 0 us), so report
        # pgbench's own average latency (clients / tps) and no p99.
        mean = float(re.search(r"latency average = ([\d.]+) ms", res.stdout).group(1))
        return mean, float("nan"), tps, len(lat)
    return lat[len(lat) // 2], lat[min(len(lat) - 1, int(len(lat) * 0.99))], tps, len(lat)


def load_orders_into_postgres(pg, input_dir):
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq
    import io
    with pg.connect() as conn:
        conn.execute("""CREATE TABLE orders (order_id BIGINT NOT NULL, customer_id TEXT, sku TEXT, quantity INT,
                        unit_price NUMERIC(10,2), amount NUMERIC(12,2), status TEXT, order_ts TIMESTAMP,
                        order_date DATE)""")
        cols = ["order_id", "customer_id", "sku", "quantity", "unit_price", "amount", "status", "order_ts", "order_date"]
        with conn.cursor().copy("COPY orders FROM STDIN (FORMAT csv)") as copy:
            for f in sorted(glob.glob(f"{input_dir}/orders/*/*.parquet")):
                for batch in pq.ParquetFile(f).iter_batches(batch_size=200_000, columns=cols):
                    buf = io.BytesIO()
                    pacsv.write_csv(batch, buf, pacsv.WriteOptions(include_header=False))
                    copy.write(buf.getvalue())
        conn.execute("VACUUM ANALYZE orders")
        return conn.execute("SELECT count(*) FROM orders").fetchone()[0]


def stream(conn, sql, server_pid, backend_pid=None):
    """Streams a query's rows in binary format; returns (seconds, rows, server peak KB)."""
    pid = backend_pid or server_pid
    reset_hwm(pid)
    start = time.time()
    n = 0
    with conn.cursor(binary=True) as cur:
        cur.execute(sql)
        for _ in cur:
            n += 1
        # 1 = binary: the server honoured the binary result format request
        fmt = cur.pgresult.fformat(0) if cur.pgresult is not None and cur.pgresult.nfields else None
    return time.time() - start, n, status_kb(pid, "VmHWM"), fmt


def case_wire(b):
    runs = b.runs("medium")
    secs = 3
    with b.deltagres("wire") as dg, Postgres(b.work) as pg:
        dg.load_raw(b.input)
        pg_rows = load_orders_into_postgres(pg, b.input)
        # `SELECT :r` with a new constant each time: the same work, but no plan to reuse (a
        # session reuses the plans of statements that read nothing; see plan_cache.rs).
        fresh = "\\set r random(1, 1000000000)\nSELECT :r;\n"
        variants = [(clients, mode, "SELECT 1", "SELECT 1;\n") for clients in (1, 16)
                    for mode in ("simple", "extended")]
        variants += [(clients, "simple", "SELECT <new constant>", fresh) for clients in (1, 16)]
        # What BI tools send: their schema browser's catalog query, and a dashboard tile's
        # aggregate repeated as it refreshes (PostgreSQL reads the same rows through a view
        # named as ours).
        with pg.connect() as conn:
            conn.execute("CREATE SCHEMA IF NOT EXISTS retail")
            conn.execute("CREATE OR REPLACE VIEW retail.orders AS SELECT * FROM public.orders")
        catalog = ("SELECT n.nspname, c.relname, c.relkind FROM pg_catalog.pg_class c "
                   "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
                   "WHERE c.relkind IN ('r', 'v', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
                   "ORDER BY 1, 2;\n")
        tile = ("SELECT status, count(*) AS orders, sum(amount) AS revenue FROM retail.orders "
                "GROUP BY status ORDER BY status;\n")
        variants += [(1, "extended", "catalog: list tables", catalog),
                     (1, "extended", f"dashboard tile: revenue by status over {int(b.args.scale_n):,} orders", tile)]
        for clients, mode, what, script in variants:
            name = f"wire: {what}, {clients} client{'s' if clients > 1 else ''}, {mode}"
            for system, port, db, pid in (("deltagres", dg.port, "deltagres", dg.pid),
                                          ("PostgreSQL 15", pg.port, "postgres", None)):
                p50s, p99s, tpss, n = [], [], [], 0
                peak = 0
                for i in range(runs):
                    if pid:
                        reset_hwm(pid)
                        p50, p99, tps, cnt = pgbench(port, db, clients, mode, secs, b.work / "pgbench", script)
                        peak = max(peak, status_kb(pid, "VmHWM"))
                    else:
                        with TreeSampler(pg.pid) as s:
                            p50, p99, tps, cnt = pgbench(port, db, clients, mode, secs, b.work / "pgbench", script)
                        peak = max(peak, s.peak)
                    p50s.append(p50)
                    p99s.append(p99)
                    tpss.append(tps)
                    n += cnt
                latency = (f"p99 {statistics.median(p99s):.3f} ms" if clients == 1
                           else "mean latency (pgbench's average; its per-query log times are unreliable with 16 clients)")
                b.record(name, system, p50s, peak,
                         f"{latency}, {statistics.median(tpss):,.0f} tps, "
                         f"{n} queries in {runs}x{secs} s", unit="ms", baseline=system == "deltagres")
        name = "wire: stream orders, binary"
        dgc, pgc = dg.connect(), pg.connect()
        backend = pgc.execute("SELECT pg_backend_pid()").fetchone()[0]
        results = {}
        for system, conn, sql, pid, backend_pid in (
                ("deltagres", dgc, "SELECT * FROM retail.orders", dg.pid, None),
                ("PostgreSQL 15", pgc, "SELECT * FROM orders", pg.pid, backend)):
            times, peak, rows = [], 0, 0
            for _ in range(runs):
                t, rows, kb, fmt = stream(conn, sql, pid, backend_pid)
                times.append(t)
                peak = max(peak, kb)
            results[system] = rows
            b.record(name, system, times, peak, f"{rows:,} rows x 9 columns, psycopg cursor(binary=True), "
                     f"result format {'binary' if fmt == 1 else 'TEXT' if fmt == 0 else fmt}",
                     baseline=system == "deltagres")
        b.check(name, "rows streamed (deltagres, PostgreSQL, loaded)", results["deltagres"], results["PostgreSQL 15"])
        b.check(name, "rows loaded into PostgreSQL", pg_rows, int(b.args.scale_n))
        dgc.close()
        pgc.close()


# ---------------------------------------------------------------- case: console overhead
def case_console(b):
    runs = max(b.runs("medium"), 3)
    secs = 3
    on_env = {"DELTAGRES_HTTP_LISTEN": f"127.0.0.1:{free_port()}"}
    with Deltagres(b.bin, b.work, "console-off", b.work, env={"DELTAGRES_HTTP_LISTEN": ""}) as off, \
            Deltagres(b.bin, b.work, "console-on", b.work, env=on_env) as on:
        for clients in (1, 16):
            name = f"console: SELECT 1, {clients} client{'s' if clients > 1 else ''}"
            results = {"console off": ([], []), "console on": ([], [])}
            # Interleaved, so drift on the machine falls on both sides alike.
            for _ in range(runs):
                for system, dg in (("console off", off), ("console on", on)):
                    p50, _, tps, _ = pgbench(dg.port, "deltagres", clients, "simple", secs, b.work / "pgbench")
                    results[system][0].append(p50)
                    results[system][1].append(tps)
            for system, (lat, tps) in results.items():
                b.record(name, system, lat, status_kb(on.pid if system == "console on" else off.pid, "VmHWM"),
                         f"{statistics.median(tps):,.0f} tps ({'p50' if clients == 1 else 'mean'} latency)",
                         unit="ms", baseline=system == "console off")
        import urllib.request
        with urllib.request.urlopen(f"http://{on_env['DELTAGRES_HTTP_LISTEN']}/metrics") as r:
            text = r.read().decode()
        counted = sum(float(line.split()[-1]) for line in text.splitlines()
                      if line.startswith('deltagres_statements_total{kind="SELECT",outcome="ok"}'))
        log(f"console on: /metrics counted {counted:,.0f} SELECTs")


# ---------------------------------------------------------------- case: commits as tables age


COMMITS = 5000
UPDATERS, UPDATES_EACH = 4, 25


def insert_latencies_ms(conn, n, table="aging", properties=""):
    """Milliseconds of each of n single-row INSERTs (one commit each) into a fresh table."""
    conn.execute(f"CREATE TABLE {table} (id BIGINT, v TEXT) {properties}")
    times = []
    for i in range(n):
        start = time.perf_counter()
        conn.execute(f"INSERT INTO {table} VALUES ({i}, 'row {i}')")
        times.append((time.perf_counter() - start) * 1000)
    return times


def concurrent_increments(dsn):
    """UPDATERS sessions each running UPDATE ctr SET n = n + 1 UPDATES_EACH times at once:
    (seconds, statements applied, SQLSTATEs of the failures)."""
    import psycopg
    with psycopg.connect(dsn, autocommit=True) as c:
        c.execute("CREATE TABLE ctr (id INT, n BIGINT)")
        c.execute("INSERT INTO ctr VALUES (1, 0)")
    applied, errors, lock = [0], [], threading.Lock()

    def run():
        with psycopg.connect(dsn, autocommit=True) as c:
            for _ in range(UPDATES_EACH):
                try:
                    c.execute("UPDATE ctr SET n = n + 1 WHERE id = 1")
                    with lock:
                        applied[0] += 1
                except psycopg.Error as e:
                    with lock:
                        errors.append(e.sqlstate)
    threads = [threading.Thread(target=run) for _ in range(UPDATERS)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    with psycopg.connect(dsn, autocommit=True) as c:
        n = c.execute("SELECT n FROM ctr").fetchone()[0]
    return elapsed, applied[0], errors, n


def case_commits(b):
    with b.deltagres("commits") as dg, Postgres(b.work) as pg:
        counts = {}
        for system, dsn, pid in (("deltagres", dg.dsn, dg.pid), ("PostgreSQL 15", pg.dsn, pg.pid)):
            import psycopg
            with psycopg.connect(dsn, autocommit=True) as conn, TreeSampler(pid) as sampler:
                times = insert_latencies_ms(conn, COMMITS)
                counts[system] = conn.execute("SELECT count(*) FROM aging").fetchone()[0]
            first, last = times[:50], times[-50:]
            notes = (f"first 50 median {statistics.median(first):.2f} ms, last 50 "
                     f"{statistics.median(last):.2f} ms ({statistics.median(last) / statistics.median(first):.2f}x)")
            if system == "deltagres":
                log_dir = dg.dir / "data" / "public" / "aging" / "_delta_log"
                checkpoints = len(list(log_dir.glob("*.checkpoint.parquet")))
                notes += f"; {checkpoints} checkpoints in _delta_log"
            b.record(f"commits: single-row INSERT, the last 50 of {COMMITS}", system, last, sampler.peak,
                     notes, unit="ms", baseline=system == "deltagres")
            if system == "deltagres":
                # The same INSERTs into a table that asks for auto-compaction (Databricks'
                # property): its small files are bin-packed in the background as they pile up.
                with psycopg.connect(dsn, autocommit=True) as conn, TreeSampler(pid) as sampler:
                    times = insert_latencies_ms(
                        conn, COMMITS, "aging_compacted",
                        "TBLPROPERTIES ('delta.autoOptimize.autoCompact' = 'true')")
                    compacted = conn.execute("SELECT count(*) FROM aging_compacted").fetchone()[0]
                b.check("commits", "rows inserted (auto-compacted table)", compacted, COMMITS)
                first, last = times[:50], times[-50:]
                table_dir = dg.dir / "data" / "public" / "aging_compacted"
                from deltalake import DeltaTable
                files = len(DeltaTable(str(table_dir)).file_uris())
                b.record(f"commits: single-row INSERT, the last 50 of {COMMITS}, autoCompact table", system,
                         last, sampler.peak,
                         f"first 50 median {statistics.median(first):.2f} ms, last 50 "
                         f"{statistics.median(last):.2f} ms ({statistics.median(last) / statistics.median(first):.2f}x); "
                         f"{files} live files at the end", unit="ms", baseline=True)
            with TreeSampler(pid) as sampler:
                elapsed, applied, errors, n = concurrent_increments(dsn)
            b.record(f"commits: {UPDATERS}x{UPDATES_EACH} concurrent UPDATE n = n + 1 of one row", system,
                     [elapsed], sampler.peak,
                     f"{applied} applied, {len(errors)} failed {sorted(set(errors))}, n = {n}",
                     baseline=system == "deltagres")
            b.check("commits", f"{system}: increments applied", n, UPDATERS * UPDATES_EACH)
        b.check("commits", "rows inserted (deltagres, PostgreSQL)", counts["deltagres"], counts["PostgreSQL 15"])


# ---------------------------------------------------------------- case 5: pipeline


def pipeline_counts(data_dir):
    from deltalake import DeltaTable
    return {t: DeltaTable(str(Path(data_dir) / "retail" / t)).to_pyarrow_dataset().count_rows()
            for t in ("orders", "orders_enriched", "customer_orders", "daily_revenue")}


def case_pipeline(b):
    runs = b.runs("slow")
    name = f"pipeline: stages 01-07, {len(DAYS)} days"
    base = b.work / "pipeline"
    times, peak = [], 0
    for _ in range(runs):
        shutil.rmtree(base, ignore_errors=True)
        base.mkdir(parents=True)
        (base / "config.toml").write_text(f'[storage]\ndata_dir = "{base / "data"}"\nallowed_paths = ["{b.input}"]\n'
                                          '[log]\nlevel = "error"\n')
        total = 0.0
        for day in DAYS:
            secs, kb, _ = timed_child([b.bin, "pipeline", "run", str(SQL_DIR / "pipeline.toml"), "--config",
                                       str(base / "config.toml"), "--param", f"run_date={day}",
                                       "--param", f"input_dir={b.input}"], env=deltagres_env(), cwd=base)
            total += secs
            peak = max(peak, kb)
        times.append(total)
    dg_counts = pipeline_counts(base / "data")
    b.record(name, "deltagres pipeline run", times, peak,
             "embedded engine, one `pipeline run` per day; " + ", ".join(f"{k} {v}" for k, v in dg_counts.items()),
             baseline=True)
    import importlib.util
    if importlib.util.find_spec("pyspark") is None:
        b.skipped.append(("pipeline (PySpark)", "pyspark is not installed (pip install pyspark failed); skipped"))
        return
    times, peak, out = [], 0, None
    inner = []
    for _ in range(runs):
        sp = b.work / "spark"
        shutil.rmtree(sp, ignore_errors=True)
        secs, kb, stdout = timed_child([sys.executable, str(HERE / "spark_pipeline.py"), str(b.input), str(sp)] + DAYS)
        out = json.loads(stdout.strip().splitlines()[-1])
        times.append(secs)
        inner.append(out["seconds"])
        peak = max(peak, out["jvm_peak_kb"] + out["driver_peak_kb"])
    ok = b.check("pipeline", "table rows (orders, orders_enriched, customer_orders, daily_revenue)", dg_counts, out["counts"])
    b.record(name, "PySpark local[*] (parquet)", times, peak,
             f"{statistics.median(inner):.1f} s after the session started; no Delta, no VACUUM"
             + ("" if ok else " MISMATCH"))


# ---------------------------------------------------------------- case 6: skew


SKEW_SETTINGS = ["SET datafusion.optimizer.hash_join_single_partition_threshold = 0",
                 "SET datafusion.optimizer.hash_join_single_partition_threshold_rows = 0"]


def skew_query(hint):
    return (f"SELECT {hint} c.segment, count(*) AS orders, sum(o.amount) AS revenue "
            "FROM retail.orders o JOIN retail.customers c ON o.customer_id = c.customer_id GROUP BY c.segment")


def case_skew(b):
    runs = b.runs("fast")
    with b.deltagres("skew") as dg:
        dg.load_raw(b.input)
        conn = dg.connect()
        cur = conn.cursor()
        for s in SKEW_SETTINGS:
            cur.execute(s)
        for tp in (2, 8, 16):
            cur.execute(f"SET datafusion.execution.target_partitions = {tp}")
            name = f"skew: join at {tp} partitions"
            answers = {}
            for label, hint in (("deltagres plain join", ""),
                                ("deltagres SKEW hint (vs plain)", "/*+ SKEW('o', 'customer_id', ('customer_1')) */")):
                times, peak = [], 0
                for _ in range(runs):
                    reset_hwm(dg.pid)
                    start = time.time()
                    cur.execute(skew_query(hint))
                    rows = cur.fetchall()
                    times.append(time.time() - start)
                    peak = max(peak, status_kb(dg.pid, "VmHWM"))
                answers[label] = digest(rows)
                cur.execute("EXPLAIN ANALYZE " + skew_query(hint))
                plan = [r[0] for r in cur.fetchall()]
                part = ""
                for i, line in enumerate(plan):
                    if "HashJoinExec" in line and i + 1 < len(plan) and "rows per partition" in plan[i + 1]:
                        m = re.search(r"max=(\d+).*max/mean ([\d.]+)", plan[i + 1])
                        part = f"largest join partition {int(m.group(1)):,} rows (max/mean {m.group(2)})" if m else ""
                        break
                b.record(name, label, times, peak, part, baseline=label.endswith("plain join"))
            b.check(name, "plain vs hinted rows", answers["deltagres plain join"], answers["deltagres SKEW hint (vs plain)"])
        conn.close()


# ---------------------------------------------------------------- main


# ---------------------------------------------------------------- case: object storage


def start_s3_standin():
    """moto's S3 server as the tests run it (one request at a time); returns (process, env)."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, str(ROOT / "tests" / "s3_standin.py"), "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), 1).close()
            break
        except OSError:
            if time.time() > deadline:
                proc.kill()
                raise RuntimeError("the S3 stand-in did not start (pip install 'moto[server]')")
            time.sleep(0.1)
    env = {"AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}", "AWS_ALLOW_HTTP": "true", "AWS_REGION": "us-east-1",
           "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench"}
    import boto3
    boto3.client("s3", endpoint_url=env["AWS_ENDPOINT_URL"], aws_access_key_id="bench",
                 aws_secret_access_key="bench", region_name="us-east-1").create_bucket(Bucket="lake")
    return proc, env


def case_objectstore(b):
    runs = b.runs("fast")
    s3, env = start_s3_standin()
    try:
        answers = {}
        for label, kw in (("deltagres, local disk", {}),
                          ("deltagres, S3 stand-in (moto)", {"data_dir": "s3://lake/wh", "env": env})):
            baseline = not kw
            with Deltagres(b.bin, b.work, "objectstore-" + ("local" if baseline else "s3"), b.work, **kw) as dg:
                start = time.time()
                dg.load_raw(b.input)
                b.record("object store: load raw (3 days)", label, [time.time() - start],
                         status_kb(dg.pid, "VmHWM"), baseline=baseline)
                conn = dg.connect()
                for name, sql in REPORT_QUERIES.items():
                    times = []
                    for _ in range(runs):
                        start = time.time()
                        with conn.cursor() as cur:
                            cur.execute(sql)
                            rows = cur.fetchall()
                        times.append(time.time() - start)
                    n, h = digest(rows)
                    if baseline:
                        answers[name] = (n, h)
                        ok = True
                    else:
                        ok = b.check(f"object store: {name}", "rows (count, digest)", answers[name], (n, h))
                    b.record(f"object store: {name}", label, times, status_kb(dg.pid, "VmHWM"),
                             f"{n} rows" + ("" if ok else " MISMATCH"), baseline=baseline)
                conn.close()
    finally:
        s3.kill()
        s3.wait()


def find_binary():
    path = Path(os.environ.get("DELTAGRES_BIN") or
                Path(os.environ.get("CARGO_TARGET_DIR", Path.home() / ".cache" / "deltagres-target")) / "release" / "deltagres")
    for _ in range(60):
        if path.exists() and os.access(path, os.X_OK):
            return path
        log(f"{path} is missing (being rebuilt?); waiting")
        time.sleep(10)
    raise SystemExit(f"no deltagres binary at {path}: cargo build --release")


def main():
    if len(sys.argv) > 2 and sys.argv[1] == "--worker":
        result = globals()["w_" + sys.argv[2]](**json.loads(sys.argv[3]))
        print(json.dumps(result, default=str))
        return
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--scale", default="1e6", help="orders in all: 1e5, 1e6 or 1e7 (default 1e6)")
    p.add_argument("--only", default="", help=f"comma-separated cases of {', '.join(CASES)}")
    p.add_argument("--runs", type=int, default=0, help="repetitions of every case (default: by scale and case)")
    p.add_argument("--keep", action="store_true", help="keep the work directory")
    args = p.parse_args()
    args.scale_n = float(args.scale)
    cases = [c.strip() for c in args.only.split(",") if c.strip()] or CASES
    for c in cases:
        if c not in CASES:
            raise SystemExit(f"unknown case {c!r}: one of {', '.join(CASES)}")
    started = datetime.datetime.now()
    work = Path(tempfile.mkdtemp(prefix="deltagres-bench-", dir=os.environ.get("BENCH_TMP", "/tmp")))
    os.chmod(work, 0o755)  # PostgreSQL runs as user postgres inside it
    # A copy of the binary, so a rebuild during the run does not change what is measured.
    binary = work / "deltagres"
    shutil.copy2(find_binary(), binary)
    bench = Bench(args, work, str(binary))
    collect_versions(bench)
    try:
        log(f"work dir {work}; generating {args.scale} orders")
        subprocess.run([binary, "gen", "retail", "--out", str(bench.input), "--orders", args.scale,
                        "--days", str(len(DAYS))], check=True, stdout=subprocess.DEVNULL)
        for c in cases:
            log(f"case {c}")
            start = time.time()
            try:
                globals()["case_" + c](bench)
            except Exception as e:  # noqa: BLE001 - one broken case must not lose the others
                msg = f"{e.__class__.__name__}: {e}".strip()
                log(f"case {c} failed: {msg}")
                bench.failures.append((c, msg.replace("\n", " ")[:1500]))
            log(f"case {c} took {time.time() - start:.1f} s")
        md = write_results(bench, started)
        print(md.read_text())
    finally:
        if args.keep:
            log(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    sys.exit(1 if bench.mismatches or bench.failures else 0)


if __name__ == "__main__":
    main()
