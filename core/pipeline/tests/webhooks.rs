//! Webhook delivery against a real SQLite store and a real loopback HTTP
//! receiver that can answer 503, or be stopped and started again on the
//! same port.

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use silta_model::Timestamp;
use silta_pipeline::PipelineError;
use silta_pipeline::cloudevents::{CONTENT_TYPE, SIGNATURE_HEADER, verify_signature};
use silta_pipeline::http_client::HttpClient;
use silta_pipeline::webhooks::{
    WebhookDeliverer, WebhookOptions, create_subscription, delete_subscription,
};
use silta_store::records::{NewEvent, StoredEvent, WebhookSubscription};
use silta_store::sqlite::SqliteStore;
use silta_store::{Store, transact};
use tempfile::TempDir;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

/// How long any condition may take before the test fails.
const DEADLINE: Duration = Duration::from_secs(20);

const SOURCE: &str = "urn:silta:test-node";

// === tests ===

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_are_delivered_in_order_as_signed_cloudevents() -> anyhow::Result<()> {
    let (_dir, store) = open_store().await?;
    let receiver = Receiver::start().await?;

    // Published before the subscription exists: not delivered.
    let history = publish(&*store, "silta.history", 1).await?;
    let sub = create_subscription(&*store, &receiver.url(), Vec::new(), None).await?;
    assert_eq!(sub.cursor, history[0].seq, "starts at the newest event");
    assert_eq!(sub.secret.len(), 64, "32 random bytes, hex");
    assert!(sub.secret.bytes().all(|b| b.is_ascii_hexdigit()));

    let deliverer = Running::start(&store, fast_options());
    let mut published = Vec::new();
    for (i, event_type) in ["silta.a", "silta.b", "silta.a", "silta.c", "silta.b"]
        .into_iter()
        .enumerate()
    {
        published.push(
            append(
                &*store,
                NewEvent {
                    event_type: event_type.into(),
                    subject: Some(format!("subject-{i}")),
                    data: serde_json::json!({"n": i, "text": "hello"}),
                },
            )
            .await?,
        );
    }

    eventually("all five events delivered", || async {
        receiver.accepted().len() >= published.len()
    })
    .await?;
    let got = receiver.accepted();
    assert_eq!(got.len(), published.len(), "no duplicates, nothing extra");
    for (request, event) in got.iter().zip(&published) {
        assert_eq!(request.header("content-type"), Some(CONTENT_TYPE));
        let signature = request
            .header(SIGNATURE_HEADER)
            .context("signature header")?;
        assert!(
            verify_signature(
                sub.secret.as_bytes(),
                signature,
                &request.body,
                unix_now(),
                300
            ),
            "signature {signature} does not verify"
        );
        assert!(
            !verify_signature(b"wrong secret", signature, &request.body, unix_now(), 300),
            "a wrong secret must not verify"
        );
        let ce: serde_json::Value = serde_json::from_slice(&request.body)?;
        assert_eq!(ce["specversion"], "1.0");
        assert_eq!(ce["id"], event.id.as_str());
        assert_eq!(ce["source"], SOURCE);
        assert_eq!(ce["type"], event.event_type.as_str());
        assert_eq!(ce["subject"], event.subject.as_deref().unwrap_or_default());
        assert_eq!(ce["datacontenttype"], "application/json");
        assert_eq!(ce["data"], event.data);
        assert_eq!(ce["siltaseq"], event.seq);
        let time = ce["time"].as_str().context("time is a string")?;
        assert_eq!(Timestamp::parse_rfc3339("time", time)?, event.time);
    }
    let last = published.last().context("published")?.seq;
    eventually("cursor at the last event", || {
        cursor_is(&*store, &sub.id, last)
    })
    .await?;

    deliverer.shutdown().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_that_is_down_for_a_while_receives_every_event_once_it_is_back()
-> anyhow::Result<()> {
    let (_dir, store) = open_store().await?;
    let mut receiver = Receiver::start().await?;
    let sub = create_subscription(&*store, &receiver.url(), Vec::new(), None).await?;
    let deliverer = Running::start(&store, fast_options());

    // One delivery while up, so the client holds a pooled connection that
    // the stop below breaks.
    let warm_up = publish(&*store, "silta.warm-up", 1).await?;
    eventually("warm-up delivered", || async {
        receiver.accepted().len() == 1
    })
    .await?;
    eventually("warm-up acknowledged", || {
        cursor_is(&*store, &sub.id, warm_up[0].seq)
    })
    .await?;

    receiver.stop();
    let down = publish(&*store, "silta.while-down", 50).await?;
    eventually(
        "deliveries failing while the subscriber is down",
        || async { counter("silta_webhook_retries_total", &sub.id) >= 3 },
    )
    .await?;
    assert_eq!(
        receiver.requests().len(),
        1,
        "nothing got through while down"
    );
    receiver.restart().await?;

    let expected: Vec<&str> = warm_up.iter().chain(&down).map(|e| e.id.as_str()).collect();
    eventually("all 51 events delivered", || async {
        receiver.accepted().len() >= expected.len()
    })
    .await?;
    let last = down.last().context("published")?.seq;
    eventually("cursor at the last event", || {
        cursor_is(&*store, &sub.id, last)
    })
    .await?;

    // The cursor is past the last event, so nothing more will be sent:
    // what the receiver has now is everything it will get.
    let got = receiver.accepted();
    let got_ids: Vec<String> = got
        .iter()
        .map(Received::event_id)
        .collect::<Result<_, _>>()?;
    assert_eq!(got_ids, expected, "every event once, in order, no gaps");
    let seqs: Vec<i64> = got.iter().map(Received::seq).collect::<Result<_, _>>()?;
    assert!(
        seqs.windows(2).all(|w| w[1] == w[0] + 1),
        "contiguous seqs: {seqs:?}"
    );
    assert_eq!(counter("silta_webhook_deliveries_total", &sub.id), 51);

    deliverer.shutdown().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_answering_503_gets_the_event_after_retries() -> anyhow::Result<()> {
    let (_dir, store) = open_store().await?;
    let receiver = Receiver::start().await?;
    receiver.fail_next(3);
    let sub = create_subscription(&*store, &receiver.url(), Vec::new(), None).await?;
    let deliverer = Running::start(&store, fast_options());

    let events = publish(&*store, "silta.retried", 3).await?;
    eventually("all three events accepted", || async {
        receiver.accepted().len() >= 3
    })
    .await?;

    let answered: Vec<(u16, String)> = receiver
        .requests()
        .iter()
        .map(|r| Ok((r.status, r.event_id()?)))
        .collect::<anyhow::Result<_>>()?;
    let first = events[0].id.clone();
    assert_eq!(
        answered,
        vec![
            (503, first.clone()),
            (503, first.clone()),
            (503, first.clone()),
            (200, first),
            (200, events[1].id.clone()),
            (200, events[2].id.clone()),
        ],
        "the same event is retried until accepted; later ones wait their turn"
    );
    // The receiver records a request before it answers; the cursor moves
    // after the deliverer has the answer and has counted it.
    eventually("cursor at the last event", || {
        cursor_is(&*store, &sub.id, events[2].seq)
    })
    .await?;
    assert_eq!(counter("silta_webhook_retries_total", &sub.id), 3);
    assert_eq!(counter("silta_webhook_deliveries_total", &sub.id), 3);

    deliverer.shutdown().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_wanted_types_are_sent_and_the_cursor_passes_the_rest() -> anyhow::Result<()> {
    let (_dir, store) = open_store().await?;
    let receiver = Receiver::start().await?;
    let sub = create_subscription(
        &*store,
        &receiver.url(),
        vec!["silta.wanted".into(), "silta.also-wanted".into()],
        Some("a shared secret".into()),
    )
    .await?;
    assert_eq!(sub.secret, "a shared secret");
    let deliverer = Running::start(&store, fast_options());

    let mut published = Vec::new();
    for event_type in [
        "silta.other",
        "silta.wanted",
        "silta.other",
        "silta.also-wanted",
        "silta.other",
        "silta.other",
    ] {
        published.push(
            append(
                &*store,
                NewEvent {
                    event_type: event_type.into(),
                    subject: None,
                    data: serde_json::json!({}),
                },
            )
            .await?,
        );
    }
    let last = published.last().context("published")?.seq;
    // The cursor passes the trailing unwanted events too.
    eventually("cursor at the last event", || {
        cursor_is(&*store, &sub.id, last)
    })
    .await?;
    let got: Vec<String> = receiver
        .accepted()
        .iter()
        .map(Received::event_id)
        .collect::<Result<_, _>>()?;
    assert_eq!(got, vec![published[1].id.clone(), published[3].id.clone()]);
    for request in receiver.accepted() {
        let signature = request.header(SIGNATURE_HEADER).context("signature")?;
        assert!(verify_signature(
            b"a shared secret",
            signature,
            &request.body,
            unix_now(),
            300
        ));
    }

    deliverer.shutdown().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_subscription_rejects_unusable_urls_clearly() -> anyhow::Result<()> {
    let (_dir, store) = open_store().await?;
    for (url, says) in [
        ("ftp://x", "scheme `ftp`"),
        ("not a url", "is not a URL"),
        ("/hooks", "has no scheme"),
    ] {
        let err = create_subscription(&*store, url, Vec::new(), None)
            .await
            .err()
            .with_context(|| format!("{url} was accepted"))?;
        assert!(matches!(err, PipelineError::Invalid(_)), "{url}: {err:?}");
        let message = err.to_string();
        assert!(message.contains(url), "{message}");
        assert!(message.contains(says), "{message}");
        assert!(
            message.contains("http://") && message.contains("https://"),
            "says what would work: {message}"
        );
    }
    let err = create_subscription(
        &*store,
        "https://example.com/h",
        Vec::new(),
        Some("".into()),
    )
    .await
    .err()
    .context("empty secret accepted")?;
    assert!(err.to_string().contains("secret"), "{err}");
    assert!(store.webhook_subscriptions().await?.is_empty());

    // And the happy path, with deletion.
    let sub = create_subscription(&*store, "https://example.com/h", Vec::new(), None).await?;
    assert_eq!(store.webhook_subscriptions().await?, vec![sub.clone()]);
    delete_subscription(&*store, &sub.id).await?;
    assert!(store.webhook_subscriptions().await?.is_empty());
    let err = delete_subscription(&*store, &sub.id)
        .await
        .err()
        .context("second delete succeeded")?;
    assert!(matches!(err, PipelineError::NotFound { .. }), "{err:?}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscriptions_added_and_deleted_while_running_are_picked_up() -> anyhow::Result<()> {
    let (_dir, store) = open_store().await?;
    let first = Receiver::start().await?;
    let second = Receiver::start().await?;
    // Started with no subscriptions at all.
    let deliverer = Running::start(&store, fast_options());

    let a = create_subscription(&*store, &first.url(), Vec::new(), None).await?;
    let one = publish(&*store, "silta.one", 1).await?;
    eventually("first subscriber picked up", || async {
        first.accepted().len() == 1
    })
    .await?;
    assert_eq!(first.accepted()[0].event_id()?, one[0].id);

    delete_subscription(&*store, &a.id).await?;
    create_subscription(&*store, &second.url(), Vec::new(), None).await?;
    // The refresh that starts the second subscriber also stops the first:
    // publish until the second one receives something.
    eventually("second subscriber picked up", || {
        let store = Arc::clone(&store);
        let second = &second;
        async move {
            if second.accepted().is_empty() {
                let _ = publish(&*store, "silta.probe", 1).await;
                false
            } else {
                true
            }
        }
    })
    .await?;
    let after = publish(&*store, "silta.after-delete", 1).await?;
    eventually("second subscriber got the last event", || async {
        second
            .accepted()
            .iter()
            .any(|r| r.event_id().is_ok_and(|id| id == after[0].id))
    })
    .await?;
    let first_got: Vec<String> = first
        .accepted()
        .iter()
        .map(Received::event_id)
        .collect::<Result<_, _>>()?;
    assert!(
        !first_got.contains(&after[0].id),
        "a deleted subscription got an event published after it was gone"
    );

    deliverer.shutdown().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_does_not_wait_out_a_long_backoff() -> anyhow::Result<()> {
    let (_dir, store) = open_store().await?;
    let receiver = Receiver::start().await?;
    receiver.fail_next(u32::MAX);
    let sub = create_subscription(&*store, &receiver.url(), Vec::new(), None).await?;
    let deliverer = Running::start(
        &store,
        WebhookOptions {
            initial_backoff: Duration::from_secs(600),
            max_backoff: Duration::from_secs(600),
            ..fast_options()
        },
    );
    publish(&*store, "silta.stuck", 1).await?;
    eventually("a failed attempt", || async {
        counter("silta_webhook_retries_total", &sub.id) >= 1
    })
    .await?;

    let started = Instant::now();
    deliverer.shutdown().await?;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "shutdown took {:?}",
        started.elapsed()
    );
    // Never acknowledged, so the cursor did not move.
    assert_eq!(store_cursor(&*store, &sub.id).await?, sub.cursor);
    Ok(())
}

// === the deliverer under test ===

/// Small backoffs and quick refreshes, so tests run fast; correctness
/// never depends on them.
fn fast_options() -> WebhookOptions {
    WebhookOptions {
        batch: 7,
        initial_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(200),
        poll_interval: Duration::from_millis(200),
        refresh_interval: Duration::from_millis(50),
    }
}

struct Running {
    shutdown: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl Running {
    fn start(store: &Arc<dyn Store>, options: WebhookOptions) -> Self {
        init_metrics();
        let client = Arc::new(HttpClient::new(Duration::from_secs(5)));
        let deliverer =
            WebhookDeliverer::new(Arc::clone(store), client, SOURCE.to_owned(), options);
        let (shutdown, rx) = watch::channel(false);
        let task = tokio::spawn(deliverer.run(rx));
        Self { shutdown, task }
    }

    async fn shutdown(self) -> anyhow::Result<()> {
        self.shutdown.send(true)?;
        tokio::time::timeout(DEADLINE, self.task)
            .await
            .context("the deliverer did not stop")??;
        Ok(())
    }
}

// === store helpers ===

async fn open_store() -> anyhow::Result<(TempDir, Arc<dyn Store>)> {
    let dir = tempfile::tempdir()?;
    let store = SqliteStore::open(&dir.path().join("silta.db"), &Default::default()).await?;
    Ok((dir, Arc::new(store)))
}

async fn append(store: &dyn Store, event: NewEvent) -> anyhow::Result<StoredEvent> {
    Ok(transact(store, move |tx| {
        Box::pin(async move { tx.append_event(&event).await })
    })
    .await?)
}

/// `n` events of `event_type`, each in its own unit of work.
async fn publish(
    store: &dyn Store,
    event_type: &str,
    n: usize,
) -> anyhow::Result<Vec<StoredEvent>> {
    let mut events = Vec::with_capacity(n);
    for i in 0..n {
        events.push(
            append(
                store,
                NewEvent {
                    event_type: event_type.to_owned(),
                    subject: Some(format!("record-{i}")),
                    data: serde_json::json!({"i": i}),
                },
            )
            .await?,
        );
    }
    Ok(events)
}

async fn store_cursor(store: &dyn Store, id: &str) -> anyhow::Result<i64> {
    store
        .webhook_subscriptions()
        .await?
        .into_iter()
        .find(|s| s.id == id)
        .map(|s: WebhookSubscription| s.cursor)
        .with_context(|| format!("subscription {id} is gone"))
}

async fn cursor_is(store: &dyn Store, id: &str, seq: i64) -> bool {
    store_cursor(store, id).await.is_ok_and(|c| c == seq)
}

/// Wait until `condition` holds, failing after [`DEADLINE`].
async fn eventually<F, Fut>(what: &str, mut condition: F) -> anyhow::Result<()>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + DEADLINE;
    loop {
        if condition().await {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("timed out after {DEADLINE:?} waiting for: {what}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

// === the receiver ===

/// One request the receiver got, and what it answered.
#[derive(Debug, Clone)]
struct Received {
    headers: http::HeaderMap,
    body: Bytes,
    status: u16,
}

impl Received {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    fn cloudevent(&self) -> anyhow::Result<serde_json::Value> {
        serde_json::from_slice(&self.body).context("body is not JSON")
    }

    fn event_id(&self) -> anyhow::Result<String> {
        self.cloudevent()?["id"]
            .as_str()
            .map(str::to_owned)
            .context("no CloudEvent id")
    }

    fn seq(&self) -> anyhow::Result<i64> {
        self.cloudevent()?["siltaseq"]
            .as_i64()
            .context("no siltaseq")
    }
}

#[derive(Default)]
struct ReceiverState {
    requests: Mutex<Vec<Received>>,
    /// Answer 503 to this many more requests.
    fail_next: AtomicU32,
}

/// A loopback HTTP server on a fixed port (chosen by the OS at first
/// start) that records every request.
struct Receiver {
    addr: SocketAddr,
    state: Arc<ReceiverState>,
    task: Option<JoinHandle<()>>,
}

impl Receiver {
    async fn start() -> anyhow::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let state = Arc::new(ReceiverState::default());
        let task = Some(tokio::spawn(serve(listener, Arc::clone(&state))));
        Ok(Self { addr, state, task })
    }

    fn url(&self) -> String {
        format!("http://{}/hooks/silta", self.addr)
    }

    /// Stop listening and close every open connection: senders now get
    /// connection refused.
    fn stop(&mut self) {
        if let Some(task) = self.task.take() {
            // Dropping the serve task drops the listener and the JoinSet
            // holding the connections, which aborts them.
            task.abort();
        }
    }

    /// Listen again on the same port.
    async fn restart(&mut self) -> anyhow::Result<()> {
        self.stop();
        let deadline = Instant::now() + DEADLINE;
        let listener = loop {
            match TcpListener::bind(self.addr).await {
                Ok(listener) => break listener,
                Err(err) if Instant::now() < deadline => {
                    // The aborted task may not have dropped the old
                    // listener yet.
                    let _ = err;
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                Err(err) => return Err(err).context("rebinding the receiver's port"),
            }
        };
        self.task = Some(tokio::spawn(serve(listener, Arc::clone(&self.state))));
        Ok(())
    }

    fn fail_next(&self, n: u32) {
        self.state.fail_next.store(n, Ordering::SeqCst);
    }

    fn requests(&self) -> Vec<Received> {
        self.state
            .requests
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Requests answered 2xx.
    fn accepted(&self) -> Vec<Received> {
        self.requests()
            .into_iter()
            .filter(|r| (200..300).contains(&r.status))
            .collect()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.stop();
    }
}

async fn serve(listener: TcpListener, state: Arc<ReceiverState>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let state = Arc::clone(&state);
                connections.spawn(async move {
                    let service = service_fn(move |req| handle(req, Arc::clone(&state)));
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

async fn handle(
    req: Request<Incoming>,
    state: Arc<ReceiverState>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let (parts, body) = req.into_parts();
    let body = match body.collect().await {
        Ok(body) => body.to_bytes(),
        Err(_) => return Ok(status(400)),
    };
    let fail = state
        .fail_next
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok();
    let code = if fail { 503 } else { 200 };
    state
        .requests
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push(Received {
            headers: parts.headers,
            body,
            status: code,
        });
    Ok(status(code))
}

fn status(code: u16) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = http::StatusCode::from_u16(code).unwrap_or_default();
    response
}

// === metrics ===

/// Counters by `name{subscription}`; subscription ids are unique per
/// test, so tests running side by side do not see each other's counts.
#[derive(Default)]
struct Counters(Mutex<HashMap<String, Arc<TestCounter>>>);

#[derive(Default)]
struct TestCounter(AtomicU64);

impl metrics::CounterFn for TestCounter {
    fn increment(&self, value: u64) {
        self.0.fetch_add(value, Ordering::SeqCst);
    }

    fn absolute(&self, value: u64) {
        self.0.fetch_max(value, Ordering::SeqCst);
    }
}

struct TestRecorder(Arc<Counters>);

fn counter_key(name: &str, subscription: &str) -> String {
    format!("{name}{{{subscription}}}")
}

impl metrics::Recorder for TestRecorder {
    fn describe_counter(
        &self,
        _: metrics::KeyName,
        _: Option<metrics::Unit>,
        _: metrics::SharedString,
    ) {
    }
    fn describe_gauge(
        &self,
        _: metrics::KeyName,
        _: Option<metrics::Unit>,
        _: metrics::SharedString,
    ) {
    }
    fn describe_histogram(
        &self,
        _: metrics::KeyName,
        _: Option<metrics::Unit>,
        _: metrics::SharedString,
    ) {
    }

    fn register_counter(&self, key: &metrics::Key, _: &metrics::Metadata<'_>) -> metrics::Counter {
        let subscription = key
            .labels()
            .find(|l| l.key() == "subscription")
            .map(|l| l.value().to_owned())
            .unwrap_or_default();
        let counter = Arc::clone(
            self.0
                .0
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .entry(counter_key(key.name(), &subscription))
                .or_default(),
        );
        metrics::Counter::from_arc(counter)
    }

    fn register_gauge(&self, _: &metrics::Key, _: &metrics::Metadata<'_>) -> metrics::Gauge {
        metrics::Gauge::noop()
    }

    fn register_histogram(
        &self,
        _: &metrics::Key,
        _: &metrics::Metadata<'_>,
    ) -> metrics::Histogram {
        metrics::Histogram::noop()
    }
}

static COUNTERS: OnceLock<Arc<Counters>> = OnceLock::new();

fn init_metrics() {
    COUNTERS.get_or_init(|| {
        let counters = Arc::new(Counters::default());
        let _ = metrics::set_global_recorder(TestRecorder(Arc::clone(&counters)));
        counters
    });
}

fn counter(name: &str, subscription: &str) -> u64 {
    COUNTERS
        .get()
        .and_then(|c| {
            c.0.lock()
                .unwrap_or_else(|p| p.into_inner())
                .get(&counter_key(name, subscription))
                .map(|c| c.0.load(Ordering::SeqCst))
        })
        .unwrap_or(0)
}
