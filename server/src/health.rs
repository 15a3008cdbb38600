//! `fastpredict-server health`: probe a local server's readiness over plain HTTP/1.1 (a container health check).

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::process::ExitCode;
use std::time::Duration;

use crate::config::HealthArgs;

pub fn probe(args: &HealthArgs) -> ExitCode {
    match ask(args) {
        Ok(200) => {
            println!("ready");
            ExitCode::SUCCESS
        }
        Ok(status) => {
            println!("not ready: /v2/health/ready answered {status}");
            ExitCode::FAILURE
        }
        Err(e) => {
            println!("not ready: cannot ask {}:{}: {e}", args.host, args.port);
            ExitCode::FAILURE
        }
    }
}

/// The status of GET /v2/health/ready.
fn ask(args: &HealthArgs) -> std::io::Result<u16> {
    let timeout = Duration::from_secs_f64(args.timeout.max(0.001));
    let addr = (args.host.as_str(), args.port)
        .to_socket_addrs()?
        .next()
        .ok_or_else(|| std::io::Error::other("the address does not resolve"))?;
    let mut stream = TcpStream::connect_timeout(&addr, timeout)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    write!(stream, "GET /v2/health/ready HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n", args.host)?;
    let mut head = Vec::new();
    stream.take(4096).read_to_end(&mut head)?;
    let line = String::from_utf8_lossy(&head);
    line.split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other("the answer is not HTTP"))
}
