use lapin::options::{BasicPublishOptions, ConfirmSelectOptions, QueueDeclareOptions};
use lapin::types::FieldTable;
use lapin::{BasicProperties, Connection, ConnectionProperties};
use mist_tests::faults::PrivateRabbit;

#[tokio::test(flavor = "multi_thread")]
async fn scratch() {
    let rabbit = PrivateRabbit::start().await;
    let mut lost = Vec::new();
    for i in 0..8 {
        let connection = Connection::connect(&rabbit.url(), ConnectionProperties::default()).await.expect("c");
        let channel = connection.create_channel().await.expect("ch");
        channel.confirm_select(ConfirmSelectOptions::default()).await.expect("confirm");
        let q = format!("q{i}");
        channel.queue_declare(q.as_str().into(), QueueDeclareOptions { durable: true, ..Default::default() }, FieldTable::default()).await.expect("decl");
        let c = channel.basic_publish("".into(), q.as_str().into(), BasicPublishOptions::default(), b"x", BasicProperties::default().with_delivery_mode(2)).await.expect("pub");
        assert!(c.await.expect("conf").is_ack());
        rabbit.kill();
        drop(connection);
        rabbit.restart().await;
        let connection = Connection::connect(&rabbit.url(), ConnectionProperties::default()).await.expect("c");
        let channel = connection.create_channel().await.expect("ch");
        let passive = channel.queue_declare(q.as_str().into(), QueueDeclareOptions { passive: true, ..Default::default() }, FieldTable::default()).await;
        match passive {
            Ok(queue) => eprintln!("iteration {i}: {} messages", queue.message_count()),
            Err(e) => { eprintln!("iteration {i}: LOST {e}"); lost.push(i); }
        }
    }
    eprintln!("LOST {lost:?}");
}
