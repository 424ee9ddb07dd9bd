//! Turning deliveries into scheduler inputs. Job requests are acked once the job is known
//! to the scheduler and recorded in Redis (a restarted dispatcher finds it there), so
//! nothing is held unacked for the length of a job. Run requests published by programs
//! are checked like HTTP ones; one that cannot become a job is dead-lettered with the
//! reason and, if asked, answered.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use lapin::message::Delivery;
use lapin::options::{BasicAckOptions, BasicNackOptions};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{BasicProperties, Consumer};
use mist_common::amqp::publish::Publisher;
use mist_common::amqp::topology::Topology;
use mist_common::config::Settings;
use mist_common::model::job::Source;
use mist_common::model::messages::{EventKind, ExternalRunRequest, JobEvent, JobRequest, Notice};
use mist_common::store::Store;
use mist_common::submit::{announcements, prepare, record, Refusal, Submission};
use serde_json::json;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::scheduler::Input;

/// How long to wait before handing back a request that failed for want of Redis.
const STORE_RETRY_DELAY: Duration = Duration::from_secs(1);

pub struct Intake {
    pub store: Store,
    pub settings: Arc<Settings>,
    pub publisher: Publisher,
    pub topology: Topology,
    pub inputs: mpsc::Sender<Input>,
}

impl Intake {
    /// Consumes the requests queue until `shutdown`.
    pub async fn requests(self: Arc<Self>, mut consumer: Consumer, shutdown: CancellationToken) {
        loop {
            let delivery = tokio::select! {
                _ = shutdown.cancelled() => return,
                next = consumer.next() => match next {
                    Some(Ok(delivery)) => delivery,
                    Some(Err(err)) => { tracing::error!(error = %err, "requests consumer failed"); return; }
                    None => return,
                },
            };
            self.request(delivery).await;
        }
    }

    async fn request(&self, delivery: Delivery) {
        let value: serde_json::Value = match serde_json::from_slice(&delivery.data) {
            Ok(value) => value,
            Err(err) => return self.refuse(&delivery, &format!("the request is not valid JSON: {err}")).await,
        };
        if value.get("jobId").is_some() {
            match serde_json::from_value::<JobRequest>(value) {
                Ok(request) => {
                    if self.inputs.send(Input::Request(request)).await.is_ok() {
                        ack(&delivery).await;
                    }
                }
                Err(err) => self.refuse(&delivery, &format!("malformed job request: {err}")).await,
            }
            return;
        }
        match serde_json::from_value::<ExternalRunRequest>(value) {
            Ok(run) => self.external(run, &delivery).await,
            Err(err) => {
                let message = format!(
                    "a run request is {{\"endpointId\", \"parameters\", \"externalId\"?, \"runSettings\"?: {{\"contextId\"?, \"workerId\"?}}}}: {err}"
                );
                self.refuse(&delivery, &message).await
            }
        }
    }

