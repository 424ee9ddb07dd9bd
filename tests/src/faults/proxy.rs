//! A TCP proxy between a client under test and a server, that cuts the connections or
//! refuses new ones on demand: a network failure without touching the server.
//!
//! It runs on its own thread and runtime, so it keeps forwarding whatever runtime made it
//! (or none), however the test's runtime is busy, and after that runtime is gone. Its
//! controls are plain blocking calls that return once the change is in effect.

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc as std_mpsc, Arc};
use std::thread::JoinHandle;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// How long a control call waits for the proxy's thread; it answers in milliseconds unless
/// the machine is badly overloaded.
const CONTROL_LIMIT: Duration = Duration::from_secs(30);

enum Control {
    Cut(std_mpsc::Sender<()>),
    Block(std_mpsc::Sender<()>),
    Unblock(std_mpsc::Sender<io::Result<()>>),
    Stop,
}

pub struct TcpProxy {
    port: u16,
    controls: mpsc::UnboundedSender<Control>,
    open: Arc<AtomicUsize>,
    thread: Option<JoinHandle<()>>,
}

impl TcpProxy {
    /// Listens on a free port of 127.0.0.1 and forwards each connection to `target`
    /// (`host:port`), connecting to it when the client connects.
    pub fn start(target: impl Into<String>) -> TcpProxy {
        let target = target.into();
        let listener = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("a free port for the proxy");
        let port = listener.local_addr().expect("a bound listener has an address").port();
        listener.set_nonblocking(true).expect("a non-blocking listener");
        let (controls, commands) = mpsc::unbounded_channel();
        let open = Arc::new(AtomicUsize::new(0));
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime for the proxy");
        let state = Proxy { port, target, open: open.clone(), generation: CancellationToken::new(), tasks: TaskTracker::new() };
        let thread = std::thread::Builder::new()
            .name(format!("tcp-proxy-{port}"))
            .spawn(move || runtime.block_on(state.run(listener, commands)))
            .expect("a thread for the proxy");
        TcpProxy { port, controls, open, thread: Some(thread) }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `127.0.0.1:<port>`
    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Proxied connections now open.
    pub fn connections(&self) -> usize {
        self.open.load(Ordering::SeqCst)
    }

    /// Resets every open connection, both sides (the client reads an error or EOF); new
    /// connections are still accepted.
    pub fn cut(&self) {
        self.ask(Control::Cut);
    }

    /// Cuts every open connection and refuses new ones (the port is closed) until
    /// `unblock`.
    pub fn block(&self) {
        self.ask(Control::Block);
    }

    /// Accepts connections again, on the same port. Panics if the port was taken meanwhile.
    pub fn unblock(&self) {
        if let Err(err) = self.ask(Control::Unblock) {
            panic!("the proxy cannot listen on port {} again: {err}", self.port);
        }
    }

    fn ask<T>(&self, control: impl FnOnce(std_mpsc::Sender<T>) -> Control) -> T {
        let (reply, answer) = std_mpsc::channel();
        self.controls.send(control(reply)).expect("the proxy thread is running");
        answer.recv_timeout(CONTROL_LIMIT).expect("the proxy thread answers")
    }
}

impl Drop for TcpProxy {
    /// Closes every connection and the port, and ends the thread.
    fn drop(&mut self) {
        let _ = self.controls.send(Control::Stop);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The proxy's side, owned by its thread.
struct Proxy {
    port: u16,
    target: String,
    open: Arc<AtomicUsize>,
    /// Cancelled to cut the connections accepted since the last cut.
    generation: CancellationToken,
    tasks: TaskTracker,
}

impl Proxy {
    async fn run(mut self, listener: std::net::TcpListener, mut commands: mpsc::UnboundedReceiver<Control>) {
        let mut listener = Some(TcpListener::from_std(listener).expect("a listener on the proxy's runtime"));
        loop {
            tokio::select! {
                command = commands.recv() => match command {
                    Some(Control::Cut(done)) => {
                        self.cut_all().await;
                        let _ = done.send(());
                    }
                    Some(Control::Block(done)) => {
                        // Closing the listener also resets connections not yet accepted.
                        listener = None;
                        self.cut_all().await;
                        let _ = done.send(());
                    }
                    Some(Control::Unblock(done)) => {
                        let result = match listener {
                            Some(_) => Ok(()),
                            None => bind(self.port).map(|l| listener = Some(l)),
                        };
                        let _ = done.send(result);
                    }
                    Some(Control::Stop) | None => {
                        drop(listener);
                        self.cut_all().await;
                        return;
                    }
                },
                accepted = accept(listener.as_ref()) => {
                    if let Ok((client, _)) = accepted {
                        self.open.fetch_add(1, Ordering::SeqCst);
                        let open = OpenGuard(self.open.clone());
                        self.tasks.spawn(forward(client, self.target.clone(), self.generation.clone(), open));
                    }
                }
            }
        }
    }

    /// Cancels the current connections and waits until they are closed.
    async fn cut_all(&mut self) {
        let generation = std::mem::take(&mut self.generation);
        let tasks = std::mem::take(&mut self.tasks);
        generation.cancel();
        tasks.close();
        tasks.wait().await;
    }
}

async fn accept(listener: Option<&TcpListener>) -> io::Result<(TcpStream, SocketAddr)> {
    match listener {
        Some(listener) => listener.accept().await,
        None => std::future::pending().await,
    }
}

/// Binds the port again (`SO_REUSEADDR` is set, so connections of before in `TIME_WAIT`
/// do not stand in the way).
fn bind(port: u16) -> io::Result<TcpListener> {
    let listener = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, port))?;
    listener.set_nonblocking(true)?;
    TcpListener::from_std(listener)
}

/// Copies both ways until either side closes or the connection is cut. A target that
/// does not answer closes the client's connection.
async fn forward(mut client: TcpStream, target: String, cut: CancellationToken, _open: OpenGuard) {
    let upstream = tokio::select! {
        _ = cut.cancelled() => None,
        connected = TcpStream::connect(&target) => connected.ok(),
    };
    let Some(mut upstream) = upstream else {
        let _ = client.set_zero_linger();
        return;
    };
    let _ = client.set_nodelay(true);
    let _ = upstream.set_nodelay(true);
    tokio::select! {
        _ = cut.cancelled() => {
            // A reset rather than an orderly close: both ends learn at once, as when a
            // network path breaks and a middlebox resets the connection.
            let _ = client.set_zero_linger();
            let _ = upstream.set_zero_linger();
        }
        _ = tokio::io::copy_bidirectional(&mut client, &mut upstream) => {}
    }
}

/// Counts a connection as open until its task ends.
struct OpenGuard(Arc<AtomicUsize>);

impl Drop for OpenGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}
