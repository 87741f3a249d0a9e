//! `deltagres gen retail`: the retail data set of RETAIL.md as parquet, deterministic per seed.
//!
//! customers/, inventory/, orders/order_date=D/ and updates/order_date=D/ (the day's change feed
//! for MERGE: status changes, amount corrections, cancellations with op = 'delete', late orders
//! with new ids). A share `skew` of all orders belongs to customer_1, the rest follow a long tail.
//! Orders are produced and written in batches, so memory stays flat at any scale, and every value
//! comes from a counter-based hash of (seed, table, row), so a row does not depend on batch sizes.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{Duration, NaiveDate};
use datafusion::arrow::array::{
    ArrayRef, Date32Builder, Decimal128Builder, Int32Builder, Int64Builder, RecordBatch,
    StringBuilder, TimestampMicrosecondBuilder,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::basic::Compression;
use datafusion::parquet::file::properties::WriterProperties;

use crate::error::{Error, ErrorKind, Result};

/// What to generate.
#[derive(Debug, Clone)]
pub struct RetailOptions {
    /// Output directory.
    pub out: PathBuf,
    /// Orders in all (spread evenly over the days).
    pub orders: u64,
    /// Customers (`customer_1` .. `customer_N`).
    pub customers: u64,
    /// Days of orders, from [`FIRST_DAY`].
    pub days: u32,
    /// Share of orders on customer_1.
    pub skew: f64,
    /// Seed of every random choice.
    pub seed: u64,
}

/// The first order date.
pub const FIRST_DAY: (i32, u32, u32) = (2024, 1, 1);
/// Products in the inventory.
pub const SKUS: u64 = 1_000;
const BATCH: u64 = 500_000;
const SEGMENTS: [&str; 4] = ["consumer", "corporate", "home_office", "small_business"];
const COUNTRIES: [&str; 8] = ["US", "DE", "FR", "IN", "BR", "JP", "GB", "NO"];
const CATEGORIES: [&str; 6] = [
    "books",
    "electronics",
    "garden",
    "grocery",
    "toys",
    "apparel",
];
const WAREHOUSES: [&str; 3] = ["north", "south", "west"];
/// Per mille of a day's orders in the change feed: status changes, amount corrections,
/// cancellations; plus late orders (new ids) per mille.
const STATUS_CHANGES: u64 = 10;
const CORRECTIONS: u64 = 3;
const CANCELLATIONS: u64 = 2;
const LATE_ORDERS: u64 = 5;

/// What was written.
#[derive(Debug, Clone, Default)]
pub struct RetailSummary {
    /// Orders written (excluding late orders, which only the change feed holds).
    pub orders: u64,
    /// Rows of the change feeds.
    pub updates: u64,
    /// The order dates.
    pub dates: Vec<NaiveDate>,
}

/// A stateless 64-bit mix (SplitMix64's finaliser): the same input always gives the same value.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Random draws for one row of one table.
struct Draw {
    base: u64,
}

impl Draw {
    fn new(seed: u64, table: u64, row: u64) -> Self {
        Self {
            base: mix(seed ^ mix(table.wrapping_mul(0x1000_0000_01b3) ^ mix(row))),
        }
    }
    /// The k-th draw, uniform in [0, 1).
    fn unit(&self, k: u64) -> f64 {
        (mix(self.base ^ k.wrapping_mul(0xd6e8_feb8_6659_fd93)) >> 11) as f64 / (1u64 << 53) as f64
    }
    /// The k-th draw, uniform in [0, n).
    fn below(&self, k: u64, n: u64) -> u64 {
        ((self.unit(k) * n as f64) as u64).min(n.saturating_sub(1))
    }
}

fn first_day() -> NaiveDate {
    NaiveDate::from_ymd_opt(FIRST_DAY.0, FIRST_DAY.1, FIRST_DAY.2).unwrap_or_default()
}

fn days_since_epoch(d: NaiveDate) -> i32 {
    (d - NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default()).num_days() as i32
}

/// Price of a product in cents (1.00 .. 500.00), the same in inventory and orders.
fn unit_price_cents(seed: u64, sku: u64) -> i64 {
    100 + Draw::new(seed, 2, sku).below(0, 49_901) as i64
}

fn sku_name(sku: u64) -> String {
    format!("SKU-{sku:05}")
}

/// Writes the data set; `progress(orders_done)` is called after each batch of orders.
pub fn generate(options: &RetailOptions, progress: &dyn Fn(u64)) -> Result<RetailSummary> {
    if options.days == 0 || options.customers < 2 || !(0.0..=1.0).contains(&options.skew) {
        return Err(Error::new(
            ErrorKind::InvalidParameterValue,
            "need --days >= 1, --customers >= 2 and --skew between 0 and 1",
        ));
    }
    std::fs::create_dir_all(&options.out).map_err(|e| io(&options.out, e))?;
    write_customers(options)?;
    write_inventory(options)?;
    let mut summary = RetailSummary::default();
    let per_day = options.orders / options.days as u64;
    let mut next_id = 1u64;
    let mut late_id = options.orders + 1;
    for day in 0..options.days {
        let date = first_day() + Duration::days(day as i64);
        let count = if day + 1 == options.days {
            options.orders - per_day * (options.days as u64 - 1)
        } else {
            per_day
        };
        let (orders, updates) =
            write_day(options, date, next_id, count, &mut late_id, &mut |done| {
                progress(summary.orders + done)
            })?;
        next_id += count;
        summary.orders += orders;
        summary.updates += updates;
        summary.dates.push(date);
    }
    Ok(summary)
}

fn io(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::new(ErrorKind::IoError, format!("{}: {e}", path.display()))
}

fn writer(path: &Path, schema: SchemaRef) -> Result<ArrowWriter<File>> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
    }
    let file = File::create(path).map_err(|e| io(path, e))?;
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .build();
    ArrowWriter::try_new(file, schema, Some(props)).map_err(|e| io(path, e))
}

