"""What the retail pipeline must produce, computed from the generated parquet without deltagres.

Usage: python3 retail_expected.py INPUT_DIR DAY [DAY ...]
Prints JSON: orders [order_id, status, amount, quantity], enriched [order_id, segment, category,
amount, status], revenue [order_date, segment, orders, revenue] (amounts as strings with two
decimals), each sorted.
"""
import glob
import json
import sys
from collections import defaultdict
from decimal import Decimal

import pyarrow.parquet as pq


def rows(pattern):
    out = []
    for path in sorted(glob.glob(pattern)):
        out.extend(pq.read_table(path).to_pylist())
    return out


def money(d):
    return str(Decimal(d).quantize(Decimal("0.01")))


def main():
    input_dir, days = sys.argv[1], sys.argv[2:]
    customers = {c["customer_id"]: c for c in rows(f"{input_dir}/customers/*.parquet")}
    inventory = {i["sku"]: i for i in rows(f"{input_dir}/inventory/*.parquet")}
    orders = {}
    for day in days:
        day_orders = {o["order_id"]: o for o in rows(f"{input_dir}/orders/order_date={day}/*.parquet")}
        for u in rows(f"{input_dir}/updates/order_date={day}/*.parquet"):
            oid = u["order_id"]
            if oid in day_orders:
                if u["op"] == "delete":
                    del day_orders[oid]
                else:
                    for k in ("status", "amount", "quantity"):
                        day_orders[oid][k] = u[k]
            elif u["op"] != "delete":
                day_orders[oid] = {k: v for k, v in u.items() if k != "op"}
        orders.update(day_orders)
    out_orders = sorted(
        [o["order_id"], o["status"], money(o["amount"]), o["quantity"]] for o in orders.values()
    )
    enriched = sorted(
        [o["order_id"], customers[o["customer_id"]]["segment"], inventory[o["sku"]]["category"],
         money(o["amount"]), o["status"]]
        for o in orders.values()
        if o["customer_id"] in customers and o["sku"] in inventory
    )
    revenue = defaultdict(lambda: [0, Decimal(0)])
    for o in orders.values():
        if o["customer_id"] in customers:
            key = (str(o["order_date"]), customers[o["customer_id"]]["segment"])
            revenue[key][0] += 1
            revenue[key][1] += o["amount"]
    out_revenue = sorted([d, s, n, money(r)] for (d, s), (n, r) in revenue.items())
    json.dump({"orders": out_orders, "enriched": enriched, "revenue": out_revenue}, sys.stdout)


if __name__ == "__main__":
    main()
