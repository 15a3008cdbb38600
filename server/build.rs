//! Generates the gRPC code of the Open Inference Protocol from the vendored .proto, with protox (no protoc
//! binary): the server's half for the binary, the client's half for the tests and the bench's frame writer.

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let proto = "proto/open_inference_grpc.proto";
    println!("cargo:rerun-if-changed={proto}");
    let files = protox::compile([proto], ["proto"])?;
    let out = PathBuf::from(std::env::var("OUT_DIR")?);
    for (half, server) in [("server", true), ("client", false)] {
        let dir = out.join(half);
        std::fs::create_dir_all(&dir)?;
        tonic_prost_build::configure()
            .build_server(server)
            .build_client(!server)
            .out_dir(&dir)
            .compile_fds(files.clone())?;
    }
    Ok(())
}
