//! Threads that live inside a network namespace. A socket belongs to the namespace of the thread
//! that creates it, so every server, relay and client socket of a lab host is made on that host's
//! own thread, which runs a single-threaded tokio runtime.

use std::io;
use std::os::fd::AsRawFd;
use std::sync::mpsc;

/// Moves the calling thread into the named namespace (`/run/netns/NAME`).
pub fn enter(name: &str) -> io::Result<()> {
    let f = std::fs::File::open(format!("/run/netns/{name}"))?;
    // SAFETY: setns with a valid descriptor only changes this thread's network namespace.
    if unsafe { libc::setns(f.as_raw_fd(), libc::CLONE_NEWNET) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// A tokio runtime whose one thread sits inside a network namespace.
pub struct NsRuntime {
    handle: tokio::runtime::Handle,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl NsRuntime {
    pub fn start(netns: &str) -> io::Result<NsRuntime> {
        let (tx, rx) = mpsc::channel();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let name = netns.to_string();
        let thread = std::thread::Builder::new()
            .name(format!("ns-{netns}"))
            .spawn(move || {
                let rt = enter(&name).and_then(|_| {
                    tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                });
                match rt {
                    Ok(rt) => {
                        let _ = tx.send(Ok(rt.handle().clone()));
                        rt.block_on(async {
                            let _ = stop_rx.await;
                        });
                        rt.shutdown_timeout(std::time::Duration::from_millis(200));
                    }
                    Err(e) => {
                        let _ = tx.send(Err(e));
                    }
                }
            })?;
        let handle = rx.recv().map_err(io::Error::other)??;
        Ok(NsRuntime {
            handle,
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }

    /// Runs a future on the namespace's thread.
    pub fn spawn<F>(&self, fut: F)
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        self.handle.spawn(fut);
    }

    /// Runs a future on the namespace's thread and waits for its result.
    pub fn run<F, R>(&self, fut: F) -> R
    where
        F: std::future::Future<Output = R> + Send + 'static,
        R: Send + 'static,
    {
        let (tx, rx) = mpsc::channel();
        self.handle.spawn(async move {
            let _ = tx.send(fut.await);
        });
        rx.recv().expect("namespace runtime stopped")
    }
}

impl Drop for NsRuntime {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
