//! `upper` and `lower` as PostgreSQL answers them under a C.UTF-8 character type: each
//! character maps to its one-character upper (lower) case, and a character whose case is more
//! than one character stays as it is (`upper('straße')` is `STRAßE`; DataFusion's full Unicode
//! mapping gave `STRASSE`, a different string of a different length).

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, AsArray, StringArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

/// `upper` (or `lower`) of a string, character by character.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct SimpleCase {
    upper: bool,
    signature: Signature,
}

impl SimpleCase {
    /// `upper` when `upper`, else `lower`.
    pub fn new(upper: bool) -> Self {
        Self {
            upper,
            signature: Signature::string(1, Volatility::Immutable),
        }
    }
}

/// One character's case as PostgreSQL's `towupper`/`towlower` give it.
fn map_char(c: char, upper: bool) -> char {
    // glibc lowers the dotted capital I to a plain i (Unicode's full mapping adds a dot above).
    if !upper && c == 'İ' {
        return 'i';
    }
    let mut mapped: Box<dyn Iterator<Item = char>> = if upper {
        Box::new(c.to_uppercase())
    } else {
        Box::new(c.to_lowercase())
    };
    match (mapped.next(), mapped.next()) {
        (Some(one), None) => one,
        _ => c,
    }
}

/// The string in upper (lower) case, character by character.
pub fn simple_case(s: &str, upper: bool) -> String {
    if s.is_ascii() {
        return if upper {
            s.to_ascii_uppercase()
        } else {
            s.to_ascii_lowercase()
        };
    }
    s.chars().map(|c| map_char(c, upper)).collect()
}

impl ScalarUDFImpl for SimpleCase {
    fn name(&self) -> &str {
        if self.upper { "upper" } else { "lower" }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        Ok(match &arg_types[0] {
            DataType::Null => DataType::Utf8,
            other => other.clone(),
        })
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let upper = self.upper;
        let target = self.return_type(&[args.args[0].data_type()])?;
        super::over_arrays(&args, |arrays| {
            let text = cast(&arrays[0], &DataType::Utf8)?;
            let mapped: StringArray = text
                .as_string::<i32>()
                .iter()
                .map(|s| s.map(|s| simple_case(s, upper)))
                .collect();
            Ok(cast(&(Arc::new(mapped) as ArrayRef), &target)?)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::simple_case;

    #[test]
    fn characters_keep_multi_character_cases() {
        assert_eq!(simple_case("straße", true), "STRAßE");
        assert_eq!(simple_case("ÀÉÎ", false), "àéî");
        assert_eq!(simple_case("Ǆ", false), "ǆ");
        assert_eq!(simple_case("abc", true), "ABC");
        assert_eq!(simple_case("İstanbul", false), "istanbul");
        assert_eq!(simple_case("ΣΊΣΥΦΟΣ", false), "σίσυφοσ");
        assert_eq!(simple_case("ﬁne", true), "ﬁNE");
    }
}
