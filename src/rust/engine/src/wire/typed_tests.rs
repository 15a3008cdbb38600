//! Typed tensors decode to the frames, options and errors that the same
//! request as JSON gives; typed outputs hold the JSON answer's values.

use std::path::PathBuf;

use serde_json::Value;

use crate::format::{InputSpec, InputType};
use crate::frame::{ColumnBuf, NA_INTEGER, NA_REAL};
use crate::model::{Numbers, Penalty};
use crate::output::{ArrayShape, OutputShape, Part, Prediction, ValueKind, Values};
use crate::wire::{
    typed_outputs, write_oip, Contents, Decoder, OipReply, Param, Protocol, TypedData, TypedInput, TypedRequest,
    TypedValues, WireError, WireLimits,
};
use crate::Model;

fn fixture(name: &str) -> Model {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../tests/testthat/fixtures/format-1.0").join(name);
    Model::load(&path).unwrap()
}

fn limits() -> WireLimits {
    WireLimits::default()
}

fn input<'a>(name: &'a str, datatype: &'a str, shape: &'a [i64], data: TypedData<'a>) -> TypedInput<'a> {
    TypedInput { name, datatype, shape, data }
}

fn fp64(v: &[f64]) -> TypedData<'_> {
    TypedData::Contents(Contents { fp64_contents: v, ..Contents::default() })
}

fn request(inputs: Vec<TypedInput<'_>>) -> TypedRequest<'_> {
    TypedRequest { inputs, ..TypedRequest::default() }
}

fn typed_err(d: &Decoder, inputs: Vec<TypedInput<'_>>) -> WireError {
    d.oip_typed(&request(inputs), &limits()).unwrap_err()
}

fn json_err(d: &Decoder, body: &str) -> WireError {
    d.oip(body.as_bytes(), &limits()).unwrap_err()
}

// The OIP specification's example request, as the wire tests use it, and the same tensors typed.
const OIP_BODY: &str = r#"{"id":"42","inputs":[
  {"name":"Sepal.Width","shape":[2],"datatype":"FP64","data":[3.5,null]},
  {"name":"Petal.Length","shape":[2,1],"datatype":"FP32","data":[[1.4],[4.7]]},
  {"name":"Petal.Width","shape":[2],"datatype":"INT32","data":[0,1]},
  {"name":"Species","shape":[2],"datatype":"BYTES","data":["setosa","versicolor"]},
  {"name":"unused","shape":[1],"datatype":"BYTES","data":["ignored"]}],
  "parameters":{"content_type":"pd","type":"response"}}"#;

