//! The z-order clustering key of OPTIMIZE ... ZORDER BY.
//!
//! delta-rs's own z-order interleaves the leading bytes of each column's row encoding, so string
//! keys with a shared prefix (`customer_1` .. `customer_99999`) do not cluster at all (measured in
//! shared/STACK.md). Like Spark's `range_partition_id`, each column is first mapped to a range id
//! (its position among sampled quantiles), and the range ids are bit-interleaved: rows close in
//! every z-order column get close keys, so files written in key order have narrow min/max ranges
//! on each column and filters skip most of them.

use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use datafusion::arrow::array::{ArrayRef, UInt64Array};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::arrow::row::{RowConverter, Rows, SortField};
use datafusion::common::{Result as DfResult, exec_err};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

use crate::error::{Error, Result};

/// Bits of range id per column: 2^10 ranges, so up to six columns fit a u64 key.
const BITS_PER_COLUMN: u32 = 10;
/// Most columns a z-order can interleave.
pub const MAX_ZORDER_COLUMNS: usize = (64 / BITS_PER_COLUMN) as usize;

/// The sampled range boundaries of one column, in the row format that compares like the type.
///
/// Finding a value's range compares row bytes; most of a boundary's bytes are often shared by
/// all of them (`customer_` in `customer_1` .. `customer_99999`), so the search compares that
/// common prefix once and then the next eight bytes of each boundary as one integer (`probes`),
/// falling back to whole rows only between boundaries whose eight bytes tie.
struct ColumnRanges {
    data_type: DataType,
    converter: RowConverter,
    boundaries: Rows,
    /// The bytes every boundary starts with.
    prefix: Vec<u8>,
    /// Each boundary's eight bytes after `prefix`, big-endian (zero-padded), ascending.
    probes: Vec<u64>,
}

impl ColumnRanges {
    /// Picks up to 2^BITS-1 boundaries (quantiles) from a sample of the column's values.
    fn from_sample(sample: &ArrayRef) -> Result<Self> {
        let data_type = sample.data_type().clone();
        let converter = RowConverter::new(vec![SortField::new(data_type.clone())])?;
        let rows = converter.convert_columns(std::slice::from_ref(sample))?;
        let mut order: Vec<usize> = (0..rows.num_rows()).collect();
        order.sort_by(|a, b| rows.row(*a).cmp(&rows.row(*b)));
        order.dedup_by(|a, b| rows.row(*a) == rows.row(*b));
        let ranges = (1usize << BITS_PER_COLUMN).min(order.len().max(1));
        let mut boundaries = converter.empty_rows(ranges, 0);
        for i in 1..ranges {
            let at = order[i * order.len() / ranges];
            boundaries.push(rows.row(at));
        }
        let mut prefix: Vec<u8> = match boundaries.iter().next() {
            Some(first) => first.as_ref().to_vec(),
            None => Vec::new(),
        };
        for row in boundaries.iter() {
            let shared = prefix
                .iter()
                .zip(row.as_ref())
                .take_while(|(a, b)| a == b)
                .count();
            prefix.truncate(shared);
        }
        let probes = boundaries
            .iter()
            .map(|row| probe(row.as_ref(), prefix.len()))
            .collect();
        Ok(Self {
            data_type,
            converter,
            boundaries,
            prefix,
            probes,
        })
    }

    /// How many boundaries are at or below `row` (row bytes of this column's converter).
    fn boundaries_at_or_below(&self, row: &[u8]) -> usize {
        let shared = self.prefix.len();
        let head = &row[..row.len().min(shared)];
        match head.cmp(&self.prefix[..head.len()]) {
            // Below every boundary (or a proper prefix of their common prefix).
            std::cmp::Ordering::Less => return 0,
            std::cmp::Ordering::Greater => return self.probes.len(),
            std::cmp::Ordering::Equal if row.len() < shared => return 0,
            std::cmp::Ordering::Equal => {}
        }
        let value = probe(row, shared);
        let below = self.probes.partition_point(|p| *p < value);
        let tied = self.probes[below..].partition_point(|p| *p == value);
        // Between boundaries whose eight bytes tie, whole rows decide.
        let (mut lo, mut hi) = (below, below + tied);
        while lo < hi {
            let mid = (lo + hi) / 2;
            if self.boundaries.row(mid).as_ref() <= row {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    }

    /// The range id of every value: how many boundaries are at or below it, scaled to the id space.
    fn range_ids(&self, values: &ArrayRef) -> DfResult<Vec<u64>> {
        let values = if values.data_type() == &self.data_type {
            values.clone()
        } else {
            cast(values, &self.data_type)?
        };
        let rows = self.converter.convert_columns(&[values])?;
        let n = self.boundaries.num_rows();
        Ok(rows
            .iter()
            .map(|row| {
                let lo = self.boundaries_at_or_below(row.as_ref());
                // Spread the ids over the whole id space, so a column with few distinct values
                // (30 dates) still decides the most significant bits as often as one with many.
                (lo as u64 * (1 << BITS_PER_COLUMN)) / (n as u64 + 1)
            })
            .collect())
    }
}

/// Eight bytes of `row` from `from` on as a big-endian integer, zero-padded: integers that differ
/// order like the bytes (a tie needs the whole rows).
fn probe(row: &[u8], from: usize) -> u64 {
    let tail = row.get(from..).unwrap_or(&[]);
    let mut bytes = [0u8; 8];
    let n = tail.len().min(8);
    bytes[..n].copy_from_slice(&tail[..n]);
    u64::from_be_bytes(bytes)
}

/// Interleaves the range ids, most significant bits of every column first.
fn interleave(ids: &[Vec<u64>], row: usize) -> u64 {
    let columns = ids.len() as u32;
    let mut key = 0u64;
    for bit in 0..BITS_PER_COLUMN {
        for (c, column_ids) in ids.iter().enumerate() {
            let b = (column_ids[row] >> bit) & 1;
            key |= b << (bit * columns + c as u32);
        }
    }
    key
}

/// `__deltagres_zorder_key(c1, c2, ...)`: the UInt64 clustering key of a row, built from sampled
/// ranges of one table (so a fresh function is made per OPTIMIZE).
pub struct ZOrderKey {
    id: u64,
    signature: Signature,
    columns: Vec<ColumnRanges>,
}

impl std::fmt::Debug for ZOrderKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ZOrderKey({} columns)", self.columns.len())
    }
}

