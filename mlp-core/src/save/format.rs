//! The safetensors file format (Hugging Face), written and read directly.
//!
//! A file is an 8-byte little-endian length `N`, a JSON header of `N` bytes,
//! then the tensors' raw little-endian data. The header maps each tensor's
//! name to `{"dtype", "shape", "data_offsets": [begin, end]}` (offsets into
//! the data part) and may hold a `"__metadata__"` object of string values.
//! Reading checks what the reference implementation checks: the header fits
//! in the file (and in 100 MB), every size and offset is consistent with its
//! dtype and shape without overflow, and the tensors tile the data part
//! exactly, in order, with no gap or overlap.

use super::json::{Json, quote};
use std::collections::BTreeMap;

/// The reference implementation's limit on the header.
const MAX_HEADER: usize = 100_000_000;

/// A tensor's element type. `mlp` stores `F32` or `F64`; the others are
/// recognised so that a file holding them gets a clear error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dtype {
    F64,
    F32,
    Other(&'static str, usize),
}

impl Dtype {
    fn parse(s: &str) -> Option<Dtype> {
        Some(match s {
            "F64" => Dtype::F64,
            "F32" => Dtype::F32,
            "F16" => Dtype::Other("F16", 2),
            "BF16" => Dtype::Other("BF16", 2),
            "I64" => Dtype::Other("I64", 8),
            "U64" => Dtype::Other("U64", 8),
            "I32" => Dtype::Other("I32", 4),
            "U32" => Dtype::Other("U32", 4),
            "I16" => Dtype::Other("I16", 2),
            "U16" => Dtype::Other("U16", 2),
            "I8" => Dtype::Other("I8", 1),
            "U8" => Dtype::Other("U8", 1),
            "BOOL" => Dtype::Other("BOOL", 1),
            _ => return None,
        })
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Dtype::F64 => "F64",
            Dtype::F32 => "F32",
            Dtype::Other(name, _) => name,
        }
    }

    fn size(self) -> usize {
        match self {
            Dtype::F64 => 8,
            Dtype::F32 => 4,
            Dtype::Other(_, size) => size,
        }
    }
}

/// A tensor to write, or one read from a file.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Tensor<'a> {
    pub(crate) dtype: Dtype,
    pub(crate) shape: Vec<usize>,
    pub(crate) data: std::borrow::Cow<'a, [u8]>,
}

/// A file's tensors by name, and its metadata.
#[derive(Debug)]
pub(crate) struct File<'a> {
    pub(crate) tensors: BTreeMap<String, Tensor<'a>>,
    pub(crate) metadata: BTreeMap<String, String>,
}

