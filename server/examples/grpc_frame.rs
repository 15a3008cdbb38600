//! Writes the gRPC `ModelInferRequest` frame that says what an OIP REST inference body says, for h2load to post
//! (bench/grpc.R): `grpc_frame MODEL < body.json > frame.bin`.

use std::io::{Read, Write};
use std::process::ExitCode;

#[path = "../tests/common/grpc.rs"]
#[allow(clippy::expect_used, clippy::panic)]
mod grpc;

fn main() -> ExitCode {
    let Some(model) = std::env::args().nth(1) else {
        eprintln!("usage: grpc_frame MODEL < body.json > frame.bin");
        return ExitCode::from(2);
    };
    let mut body = Vec::new();
    let written = std::io::stdin()
        .read_to_end(&mut body)
        .map_err(|e| e.to_string())
        .and_then(|_| serde_json::from_slice(&body).map_err(|e| format!("the body is not JSON: {e}")))
        .and_then(|json| {
            std::io::stdout().write_all(&grpc::frame(&grpc::from_rest(&model, &json))).map_err(|e| e.to_string())
        });
    match written {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("grpc_frame: {e}");
            ExitCode::FAILURE
        }
    }
}
