"""MERGE benchmark helper: generates the data set and runs the same MERGE with the `deltalake`
Python package, for comparison with deltagres (see merge.sh).

  python3 merge.py gen DIR ROWS CHANGES   # DIR/orders/*.parquet and DIR/updates/*.parquet
  python3 merge.py deltalake DIR          # MERGE updates into a Delta copy of orders; prints seconds and peak MB
"""
import os
import resource
import sys
import time

import pyarrow as pa
import pyarrow.parquet as pq


def generate(out, rows, changes):
    os.makedirs(os.path.join(out, "orders"), exist_ok=True)
    os.makedirs(os.path.join(out, "updates"), exist_ok=True)
    ids = pa.array(range(rows), pa.int64())
    orders = pa.table({
        "order_id": ids,
        "customer_id": pa.array([f"customer_{(i * 7919) % 100000 + 1}" for i in range(rows)]),
        "amount": pa.array([(i % 100000) / 100 for i in range(rows)], pa.float64()),
        "status": pa.array(["placed"] * rows),
    })
    pq.write_table(orders, os.path.join(out, "orders", "part-0.parquet"))
    # Half the changes update existing orders (spread over the id range), half are new orders.
    half = changes // 2
    upd_ids = [(i * (rows // half)) % rows for i in range(half)] + list(range(rows, rows + changes - half))
    updates = pa.table({
        "order_id": pa.array(upd_ids, pa.int64()),
        "customer_id": pa.array([f"customer_{(i * 7919) % 100000 + 1}" for i in upd_ids]),
        "amount": pa.array([(i % 1000) / 10 for i in upd_ids], pa.float64()),
        "status": pa.array(["shipped"] * changes),
    })
    pq.write_table(updates, os.path.join(out, "updates", "part-0.parquet"))


def run_deltalake(out):
    from deltalake import DeltaTable, write_deltalake

    path = os.path.join(out, "py_orders")
    write_deltalake(path, pq.read_table(os.path.join(out, "orders")), mode="overwrite")
    updates = pq.read_table(os.path.join(out, "updates"))
    start = time.time()
    metrics = (
        DeltaTable(path)
        .merge(source=updates, predicate="t.order_id = s.order_id", source_alias="s", target_alias="t")
        .when_matched_update_all()
        .when_not_matched_insert_all()
        .execute()
    )
    elapsed = time.time() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{elapsed:.2f} {peak_mb:.0f} {metrics['num_target_rows_updated']} {metrics['num_target_rows_inserted']}")


if __name__ == "__main__":
    if sys.argv[1] == "gen":
        generate(sys.argv[2], int(float(sys.argv[3])), int(float(sys.argv[4])))
    else:
        run_deltalake(sys.argv[2])