fn write_batches(path: &Path, schema: SchemaRef, batches: Vec<RecordBatch>) -> Result<()> {
    let mut w = writer(path, schema)?;
    for b in batches {
        w.write(&b).map_err(|e| io(path, e))?;
    }
    w.close().map_err(|e| io(path, e))?;
    Ok(())
}

/// customers: customer_id, name, segment, country, signup_date.
pub fn customers_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("customer_id", DataType::Utf8, false),
        Field::new("name", DataType::Utf8, false),
        Field::new("segment", DataType::Utf8, false),
        Field::new("country", DataType::Utf8, false),
        Field::new("signup_date", DataType::Date32, false),
    ]))
}

fn write_customers(o: &RetailOptions) -> Result<()> {
    let mut id = StringBuilder::new();
    let mut name = StringBuilder::new();
    let mut segment = StringBuilder::new();
    let mut country = StringBuilder::new();
    let mut signup = Date32Builder::new();
    let start = days_since_epoch(NaiveDate::from_ymd_opt(2020, 1, 1).unwrap_or_default());
    for i in 1..=o.customers {
        let d = Draw::new(o.seed, 1, i);
        id.append_value(format!("customer_{i}"));
        name.append_value(format!("Customer {i}"));
        segment.append_value(SEGMENTS[d.below(0, 4) as usize]);
        country.append_value(COUNTRIES[d.below(1, 8) as usize]);
        signup.append_value(start + d.below(2, 1460) as i32);
    }
    let columns: Vec<ArrayRef> = vec![
        Arc::new(id.finish()),
        Arc::new(name.finish()),
        Arc::new(segment.finish()),
        Arc::new(country.finish()),
        Arc::new(signup.finish()),
    ];
    let batch = RecordBatch::try_new(customers_schema(), columns)?;
    write_batches(
        &o.out.join("customers/part-00000.parquet"),
        customers_schema(),
        vec![batch],
    )
}

/// inventory: sku, product_name, category, unit_price, stock_qty, warehouse.
pub fn inventory_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("sku", DataType::Utf8, false),
        Field::new("product_name", DataType::Utf8, false),
        Field::new("category", DataType::Utf8, false),
        Field::new("unit_price", DataType::Decimal128(10, 2), false),
        Field::new("stock_qty", DataType::Int32, false),
        Field::new("warehouse", DataType::Utf8, false),
    ]))
}

