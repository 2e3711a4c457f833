//! HTTP/1.1 load generator for the ingest benchmark.
//!
//! Sends a unique, optionally signed webhook-plugin message per request over
//! keep-alive connections (hyper's `client::conn::http1`) and prints one
//! JSON line of results on stdout.
//!
//! * Closed loop (no `--rate`): each connection sends its next request as
//!   soon as the last one is answered; the rate is the server's capacity
//!   with this many requests in flight.
//! * Open loop (`--rate R`): requests are due at fixed times, `R` per second
//!   in total, whatever the server does, and any free connection sends the
//!   next one that is due. Latency runs from the *due* time, not from when a
//!   connection got round to sending, so a server that stalls is charged for
//!   every request that waited behind the stall (no coordinated omission).
//!
//! ```sh
//! loadgen --url http://127.0.0.1:8701/ --connections 64 --duration 10 --warmup 2
//! loadgen --url http://127.0.0.1:8080/v1/ingest/bench --rate 5000 \
//!     --token bench-token --signing-key bench-key
//! ```

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, bail, ensure};
use bytes::Bytes;
use clap::Parser;
use hdrhistogram::Histogram;
use http::header::{AUTHORIZATION, CONTENT_TYPE, HOST};
use http::{HeaderValue, Method, Request, StatusCode, Uri};
use http_body_util::{BodyExt as _, Full};
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;
use serde::Serialize;
use silta_ingest_bench::Messages;
use tokio::net::TcpStream;
use tokio::sync::{Mutex, mpsc};

/// Send unique webhook messages to a URL and report rate and latency.
#[derive(Parser)]
struct Args {
    /// Where to POST, `http://host:port/path` (no TLS).
    #[arg(long)]
    url: String,
    /// Keep-alive connections, each with at most one request in flight.
    #[arg(long, default_value_t = 64)]
    connections: usize,
    /// Seconds measured, after the warm-up.
    #[arg(long, default_value_t = 10.0)]
    duration: f64,
    /// Seconds of load before measuring starts (not counted).
    #[arg(long, default_value_t = 2.0)]
    warmup: f64,
    /// Requests per second in total, open loop; without it, closed loop.
    #[arg(long)]
    rate: Option<f64>,
    /// Open loop: seconds to wait after the window for requests still due
    /// or in flight before counting them as unfinished.
    #[arg(long, default_value_t = 5.0)]
    drain: f64,
    /// Adds `authorization: Bearer <TOKEN>`.
    #[arg(long)]
    token: Option<String>,
    /// Adds `x-silta-signature: sha256=<hex HMAC-SHA256 of the body>`.
    #[arg(long)]
    signing_key: Option<String>,
    /// Approximate body size in bytes.
    #[arg(long, default_value_t = 2048)]
    body_bytes: usize,
    /// Distinct senders the messages cycle over.
    #[arg(long, default_value_t = 1000)]
    senders: u64,
    /// Name of this measurement in the output.
    #[arg(long, default_value = "loadgen")]
    label: String,
    /// Prefix of message ids (default: unique per run, from the clock).
    #[arg(long)]
    run_id: Option<String>,
    /// Tokio worker threads (default: the CPUs this process may run on).
    #[arg(long)]
    threads: Option<usize>,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    ensure!(args.connections > 0, "--connections must be at least 1");
    ensure!(
        args.duration > 0.0 && args.duration.is_finite(),
        "--duration must be a positive number of seconds"
    );
    ensure!(
        args.warmup >= 0.0
            && args.warmup.is_finite()
            && args.drain >= 0.0
            && args.drain.is_finite(),
        "--warmup and --drain must be zero or more seconds"
    );
    if let Some(rate) = args.rate {
        ensure!(
            rate > 0.0 && rate.is_finite(),
            "--rate must be a positive number of requests per second"
        );
    }
    let runtime = silta_ingest_bench::runtime(args.threads).context("starting tokio")?;
    let report = runtime.block_on(run(args))?;
    println!("{}", serde_json::to_string(&report)?);
    Ok(())
}

// === impl the run ===

/// Everything the connections share for one run.
struct Plan {
    target: Target,
    messages: Messages,
    authorization: Option<HeaderValue>,
    /// Next message number (closed loop; the open loop numbers by due time).
    next: AtomicU64,
    /// Requests answered before this are warm-up.
    measure_from: Instant,
    /// End of the measured window.
    measure_until: Instant,
    /// Open loop: when to stop waiting for answers.
    give_up_at: Instant,
}

/// One request the open-loop schedule has made due.
struct Job {
    n: u64,
    due: Instant,
    measured: bool,
}

