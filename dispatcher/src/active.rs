//! One active period of the dispatcher: connect, rebuild the model from Redis, then run the
//! control loop until `active` is cancelled (shutdown or lease lost: `Ok`) or RabbitMQ
//! goes away (`Err`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use lapin::options::{BasicConsumeOptions, BasicQosOptions};
use lapin::types::FieldTable;
use mist_common::amqp::declare::declare_shared;
use mist_common::amqp::publish::Publisher;
use mist_common::amqp::topology::Topology;
use mist_common::config::Settings;
use mist_common::store::Store;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::effects::Effects;
use crate::intake::Intake;
use crate::lease::Lease;
use crate::model::Model;
use crate::reconcile::{reconcile, Snapshot};
use crate::scheduler::{handle, Input};

/// Inputs waiting for the control loop; consumers wait when it is full.
const INPUT_BUFFER: usize = 4096;
/// How often the history is trimmed, and how many jobs one step deletes.
const RETENTION_PERIOD: Duration = Duration::from_secs(60);
const RETENTION_BATCH: usize = 1000;

pub async fn run(settings: &Arc<Settings>, store: &Store, lease: &Lease, instance: &str, active: &CancellationToken) -> anyhow::Result<()> {
    store.ping().await.context("Redis (redis.url)")?;
    let connection = mist_common::amqp::connect(&settings.amqp.url, "mist-dispatcher").await.context("RabbitMQ (amqp.url)")?;
    let topology = Topology::new(&settings.namespace);
    let setup = connection.create_channel().await?;
    declare_shared(&setup, &topology, settings.amqp.expire_unused.as_std()).await?;
    let publisher = Publisher::open(&connection).await?;

    let mut model = Model::new(instance);
    let waiting = crate::rebuild::rebuild(store, settings.default_context(), &mut model).await.context("rebuilding the model from Redis")?;
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
    // Cancelled by a consumer whose stream ended: the connection is gone.
    let lost = active.child_token();
    let tasks = TaskTracker::new();
    for (queue, consume_requests) in [(topology.requests_queue(), true), (topology.dispatcher_queue(), false)] {
        let channel = connection.create_channel().await?;
        channel.basic_qos(settings.dispatcher.prefetch, BasicQosOptions::default()).await?;
        let consumer = channel
            .basic_consume(queue.into(), "mist-dispatcher".into(), BasicConsumeOptions::default(), FieldTable::default())
            .await?;
        let (intake, lost) = (intake.clone(), lost.clone());
        tasks.spawn(async move {
            if consume_requests {
                intake.requests(consumer, lost.clone()).await;
            } else {
                intake.notices(consumer, lost.clone()).await;
            }
            lost.cancel();
        });
    }
    let tick = settings.dispatcher.tick.as_std().unwrap_or(Duration::from_secs(1));
    tasks.spawn(ticker(inputs.clone(), tick, lost.clone()));
    tasks.spawn(watch_agents(store.clone(), settings.clone(), inputs.clone(), lost.clone()));
    tasks.spawn(retention(store.clone(), settings.clone(), lost.clone()));
    tracing::info!(namespace = %settings.namespace, "dispatcher consuming job requests");

    let effects = Effects { store: store.clone(), publisher, topology, inputs: inputs.clone() };
    for input in waiting {
        for action in handle(&mut model, input, Instant::now()) {
            effects.perform(action).await;
        }
    }
    let reconcile_interval = settings.dispatcher.reconcile_interval.as_std().unwrap_or(Duration::from_secs(10));
    let settle = settings.dispatcher.settle.as_std().unwrap_or(Duration::from_secs(30));
    let mut reconciling = tokio::time::interval(reconcile_interval);
    reconciling.tick().await;
    loop {
        let input = tokio::select! {
            _ = lost.cancelled() => break,
            _ = reconciling.tick() => {
                tasks.spawn(reconcile(store.clone(), Snapshot::of(&model, settle), inputs.clone()));
                continue;
            }
            input = received.recv() => match input { Some(input) => input, None => break },
        };
        if !lease.is_held() {
            tracing::warn!("the lease may have passed to another dispatcher; acting no more");
            active.cancel();
            break;
        }
        for action in handle(&mut model, input, Instant::now()) {
            effects.perform(action).await;
        }
    }
    lost.cancel();
    tasks.close();
    tasks.wait().await;
    connection.close(200, "stopping".into()).await.ok();
    if active.is_cancelled() {
        Ok(())
    } else {
        anyhow::bail!("the connection to RabbitMQ was lost")
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
