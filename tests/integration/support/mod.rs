//! Loopback fakes of Instagram and the Telegram Bot API, and helpers shared by the integration tests.

pub mod botkit;
pub mod chrome;
pub mod daemon;
pub mod fake_bot;
pub mod fake_instagram;
pub mod grid;
pub mod test_proxy;

/// Plumbing shared by the fakes: an axum server on its own thread and runtime, whose
/// connections a handler can reset (RST, no response) on demand.
pub mod loopback {
    use std::io;
    use std::net::SocketAddr;
    use std::pin::Pin;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::task::{Context, Poll};
    use std::thread::JoinHandle;
    use std::time::Duration;

    use axum::Router;
    use axum::extract::DefaultBodyLimit;
    use axum::extract::connect_info::Connected;
    use axum::serve::{IncomingStream, Listener};
    use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
    use tokio::net::{TcpListener, TcpStream};
    use tokio::sync::oneshot;

    /// Handle on the connection that carries the current request (an axum `ConnectInfo`).
    #[derive(Clone, Debug)]
    pub struct Conn {
        kill: Arc<AtomicBool>,
    }

    impl Conn {
        /// Makes the connection fail at its next read or write: the socket is closed with
        /// `SO_LINGER=0`, so the peer sees a TCP RST instead of an HTTP response.
        pub fn reset(&self) {
            self.kill.store(true, Ordering::SeqCst);
        }
    }

    impl Connected<IncomingStream<'_, ResettableListener>> for Conn {
        fn connect_info(stream: IncomingStream<'_, ResettableListener>) -> Self {
            Conn {
                kill: stream.io().kill.clone(),
            }
        }
    }

    /// A TCP listener whose streams can be killed by the handler through [`Conn`].
    pub struct ResettableListener(TcpListener);

    impl Listener for ResettableListener {
        type Io = ResettableStream;
        type Addr = SocketAddr;

        async fn accept(&mut self) -> (Self::Io, Self::Addr) {
            loop {
                match self.0.accept().await {
                    Ok((stream, addr)) => {
                        let _ = stream.set_nodelay(true);
                        let io = ResettableStream {
                            inner: stream,
                            kill: Arc::new(AtomicBool::new(false)),
                        };
                        return (io, addr);
                    }
                    Err(_) => tokio::time::sleep(Duration::from_millis(5)).await,
                }
            }
        }

        fn local_addr(&self) -> io::Result<Self::Addr> {
            self.0.local_addr()
        }
    }

    /// A TCP stream that turns into a connection reset once its [`Conn`] was reset.
    pub struct ResettableStream {
        inner: TcpStream,
        kill: Arc<AtomicBool>,
    }

    impl ResettableStream {
        fn killed(&self) -> Option<io::Error> {
            if self.kill.load(Ordering::SeqCst) {
                // Dropping a zero-linger socket sends RST; hyper drops it after this error.
                let _ = self.inner.set_zero_linger();
                Some(io::Error::new(io::ErrorKind::ConnectionReset, "fake reset"))
            } else {
                None
            }
        }
    }

    impl AsyncRead for ResettableStream {
        fn poll_read(
            self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &mut ReadBuf<'_>,
        ) -> Poll<io::Result<()>> {
            let this = self.get_mut();
            if let Some(e) = this.killed() {
                return Poll::Ready(Err(e));
            }
            Pin::new(&mut this.inner).poll_read(cx, buf)
        }
    }

    impl AsyncWrite for ResettableStream {
        fn poll_write(
            self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<io::Result<usize>> {
            let this = self.get_mut();
            if let Some(e) = this.killed() {
                return Poll::Ready(Err(e));
            }
            Pin::new(&mut this.inner).poll_write(cx, buf)
        }

        fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            let this = self.get_mut();
            if let Some(e) = this.killed() {
                return Poll::Ready(Err(e));
            }
            Pin::new(&mut this.inner).poll_flush(cx)
        }

        fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            let this = self.get_mut();
            if let Some(e) = this.killed() {
                return Poll::Ready(Err(e));
            }
            Pin::new(&mut this.inner).poll_shutdown(cx)
        }
    }

    /// An axum server on `127.0.0.1:0`, run by its own thread and tokio runtime; stops on drop
    /// (pending requests, hanging ones included, are dropped with their connections).
    pub struct Server {
        addr: SocketAddr,
        shutdown: Option<oneshot::Sender<()>>,
        thread: Option<JoinHandle<()>>,
    }

    impl Server {
        /// Binds the port, builds the router (given the base URL) and serves it in the background.
        pub fn start(make_router: impl FnOnce(String) -> Router) -> Server {
            let std_listener =
                std::net::TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
            std_listener
                .set_nonblocking(true)
                .expect("non-blocking listener");
            let addr = std_listener.local_addr().expect("local address");
            let base = format!("http://{addr}");
            let app = make_router(base)
                .layer(DefaultBodyLimit::max(64 * 1024 * 1024))
                .into_make_service_with_connect_info::<Conn>();
            let (tx, rx) = oneshot::channel::<()>();
            let thread = std::thread::Builder::new()
                .name(format!("fake-{}", addr.port()))
                .spawn(move || {
                    let rt = tokio::runtime::Builder::new_multi_thread()
                        .worker_threads(2)
                        .enable_all()
                        .build()
                        .expect("fake server runtime");
                    rt.block_on(async move {
                        let listener = ResettableListener(
                            TcpListener::from_std(std_listener).expect("tokio listener"),
                        );
                        tokio::select! {
                            _ = axum::serve(listener, app) => {}
                            _ = rx => {}
                        }
                    });
                    rt.shutdown_timeout(Duration::from_millis(200));
                })
                .expect("spawn the fake server thread");
            Server {
                addr,
                shutdown: Some(tx),
                thread: Some(thread),
            }
        }

        /// `http://127.0.0.1:PORT`, no trailing slash.
        pub fn url(&self) -> String {
            format!("http://{}", self.addr)
        }
    }

    impl Drop for Server {
        fn drop(&mut self) {
            if let Some(tx) = self.shutdown.take() {
                let _ = tx.send(());
            }
            if let Some(thread) = self.thread.take() {
                let _ = thread.join();
            }
        }
    }
}