async fn run(args: Args) -> anyhow::Result<Report> {
    let target = Target::parse(&args.url)?;
    let run_id = match args.run_id.clone() {
        Some(id) => id,
        None => format!(
            "{:x}",
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .context("clock before 1970")?
                .as_nanos()
        ),
    };
    let messages = Messages::new(
        run_id.clone(),
        args.senders,
        args.body_bytes,
        args.signing_key.as_deref().map(str::as_bytes),
    );
    let authorization = args
        .token
        .as_deref()
        .map(|token| HeaderValue::from_str(&format!("Bearer {token}")))
        .transpose()
        .context("--token must be a valid header value")?;

    // Connect everything first, so the clock starts with the load and a
    // server that is not there fails the run at once.
    let mut connecting = Vec::with_capacity(args.connections);
    for _ in 0..args.connections {
        let target = target.clone();
        connecting.push(tokio::spawn(async move { connect(&target).await }));
    }
    let mut connections = Vec::with_capacity(args.connections);
    for handle in connecting {
        let sender = handle
            .await
            .context("connect task")?
            .with_context(|| format!("connecting to {}", args.url))?;
        connections.push(sender);
    }

    let mode = if args.rate.is_some() {
        "open"
    } else {
        "closed"
    };
    eprintln!(
        "loadgen {}: {mode} loop{}, {} connections, {}s warm-up + {}s to {} (run id {run_id})",
        args.label,
        args.rate.map(|r| format!(" at {r}/s")).unwrap_or_default(),
        args.connections,
        args.warmup,
        args.duration,
        args.url,
    );

    let start = Instant::now();
    let measure_from = start + Duration::from_secs_f64(args.warmup);
    let measure_until = measure_from + Duration::from_secs_f64(args.duration);
    let give_up_at = match args.rate {
        Some(_) => measure_until + Duration::from_secs_f64(args.drain),
        None => measure_until,
    };
    let plan = Arc::new(Plan {
        target,
        messages,
        authorization,
        next: AtomicU64::new(0),
        measure_from,
        measure_until,
        give_up_at,
    });

    let mut total = Tally::new()?;
    match args.rate {
        None => {
            let workers: Vec<_> = connections
                .into_iter()
                .map(|sender| tokio::spawn(closed_loop(plan.clone(), sender)))
                .collect();
            for worker in workers {
                total.merge(&worker.await.context("worker task")??)?;
            }
        }
        Some(rate) => {
            let (due, jobs) = mpsc::unbounded_channel();
            let jobs = Arc::new(Mutex::new(jobs));
            let dispatcher = {
                let plan = plan.clone();
                // A thread, not a task: `thread::sleep` wakes within tens of
                // microseconds, tokio's timer only to the next millisecond,
                // which would add up to 1 ms to every measured latency.
                std::thread::spawn(move || dispatch(rate, start, &plan, &due))
            };
            let workers: Vec<_> = connections
                .into_iter()
                .map(|sender| tokio::spawn(open_loop(plan.clone(), jobs.clone(), sender)))
                .collect();
            for worker in workers {
                total.merge(&worker.await.context("worker task")??)?;
            }
            if dispatcher.join().is_err() {
                bail!("the dispatcher thread panicked");
            }
            // Due but never sent: the server was too slow to free a connection.
            let mut jobs = jobs.lock().await;
            while let Ok(job) = jobs.try_recv() {
                if job.measured {
                    total.unfinished(plan.give_up_at.saturating_duration_since(job.due));
                }
            }
        }
    }

    let duration_s = args.duration;
    let ms = |micros: u64| round(micros as f64 / 1000.0, 3);
    let quantile = |q: f64| ms(total.latencies.value_at_quantile(q));
    Ok(Report {
        label: args.label,
        mode,
        connections: args.connections,
        target_rate: args.rate,
        body_bytes: args.body_bytes,
        requests: total.answered,
        ok: total.ok,
        errors: total.errors,
        non_2xx: total.non_2xx,
        unfinished: total.unfinished,
        duration_s,
        rate_per_s: round(total.ok as f64 / duration_s, 1),
        p50_ms: quantile(0.5),
        p90_ms: quantile(0.9),
        p99_ms: quantile(0.99),
        p999_ms: quantile(0.999),
        max_ms: ms(total.latencies.max()),
    })
}