fn write_inventory(o: &RetailOptions) -> Result<()> {
    let mut sku = StringBuilder::new();
    let mut name = StringBuilder::new();
    let mut category = StringBuilder::new();
    let mut price = Decimal128Builder::new().with_data_type(DataType::Decimal128(10, 2));
    let mut stock = Int32Builder::new();
    let mut warehouse = StringBuilder::new();
    for i in 1..=SKUS {
        let d = Draw::new(o.seed, 3, i);
        let cat = CATEGORIES[d.below(0, CATEGORIES.len() as u64) as usize];
        sku.append_value(sku_name(i));
        name.append_value(format!("{cat} item {i}"));
        category.append_value(cat);
        price.append_value(unit_price_cents(o.seed, i) as i128);
        stock.append_value(d.below(1, 10_000) as i32);
        warehouse.append_value(WAREHOUSES[d.below(2, 3) as usize]);
    }
    let columns: Vec<ArrayRef> = vec![
        Arc::new(sku.finish()),
        Arc::new(name.finish()),
        Arc::new(category.finish()),
        Arc::new(price.finish()),
        Arc::new(stock.finish()),
        Arc::new(warehouse.finish()),
    ];
    let batch = RecordBatch::try_new(inventory_schema(), columns)?;
    write_batches(
        &o.out.join("inventory/part-00000.parquet"),
        inventory_schema(),
        vec![batch],
    )
}

/// orders: order_id, customer_id, sku, quantity, unit_price, amount, status, order_ts, order_date;
/// the change feed has the same columns plus `op`.
pub fn orders_schema(with_op: bool) -> SchemaRef {
    let mut fields = vec![
        Field::new("order_id", DataType::Int64, false),
        Field::new("customer_id", DataType::Utf8, false),
        Field::new("sku", DataType::Utf8, false),
        Field::new("quantity", DataType::Int32, false),
        Field::new("unit_price", DataType::Decimal128(10, 2), false),
        Field::new("amount", DataType::Decimal128(12, 2), false),
        Field::new("status", DataType::Utf8, false),
        Field::new(
            "order_ts",
            DataType::Timestamp(TimeUnit::Microsecond, None),
            false,
        ),
        Field::new("order_date", DataType::Date32, false),
    ];
    if with_op {
        fields.push(Field::new("op", DataType::Utf8, false));
    }
    Arc::new(Schema::new(fields))
}

/// One order row.
struct Order {
    id: u64,
    customer: u64,
    sku: u64,
    quantity: i32,
    price_cents: i64,
    amount_cents: i64,
    status: &'static str,
    ts_micros: i64,
    date: i32,
}

fn make_order(o: &RetailOptions, id: u64, date: NaiveDate) -> Order {
    let d = Draw::new(o.seed, 4, id);
    let customer = if d.unit(0) < o.skew {
        1
    } else {
        // A long tail: low ids are more frequent (u^3 piles up near 0).
        2 + (d.unit(1).powi(3) * (o.customers - 1) as f64) as u64
    }
    .min(o.customers);
    let sku = 1 + d.below(2, SKUS);
    let quantity = 1 + d.below(3, 5) as i32;
    let price_cents = unit_price_cents(o.seed, sku);
    let status = match d.below(4, 100) {
        0..40 => "placed",
        40..70 => "shipped",
        70..95 => "delivered",
        _ => "returned",
    };
    let day_start = date
        .and_hms_opt(0, 0, 0)
        .unwrap_or_default()
        .and_utc()
        .timestamp_micros();
    Order {
        id,
        customer,
        sku,
        quantity,
        price_cents,
        amount_cents: price_cents * quantity as i64,
        status,
        ts_micros: day_start + d.below(5, 86_400_000_000) as i64,
        date: days_since_epoch(date),
    }
}

/// Column builders for orders or the change feed.
struct OrderBuilders {
    id: Int64Builder,
    customer: StringBuilder,
    sku: StringBuilder,
    quantity: Int32Builder,
    price: Decimal128Builder,
    amount: Decimal128Builder,
    status: StringBuilder,
    ts: TimestampMicrosecondBuilder,
    date: Date32Builder,
    op: Option<StringBuilder>,
    rows: u64,
}

impl OrderBuilders {
    fn new(with_op: bool) -> Self {
        Self {
            id: Int64Builder::new(),
            customer: StringBuilder::new(),
            sku: StringBuilder::new(),
            quantity: Int32Builder::new(),
            price: Decimal128Builder::new().with_data_type(DataType::Decimal128(10, 2)),
            amount: Decimal128Builder::new().with_data_type(DataType::Decimal128(12, 2)),
            status: StringBuilder::new(),
            ts: TimestampMicrosecondBuilder::new(),
            date: Date32Builder::new(),
            op: with_op.then(StringBuilder::new),
            rows: 0,
        }
    }

