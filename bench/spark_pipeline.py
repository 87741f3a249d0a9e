"""The retail pipeline's stages 02-07 (sql/retail) for PySpark local mode on plain parquet.

  python3 spark_pipeline.py INPUT_DIR OUT_DIR DAY [DAY ...]

INPUT_DIR is what `deltagres gen retail` wrote; the tables go to OUT_DIR/<table>/order_date=<day>/
as parquet (no Delta: delta-spark's jars come from Maven, which this machine cannot reach). Per day,
in the pipeline's order, the same work as the SQL files:

  02 load_raw      the day's orders replace OUT/orders/order_date=DAY; customers, inventory overwritten
  05 merge_updates the change feed applied (delete / update status, amount, quantity / insert), and
                   updated_on set, by rewriting the day's partition (what a Delta MERGE does to it)
  03 skew_join     customer_orders for the day (Spark's adaptive skew-join handling is on), and the
                   same join salted by hand must give the same rows (as the SQL stage asserts)
  04 enrich        orders joined with broadcast customers and inventory
  07 report        daily_revenue for the day, and the two checks (no negative amount, no orphan)
  06 optimize      the day's partition of orders and orders_enriched rewritten range-partitioned and
                   sorted by customer_id (order_date is constant in a partition, so this is the
                   z-order key deltagres uses); no VACUUM (overwritten parquet files are gone)

Prints one JSON line: seconds (after the session started), session start seconds, row counts of
the tables, and the peak RSS of the JVM (VmHWM) and of this Python driver.
"""
import json
import os
import resource
import sys
import time

from pyspark.sql import SparkSession
from pyspark.sql import functions as F