/// The one JSON line a run prints, fields in this order.
#[derive(Serialize)]
struct Report {
    label: String,
    /// `closed` or `open`.
    mode: &'static str,
    connections: usize,
    /// Open loop: requests per second asked for.
    target_rate: Option<f64>,
    body_bytes: usize,
    /// Answered in the measured window, any status.
    requests: u64,
    /// Answered 2xx.
    ok: u64,
    /// No answer: connection refused, reset or closed mid-request.
    errors: u64,
    non_2xx: u64,
    /// Open loop: due in the window, unanswered when the run gave up.
    unfinished: u64,
    duration_s: f64,
    /// 2xx answers per second of the measured window.
    rate_per_s: f64,
    p50_ms: f64,
    p90_ms: f64,
    p99_ms: f64,
    p999_ms: f64,
    max_ms: f64,
}

fn round(value: f64, decimals: i32) -> f64 {
    let scale = 10f64.powi(decimals);
    (value * scale).round() / scale
}

/// Closed loop: the next request as soon as the last is answered.
async fn closed_loop(plan: Arc<Plan>, sender: Sender) -> anyhow::Result<Tally> {
    let mut tally = Tally::new()?;
    let until = tokio::time::Instant::from_std(plan.measure_until);
    let mut slot = Some(sender);
    while Instant::now() < plan.measure_until {
        let mut sender = match tokio::time::timeout_at(until, ready(&mut slot, &plan.target)).await
        {
            Err(_) => break,
            Ok(Ok(sender)) => sender,
            Ok(Err(_)) => {
                if Instant::now() >= plan.measure_from {
                    tally.errors += 1;
                }
                // Do not spin on a server that refuses connections.
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let n = plan.next.fetch_add(1, Ordering::Relaxed);
        let request = plan.request(n)?;
        let sent = Instant::now();
        // A request still in flight when the window closes is not counted.
        let outcome = tokio::time::timeout_at(until, exchange(&mut sender, request)).await;
        let done = Instant::now();
        match outcome {
            Err(_) => break,
            Ok(Ok(status)) => {
                if done >= plan.measure_from {
                    tally.answer(status, done - sent);
                }
                slot = Some(sender);
            }
            Ok(Err(_)) => {
                if done >= plan.measure_from {
                    tally.errors += 1;
                }
            }
        }
    }
    Ok(tally)
}

/// Makes requests due at `rate` per second from `start` until the window
/// ends; catches up at once after oversleeping rather than shifting the
/// schedule.
fn dispatch(rate: f64, start: Instant, plan: &Plan, due: &mpsc::UnboundedSender<Job>) {
    for n in 0u64.. {
        let at = start + Duration::from_secs_f64(n as f64 / rate);
        if at >= plan.measure_until {
            break;
        }
        let now = Instant::now();
        if at > now {
            std::thread::sleep(at - now);
        }
        let job = Job {
            n,
            due: at,
            measured: at >= plan.measure_from,
        };
        if due.send(job).is_err() {
            break;
        }
    }
}

/// Open loop: take the next due request whenever this connection is free.
async fn open_loop(
    plan: Arc<Plan>,
    jobs: Arc<Mutex<mpsc::UnboundedReceiver<Job>>>,
    sender: Sender,
) -> anyhow::Result<Tally> {
    let mut tally = Tally::new()?;
    let give_up = tokio::time::Instant::from_std(plan.give_up_at);
    let late = |job: &Job| plan.give_up_at.saturating_duration_since(job.due);
    let mut slot = Some(sender);
    loop {
        let next = tokio::time::timeout_at(give_up, async { jobs.lock().await.recv().await });
        let job = match next.await {
            Ok(Some(job)) => job,
            // Schedule finished and drained, or out of time (the rest is
            // counted from the queue).
            Ok(None) | Err(_) => break,
        };
        let mut sender =
            match tokio::time::timeout_at(give_up, ready(&mut slot, &plan.target)).await {
                Ok(Ok(sender)) => sender,
                Ok(Err(_)) => {
                    if job.measured {
                        tally.errors += 1;
                    }
                    continue;
                }
                Err(_) => {
                    if job.measured {
                        tally.unfinished(late(&job));
                    }
                    break;
                }
            };
        let request = plan.request(job.n)?;
        match tokio::time::timeout_at(give_up, exchange(&mut sender, request)).await {
            Ok(Ok(status)) => {
                if job.measured {
                    tally.answer(status, job.due.elapsed());
                }
                slot = Some(sender);
            }
            Ok(Err(_)) => {
                if job.measured {
                    tally.errors += 1;
                }
            }
            Err(_) => {
                if job.measured {
                    tally.unfinished(late(&job));
                }
                break;
            }
        }
    }
    Ok(tally)
}

// === impl Plan ===

impl Plan {
    /// The signed POST of message `n`.
    fn request(&self, n: u64) -> anyhow::Result<Request<Full<Bytes>>> {
        let body = self.messages.body(n);
        let mut request = Request::builder()
            .method(Method::POST)
            .uri(self.target.path.clone())
            .header(HOST, self.target.host.clone())
            .header(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        if let Some(authorization) = &self.authorization {
            request = request.header(AUTHORIZATION, authorization.clone());
        }
        if let Some(signature) = self.messages.signature(&body) {
            request = request.header("x-silta-signature", signature);
        }
        // hyper sets `content-length` from the full body's exact size.
        Ok(request.body(Full::new(body))?)
    }
}

// === impl Target ===

/// Where requests go, parsed once.
#[derive(Clone)]
struct Target {
    /// `host:port` to connect to.
    connect: String,
    /// The `host` header.
    host: HeaderValue,
    /// The request target, origin form (`/v1/ingest/bench`).
    path: Uri,
}

impl Target {
    fn parse(url: &str) -> anyhow::Result<Self> {
        let uri: Uri = url
            .parse()
            .with_context(|| format!("--url {url:?} is not a URL"))?;
        ensure!(
            uri.scheme_str() == Some("http"),
            "--url must start with http:// (no TLS), got {url:?}"
        );
        let authority = uri
            .authority()
            .with_context(|| format!("--url {url:?} has no host, e.g. http://127.0.0.1:8080/"))?;
        let connect = format!(
            "{}:{}",
            authority.host(),
            authority.port_u16().unwrap_or(80)
        );
        let host = HeaderValue::from_str(authority.as_str())?;
        let path = uri.path_and_query().map_or("/", |p| p.as_str()).parse()?;
        Ok(Self {
            connect,
            host,
            path,
        })
    }
}

// === impl connections ===

type Sender = http1::SendRequest<Full<Bytes>>;

async fn connect(target: &Target) -> anyhow::Result<Sender> {
    let stream = TcpStream::connect(&target.connect).await?;
    stream.set_nodelay(true)?;
    let (mut sender, connection) = http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(async move {
        // Ends when the sender is dropped or the server closes; either is
        // seen by the next `ready`.
        let _ = connection.await;
    });
    sender.ready().await?;
    Ok(sender)
}

/// The connection in `slot` if it can take a request, else a new one (the
/// server may close a keep-alive connection at any time).
async fn ready(slot: &mut Option<Sender>, target: &Target) -> anyhow::Result<Sender> {
    if let Some(mut sender) = slot.take()
        && sender.ready().await.is_ok()
    {
        return Ok(sender);
    }
    connect(target).await
}

/// Sends `request` and reads the whole answer, so the connection can be
/// reused.
async fn exchange(sender: &mut Sender, request: Request<Full<Bytes>>) -> hyper::Result<StatusCode> {
    let response = sender.send_request(request).await?;
    let status = response.status();
    response.into_body().collect().await?;
    Ok(status)
}

// === impl Tally ===

/// What one connection saw in the measured window.
struct Tally {
    /// Microseconds, answered requests of any status plus unfinished ones
    /// at the lower bound of their latency.
    latencies: Histogram<u64>,
    answered: u64,
    ok: u64,
    non_2xx: u64,
    /// Connection failures and requests that got no answer (reset, closed).
    errors: u64,
    /// Open loop: due in the window but unanswered when the run gave up.
    unfinished: u64,
}

impl Tally {
    fn new() -> anyhow::Result<Self> {
        // 1 µs to 1 hour, 3 significant digits.
        let latencies = Histogram::new_with_bounds(1, 3_600_000_000, 3)
            .map_err(|error| anyhow::anyhow!("creating a histogram: {error:?}"))?;
        Ok(Self {
            latencies,
            answered: 0,
            ok: 0,
            non_2xx: 0,
            errors: 0,
            unfinished: 0,
        })
    }

    fn answer(&mut self, status: StatusCode, latency: Duration) {
        self.answered += 1;
        if status.is_success() {
            self.ok += 1;
        } else {
            self.non_2xx += 1;
        }
        self.record(latency);
    }

    /// Counts a request the server never answered in time, at the latency it
    /// had reached, so an overloaded server cannot look fast.
    fn unfinished(&mut self, at_least: Duration) {
        self.unfinished += 1;
        self.record(at_least);
    }

    fn record(&mut self, latency: Duration) {
        let micros = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        self.latencies.saturating_record(micros.max(1));
    }

    fn merge(&mut self, other: &Self) -> anyhow::Result<()> {
        self.latencies
            .add(&other.latencies)
            .map_err(|error| anyhow::anyhow!("merging histograms: {error:?}"))?;
        self.answered += other.answered;
        self.ok += other.ok;
        self.non_2xx += other.non_2xx;
        self.errors += other.errors;
        self.unfinished += other.unfinished;
        Ok(())
    }
}
