//! The proxies: each a listener on its own address, dialing its upstream for every client,
//! with its toxics and HTTP faults. Toxiproxy calls this the proxy collection.

use crate::error::ApiError;
use crate::faults::{Dice, Faults, Placed, SharedFaults};
use crate::http_fault::HttpFault;
use crate::link::{self, LinkContext};
use crate::toxic::Toxic;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::runtime::Handle;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

/// What a proxy is asked to be: Toxiproxy's `name`, `listen`, `upstream` and `enabled`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxySpec {
    /// Its name, unique among the proxies.
    pub name: String,
    /// Where it listens, `host:port` (port 0: any free port; empty: `127.0.0.1:0`).
    pub listen: String,
    /// Where it sends its clients, `host:port`.
    pub upstream: String,
    /// False: the proxy is down (not listening, its connections closed).
    pub enabled: bool,
}

/// A proxy as it is now.
#[derive(Debug, Clone, PartialEq)]
pub struct ProxyInfo {
    /// Its name.
    pub name: String,
    /// The address it listens on (the one it bound, once enabled).
    pub listen: String,
    /// Its upstream.
    pub upstream: String,
    /// Whether it is up.
    pub enabled: bool,
    /// Its toxics, in the order they were added.
    pub toxics: Vec<Toxic>,
    /// Its HTTP faults, in the order they were added.
    pub http_faults: Vec<HttpFault>,
}

impl ProxyInfo {
    /// The proxy as Toxiproxy shows it (`name`, `listen`, `upstream`, `enabled`, `toxics`),
    /// with `http_faults` when it has any.
    pub fn to_json(&self) -> Value {
        let mut object = json!({
            "name": self.name,
            "listen": self.listen,
            "upstream": self.upstream,
            "enabled": self.enabled,
            "toxics": self.toxics.iter().map(Toxic::to_json).collect::<Vec<_>>(),
        });
        if !self.http_faults.is_empty() {
            object["http_faults"] = self.http_faults.iter().map(HttpFault::to_json).collect();
        }
        object
    }

    /// The bound listen address, when it parses as one.
    pub fn listen_addr(&self) -> Option<SocketAddr> {
        self.listen.parse().ok()
    }
}

/// The set of proxies, shared by the control API and by unruly's own experiments. Cheap to
/// clone. Every proxy runs on the tokio runtime given to [`Proxies::new`].
#[derive(Clone)]
pub struct Proxies {
    shared: Arc<Shared>,
}

struct Shared {
    runtime: Handle,
    seed: u64,
    proxies: Mutex<BTreeMap<String, Entry>>,
}

struct Entry {
    requested_listen: String,
    listen: String,
    upstream: String,
    enabled: bool,
    faults: watch::Sender<SharedFaults>,
    next_uid: u64,
    connections: Arc<AtomicU64>,
    running: Option<Running>,
}

/// A proxy that is listening: its stop signal and a second handle on its listening socket,
/// shut down on stop so that the port is free at once.
struct Running {
    stop: CancellationToken,
    socket: socket2::Socket,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop.cancel();
        let _ = self.socket.shutdown(std::net::Shutdown::Both);
    }
}