def main():
    input_dir, out, days = sys.argv[1], sys.argv[2], sys.argv[3:]
    t0 = time.time()
    spark = (
        SparkSession.builder.master("local[*]")
        .appName("retail-pipeline")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.memory", os.environ.get("SPARK_DRIVER_MEMORY", "4g"))
        .config("spark.sql.shuffle.partitions", os.environ.get("SPARK_SHUFFLE_PARTITIONS", "8"))
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    started = time.time()
    for day in days:
        run_day(spark, input_dir, out, day)
    seconds = time.time() - started

    def count(table):
        return spark.read.parquet(f"{out}/{table}").count()

    counts = {t: count(t) for t in ("orders", "orders_enriched", "customer_orders", "daily_revenue")}
    revenue = spark.read.parquet(f"{out}/daily_revenue").agg(F.sum("revenue")).first()[0]
    jvm_pid = spark._jvm.ProcessHandle.current().pid()
    jvm_kb = 0
    with open(f"/proc/{jvm_pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM"):
                jvm_kb = int(line.split()[1])
    spark.stop()
    print(json.dumps({
        "seconds": seconds,
        "startup_seconds": started - t0,
        "counts": counts,
        "revenue": str(revenue),
        "jvm_peak_kb": jvm_kb,
        "driver_peak_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "version": spark.version,
    }))


def write_day(df, out, table, day, files=None):
    """Replaces OUT/table/order_date=DAY with df (without its order_date column)."""
    df = df.drop("order_date")
    if files is not None:
        df = df.coalesce(files)
    df.write.mode("overwrite").parquet(f"{out}/{table}/order_date={day}")


def read_day(spark, out, table, day):
    return spark.read.parquet(f"{out}/{table}/order_date={day}").withColumn("order_date", F.lit(day).cast("date"))


def run_day(spark, input_dir, out, day):
    # 02 load_raw
    raw = spark.read.parquet(f"{input_dir}/orders/order_date={day}/*.parquet")
    write_day(raw.select("order_id", "customer_id", "sku", "quantity", "unit_price", "amount", "status",
                         "order_ts", "order_date"), out, "orders", day)
    spark.read.parquet(f"{input_dir}/customers/*.parquet").select(
        "customer_id", "name", "segment", "country", "signup_date").write.mode("overwrite").parquet(f"{out}/customers")
    spark.read.parquet(f"{input_dir}/inventory/*.parquet").select(
        "sku", "product_name", "category", "unit_price", "stock_qty", "warehouse").write.mode("overwrite").parquet(f"{out}/inventory")

    # 05 merge_updates: the day's partition is rewritten from the old rows and the feed. The old rows
    # are checkpointed first: Spark cannot overwrite a path while a lazy plan still reads it.
    t = read_day(spark, out, "orders", day).localCheckpoint(eager=True)
    s = (spark.read.parquet(f"{input_dir}/updates/order_date={day}/*.parquet")
         .withColumn("updated_on", F.lit(day).cast("date")))
    feed = s.select("order_id", F.col("op").alias("s_op"), F.col("status").alias("s_status"),
                    F.col("amount").alias("s_amount"), F.col("quantity").alias("s_quantity"),
                    F.col("updated_on").alias("s_updated_on"))
    kept = (t.join(feed, "order_id", "left")
            .where(F.col("s_op").isNull() | (F.col("s_op") != "delete"))
            .select("order_id", "customer_id", "sku",
                    F.coalesce("s_quantity", "quantity").alias("quantity"), "unit_price",
                    F.coalesce("s_amount", "amount").alias("amount"),
                    F.coalesce("s_status", "status").alias("status"), "order_ts", "order_date",
                    F.col("s_updated_on").alias("updated_on")))
    inserted = (s.join(t.select("order_id"), "order_id", "left_anti").where(F.col("op") != "delete")
                .select("order_id", "customer_id", "sku", "quantity", "unit_price", "amount", "status",
                        "order_ts", "order_date", "updated_on"))
    write_day(kept.unionByName(inserted), out, "orders", day)

    orders = read_day(spark, out, "orders", day)
    customers = spark.read.parquet(f"{out}/customers")
    inventory = spark.read.parquet(f"{out}/inventory")

    # 03 skew_join, and the hand-salted join must give the same rows
    co = (orders.alias("o").join(customers.alias("c"), F.col("o.customer_id") == F.col("c.customer_id"))
          .groupBy("o.order_date", "o.customer_id", "c.segment")
          .agg(F.count(F.lit(1)).alias("orders"), F.sum("o.amount").alias("amount")))
    write_day(co, out, "customer_orders", day)
    written = read_day(spark, out, "customer_orders", day).select("customer_id", "segment", "orders", "amount")
    salted_o = orders.withColumn("salt", F.floor(F.rand() * 8).cast("long"))
    salted_c = customers.crossJoin(spark.range(8).withColumnRenamed("id", "salt"))
    salted = (salted_o.alias("o").join(
        salted_c.alias("c"),
        F.concat_ws("#", "o.customer_id", "o.salt") == F.concat_ws("#", "c.customer_id", "c.salt"))
        .groupBy("o.customer_id", "c.segment")
        .agg(F.count(F.lit(1)).alias("orders"), F.sum("o.amount").alias("amount")))
    diff = written.exceptAll(salted).count() + salted.exceptAll(written).count()
    if diff:
        raise SystemExit(f"the hand-salted join differs from the skew join on {day}")

    # 04 enrich
    enriched = (orders.alias("o")
                .join(F.broadcast(customers.alias("c")), F.col("o.customer_id") == F.col("c.customer_id"))
                .join(F.broadcast(inventory.alias("i")), F.col("o.sku") == F.col("i.sku"))
                .select("o.order_id", "o.order_date", "o.customer_id", "c.segment", "c.country", "o.sku",
                        "i.category", "o.quantity", "o.amount", "o.status"))
    write_day(enriched, out, "orders_enriched", day)

    # 07 report and its checks
    revenue = (orders.alias("o").join(customers.alias("c"), F.col("o.customer_id") == F.col("c.customer_id"))
               .groupBy("o.order_date", "c.segment")
               .agg(F.count(F.lit(1)).alias("orders"), F.sum("o.amount").alias("revenue")))
    write_day(revenue, out, "daily_revenue", day)
    if orders.where(F.col("amount") < 0).count():
        raise SystemExit(f"orders with a negative amount on {day}")
    if orders.join(customers, "customer_id", "left_anti").count():
        raise SystemExit(f"orders of {day} name customers missing from customers")

    # 06 optimize: cluster the day's partitions by customer_id into ~128 MiB files
    for table in ("orders", "orders_enriched"):
        path = f"{out}/{table}/order_date={day}"
        size = sum(os.path.getsize(os.path.join(path, f)) for f in os.listdir(path) if f.endswith(".parquet"))
        files = max(1, round(size / (128 << 20)))
        df = read_day(spark, out, table, day).localCheckpoint(eager=True)
        write_day(df.repartitionByRange(files, "customer_id").sortWithinPartitions("customer_id"), out, table, day)


if __name__ == "__main__":
    main()
