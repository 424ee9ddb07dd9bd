//! The fault-injection tools themselves: private servers keep what they acknowledged
//! across a kill and a restart, the proxy cuts and refuses connections, and the process
//! helpers find, freeze and kill what runs under a process.

use std::process::Stdio;
use std::time::{Duration, Instant};

use lapin::options::{BasicGetOptions, BasicPublishOptions, ConfirmSelectOptions, QueueDeclareOptions};
use lapin::types::FieldTable;
use lapin::{BasicProperties, Connection, ConnectionProperties};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use mist_tests::faults::{process, PrivateRabbit, PrivateRedis, TcpProxy};
use mist_tests::wait_for;

const LIMIT: Duration = Duration::from_secs(10);

#[tokio::test(flavor = "multi_thread")]
async fn private_redis_keeps_acknowledged_writes_across_kill_and_stop() {
    let redis = PrivateRedis::start().await;
    let pid = redis.pid().expect("a running Redis has a pid");
    let mut connection = connect_redis(&redis.url()).await;
    let _: () = redis::cmd("SET").arg("before-kill").arg("kept").query_async(&mut connection).await.expect("SET");

    redis.kill();
    assert!(!redis.is_running());
    assert!(!process::is_alive(pid), "redis-server {pid} survived kill()");
    redis.restart().await;
    let mut connection = connect_redis(&redis.url()).await;
    let value: Option<String> = redis::cmd("GET").arg("before-kill").query_async(&mut connection).await.expect("GET");
    assert_eq!(value.as_deref(), Some("kept"), "the AOF was not reloaded");

    let _: () = redis::cmd("SET").arg("before-stop").arg("kept").query_async(&mut connection).await.expect("SET");
    redis.stop().await;
    assert!(!redis.is_running());
    redis.restart().await;
    let mut connection = connect_redis(&redis.url()).await;
    let values: Vec<Option<String>> =
        redis::cmd("MGET").arg("before-kill").arg("before-stop").query_async(&mut connection).await.expect("MGET");
    assert_eq!(values, [Some("kept".to_string()), Some("kept".to_string())]);

    let dir = redis.dir().to_path_buf();
    let pid = redis.pid().expect("running again");
    drop(redis);
    assert!(!process::is_alive(pid), "redis-server {pid} survived the drop");
    assert!(!dir.exists(), "{} left behind", dir.display());
}

#[tokio::test(flavor = "multi_thread")]
async fn private_rabbit_keeps_confirmed_persistent_messages_across_a_kill() {
    let timer = Instant::now();
    let rabbit = PrivateRabbit::start().await;
    eprintln!("private RabbitMQ {}: started in {:?}", rabbit.node(), timer.elapsed());
    let queue = "faults-infra-durable";
    let connection = connect_amqp(&rabbit.url()).await;
    let channel = connection.create_channel().await.expect("a channel");
    let durable = QueueDeclareOptions { durable: true, ..Default::default() };
    channel.queue_declare(queue.into(), durable, FieldTable::default()).await.expect("queue declared");

    // A definition made milliseconds before a SIGKILL was seen missing after the restart
    // (3 runs in ~35 on a loaded machine): what is under test is the message, so the
    // queue's definition is settled by a graceful stop first.
    let timer = Instant::now();
    rabbit.stop().await;
    eprintln!("private RabbitMQ {}: stopped gracefully in {:?}", rabbit.node(), timer.elapsed());
    assert!(!rabbit.is_running());
    let timer = Instant::now();
    rabbit.restart().await;
    eprintln!("private RabbitMQ {}: restarted after stop in {:?}", rabbit.node(), timer.elapsed());

    let beam = rabbit.pid().expect("a running node has a pid");
    assert!(process::command_line(beam).is_some_and(|c| c.contains("beam.smp")), "the child is the VM itself");
    let connection = connect_amqp(&rabbit.url()).await;
    let channel = connection.create_channel().await.expect("a channel");
    channel.confirm_select(ConfirmSelectOptions::default()).await.expect("confirm mode");
    let confirm = channel
        .basic_publish(
            "".into(),
            queue.into(),
            BasicPublishOptions::default(),
            b"survives",
            BasicProperties::default().with_delivery_mode(2),
        )
        .await
        .expect("published");
    assert!(confirm.await.expect("a confirm").is_ack(), "the broker nacked");

    let tree = process::descendants_of(beam);
    rabbit.kill();
    assert!(!rabbit.is_running());
    for pid in std::iter::once(beam).chain(tree) {
        assert!(!process::is_alive(pid), "process {pid} of the node survived kill()");
    }
    drop(connection);
    let timer = Instant::now();
    rabbit.restart().await;
    eprintln!("private RabbitMQ {}: restarted after kill in {:?}", rabbit.node(), timer.elapsed());

    let connection = connect_amqp(&rabbit.url()).await;
    let channel = connection.create_channel().await.expect("a channel");
    let message = channel
        .basic_get(queue.into(), BasicGetOptions { no_ack: true })
        .await
        .unwrap_or_else(|e| panic!("basic.get: {e}\n{}", rabbit.log_tail(30)))
        .expect("the persistent message is still in the durable queue");
    assert_eq!(message.delivery.data, b"survives");
    let _ = connection.close(200, "done".into()).await;

    let dir = rabbit.dir().to_path_buf();
    let beam = rabbit.pid().expect("running again");
    drop(rabbit);
    assert!(!process::is_alive(beam), "the node {beam} survived the drop");
    assert!(!dir.exists(), "{} left behind", dir.display());
}