impl Proxies {
    /// No proxies yet. `seed` seeds every decision of every connection (toxicity, jitter,
    /// slice sizes, HTTP fault percentages), so that a run can be repeated.
    pub fn new(runtime: Handle, seed: u64) -> Proxies {
        Proxies {
            shared: Arc::new(Shared {
                runtime,
                seed,
                proxies: Mutex::new(BTreeMap::new()),
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, BTreeMap<String, Entry>> {
        self.shared
            .proxies
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Creates a proxy and starts it if enabled: 409 if the name is taken, 400 for a
    /// missing name or upstream, 500 if the listen address cannot be bound.
    pub fn create(&self, spec: ProxySpec) -> Result<ProxyInfo, ApiError> {
        validate(&spec)?;
        let mut proxies = self.lock();
        if proxies.contains_key(&spec.name) {
            return Err(ApiError::proxy_exists());
        }
        let entry = self.start_entry(&spec)?;
        let info = info(&spec.name, &entry);
        proxies.insert(spec.name, entry);
        Ok(info)
    }

    /// Toxiproxy's populate: creates the proxies, replaces those whose listen or upstream
    /// changed, keeps the ones that are the same. Everything is validated first, so that a
    /// bad entry changes nothing.
    pub fn populate(&self, specs: Vec<ProxySpec>) -> Result<Vec<ProxyInfo>, ApiError> {
        let mut names = std::collections::HashSet::new();
        for (index, spec) in specs.iter().enumerate() {
            if spec.name.is_empty() {
                return Err(ApiError::missing_field(&format!(
                    "name at proxy {}",
                    index + 1
                )));
            }
            if spec.upstream.is_empty() {
                return Err(ApiError::missing_field(&format!(
                    "upstream at proxy {}",
                    index + 1
                )));
            }
            validate(spec)?;
            if !names.insert(spec.name.as_str()) {
                return Err(ApiError::bad_body(format!(
                    "duplicate proxy name {:?}",
                    spec.name
                )));
            }
        }
        let mut proxies = self.lock();
        let mut infos = Vec::with_capacity(specs.len());
        for spec in specs {
            if let Some(existing) = proxies.get_mut(&spec.name) {
                let same_listen =
                    existing.requested_listen == spec.listen || existing.listen == spec.listen;
                if same_listen && existing.upstream == spec.upstream {
                    if existing.enabled != spec.enabled {
                        self.set_enabled(existing, spec.enabled)?;
                    }
                    infos.push(info(&spec.name, existing));
                    continue;
                }
                // Replaced: the old one stops first, so that it frees its port.
                proxies.remove(&spec.name);
            }
            let entry = self.start_entry(&spec)?;
            infos.push(info(&spec.name, &entry));
            proxies.insert(spec.name, entry);
        }
        Ok(infos)
    }

    /// Every proxy, by name.
    pub fn list(&self) -> Vec<ProxyInfo> {
        self.lock()
            .iter()
            .map(|(name, entry)| info(name, entry))
            .collect()
    }

    /// One proxy, or 404.
    pub fn get(&self, name: &str) -> Result<ProxyInfo, ApiError> {
        let proxies = self.lock();
        let entry = proxies.get(name).ok_or_else(ApiError::proxy_not_found)?;
        Ok(info(name, entry))
    }

    /// Changes a proxy's listen address, upstream or state (Toxiproxy's proxy update). A
    /// new listen or upstream restarts it; its toxics stay.
    pub fn update(
        &self,
        name: &str,
        listen: Option<String>,
        upstream: Option<String>,
        enabled: Option<bool>,
    ) -> Result<ProxyInfo, ApiError> {
        let mut proxies = self.lock();
        let entry = proxies
            .get_mut(name)
            .ok_or_else(ApiError::proxy_not_found)?;
        let spec = ProxySpec {
            name: name.to_owned(),
            listen: listen.unwrap_or_else(|| entry.listen.clone()),
            upstream: upstream.unwrap_or_else(|| entry.upstream.clone()),
            enabled: enabled.unwrap_or(entry.enabled),
        };
        validate(&spec)?;
        let moved = spec.listen != entry.listen && spec.listen != entry.requested_listen;
        if moved || spec.upstream != entry.upstream {
            let was_running = entry.running.take();
            drop(was_running);
            entry.requested_listen = spec.listen.clone();
            entry.listen = spec.listen.clone();
            entry.upstream = spec.upstream.clone();
            entry.enabled = false;
        }
        self.set_enabled(entry, spec.enabled)?;
        Ok(info(name, entry))
    }

    /// Removes a proxy and closes its connections; 404 if there is none.
    pub fn delete(&self, name: &str) -> Result<(), ApiError> {
        self.lock()
            .remove(name)
            .map(|_| ())
            .ok_or_else(ApiError::proxy_not_found)
    }

    /// Toxiproxy's reset: every proxy enabled, every toxic (and HTTP fault) removed.
    pub fn reset(&self) -> Result<(), ApiError> {
        let mut proxies = self.lock();
        for entry in proxies.values_mut() {
            entry.faults.send_replace(Arc::new(Faults::default()));
            self.set_enabled(entry, true)?;
        }
        Ok(())
    }

    /// Adds a toxic; 409 if the proxy has one with that name.
    pub fn add_toxic(&self, proxy: &str, toxic: Toxic) -> Result<Toxic, ApiError> {
        self.change_faults(proxy, |faults, uid| {
            if faults
                .toxics
                .iter()
                .any(|placed| placed.item.name == toxic.name)
            {
                return Err(ApiError::toxic_exists());
            }
            faults.toxics.push(Placed {
                uid,
                item: toxic.clone(),
            });
            Ok(toxic.clone())
        })
    }

    /// A proxy's toxics; 404 for an unknown proxy.
    pub fn toxics(&self, proxy: &str) -> Result<Vec<Toxic>, ApiError> {
        Ok(self.get(proxy)?.toxics)
    }

    /// One toxic; 404 for an unknown proxy or toxic.
    pub fn toxic(&self, proxy: &str, name: &str) -> Result<Toxic, ApiError> {
        self.toxics(proxy)?
            .into_iter()
            .find(|toxic| toxic.name == name)
            .ok_or_else(ApiError::toxic_not_found)
    }

    /// Updates a toxic in place with `change` (it keeps its per-connection decisions).
    pub fn update_toxic(
        &self,
        proxy: &str,
        name: &str,
        change: impl FnOnce(&mut Toxic) -> Result<(), ApiError>,
    ) -> Result<Toxic, ApiError> {
        self.change_faults(proxy, |faults, _| {
            let placed = faults
                .toxics
                .iter_mut()
                .find(|placed| placed.item.name == name)
                .ok_or_else(ApiError::toxic_not_found)?;
            change(&mut placed.item)?;
            Ok(placed.item.clone())
        })
    }

    /// Removes a toxic; 404 for an unknown proxy or toxic.
    pub fn remove_toxic(&self, proxy: &str, name: &str) -> Result<(), ApiError> {
        self.change_faults(proxy, |faults, _| {
            let before = faults.toxics.len();
            faults.toxics.retain(|placed| placed.item.name != name);
            if faults.toxics.len() == before {
                return Err(ApiError::toxic_not_found());
            }
            Ok(())
        })
    }

    /// Adds an HTTP fault; 409 if the proxy has one with that name. It applies to the
    /// connections opened after it.
    pub fn add_http_fault(&self, proxy: &str, fault: HttpFault) -> Result<HttpFault, ApiError> {
        self.change_faults(proxy, |faults, uid| {
            if faults
                .http
                .iter()
                .any(|placed| placed.item.name == fault.name)
            {
                return Err(ApiError::new("http fault already exists", 409));
            }
            faults.http.push(Placed {
                uid,
                item: fault.clone(),
            });
            Ok(fault.clone())
        })
    }

    /// Removes an HTTP fault; 404 for an unknown proxy or fault.
    pub fn remove_http_fault(&self, proxy: &str, name: &str) -> Result<(), ApiError> {
        self.change_faults(proxy, |faults, _| {
            let before = faults.http.len();
            faults.http.retain(|placed| placed.item.name != name);
            if faults.http.len() == before {
                return Err(ApiError::new("http fault not found", 404));
            }
            Ok(())
        })
    }

    /// Removes every toxic and HTTP fault of one proxy.
    pub fn clear_faults(&self, proxy: &str) -> Result<(), ApiError> {
        self.change_faults(proxy, |faults, _| {
            *faults = Faults::default();
            Ok(())
        })
    }

    /// Stops every proxy (they stop too when the last handle is dropped).
    pub fn shutdown(&self) {
        self.lock().clear();
    }

    fn change_faults<T>(
        &self,
        proxy: &str,
        change: impl FnOnce(&mut Faults, u64) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        let mut proxies = self.lock();
        let entry = proxies
            .get_mut(proxy)
            .ok_or_else(ApiError::proxy_not_found)?;
        let mut faults = Faults::clone(&entry.faults.borrow());
        let uid = entry.next_uid;
        let result = change(&mut faults, uid)?;
        entry.next_uid += 1;
        entry.faults.send_replace(Arc::new(faults));
        Ok(result)
    }

    fn start_entry(&self, spec: &ProxySpec) -> Result<Entry, ApiError> {
        let (faults, _) = watch::channel(Arc::new(Faults::default()));
        let mut entry = Entry {
            requested_listen: spec.listen.clone(),
            listen: spec.listen.clone(),
            upstream: spec.upstream.clone(),
            enabled: false,
            faults,
            next_uid: 1,
            connections: Arc::new(AtomicU64::new(0)),
            running: None,
        };
        self.set_enabled(&mut entry, spec.enabled)?;
        Ok(entry)
    }

    fn set_enabled(&self, entry: &mut Entry, enabled: bool) -> Result<(), ApiError> {
        if !enabled {
            entry.running = None;
            entry.enabled = false;
            return Ok(());
        }
        if entry.running.is_some() {
            entry.enabled = true;
            return Ok(());
        }
        let listener = bind(&entry.listen)?;
        let socket = socket2::SockRef::from(&listener)
            .try_clone()
            .map_err(|error| ApiError::new(format!("listen {}: {error}", entry.listen), 500))?;
        let bound = listener
            .local_addr()
            .map_err(|error| ApiError::new(format!("listen {}: {error}", entry.listen), 500))?;
        let stop = CancellationToken::new();
        let accept = Accept {
            upstream: entry.upstream.clone(),
            faults: entry.faults.subscribe(),
            stop: stop.clone(),
            seed: self.shared.seed,
            connections: Arc::clone(&entry.connections),
        };
        let _entered = self.shared.runtime.enter();
        let listener = tokio::net::TcpListener::from_std(listener)
            .map_err(|error| ApiError::new(format!("listen {}: {error}", entry.listen), 500))?;
        self.shared.runtime.spawn(accept.run(listener));
        entry.listen = bound.to_string();
        entry.running = Some(Running { stop, socket });
        entry.enabled = true;
        Ok(())
    }
}

/// The accept loop of one running proxy.
struct Accept {
    upstream: String,
    faults: watch::Receiver<SharedFaults>,
    stop: CancellationToken,
    seed: u64,
    connections: Arc<AtomicU64>,
}

impl Accept {
    async fn run(self, listener: tokio::net::TcpListener) {
        loop {
            let accepted = tokio::select! {
                _ = self.stop.cancelled() => return,
                accepted = listener.accept() => accepted,
            };
            let Ok((client, _)) = accepted else {
                // Out of descriptors or the like: wait a little rather than spin.
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                continue;
            };
            let connection = self.connections.fetch_add(1, Ordering::Relaxed);
            let context = LinkContext {
                upstream: self.upstream.clone(),
                faults: self.faults.clone(),
                stop: self.stop.child_token(),
                dice: Dice::new(self.seed, connection),
            };
            tokio::spawn(link::serve(client, context));
        }
    }
}

fn info(name: &str, entry: &Entry) -> ProxyInfo {
    let faults = entry.faults.borrow();
    ProxyInfo {
        name: name.to_owned(),
        listen: entry.listen.clone(),
        upstream: entry.upstream.clone(),
        enabled: entry.enabled,
        toxics: faults
            .toxics
            .iter()
            .map(|placed| placed.item.clone())
            .collect(),
        http_faults: faults
            .http
            .iter()
            .map(|placed| placed.item.clone())
            .collect(),
    }
}

fn validate(spec: &ProxySpec) -> Result<(), ApiError> {
    if spec.name.is_empty() {
        return Err(ApiError::missing_field("name"));
    }
    if spec.upstream.is_empty() {
        return Err(ApiError::missing_field("upstream"));
    }
    if !has_port(&spec.upstream) {
        return Err(ApiError::bad_body(format!(
            "upstream {:?} is not host:port",
            spec.upstream
        )));
    }
    if !spec.listen.is_empty() && !has_port(&spec.listen) {
        return Err(ApiError::bad_body(format!(
            "listen {:?} is not host:port",
            spec.listen
        )));
    }
    Ok(())
}

fn has_port(address: &str) -> bool {
    address
        .rsplit_once(':')
        .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok())
}

/// Binds `listen` (an IPv4 address first when a name has both, as Toxiproxy does), with
/// SO_REUSEADDR so that a proxy restarted on its port binds it again at once.
fn bind(listen: &str) -> Result<std::net::TcpListener, ApiError> {
    let listen = if listen.is_empty() {
        "127.0.0.1:0"
    } else {
        listen
    };
    let addresses: Vec<SocketAddr> = listen
        .to_socket_addrs()
        .map_err(|error| ApiError::new(format!("listen {listen}: {error}"), 500))?
        .collect();
    let address = addresses
        .iter()
        .find(|address| address.is_ipv4())
        .or(addresses.first())
        .copied()
        .ok_or_else(|| ApiError::new(format!("listen {listen}: no address"), 500))?;
    let taken = |error: std::io::Error| {
        let hint = if error.kind() == std::io::ErrorKind::AddrInUse {
            " (another process holds it: stop it or choose another listen address)"
        } else {
            ""
        };
        ApiError::new(format!("listen {address}: {error}{hint}"), 500)
    };
    let socket = socket2::Socket::new(
        socket2::Domain::for_address(address),
        socket2::Type::STREAM,
        Some(socket2::Protocol::TCP),
    )
    .map_err(taken)?;
    socket.set_reuse_address(true).map_err(taken)?;
    socket.bind(&address.into()).map_err(taken)?;
    socket.listen(1024).map_err(taken)?;
    socket.set_nonblocking(true).map_err(taken)?;
    Ok(socket.into())
}