#[test]
fn typed_and_raw_tensors_decode_to_the_json_frame() {
    let m = fixture("gbm-iris.json");
    let d = Decoder::new(m.inputs());
    let json = d.oip(OIP_BODY.as_bytes(), &limits()).unwrap();
    let species = [b"setosa".to_vec(), b"versicolor".to_vec()];
    let ignored = [b"ignored".to_vec()];
    // JSON reads 1.4 as a double: FP32 contents carry the double's f32, as a client's float array would
    let petal_length = [1.4f32, 4.7];
    let typed = TypedRequest {
        id: Some("42".into()),
        parameters: vec![("content_type", Param::Str("pd")), ("type", Param::Str("response"))],
        inputs: vec![
            input("Sepal.Width", "FP64", &[2], fp64(&[3.5, NA_REAL])),
            input(
                "Petal.Length",
                "FP32",
                &[2, 1],
                TypedData::Contents(Contents { fp32_contents: &petal_length, ..Contents::default() }),
            ),
            input(
                "Petal.Width",
                "INT32",
                &[2],
                TypedData::Contents(Contents { int_contents: &[0, 1], ..Default::default() }),
            ),
            input(
                "Species",
                "BYTES",
                &[2],
                TypedData::Contents(Contents { bytes_contents: &species, ..Default::default() }),
            ),
            input(
                "unused",
                "BYTES",
                &[1],
                TypedData::Contents(Contents { bytes_contents: &ignored, ..Default::default() }),
            ),
        ],
    };
    let r = d.oip_typed(&typed, &limits()).unwrap();
    assert_eq!(r.id.as_deref(), Some("42"));
    assert_eq!(r.options, json.options);
    assert_eq!(r.frame.names(), json.frame.names());
    let ColumnBuf::Real(pl) = &r.frame.columns()[1] else { panic!() };
    assert_eq!(pl, &[f64::from(1.4f32), f64::from(4.7f32)]);
    for k in [0, 2, 3] {
        assert_eq!(format!("{:?}", r.frame.columns()[k]), format!("{:?}", json.frame.columns()[k]), "column {k}");
    }

    // the same request in raw bytes
    let sw: Vec<u8> = [3.5f64, NA_REAL].iter().flat_map(|x| x.to_le_bytes()).collect();
    let pl: Vec<u8> = petal_length.iter().flat_map(|x| x.to_le_bytes()).collect();
    let pw: Vec<u8> = [0i32, 1].iter().flat_map(|x| x.to_le_bytes()).collect();
    let sp: Vec<u8> = [&b"setosa"[..], b"versicolor"]
        .iter()
        .flat_map(|s| (s.len() as u32).to_le_bytes().into_iter().chain(s.iter().copied()))
        .collect();
    let raw = TypedRequest {
        inputs: vec![
            input("Sepal.Width", "FP64", &[2], TypedData::Raw(&sw)),
            input("Petal.Length", "FP32", &[2, 1], TypedData::Raw(&pl)),
            input("Petal.Width", "INT32", &[2], TypedData::Raw(&pw)),
            input("Species", "BYTES", &[2], TypedData::Raw(&sp)),
        ],
        ..typed.clone()
    };
    let rr = d.oip_typed(&raw, &limits()).unwrap();
    assert_eq!(format!("{:?}", rr.frame), format!("{:?}", r.frame));
    // NA keeps its bits
    let ColumnBuf::Real(sw) = &rr.frame.columns()[0] else { panic!() };
    assert_eq!(sw[1].to_bits(), NA_REAL.to_bits());
}

#[test]
fn every_numeric_datatype_raw_and_typed() {
    let inputs = [InputSpec { name: "x".into(), kind: InputType::Numeric, levels: None }];
    let d = Decoder::new(&inputs);
    let x = |datatype: &str, data: TypedData| -> Vec<f64> {
        let r = d.oip_typed(&request(vec![input("x", datatype, &[2], data)]), &limits()).unwrap();
        let ColumnBuf::Real(v) = &r.frame.columns()[0] else { panic!() };
        v.clone()
    };
    let raw = |datatype: &str, bytes: Vec<u8>| x(datatype, TypedData::Raw(&bytes));
    assert_eq!(raw("INT8", vec![0xff, 7]), [-1.0, 7.0]);
    assert_eq!(raw("UINT8", vec![0xff, 7]), [255.0, 7.0]);
    assert_eq!(raw("INT16", [-300i16, 2].iter().flat_map(|v| v.to_le_bytes()).collect()), [-300.0, 2.0]);
    assert_eq!(raw("UINT16", [65535u16, 2].iter().flat_map(|v| v.to_le_bytes()).collect()), [65535.0, 2.0]);
    assert_eq!(raw("INT64", [-5i64, 1 << 40].iter().flat_map(|v| v.to_le_bytes()).collect()), [-5.0, 2f64.powi(40)]);
    assert_eq!(raw("UINT64", [5u64, 9].iter().flat_map(|v| v.to_le_bytes()).collect()), [5.0, 9.0]);
    assert_eq!(raw("UINT32", [4_000_000_000u32, 9].iter().flat_map(|v| v.to_le_bytes()).collect()), [4e9, 9.0]);
    // half floats: 1.5, -2, the smallest subnormal, infinity
    let halves = raw("FP16", [0x3e00u16, 0xc000].iter().flat_map(|v| v.to_le_bytes()).collect());
    assert_eq!(halves, [1.5, -2.0]);
    let halves = raw("FP16", [0x0001u16, 0x7c00].iter().flat_map(|v| v.to_le_bytes()).collect());
    assert_eq!(halves, [2f64.powi(-24), f64::INFINITY]);
    let c = |c: Contents, datatype: &str| x(datatype, TypedData::Contents(c));
    assert_eq!(c(Contents { int64_contents: &[-3, 4], ..Default::default() }, "INT64"), [-3.0, 4.0]);
    assert_eq!(c(Contents { uint_contents: &[3, 4], ..Default::default() }, "UINT16"), [3.0, 4.0]);
    assert_eq!(c(Contents { uint64_contents: &[3, 4], ..Default::default() }, "UINT64"), [3.0, 4.0]);
    assert_eq!(c(Contents { int_contents: &[-3, 4], ..Default::default() }, "INT8"), [-3.0, 4.0]);
    // the bits of a double, whatever they are
    let odd = [f64::from_bits(0x7ff8_dead_beef_0001), -0.0];
    let got = c(Contents { fp64_contents: &odd, ..Default::default() }, "FP64");
    assert_eq!(
        got.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
        odd.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
    );
}