    fn push(&mut self, order: &Order, op: &str) {
        self.id.append_value(order.id as i64);
        self.customer
            .append_value(format!("customer_{}", order.customer));
        self.sku.append_value(sku_name(order.sku));
        self.quantity.append_value(order.quantity);
        self.price.append_value(order.price_cents as i128);
        self.amount.append_value(order.amount_cents as i128);
        self.status.append_value(order.status);
        self.ts.append_value(order.ts_micros);
        self.date.append_value(order.date);
        if let Some(b) = self.op.as_mut() {
            b.append_value(op);
        }
        self.rows += 1;
    }

    fn finish(&mut self) -> Result<RecordBatch> {
        let mut columns: Vec<ArrayRef> = vec![
            Arc::new(self.id.finish()),
            Arc::new(self.customer.finish()),
            Arc::new(self.sku.finish()),
            Arc::new(self.quantity.finish()),
            Arc::new(self.price.finish()),
            Arc::new(self.amount.finish()),
            Arc::new(self.status.finish()),
            Arc::new(self.ts.finish()),
            Arc::new(self.date.finish()),
        ];
        if let Some(b) = self.op.as_mut() {
            columns.push(Arc::new(b.finish()));
        }
        self.rows = 0;
        Ok(RecordBatch::try_new(
            orders_schema(self.op.is_some()),
            columns,
        )?)
    }
}

/// Writes one day's orders and change feed; returns (orders, change rows).
fn write_day(
    o: &RetailOptions,
    date: NaiveDate,
    first_id: u64,
    count: u64,
    late_id: &mut u64,
    progress: &mut dyn FnMut(u64),
) -> Result<(u64, u64)> {
    let partition = format!("order_date={date}");
    let orders_path = o
        .out
        .join("orders")
        .join(&partition)
        .join("part-00000.parquet");
    let updates_path = o
        .out
        .join("updates")
        .join(&partition)
        .join("part-00000.parquet");
    let mut orders = writer(&orders_path, orders_schema(false))?;
    let mut builders = OrderBuilders::new(false);
    let mut changes = OrderBuilders::new(true);
    for (n, id) in (first_id..first_id + count).enumerate() {
        let order = make_order(o, id, date);
        builders.push(&order, "");
        // The change feed picks orders by a draw of their own, so a rerun picks the same ones.
        let pick = Draw::new(o.seed, 5, id).below(0, 1000);
        if pick < STATUS_CHANGES {
            let status = match order.status {
                "placed" => "shipped",
                "shipped" => "delivered",
                "delivered" => "returned",
                _ => "delivered",
            };
            changes.push(&Order { status, ..order }, "upsert");
        } else if pick < STATUS_CHANGES + CORRECTIONS {
            let amount_cents = order.amount_cents * 9 / 10;
            changes.push(
                &Order {
                    amount_cents,
                    ..order
                },
                "upsert",
            );
        } else if pick < STATUS_CHANGES + CORRECTIONS + CANCELLATIONS {
            changes.push(&order, "delete");
        } else if pick < STATUS_CHANGES + CORRECTIONS + CANCELLATIONS + LATE_ORDERS {
            let late = make_order(o, *late_id, date);
            *late_id += 1;
            changes.push(&late, "upsert");
        }
        if builders.rows >= BATCH {
            orders
                .write(&builders.finish()?)
                .map_err(|e| io(&orders_path, e))?;
            progress(n as u64 + 1);
        }
    }
    if builders.rows > 0 {
        orders
            .write(&builders.finish()?)
            .map_err(|e| io(&orders_path, e))?;
    }
    orders.close().map_err(|e| io(&orders_path, e))?;
    progress(count);
    let change_rows = changes.rows;
    write_batches(&updates_path, orders_schema(true), vec![changes.finish()?])?;
    Ok((count, change_rows))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_are_deterministic_and_spread() {
        let a = Draw::new(7, 4, 42);
        let b = Draw::new(7, 4, 42);
        assert_eq!(a.unit(3), b.unit(3));
        let mean: f64 = (0..10_000).map(|i| Draw::new(1, 4, i).unit(0)).sum::<f64>() / 10_000.0;
        assert!((mean - 0.5).abs() < 0.02, "{mean}");
    }

    #[test]
    fn skew_puts_the_share_on_customer_1() {
        let o = RetailOptions {
            out: PathBuf::new(),
            orders: 10_000,
            customers: 1_000,
            days: 1,
            skew: 0.6,
            seed: 1,
        };
        let hot = (1..=10_000)
            .filter(|&id| make_order(&o, id, first_day()).customer == 1)
            .count();
        assert!((5_800..=6_200).contains(&hot), "{hot}");
    }
}
