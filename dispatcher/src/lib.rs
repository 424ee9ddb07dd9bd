//! The dispatcher: consumes job requests and agents' notices, keeps the model of agents,
//! workers and jobs, and decides where each job runs (`scheduler`). One control loop owns
//! the model; consumers feed it inputs, and `effects` carries out what it decides.

pub mod effects;
pub mod intake;
pub mod model;
pub mod rebuild;
pub mod scheduler;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use lapin::options::{BasicConsumeOptions, BasicQosOptions};
use lapin::types::FieldTable;
use mist_common::amqp::declare::declare_shared;
use mist_common::amqp::publish::Publisher;
use mist_common::amqp::topology::Topology;
use mist_common::config::Settings;
use mist_common::model::job::JobStatus;
use mist_common::store::Store;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::effects::Effects;
use crate::intake::Intake;
use crate::model::Model;
use crate::scheduler::{handle, Input};

/// Inputs waiting for the control loop; consumers wait when it is full.
const INPUT_BUFFER: usize = 4096;
/// How often, and after how long, queued jobs unknown to the dispatcher are adopted.
const ADOPTION_PERIOD: Duration = Duration::from_secs(30);
/// How often the history is trimmed, and how many jobs one step deletes.
const RETENTION_PERIOD: Duration = Duration::from_secs(60);
const RETENTION_BATCH: usize = 1000;

/// Runs until `shutdown` trips.
pub async fn run(settings: Settings, shutdown: CancellationToken) -> anyhow::Result<()> {
    let settings = Arc::new(settings);
    let store = Store::new(&settings.redis, &settings.namespace)?;
    store.ping().await.context("Redis (redis.url)")?;
    let connection = mist_common::amqp::connect(&settings.amqp.url, "mist-dispatcher").await.context("RabbitMQ (amqp.url)")?;
    let topology = Topology::new(&settings.namespace);
    let setup = connection.create_channel().await?;
    declare_shared(&setup, &topology, settings.amqp.expire_unused.as_std()).await?;
    let publisher = Publisher::new(connection.create_channel().await?).await?;

    let instance = uuid::Uuid::new_v4().simple().to_string()[..6].to_string();
    let mut model = Model::new(&instance);
    let waiting = rebuild::rebuild(&store, settings.default_context(), &mut model).await.context("rebuilding the model from Redis")?;
    tracing::info!(
        agents = model.agents.len(),
        workers = model.workers.len(),
        waiting = waiting.len(),
        "dispatcher model rebuilt from Redis"
    );

    let (inputs, mut received) = mpsc::channel(INPUT_BUFFER);
    let intake = Arc::new(Intake {
        store: store.clone(),
        settings: settings.clone(),
        publisher: publisher.clone(),
        topology: topology.clone(),
        inputs: inputs.clone(),
    });
    let tasks = TaskTracker::new();
    let requests_channel = connection.create_channel().await?;
    requests_channel.basic_qos(settings.dispatcher.prefetch, BasicQosOptions::default()).await?;
    let requests = requests_channel
        .basic_consume(topology.requests_queue().into(), "mist-dispatcher".into(), BasicConsumeOptions::default(), FieldTable::default())
        .await?;
    let notices_channel = connection.create_channel().await?;
    notices_channel.basic_qos(settings.dispatcher.prefetch, BasicQosOptions::default()).await?;
    let notices = notices_channel
        .basic_consume(topology.dispatcher_queue().into(), "mist-dispatcher".into(), BasicConsumeOptions::default(), FieldTable::default())
        .await?;
    tasks.spawn(intake.clone().requests(requests, shutdown.clone()));
    tasks.spawn(intake.notices(notices, shutdown.clone()));
    let tick = settings.dispatcher.tick.as_std().unwrap_or(Duration::from_secs(1));
    tasks.spawn(ticker(inputs.clone(), tick, shutdown.clone()));
    tasks.spawn(watch_agents(store.clone(), settings.clone(), inputs.clone(), shutdown.clone()));
    tasks.spawn(retention(store.clone(), settings.clone(), shutdown.clone()));
    tracing::info!(namespace = %settings.namespace, "dispatcher consuming job requests");

    let effects = Effects { store: store.clone(), publisher, topology };
    for input in waiting {
        for action in handle(&mut model, input, Instant::now()) {
            effects.perform(action).await;
        }
    }
    let mut adoption = tokio::time::interval(ADOPTION_PERIOD);
    adoption.tick().await;
    loop {
        let input = tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = adoption.tick() => {
                let known = model.jobs.keys().cloned().collect();
                tasks.spawn(adopt_orphans(store.clone(), known, inputs.clone()));
                continue;
            }
            input = received.recv() => match input { Some(input) => input, None => break },
        };
        for action in handle(&mut model, input, Instant::now()) {
            effects.perform(action).await;
        }
    }
    tasks.close();
    tasks.wait().await;
    connection.close(200, "shutdown".into()).await.ok();
    Ok(())
}