#[test]
fn bools_strings_and_missing_values() {
    let inputs = [
        InputSpec { name: "b".into(), kind: InputType::Logical, levels: None },
        InputSpec { name: "f".into(), kind: InputType::Factor, levels: Some(vec!["a".into(), "b".into()]) },
    ];
    let d = Decoder::new(&inputs);
    let f = [b"b".to_vec(), b"NA".to_vec(), b"a".to_vec()];
    let typed = request(vec![
        input(
            "b",
            "BOOL",
            &[3],
            TypedData::Contents(Contents { bool_contents: &[true, false, true], ..Default::default() }),
        ),
        input("f", "BYTES", &[3, 1], TypedData::Contents(Contents { bytes_contents: &f, ..Default::default() })),
    ]);
    let r = d.oip_typed(&typed, &limits()).unwrap();
    let json = d
        .oip(
            br#"{"inputs":[{"name":"b","datatype":"BOOL","shape":[3],"data":[true,false,true]},
                {"name":"f","datatype":"BYTES","shape":[3,1],"data":["b",null,"a"]}]}"#,
            &limits(),
        )
        .unwrap();
    assert_eq!(format!("{:?}", r.frame), format!("{:?}", json.frame));
    let ColumnBuf::Factor { codes, .. } = &r.frame.columns()[1] else { panic!() };
    assert_eq!(codes[1], NA_INTEGER, "\"NA\" is a missing value, as in JSON");
    let raw = request(vec![
        input("b", "BOOL", &[3], TypedData::Raw(&[1, 0, 1])),
        input("f", "BYTES", &[3, 1], TypedData::Raw(b"\x01\0\0\0b\x02\0\0\0NA\x01\0\0\0a")),
    ]);
    assert_eq!(format!("{:?}", d.oip_typed(&raw, &limits()).unwrap().frame), format!("{:?}", json.frame));
}

