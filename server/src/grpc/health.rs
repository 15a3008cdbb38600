//! `grpc.health.v1.Health` (the service Kubernetes' gRPC probes and load balancers call): the server, and
//! `inference.GRPCInferenceService`, serve when a model is loaded, as `/v2/health/ready`; not once shutting down.

use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tokio_stream::wrappers::ReceiverStream;
use tokio_stream::Stream;
use tonic::{Request, Response, Status};
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_server;
use tonic_health::pb::{HealthCheckRequest, HealthCheckResponse};

use crate::routes::App;

/// How often a watch looks at the model set: a reload is rare, and a second late is soon enough for a balancer.
const WATCH_POLL: Duration = Duration::from_secs(1);

pub struct Health {
    app: Arc<App>,
    stopping: watch::Receiver<bool>,
}

impl Health {
    pub fn new(app: Arc<App>, stopping: watch::Receiver<bool>) -> Health {
        Health { app, stopping }
    }
}

/// The status of `service`, or `None` if it is not one this server has.
fn serving(app: &App, service: &str, stopping: bool) -> Option<ServingStatus> {
    if !service.is_empty() && service != super::SERVICE {
        return None;
    }
    Some(if stopping || app.repo.current().models.is_empty() {
        ServingStatus::NotServing
    } else {
        ServingStatus::Serving
    })
}

fn reply(s: ServingStatus) -> HealthCheckResponse {
    HealthCheckResponse { status: s as i32 }
}

type Watch = Pin<Box<dyn Stream<Item = Result<HealthCheckResponse, Status>> + Send>>;

#[tonic::async_trait]
impl health_server::Health for Health {
    async fn check(&self, r: Request<HealthCheckRequest>) -> Result<Response<HealthCheckResponse>, Status> {
        let service = &r.get_ref().service;
        match serving(&self.app, service, *self.stopping.borrow()) {
            Some(s) => Ok(Response::new(reply(s))),
            None => Err(Status::not_found(format!(
                "no service '{service}' here: health covers '' (the server) and '{}'",
                super::SERVICE
            ))),
        }
    }

    type WatchStream = Watch;

    /// The status now, then each change, until the client goes or the server stops.
    async fn watch(&self, r: Request<HealthCheckRequest>) -> Result<Response<Watch>, Status> {
        let service = r.into_inner().service;
        let (app, mut stopping) = (Arc::clone(&self.app), self.stopping.clone());
        let (tx, rx) = mpsc::channel(1);
        tokio::spawn(async move {
            let mut last = None;
            loop {
                let stop = *stopping.borrow();
                let now = serving(&app, &service, stop).unwrap_or(ServingStatus::ServiceUnknown);
                if last != Some(now) {
                    if tx.send(Ok(reply(now))).await.is_err() {
                        return;
                    }
                    last = Some(now);
                }
                if stop {
                    return;
                }
                tokio::select! {
                    _ = tokio::time::sleep(WATCH_POLL) => {}
                    changed = stopping.changed() => if changed.is_err() { return },
                    _ = tx.closed() => return,
                }
            }
        });
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
    }
}
