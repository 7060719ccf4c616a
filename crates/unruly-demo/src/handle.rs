//! [`DemoHandle`]: the demo service on its own thread and runtime.

use std::io;
use std::net::SocketAddr;

use crate::background::Background;
use crate::dependency::DependencyStub;
use crate::{DemoOptions, Variant};

/// A running demo service on `127.0.0.1:<random port>`, with its own OS thread and its own
/// multi-threaded tokio runtime (2 workers). It stops on [`DemoHandle::stop`] or when dropped.
///
/// Unless [`DemoOptions::shipping`] names one, it also runs its own
/// [`DependencyStub`] (stopped with it) and calls it for `GET /products/{id}/shipping`.
#[derive(Debug)]
pub struct DemoHandle {
    variant: Variant,
    shipping: SocketAddr,
    // Declared before the stub so that the shop stops first.
    server: Background,
    stub: Option<DependencyStub>,
}

impl DemoHandle {
    /// Binds `127.0.0.1:0` and starts serving `variant`, with a shipping dependency of its
    /// own. Connections are accepted as soon as this returns.
    ///
    /// # Errors
    ///
    /// When the socket cannot be bound, or the runtime or thread cannot be created.
    pub fn start(variant: Variant) -> io::Result<DemoHandle> {
        DemoHandle::start_with(variant, DemoOptions::default())
    }

    /// As [`DemoHandle::start`], wired as `options` say: with
    /// `DemoOptions { shipping: Some(addr) }` the shop calls the shipping dependency at
    /// `addr` (e.g. a fault proxy) and starts no stub of its own.
    ///
    /// # Errors
    ///
    /// When a socket cannot be bound, or a runtime or thread cannot be created.
    pub fn start_with(variant: Variant, options: DemoOptions) -> io::Result<DemoHandle> {
        let (shipping, stub) = match options.shipping {
            Some(addr) => (addr, None),
            None => {
                let stub = DependencyStub::start()?;
                (stub.addr(), Some(stub))
            }
        };
        let wired = DemoOptions {
            shipping: Some(shipping),
            ..options
        };
        let server = Background::start(
            format!("unruly-demo-{variant}"),
            2,
            move |listener, stop| async move {
                let shutdown = async {
                    // A dropped sender means the handle is gone: stop as well.
                    let _ = stop.await;
                };
                // `serve_with` only returns errors it cannot recover from; there is no one
                // left to tell but the handle, which learns of it as a closed port.
                let _ = crate::serve_with(listener, variant, wired, shutdown).await;
            },
        )?;
        Ok(DemoHandle {
            variant,
            shipping,
            server,
            stub,
        })
    }

    /// The bound address (always `127.0.0.1`).
    pub fn addr(&self) -> SocketAddr {
        self.server.addr()
    }

    /// The base URL, `http://127.0.0.1:PORT` (no trailing slash, so paths of the OpenAPI
    /// document can be appended as they are).
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr())
    }

    /// Which variant is running.
    pub fn variant(&self) -> Variant {
        self.variant
    }

    /// Where the shop calls its shipping dependency: its own stub's address, or the one
    /// given in [`DemoOptions::shipping`].
    pub fn shipping_addr(&self) -> SocketAddr {
        self.shipping
    }

    /// Stops the service (then its own dependency stub, if it has one) and waits for their
    /// threads to end (at most about two seconds each).
    pub fn stop(mut self) {
        self.server.stop();
        if let Some(stub) = self.stub.take() {
            stub.stop();
        }
    }
}