impl PartialEq for ZOrderKey {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}
impl Eq for ZOrderKey {}
impl Hash for ZOrderKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.id.hash(state);
    }
}

/// The SQL name the key function is called by.
pub const ZORDER_KEY_FUNCTION: &str = "__deltagres_zorder_key";

impl ZOrderKey {
    /// A key function for columns whose value samples are given (one array per column).
    pub fn from_samples(samples: &[ArrayRef]) -> Result<ScalarUDF> {
        if samples.is_empty() || samples.len() > MAX_ZORDER_COLUMNS {
            return Err(Error::new(
                crate::error::ErrorKind::InvalidParameterValue,
                format!("ZORDER BY takes 1 to {MAX_ZORDER_COLUMNS} columns"),
            ));
        }
        static NEXT_ID: AtomicU64 = AtomicU64::new(0);
        let columns = samples
            .iter()
            .map(ColumnRanges::from_sample)
            .collect::<Result<Vec<_>>>()?;
        Ok(ScalarUDF::from(Self {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            signature: Signature::variadic_any(Volatility::Immutable),
            columns,
        }))
    }
}

impl ScalarUDFImpl for ZOrderKey {
    fn name(&self) -> &str {
        ZORDER_KEY_FUNCTION
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _arg_types: &[DataType]) -> DfResult<DataType> {
        Ok(DataType::UInt64)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        if args.args.len() != self.columns.len() {
            return exec_err!(
                "{ZORDER_KEY_FUNCTION} expects {} arguments",
                self.columns.len()
            );
        }
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let ids = self
            .columns
            .iter()
            .zip(&arrays)
            .map(|(ranges, values)| ranges.range_ids(values))
            .collect::<DfResult<Vec<_>>>()?;
        let keys: UInt64Array = (0..args.number_rows)
            .map(|row| interleave(&ids, row))
            .collect();
        Ok(ColumnarValue::Array(Arc::new(keys)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::StringArray;

    #[test]
    fn shared_prefix_strings_get_distinct_ranges() {
        let sample: ArrayRef = Arc::new(StringArray::from_iter_values(
            (1..=5000).map(|i| format!("customer_{i}")),
        ));
        let ranges = ColumnRanges::from_sample(&sample).unwrap();
        let probe: ArrayRef = Arc::new(StringArray::from(vec![
            "customer_1",
            "customer_2500",
            "customer_5000",
        ]));
        let ids = ranges.range_ids(&probe).unwrap();
        assert!(ids[0] < ids[1] && ids[1] < ids[2], "{ids:?}");
    }

    /// The prefix-and-probe search gives the plain binary search's answer for values below,
    /// between, on and above the boundaries, strings of every length included.
    #[test]
    fn range_search_matches_a_plain_search() {
        let sample: ArrayRef = Arc::new(StringArray::from_iter_values(
            (0..3000).map(|i| format!("customer_{}", i * 7 % 2000)),
        ));
        let ranges = ColumnRanges::from_sample(&sample).unwrap();
        let probes: Vec<String> = ["", "c", "customer", "customer_", "customer_1", "d", "b"]
            .iter()
            .map(|s| s.to_string())
            .chain((0..2100).map(|i| format!("customer_{i}")))
            .chain((0..50).map(|i| format!("customer_{i}\u{0}x")))
            .collect();
        let values: ArrayRef = Arc::new(StringArray::from(probes.clone()));
        let rows = ranges.converter.convert_columns(&[values]).unwrap();
        for (i, row) in rows.iter().enumerate() {
            let plain = (0..ranges.boundaries.num_rows())
                .filter(|b| ranges.boundaries.row(*b) <= row)
                .count();
            assert_eq!(
                ranges.boundaries_at_or_below(row.as_ref()),
                plain,
                "{:?}",
                probes[i]
            );
        }
        let ints: ArrayRef = Arc::new(datafusion::arrow::array::Int64Array::from_iter_values(
            (0..5000).map(|i| i * 37 % 4000 - 2000),
        ));
        let ranges = ColumnRanges::from_sample(&ints).unwrap();
        let probe_ints: ArrayRef = Arc::new(
            datafusion::arrow::array::Int64Array::from_iter_values(-2100..2100),
        );
        let rows = ranges.converter.convert_columns(&[probe_ints]).unwrap();
        for row in rows.iter() {
            let plain = (0..ranges.boundaries.num_rows())
                .filter(|b| ranges.boundaries.row(*b) <= row)
                .count();
            assert_eq!(ranges.boundaries_at_or_below(row.as_ref()), plain);
        }
    }

    #[test]
    fn interleaving_orders_by_all_columns() {
        let ids = vec![vec![0, 1, 0, 1], vec![0, 0, 1, 1]];
        let keys: Vec<u64> = (0..4).map(|r| interleave(&ids, r)).collect();
        assert_eq!(keys, vec![0, 1, 2, 3]);
    }
}