    /// A run request from a program: checked, recorded and scheduled like an HTTP one.
    async fn external(&self, run: ExternalRunRequest, delivery: &Delivery) {
        let settings = run.run_settings.unwrap_or_default();
        // A message id makes a redelivered request the same job.
        let job_id = delivery
            .properties
            .message_id()
            .as_ref()
            .map(|m| uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, m.as_str().as_bytes()).to_string());
        if let Some(id) = &job_id {
            if let Ok(Some(request)) = self.store.get_job_request(id).await {
                let _ = self.inputs.send(Input::Request(request)).await;
                self.reply(delivery, json!({ "id": id })).await;
                return ack(delivery).await;
            }
        }
        let submission = Submission {
            endpoint: run.endpoint_id,
            arguments: run.parameters,
            context: settings.context_id,
            worker_id: settings.worker_id,
            external_id: run.external_id,
            source: Source::Amqp,
            start_timeout: None,
            perform_timeout: None,
            job_id,
        };
        let prepared = match prepare(&self.store, &self.settings, submission).await {
            Ok(prepared) => prepared,
            Err(Refusal::Store(err)) => return self.retry_later(delivery, &err.to_string()).await,
            Err(refusal) => return self.refuse(delivery, &refusal.to_string()).await,
        };
        if let Err(err) = record(&self.store, &prepared).await {
            return self.retry_later(delivery, &err.to_string()).await;
        }
        let (job, request) = (prepared.details, prepared.request);
        for event in announcements(&job) {
            let _ = self.publisher.publish(&self.topology.events_exchange(), &event.routing_key(), &event).await;
        }
        if self.inputs.send(Input::Request(request)).await.is_ok() {
            self.reply(delivery, json!({ "id": job.job_id })).await;
            ack(delivery).await;
        }
    }

    /// Dead-letters a request that cannot become a job, with the reason, and answers it.
    async fn refuse(&self, delivery: &Delivery, reason: &str) {
        tracing::warn!(reason, "run request refused");
        let mut headers = FieldTable::default();
        headers.insert("x-mist-error".into(), AMQPValue::LongString(reason.into()));
        let properties = BasicProperties::default().with_headers(headers);
        let dead = self.topology.dead_letter_queue();
        // Raw bytes: the original, whatever it was, is what an operator needs to see.
        let original: serde_json::Value = serde_json::from_slice(&delivery.data)
            .unwrap_or_else(|_| serde_json::Value::String(String::from_utf8_lossy(&delivery.data).into_owned()));
        let letter = json!({ "error": reason, "request": original });
        if let Err(err) = self.publisher.publish_with("", &dead, &letter, properties).await {
            tracing::error!(error = %err, "cannot dead-letter a refused request; it stays queued");
            return self.retry_later(delivery, &err.to_string()).await;
        }
        self.reply(delivery, json!({ "error": reason })).await;
        ack(delivery).await;
    }

    async fn reply(&self, delivery: &Delivery, body: serde_json::Value) {
        let Some(reply_to) = delivery.properties.reply_to().as_ref() else { return };
        let mut properties = BasicProperties::default();
        if let Some(correlation) = delivery.properties.correlation_id() {
            properties = properties.with_correlation_id(correlation.clone());
        }
        if let Err(err) = self.publisher.publish_with("", reply_to.as_str(), &body, properties).await {
            tracing::warn!(error = %err, "cannot answer a run request");
        }
    }

    async fn retry_later(&self, delivery: &Delivery, error: &str) {
        tracing::warn!(error, "request handed back to the broker to retry");
        tokio::time::sleep(STORE_RETRY_DELAY).await;
        let _ = delivery.nack(BasicNackOptions { requeue: true, ..Default::default() }).await;
    }

    /// Consumes the dispatcher's own queue: agents' notices and job events.
    pub async fn notices(self: Arc<Self>, mut consumer: Consumer, shutdown: CancellationToken) {
        let events = self.topology.events_exchange();
        loop {
            let delivery = tokio::select! {
                _ = shutdown.cancelled() => return,
                next = consumer.next() => match next {
                    Some(Ok(delivery)) => delivery,
                    Some(Err(err)) => { tracing::error!(error = %err, "notices consumer failed"); return; }
                    None => return,
                },
            };
            let input = if delivery.exchange.as_str() == events {
                serde_json::from_slice::<JobEvent>(&delivery.data).ok().and_then(|event| match event.event {
                    EventKind::Finished | EventKind::Failed | EventKind::Canceled => Some(Input::JobEnded { job_id: event.id }),
                    EventKind::Cancelling => Some(Input::Cancelling { job_id: event.id }),
                    _ => None,
                })
            } else {
                match serde_json::from_slice::<Notice>(&delivery.data) {
                    Ok(notice) => Some(Input::Notice(notice)),
                    Err(err) => {
                        tracing::warn!(error = %err, "unreadable notice dropped");
                        None
                    }
                }
            };
            if let Some(input) = input {
                if matches!(input, Input::JobEnded { .. }) {
                    mist_common::fault::hold("dispatcher.on_job_end").await;
                }
                if self.inputs.send(input).await.is_err() {
                    return;
                }
            }
            ack(&delivery).await;
        }
    }
}

async fn ack(delivery: &Delivery) {
    if let Err(err) = delivery.ack(BasicAckOptions::default()).await {
        tracing::warn!(error = %err, "cannot ack a delivery; it will be redelivered");
    }
}