#[tokio::test(flavor = "multi_thread")]
async fn proxy_forwards_cuts_and_refuses() {
    let echo = echo_server().await;
    let proxy = TcpProxy::start(echo.clone());

    let mut first = TcpStream::connect(proxy.address()).await.expect("connected through the proxy");
    assert_eq!(echo_once(&mut first, b"one").await, b"one");
    wait_for("one open connection", LIMIT, || async { (proxy.connections() == 1).then_some(()) }).await;

    proxy.cut();
    assert!(closed(&mut first).await, "the client still reads after cut()");
    assert_eq!(proxy.connections(), 0);
    let mut second = TcpStream::connect(proxy.address()).await.expect("new connections are accepted after a cut");
    assert_eq!(echo_once(&mut second, b"two").await, b"two");

    proxy.block();
    assert!(closed(&mut second).await, "block() left a connection open");
    let refused = TcpStream::connect(proxy.address()).await;
    assert!(refused.is_err(), "a connection was accepted while blocked");
    assert_eq!(proxy.connections(), 0);

    proxy.unblock();
    let mut third = TcpStream::connect(proxy.address()).await.expect("accepted again after unblock()");
    assert_eq!(echo_once(&mut third, b"three").await, b"three");
}

#[tokio::test(flavor = "multi_thread")]
async fn proxy_outlives_the_runtime_that_made_it() {
    let echo = echo_server().await;
    let proxy = std::thread::spawn(move || {
        let runtime = tokio::runtime::Runtime::new().expect("a runtime");
        runtime.block_on(async { TcpProxy::start(echo) })
    })
    .join()
    .expect("the proxy was made");
    let mut stream = TcpStream::connect(proxy.address()).await.expect("connected through the proxy");
    assert_eq!(echo_once(&mut stream, b"still here").await, b"still here");
    let port = proxy.port();
    drop(proxy);
    assert!(TcpStream::connect(("127.0.0.1", port)).await.is_err(), "the port stays open after drop");
}

#[tokio::test(flavor = "multi_thread")]
async fn process_helpers_find_freeze_and_kill_a_grandchild() {
    // Two commands, so the shell forks `sleep` instead of becoming it.
    let mut shell = std::process::Command::new("sh")
        .args(["-c", "sleep 30; exit 0"])
        .stdin(Stdio::null())
        // The shell reports its killed child ("Killed") on stderr.
        .stderr(Stdio::null())
        .spawn()
        .expect("sh runs");
    let sh = shell.id();
    let sleep = wait_for("sleep under sh", LIMIT, || async { process::find_descendant(sh, "sleep 30") }).await;
    assert_eq!(process::children_of(sh), [sleep]);
    assert!(process::descendants_of(std::process::id()).contains(&sleep));

    process::sigstop(sleep).expect("SIGSTOP");
    wait_for("sleep stopped", LIMIT, || async { process::is_stopped(sleep).then_some(()) }).await;
    process::sigcont(sleep).expect("SIGCONT");
    wait_for("sleep running again", LIMIT, || async { (!process::is_stopped(sleep)).then_some(()) }).await;

    process::sigkill(sleep).expect("SIGKILL");
    assert!(process::wait_gone(sleep, LIMIT).await, "sleep survived SIGKILL");
    let deadline = Instant::now() + LIMIT;
    let status = loop {
        if let Some(status) = shell.try_wait().expect("sh can be waited for") {
            break status;
        }
        assert!(Instant::now() < deadline, "sh did not exit after its child was killed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(status.success(), "sh went on after its child was killed: {status}");
    assert_eq!(process::sigterm(sleep), Err(process::Errno::ESRCH));
}

async fn connect_redis(url: &str) -> redis::aio::MultiplexedConnection {
    let client = redis::Client::open(url).expect("a Redis URL");
    client.get_multiplexed_async_connection().await.expect("connected to the private Redis")
}

async fn connect_amqp(url: &str) -> Connection {
    Connection::connect(url, ConnectionProperties::default()).await.expect("connected to the private RabbitMQ")
}

/// An echo server on a free port, for the life of the test's runtime; its `host:port`.
async fn echo_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("a free port");
    let address = listener.local_addr().expect("bound").to_string();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let (mut reader, mut writer) = stream.split();
                let _ = tokio::io::copy(&mut reader, &mut writer).await;
            });
        }
    });
    address
}

async fn echo_once(stream: &mut TcpStream, message: &[u8]) -> Vec<u8> {
    stream.write_all(message).await.expect("written");
    let mut answer = vec![0; message.len()];
    tokio::time::timeout(LIMIT, stream.read_exact(&mut answer)).await.expect("an answer in time").expect("echoed");
    answer
}

/// The peer closed or reset the connection: a read ends with EOF or an error.
async fn closed(stream: &mut TcpStream) -> bool {
    let mut buffer = [0; 16];
    matches!(tokio::time::timeout(LIMIT, stream.read(&mut buffer)).await, Ok(Ok(0) | Err(_)))
}