/// Writes tensors and metadata as a safetensors file. The data follow in
/// the order of the names, each tensor's bytes after the last.
pub(crate) fn write(tensors: &[(String, Tensor<'_>)], metadata: &[(String, String)]) -> Vec<u8> {
    let mut header = String::from("{");
    if !metadata.is_empty() {
        header.push_str("\"__metadata__\":{");
        let fields: Vec<String> = metadata
            .iter()
            .map(|(k, v)| format!("{}:{}", quote(k), quote(v)))
            .collect();
        header.push_str(&fields.join(","));
        header.push('}');
    }
    let mut offset = 0;
    for (name, t) in tensors {
        if header.len() > 1 {
            header.push(',');
        }
        let shape: Vec<String> = t.shape.iter().map(usize::to_string).collect();
        let end = offset + t.data.len();
        header.push_str(&format!(
            "{}:{{\"dtype\":\"{}\",\"shape\":[{}],\"data_offsets\":[{offset},{end}]}}",
            quote(name),
            t.dtype.name(),
            shape.join(",")
        ));
        offset = end;
    }
    header.push('}');
    // The data start 8-byte aligned, as the reference implementation writes.
    while header.len() % 8 != 0 {
        header.push(' ');
    }
    let mut out = Vec::with_capacity(8 + header.len() + offset);
    out.extend_from_slice(&(header.len() as u64).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    for (_, t) in tensors {
        out.extend_from_slice(&t.data);
    }
    out
}

/// Reads a safetensors file, checking it as the reference implementation
/// does. The tensors borrow their data from `bytes`.
pub(crate) fn read(bytes: &[u8]) -> Result<File<'_>, String> {
    let n = bytes
        .get(..8)
        .ok_or("it is shorter than the 8-byte header length")?;
    let n = u64::from_le_bytes(n.try_into().expect("8 bytes"));
    let n =
        usize::try_from(n).map_err(|_| format!("its header length {n} does not fit in memory"))?;
    if n > MAX_HEADER {
        return Err(format!(
            "its header would be {n} bytes, more than the 100 MB limit"
        ));
    }
    let header = bytes.get(8..8 + n).ok_or(format!(
        "its header of {n} bytes runs past the end of the file ({} bytes)",
        bytes.len()
    ))?;
    let header =
        std::str::from_utf8(header).map_err(|_| "its header is not UTF-8 text".to_string())?;
    let json = Json::parse(header).map_err(|e| format!("its header is not valid JSON: {e}"))?;
    let fields = json.as_object().ok_or("its header is not a JSON object")?;
    let data = &bytes[8 + n..];

    let mut metadata = BTreeMap::new();
    let mut entries = Vec::new();
    for (name, value) in fields {
        if name == "__metadata__" {
            for (k, v) in value
                .as_object()
                .ok_or("its __metadata__ is not an object")?
            {
                let v = v
                    .as_str()
                    .ok_or(format!("its metadata value for {k:?} is not a string"))?;
                metadata.insert(k.clone(), v.to_string());
            }
            continue;
        }
        let bad = |what: &str| format!("tensor {name:?}: {what}");
        let dtype = value
            .get("dtype")
            .and_then(Json::as_str)
            .ok_or_else(|| bad("no dtype"))?;
        let dtype = Dtype::parse(dtype).ok_or_else(|| bad(&format!("unknown dtype {dtype:?}")))?;
        let shape: Vec<usize> = value
            .get("shape")
            .and_then(Json::as_array)
            .ok_or_else(|| bad("no shape"))?
            .iter()
            .map(|d| {
                d.as_usize()
                    .ok_or_else(|| bad("a dimension is not a non-negative integer"))
            })
            .collect::<Result<_, _>>()?;
        let offsets = value
            .get("data_offsets")
            .and_then(Json::as_array)
            .ok_or_else(|| bad("no data_offsets"))?;
        let [begin, end] = offsets else {
            return Err(bad("data_offsets is not [begin, end]"));
        };
        let (begin, end) = (
            begin
                .as_usize()
                .ok_or_else(|| bad("an offset is not a non-negative integer"))?,
            end.as_usize()
                .ok_or_else(|| bad("an offset is not a non-negative integer"))?,
        );
        let size = shape
            .iter()
            .try_fold(dtype.size(), |acc, &d| acc.checked_mul(d))
            .ok_or_else(|| bad("its size overflows"))?;
        if end < begin || end - begin != size {
            return Err(bad(&format!(
                "data_offsets [{begin}, {end}] do not hold the {size} bytes of {} x {shape:?}",
                dtype.name()
            )));
        }
        entries.push((name.clone(), dtype, shape, begin, end));
    }
    // The tensors must tile the data exactly.
    let mut spans: Vec<(usize, usize, &str)> =
        entries.iter().map(|e| (e.3, e.4, e.0.as_str())).collect();
    spans.sort();
    let mut at = 0;
    for (begin, end, name) in &spans {
        if *begin != at {
            return Err(format!(
                "tensor {name:?} starts at byte {begin} of the data, expected {at}"
            ));
        }
        at = *end;
    }
    if at != data.len() {
        return Err(format!(
            "the tensors cover {at} bytes of data, the file holds {}",
            data.len()
        ));
    }
    let tensors = entries
        .into_iter()
        .map(|(name, dtype, shape, begin, end)| {
            let data = std::borrow::Cow::Borrowed(&data[begin..end]);
            (name, Tensor { dtype, shape, data })
        })
        .collect();
    Ok(File { tensors, metadata })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::borrow::Cow;

    fn tensor(values: &[f32], shape: Vec<usize>) -> Tensor<'static> {
        Tensor {
            dtype: Dtype::F32,
            shape,
            data: Cow::Owned(values.iter().flat_map(|v| v.to_le_bytes()).collect()),
        }
    }

    #[test]
    fn writes_and_reads_back() {
        let tensors = vec![
            (
                "w".to_string(),
                tensor(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], vec![2, 3]),
            ),
            ("b".to_string(), tensor(&[0.5, -0.5], vec![2])),
        ];
        let meta = vec![
            ("format".to_string(), "mlp".to_string()),
            ("note".to_string(), "a \"quote\"".to_string()),
        ];
        let bytes = write(&tensors, &meta);
        assert_eq!(
            (8 + u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize) % 8,
            0
        );
        let file = read(&bytes).unwrap();
        assert_eq!(file.metadata.get("note").unwrap(), "a \"quote\"");
        assert_eq!(file.tensors["w"], tensors[0].1);
        assert_eq!(file.tensors["b"], tensors[1].1);
    }

    /// A file from the reference implementation (Python safetensors 0.8):
    /// `save_file({"a": torch.tensor([[1., 2.]]), "b": torch.tensor([3.])},
    /// "f", metadata={"k": "v"})`.
    #[test]
    fn reads_the_reference_implementation() {
        let header = br#"{"__metadata__":{"k":"v"},"a":{"dtype":"F32","shape":[1,2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}"#;
        let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
        bytes.extend_from_slice(header);
        for v in [1.0f32, 2.0, 3.0] {
            bytes.extend_from_slice(&v.to_le_bytes());
        }
        let file = read(&bytes).unwrap();
        assert_eq!(file.tensors["a"].shape, [1, 2]);
        assert_eq!(&*file.tensors["b"].data, 3.0f32.to_le_bytes());
    }

    #[test]
    fn refuses_inconsistent_files() {
        let good = write(&[("w".to_string(), tensor(&[1.0, 2.0], vec![2]))], &[]);
        let header_len = u64::from_le_bytes(good[..8].try_into().unwrap()) as usize;
        let with_header = |h: &str| {
            let mut b = (h.len() as u64).to_le_bytes().to_vec();
            b.extend_from_slice(h.as_bytes());
            b.extend_from_slice(&[0; 8]);
            b
        };
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (vec![1, 2, 3], "shorter than"),
            (u64::MAX.to_le_bytes().to_vec(), "header"),
            (good[..8 + header_len - 1].to_vec(), "runs past the end"),
            (
                good[..good.len() - 1].to_vec(),
                "cover 8 bytes of data, the file holds 7",
            ),
            ([&good[..], &[0]].concat(), "the file holds 9"),
            (
                with_header(r#"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}"#),
                "do not hold the 8 bytes",
            ),
            (
                with_header(
                    r#"{"w":{"dtype":"F32","shape":[99999999999,99999999999,99999999],"data_offsets":[0,8]}}"#,
                ),
                "overflows",
            ),
            (
                with_header(r#"{"w":{"dtype":"Q8","shape":[2],"data_offsets":[0,8]}}"#),
                "unknown dtype",
            ),
            (
                with_header(r#"{"w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#),
                "starts at byte 4",
            ),
            (
                with_header(r#"{"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,8]}}"#),
                "non-negative",
            ),
            (with_header(r#"[1,2]"#), "not a JSON object"),
            (with_header(r#"{"__metadata__":{"k":1}}"#), "not a string"),
            (with_header("{\"w\":"), "not valid JSON"),
        ];
        for (bytes, words) in cases {
            let err = read(&bytes).unwrap_err();
            assert!(err.contains(words), "{words}: {err}");
        }
    }
}