#[test]
fn bad_tensors_get_the_json_messages_or_name_the_problem() {
    let m = fixture("gbm-iris.json");
    let d = Decoder::new(m.inputs());
    let json_tensor = |dt: &str, shape: &str, data: &str| {
        format!("{{\"inputs\":[{{\"name\":\"Petal.Width\",\"datatype\":\"{dt}\",\"shape\":{shape},\"data\":{data}}}]}}")
    };
    let species = [b"a".to_vec(), b"b".to_vec()];
    // the same mistakes, typed and as JSON: the same status, kind and message
    let cases: Vec<(TypedInput, String)> = vec![
        (input("Petal.Width", "FP64", &[3], fp64(&[1.0, 2.0])), json_tensor("FP64", "[3]", "[1, 2]")),
        (input("Petal.Width", "FP64", &[1, 2], fp64(&[1.0, 2.0])), json_tensor("FP64", "[1, 2]", "[1, 2]")),
        (input("Petal.Width", "COMPLEX", &[2], fp64(&[1.0, 2.0])), json_tensor("COMPLEX", "[2]", "[1, 2]")),
        (
            input(
                "Petal.Width",
                "BYTES",
                &[2],
                TypedData::Contents(Contents { bytes_contents: &species, ..Default::default() }),
            ),
            json_tensor("BYTES", "[2]", "[\"a\", \"b\"]"),
        ),
        (
            input(
                "Petal.Width",
                "INT8",
                &[2],
                TypedData::Contents(Contents { int_contents: &[1, 300], ..Default::default() }),
            ),
            json_tensor("INT8", "[2]", "[1, 300]"),
        ),
    ];
    for (typed, json) in cases {
        let (a, b) = (typed_err(&d, vec![typed]), json_err(&d, &json));
        assert_eq!(a, b, "{json}");
    }
    // Species given numbers
    let e = typed_err(&d, vec![input("Species", "FP64", &[1], fp64(&[1.0]))]);
    assert_eq!((e.status, e.kind), (400, "wrong_type"));
    assert!(e.message.contains("Species"), "{}", e.message);

    // what only typed tensors can get wrong
    for (bad, says) in [
        (input("x", "FP64", &[-1], fp64(&[1.0])), "shape [-1]"),
        (
            input("x", "FP64", &[1], TypedData::Contents(Contents { fp32_contents: &[1.0], ..Default::default() })),
            "holds values in fp32_contents; FP64 values go in fp64_contents",
        ),
        (input("x", "FP16", &[1], fp64(&[1.0])), "only in raw_input_contents"),
        (input("x", "FP64", &[1], TypedData::Raw(&[0; 7])), "7 bytes, not a whole number of FP64 values"),
        (input("x", "BOOL", &[1], TypedData::Raw(&[2])), "the byte 2"),
        (input("x", "BYTES", &[1], TypedData::Raw(&[5, 0, 0, 0, b'a'])), "end inside a BYTES value"),
        (input("x", "BYTES", &[1], TypedData::Raw(&[1, 0, 0, 0, 0xff])), "not UTF-8 text (value 1)"),
        (input("x", "BF16", &[1], TypedData::Raw(&[0, 0])), "datatype 'BF16'"),
    ] {
        let e = typed_err(&d, vec![bad]);
        assert_eq!((e.status, e.kind), (400, "bad_request"));
        assert!(e.message.contains(says), "{} does not say {says}", e.message);
    }

    // more rows than allowed: 413, as in JSON
    let small = WireLimits { max_rows: 2 };
    let e = d.oip_typed(&request(vec![input("x", "FP64", &[3], fp64(&[1.0, 2.0, 3.0]))]), &small).unwrap_err();
    let j = d.oip(json_tensor("FP64", "[3]", "[1, 2, 3]").as_bytes(), &small).unwrap_err();
    assert_eq!(e, j);
    assert_eq!(e.status, 413);
}