/// Queued jobs in Redis that the dispatcher never heard of — their request was lost
/// between the record and the broker (an API killed at that moment) — are scheduled from
/// the request stored in their record. A job seen twice is harmless: the scheduler knows
/// it by id, and an agent refuses to start a job that is not queued any more.
async fn adopt_orphans(store: Store, known: HashSet<String>, inputs: mpsc::Sender<Input>) {
    let cutoff = mist_common::time::now_millis() - ADOPTION_PERIOD.as_millis() as i64;
    let ids = match store.job_ids_in_status_before(JobStatus::Queued, cutoff).await {
        Ok(ids) => ids,
        Err(err) => return tracing::warn!(error = %err, "cannot look for orphaned jobs"),
    };
    for id in ids.into_iter().filter(|id| !known.contains(id)) {
        if let Ok(Some(request)) = store.get_job_request(&id).await {
            tracing::warn!(job.id = %id, "adopting a queued job whose request never arrived");
            if inputs.send(Input::Request(request)).await.is_err() {
                return;
            }
        }
    }
}

/// Trims the job history to `jobs.retention_max_age` and `jobs.retention_max_count`.
async fn retention(store: Store, settings: Arc<Settings>, shutdown: CancellationToken) {
    let mut interval = tokio::time::interval(RETENTION_PERIOD);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = interval.tick() => {}
        }
        let max_age = settings.jobs.retention_max_age.as_std();
        loop {
            let older_than = max_age.map(|age| mist_common::time::now_millis() - age.as_millis() as i64);
            match store.trim_history(older_than, settings.jobs.retention_max_count, RETENTION_BATCH).await {
                Ok(deleted) if deleted > 0 => {
                    tracing::info!(deleted, "old jobs removed from history");
                    if (deleted as usize) < RETENTION_BATCH || shutdown.is_cancelled() {
                        break;
                    }
                }
                Ok(_) => break,
                Err(err) => {
                    tracing::warn!(error = %err, "cannot trim the job history");
                    break;
                }
            }
        }
    }
}

/// Declares agents lost once their heartbeat is older than `dispatcher.agent_timeout`.
async fn watch_agents(store: Store, settings: Arc<Settings>, inputs: mpsc::Sender<Input>, shutdown: CancellationToken) {
    let timeout = settings.dispatcher.agent_timeout.as_std().unwrap_or(Duration::from_secs(10));
    let mut interval = tokio::time::interval(settings.dispatcher.tick.as_std().unwrap_or(Duration::from_secs(1)));
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = interval.tick() => {}
        }
        let cutoff = mist_common::time::now_millis() - timeout.as_millis() as i64;
        match store.agents_silent_since(cutoff).await {
            Ok(lost) => {
                for agent_id in lost {
                    if inputs.send(Input::AgentLost { agent_id }).await.is_err() {
                        return;
                    }
                }
            }
            Err(err) => tracing::warn!(error = %err, "cannot read agents' heartbeats"),
        }
    }
}

async fn ticker(inputs: mpsc::Sender<Input>, every: Duration, shutdown: CancellationToken) {
    let mut interval = tokio::time::interval(every);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = interval.tick() => if inputs.send(Input::Tick).await.is_err() { return },
        }
    }
}