#[test]
fn parameters_set_the_options() {
    let m = fixture("randomForest-iris-gz.json.gz");
    let d = Decoder::new(m.inputs());
    let with = |parameters: Vec<(&'static str, Param<'static>)>| {
        d.oip_typed(&TypedRequest { parameters, ..TypedRequest::default() }, &limits())
    };
    let r =
        with(vec![("type", Param::Str("vote")), ("norm_votes", Param::Bool(false)), ("n_trees", Param::Str("10, 20"))]);
    let o = r.unwrap().options;
    assert_eq!((o.type_.as_deref(), o.norm_votes, o.n_trees), (Some("vote"), Some(false), Some(vec![10, 20])));
    assert_eq!(with(vec![("n_trees", Param::Int64(5))]).unwrap().options.n_trees, Some(vec![5]));
    assert_eq!(with(vec![("n_trees", Param::Uint64(5))]).unwrap().options.n_trees, Some(vec![5]));
    assert_eq!(with(vec![("n_trees", Param::Double(7.0))]).unwrap().options.n_trees, Some(vec![7]));
    assert_eq!(with(vec![("content_type", Param::Str("pd"))]).unwrap().options, Default::default());
    // numbers as a JSON array in a string (InferParameter has no arrays), options of other models too (which
    // options a model takes is checked when the call is prepared), glmnet's whole path as "NULL"
    let o = with(vec![
        ("n_trees", Param::Str("[10, 20]")),
        ("iteration_range", Param::Str("[0, 2]")),
        ("s", Param::Str("NULL")),
        ("level", Param::Double(0.9)),
    ])
    .unwrap()
    .options;
    assert_eq!(
        (o.n_trees, o.iteration_range, o.s, o.level),
        (Some(vec![10, 20]), Some((0, 2)), Some(Penalty::Path), Some(0.9))
    );
    let o =
        with(vec![("s", Param::Str("[0.01, 0.1]")), ("newoffset", Param::Str("[[1, 2], [3, 4]]"))]).unwrap().options;
    assert_eq!(o.s, Some(Penalty::Values { values: vec![0.01, 0.1], names: None }));
    assert_eq!(o.newoffset, Some(Numbers { values: vec![1.0, 3.0, 2.0, 4.0], dim: Some([2, 2]) }));
    // bad values get the JSON body's errors; a double JSON has no number for is read as R writes it
    for (bad, json) in [
        (("n_trees", Param::Int64(0)), r#"{"n_trees":0}"#),
        (("type", Param::Int64(1)), r#"{"type":1}"#),
        (("norm_votes", Param::Str("yes")), r#"{"norm_votes":"yes"}"#),
        (("n_trees", Param::Bool(true)), r#"{"n_trees":true}"#),
        (("n_trees", Param::Str("5,x")), r#"{"n_trees":"5,x"}"#),
        (("n_trees", Param::Str("[5,")), r#"{"n_trees":"[5,"}"#),
        (("n_trees", Param::Double(f64::INFINITY)), r#"{"n_trees":"Inf"}"#),
        (("n_trees", Param::Double(NA_REAL)), r#"{"n_trees":"NA"}"#),
    ] {
        let e = with(vec![bad]).unwrap_err();
        assert_eq!(e.status, 400);
        assert_eq!(e, json_err(&d, &format!(r#"{{"inputs":[],"parameters":{json}}}"#)), "{bad:?}");
    }
    let e = with(vec![("type", Param::Empty)]).unwrap_err();
    assert_eq!((e.status, e.message.as_str()), (400, "the parameter 'type' has no value set"));
    assert!(with(vec![("content_type", Param::Empty)]).is_ok());
}

/// A model that reads a matrix takes one typed `[N, P]` tensor, as one JSON tensor.
#[test]
fn a_matrix_tensor_decodes_as_in_json() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../tests/testthat/fixtures/format-1.4/glmnet-binomial-cv-mtcars.json");
    let m = Model::load(&path).unwrap();
    let d = Decoder::for_model(&m);
    let rows = [21.0, 2.62, 110.0, 16.46, 3.9, 30.4, 1.6, 52.0, 18.5, 4.9];
    let typed = d.oip_typed(&request(vec![input("x", "FP64", &[2, 5], fp64(&rows))]), &limits()).unwrap();
    let body = r#"{"inputs":[{"name":"x","datatype":"FP64","shape":[2,5],"data":[[21,2.62,110,16.46,3.9],[30.4,1.6,52,18.5,4.9]]}]}"#;
    let json = d.oip(body.as_bytes(), &limits()).unwrap();
    assert_eq!(format!("{:?}", typed.frame), format!("{:?}", json.frame));
    // the row limit counts rows, not values
    let small = WireLimits { max_rows: 2 };
    assert!(d.oip_typed(&request(vec![input("x", "FP64", &[2, 5], fp64(&rows))]), &small).is_ok());
    let e = d.oip_typed(&request(vec![input("x", "FP64", &[2, 5], fp64(&rows))]), &WireLimits { max_rows: 1 });
    assert_eq!(e.unwrap_err().status, 413);
}

fn json_of(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).unwrap()
}

/// Typed outputs against the JSON answer: names, datatypes, shapes, parameters and (finite) values.
fn same_as_json(p: &Prediction, output: &str) {
    let reply = OipReply { model_name: "m", model_version: None, id: "x", output };
    let json = json_of(&write_oip(p, &reply).unwrap());
    let typed = typed_outputs(p, output);
    let outputs = json["outputs"].as_array().unwrap();
    assert_eq!(typed.len(), outputs.len());
    for (t, j) in typed.iter().zip(outputs) {
        assert_eq!(t.name, j["name"]);
        assert_eq!(t.datatype, j["datatype"]);
        assert_eq!(serde_json::to_value(&t.shape).unwrap(), j["shape"]);
        let params: serde_json::Map<String, Value> =
            t.parameters.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
        assert_eq!(Value::Object(params), j.get("parameters").cloned().unwrap_or_else(|| serde_json::json!({})));
        let data = j["data"].as_array().unwrap();
        match &t.values {
            TypedValues::Fp64(v) => {
                assert_eq!(v.len(), data.len());
                for (x, y) in v.iter().zip(data) {
                    match y.as_f64() {
                        Some(y) => assert_eq!(x.to_bits(), y.to_bits()),
                        None => assert!(!x.is_finite(), "JSON has null where the value is {x}"),
                    }
                }
            }
            TypedValues::Bytes(v) => {
                assert_eq!(v.iter().map(|s| serde_json::json!(s)).collect::<Vec<_>>(), *data);
            }
        }
    }
}

#[test]
fn typed_outputs_are_the_json_answer() {
    let m = fixture("randomForest-iris-gz.json.gz");
    let d = Decoder::new(m.inputs());
    let mut r = d
        .vetiver(
            br#"{"Sepal.Length":[5.1,6.3,"NA"],"Sepal.Width":[3.5,2.9,3],"Petal.Length":[1.4,5.6,4],"Petal.Width":[0.2,1.8,1]}"#,
            &limits(),
        )
        .unwrap();
    for t in [None, Some("prob"), Some("vote")] {
        r.options.type_ = t.map(String::from);
        let frame = r.frame.frame();
        let p = m
            .prepare(&frame, &r.options)
            .and_then(|j| j.predict(1))
            .map_err(|e| WireError::from_engine(&e, Protocol::Oip));
        same_as_json(&p.unwrap(), t.unwrap_or("response"));
    }
    // a 2 x 2 x 3 array with names, a vector with special values, classes with a missing one
    let shape = ArrayShape {
        values: ValueKind::Real,
        dim: Some(vec![2, 2, 3]),
        dimnames: Some(vec![None, Some(vec!["a".into(), "b".into()]), None]),
        ..ArrayShape::vector()
    };
    let p = Prediction {
        shape: OutputShape::Array(shape),
        nrows: 2,
        parts: vec![Values::Real((0..12).map(f64::from).collect())],
    };
    same_as_json(&p, "link");
    let TypedValues::Fp64(v) = &typed_outputs(&p, "link")[0].values else { panic!() };
    assert_eq!(v, &[0.0, 4.0, 8.0, 2.0, 6.0, 10.0, 1.0, 5.0, 9.0, 3.0, 7.0, 11.0]);
    let p = Prediction {
        shape: ArrayShape::vector().into(),
        nrows: 3,
        parts: vec![Values::Real(vec![NA_REAL, f64::NEG_INFINITY, 0.1])],
    };
    same_as_json(&p, "response");
    let TypedValues::Fp64(v) = &typed_outputs(&p, "response")[0].values else { panic!() };
    assert_eq!(v[0].to_bits(), NA_REAL.to_bits(), "NA keeps its bits (JSON: null)");
    let p = Prediction {
        shape: ArrayShape::factor(vec!["x".into(), "y".into()]).into(),
        nrows: 3,
        parts: vec![Values::Int(vec![2, NA_INTEGER, 1])],
    };
    same_as_json(&p, "class");
    assert_eq!(typed_outputs(&p, "class")[0].values, TypedValues::Bytes(vec![Some("y"), None, Some("x")]));
    // a list with text classes, a number and numbers of the whole call (lm's df, a survival forest's times)
    let p = Prediction {
        shape: OutputShape::List(vec![
            (
                "class".into(),
                Part::Array(ArrayShape {
                    values: ValueKind::Character(vec!["0".into(), "1".into()]),
                    ..ArrayShape::vector()
                }),
            ),
            ("df".into(), Part::Number(29.0)),
            ("unique.death.times".into(), Part::Numbers(vec![1.0, 2.5, 7.0])),
        ]),
        nrows: 2,
        parts: vec![Values::Int(vec![2, 1])],
    };
    same_as_json(&p, "class");
    let typed = typed_outputs(&p, "class");
    assert_eq!(
        typed.iter().map(|t| (t.name.as_str(), t.shape.clone())).collect::<Vec<_>>(),
        [("class", vec![2]), ("df", vec![1]), ("unique_death_times", vec![3])]
    );
    assert_eq!(typed[2].values, TypedValues::Fp64(vec![1.0, 2.5, 7.0]));
}
