//! The bare fan-out floor: the least a server can spend to push one feed to many sockets.
//!
//! One thread and one epoll loop. Each event is encoded once, as a WebSocket text frame and as
//! an SSE chunk, and then written to every subscribed socket with one non-blocking `send`:
//! no task, no wake-up, no queue per connection on the fast path. A socket that cannot take a
//! whole frame keeps the rest in its own outbox (written when epoll says it is writable); one
//! whose outbox passes 1 MiB is closed. This is what `pushlab bench` compares real servers with
//! (issue 15): whatever a server spends above this floor is its own overhead.
//!
//! It speaks the part of pushlab's wire contract the bench uses: `GET /ws?since=S` (RFC 6455,
//! subprotocol `pushlab.json`), `GET /api/sse?since=S`, `GET /api/poll[?since=S]`, `/api/time`,
//! `/healthz` and `GET`/`PUT /api/admin/settings` (`rate_hz`, `paused`). Events are
//! `{"seq":N,"ts":T,"kind":"tick","data":{"value":V}}` as pushlab's, from a ring of the last
//! `--buffer` events (replay after `since`, `missed` notices when the ring moved past it).
//!
//! With `--batch`, each fan-out's sends go to the kernel through io_uring, 64 to one system call
//! (as pushlab's lanes make them where the kernel has io_uring): the floor of a batched fan-out.
//!
//! With `--heartbeat-secs N`, it keeps pushlab's promise about silent WebSocket clients: a ping
//! to every socket every N s, on [`HEARTBEAT_SLOTS`] instants per period as pushlab's timer grid
//! (`src/timer_grid.rs`), and a socket that said nothing for three periods is closed. The floor of
//! a server that notices a closed laptop lid within 3N s: what pushlab's heartbeat costs above
//! the bare floor, shown by the floor itself.
//!
//!   pushlab-floor --port 0 --rate 10 --buffer 1024 --admin-token TOKEN [--batch]
//!                 [--heartbeat-secs N]

mod handshake;

use std::{
    collections::VecDeque,
    io::Write,
    net::TcpListener,
    os::fd::{AsRawFd, RawFd},
    time::{SystemTime, UNIX_EPOCH},
};

/// A socket whose unsent bytes pass this is closed (a slow consumer cannot hold more).
const MAX_OUTBOX: usize = 1 << 20;
/// Longest request head plus body.
const MAX_REQUEST: usize = 64 * 1024;
/// Longest client WebSocket message.
const MAX_MESSAGE: usize = 64 * 1024;
const MAX_RATE_HZ: f64 = 1000.0;
const MAX_BUFFER: usize = 65536;
/// Sends per `io_uring_enter` with `--batch` (pushlab's `batch_send::SENDS_PER_SUBMISSION`).
const BATCH: usize = 64;
/// Instants per heartbeat period at which pings go out, each to the sockets of its slot (fd
/// modulo this): pushlab's `timer_grid::SLOTS_PER_PERIOD`.
const HEARTBEAT_SLOTS: u64 = 8;
/// Periods of silence after which a WebSocket client is closed (pushlab's: three heartbeats).
const SILENT_PERIODS: u64 = 3;
const MAX_HEARTBEAT_SECS: u64 = 3600;

fn main() {
    let args = Args::parse();
    let listener = TcpListener::bind(("127.0.0.1", args.port)).unwrap_or_else(|e| {
        eprintln!("cannot listen on 127.0.0.1:{}: {e}", args.port);
        std::process::exit(1);
    });
    listener
        .set_nonblocking(true)
        .expect("non-blocking listener");
    // std listens with a backlog of 128; a ramp of thousands of clients wants more.
    unsafe { libc::listen(listener.as_raw_fd(), 4096) };
    let port = listener.local_addr().expect("bound address").port();
    let mut server = Server::new(listener, args);
    println!("listening on http://127.0.0.1:{port}");
    let _ = std::io::stdout().flush();
    server.run();
}

// ---------------------------------------------------------------- command line

struct Args {
    port: u16,
    rate: f64,
    buffer: usize,
    token: String,
    /// Batch each fan-out's sends through io_uring (`--batch`).
    batch: bool,
    /// Ping every WebSocket this often (s); 0: never (`--heartbeat-secs`).
    heartbeat_secs: u64,
}

impl Args {
    fn parse() -> Args {
        let usage = "usage: pushlab-floor [--port PORT] [--rate HZ] [--buffer N] [--admin-token TOKEN] [--batch] [--heartbeat-secs N]";
        let fail = |message: &str| -> ! {
            eprintln!("{message}\n{usage}");
            std::process::exit(2);
        };
        let mut args = Args {
            port: 0,
            rate: 10.0,
            buffer: 1024,
            token: "peer-token".into(),
            batch: false,
            heartbeat_secs: 0,
        };
        let mut it = std::env::args().skip(1);
        while let Some(flag) = it.next() {
            if flag == "--help" || flag == "-h" {
                println!("{usage}");
                std::process::exit(0);
            }
            if flag == "--batch" {
                args.batch = true;
                continue;
            }
            let value = it
                .next()
                .unwrap_or_else(|| fail(&format!("{flag} needs a value")));
            match flag.as_str() {
                "--port" => {
                    args.port = value
                        .parse()
                        .unwrap_or_else(|_| fail("--port must be 0 to 65535"))
                }
                "--rate" => {
                    args.rate = value
                        .parse()
                        .ok()
                        .filter(|r| (0.0..=MAX_RATE_HZ).contains(r))
                        .unwrap_or_else(|| fail("--rate must be 0 to 1000"))
                }
                "--buffer" => {
                    args.buffer = value
                        .parse()
                        .ok()
                        .filter(|b| (1..=MAX_BUFFER).contains(b))
                        .unwrap_or_else(|| fail("--buffer must be 1 to 65536"))
                }
                "--admin-token" => args.token = value,
                "--heartbeat-secs" => {
                    args.heartbeat_secs = value
                        .parse()
                        .ok()
                        .filter(|s| *s <= MAX_HEARTBEAT_SECS)
                        .unwrap_or_else(|| fail("--heartbeat-secs must be 0 (off) to 3600"))
                }
                _ => fail(&format!("unknown option {flag}")),
            }
        }
        args
    }
}

// ---------------------------------------------------------------- the feed

/// One published event, encoded once for every transport.
struct Event {
    seq: u64,
    json: Vec<u8>,
    /// The WebSocket text frame (header + JSON).
    frame: Vec<u8>,
    /// The SSE record `id:/event:/data:` as one HTTP chunk (size line included).
    chunk: Vec<u8>,
}

struct Feed {
    ring: VecDeque<Event>,
    capacity: usize,
    last_seq: u64,
    value: f64,
    rng: u64,
    rate: f64,
    paused: bool,
}

/// What a client whose last seen seq is `cursor` has not had: ring indices and how many left.
struct Since {
    from: usize,
    missed: u64,
    resume_seq: u64,
}

impl Feed {
    fn publish(&mut self) {
        // A bounded random walk around 100 (xorshift64*: no dependency for a random step).
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        let random = (self.rng.wrapping_mul(0x2545F4914F6CDD1D) >> 11) as f64 / (1u64 << 53) as f64;
        self.value = ((self.value + random - 0.5).clamp(50.0, 150.0) * 100.0).round() / 100.0;
        self.last_seq += 1;
        let seq = self.last_seq;
        // f64's Display prints like JavaScript here: 88 for 88.0, 100.36 for 100.36.
        let json = format!(
            r#"{{"seq":{seq},"ts":{},"kind":"tick","data":{{"value":{}}}}}"#,
            unix_micros(),
            self.value
        )
        .into_bytes();
        let frame = ws_frame(0x1, &json);
        let chunk = http_chunk(
            &[
                b"id: ",
                seq.to_string().as_bytes(),
                b"\nevent: tick\ndata: ",
                &json,
                b"\n\n",
            ]
            .concat(),
        );
        if self.ring.len() == self.capacity {
            self.ring.pop_front();
        }
        self.ring.push_back(Event {
            seq,
            json,
            frame,
            chunk,
        });
    }

    fn since(&self, cursor: u64) -> Since {
        let oldest = self.ring.front().map_or(self.last_seq + 1, |e| e.seq);
        let from_seq = (cursor + 1).max(oldest);
        Since {
            from: (from_seq - oldest) as usize,
            missed: oldest.saturating_sub(1).saturating_sub(cursor),
            resume_seq: from_seq,
        }
    }

    fn missed_notice(&self, since: &Since) -> String {
        format!(
            r#"{{"type":"missed","missed":{},"resume_seq":{},"last_seq":{}}}"#,
            since.missed, since.resume_seq, self.last_seq
        )
    }

    fn settings(&self) -> String {
        format!(
            r#"{{"rate_hz":{},"payload_bytes":0,"paused":{}}}"#,
            self.rate, self.paused
        )
    }
}

fn unix_micros() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}

/// An unmasked, final server frame.
fn ws_frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mut frame = Vec::with_capacity(payload.len() + 10);
    frame.push(0x80 | opcode);
    match payload.len() {
        n if n < 126 => frame.push(n as u8),
        n if n < 65536 => {
            frame.push(126);
            frame.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            frame.push(127);
            frame.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    frame.extend_from_slice(payload);
    frame
}

fn http_chunk(data: &[u8]) -> Vec<u8> {
    let mut chunk = format!("{:x}\r\n", data.len()).into_bytes();
    chunk.extend_from_slice(data);
    chunk.extend_from_slice(b"\r\n");
    chunk
}

// ---------------------------------------------------------------- connections

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Http,
    Ws,
    Sse,
}

struct Conn {
    kind: Kind,
    /// The heartbeat instant (a count of slots) at which the client last sent anything.
    heard: u64,
    inbuf: Vec<u8>,
    /// Bytes a send could not take yet; written when the socket is writable again.
    outbox: Vec<u8>,
}

/// A parsed request: what the routes need of it.
struct Request {
    method: String,
    path: String,
    query: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A 4xx answer.
struct Refusal(u16, String);

struct Server {
    epoll: RawFd,
    listener: TcpListener,
    timer: RawFd,
    token: String,
    feed: Feed,
    /// Indexed by fd.
    conns: Vec<Option<Conn>>,
    ws_subscribers: Vec<RawFd>,
    sse_subscribers: Vec<RawFd>,
    /// Sockets found dead during a fan-out, closed after it.
    dead: Vec<RawFd>,
    /// With `--batch`: the ring a fan-out's sends go through, 64 to one system call.
    ring: Option<io_uring::IoUring>,
    /// With `--heartbeat-secs`: the timer of the heartbeat's instants, and how many passed.
    beat: Option<RawFd>,
    beats: u64,
}

/// Makes the timerfd `timer` expire every `nanos` ns from now on; 0 disarms it.
fn set_period(timer: RawFd, nanos: u64) {
    let period = libc::timespec {
        tv_sec: (nanos / 1_000_000_000) as libc::time_t,
        tv_nsec: (nanos % 1_000_000_000) as libc::c_long,
    };
    let spec = libc::itimerspec {
        it_interval: period,
        it_value: period,
    };
    check(
        unsafe { libc::timerfd_settime(timer, 0, &spec, std::ptr::null_mut()) },
        "timerfd_settime",
    );
}

fn check(result: i32, what: &str) -> i32 {
    if result < 0 {
        panic!("{what}: {}", std::io::Error::last_os_error());
    }
    result
}

fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

impl Server {
    fn new(listener: TcpListener, args: Args) -> Server {
        let epoll = check(
            unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) },
            "epoll_create1",
        );
        let timer = check(
            unsafe {
                libc::timerfd_create(
                    libc::CLOCK_MONOTONIC,
                    libc::TFD_NONBLOCK | libc::TFD_CLOEXEC,
                )
            },
            "timerfd_create",
        );
        let beat = (args.heartbeat_secs > 0).then(|| {
            check(
                unsafe {
                    libc::timerfd_create(
                        libc::CLOCK_MONOTONIC,
                        libc::TFD_NONBLOCK | libc::TFD_CLOEXEC,
                    )
                },
                "timerfd_create",
            )
        });
        let server = Server {
            epoll,
            timer,
            beat,
            beats: 0,
            token: args.token,
            feed: Feed {
                ring: VecDeque::with_capacity(args.buffer),
                capacity: args.buffer,
                last_seq: 0,
                value: 100.0,
                rng: unix_micros() | 1,
                rate: args.rate,
                paused: false,
            },
            conns: Vec::new(),
            ws_subscribers: Vec::new(),
            sse_subscribers: Vec::new(),
            dead: Vec::new(),
            ring: args.batch.then(|| {
                io_uring::IoUring::new(BATCH as u32).unwrap_or_else(|e| {
                    eprintln!("--batch needs io_uring: {e}");
                    std::process::exit(1);
                })
            }),
            listener,
        };
        server.watch(
            libc::EPOLL_CTL_ADD,
            server.listener.as_raw_fd(),
            libc::EPOLLIN as u32,
        );
        server.watch(libc::EPOLL_CTL_ADD, timer, libc::EPOLLIN as u32);
        server.arm_timer();
        if let Some(beat) = beat {
            set_period(beat, args.heartbeat_secs * 1_000_000_000 / HEARTBEAT_SLOTS);
            server.watch(libc::EPOLL_CTL_ADD, beat, libc::EPOLLIN as u32);
        }
        server
    }

    fn watch(&self, op: i32, fd: RawFd, events: u32) {
        let mut event = libc::epoll_event {
            events,
            u64: fd as u64,
        };
        check(
            unsafe { libc::epoll_ctl(self.epoll, op, fd, &mut event) },
            "epoll_ctl",
        );
    }

    /// Ticks at the feed's rate on the monotonic clock; the kernel counts missed expirations,
    /// and one tick is published however many passed (lost ticks are skipped, not burst).
    fn arm_timer(&self) {
        let nanos = if self.feed.paused || self.feed.rate <= 0.0 {
            0 // disarmed: a silent feed
        } else {
            (1e9 / self.feed.rate) as u64
        };
        set_period(self.timer, nanos);
    }

    fn run(&mut self) -> ! {
        let mut events = vec![libc::epoll_event { events: 0, u64: 0 }; 1024];
        let listener = self.listener.as_raw_fd();
        loop {
            let n = unsafe {
                libc::epoll_wait(self.epoll, events.as_mut_ptr(), events.len() as i32, -1)
            };
            if n < 0 {
                if errno() == libc::EINTR {
                    continue;
                }
                panic!("epoll_wait: {}", std::io::Error::last_os_error());
            }
            for event in &events[..n as usize] {
                let (fd, flags) = (event.u64 as RawFd, event.events);
                if fd == listener {
                    self.accept_all();
                } else if fd == self.timer {
                    self.tick();
                } else if Some(fd) == self.beat {
                    self.heartbeat();
                } else {
                    self.on_socket(fd, flags);
                }
            }
        }
    }

    fn accept_all(&mut self) {
        loop {
            let fd = unsafe {
                libc::accept4(
                    self.listener.as_raw_fd(),
                    std::ptr::null_mut(),
                    std::ptr::null_mut(),
                    libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
                )
            };
            if fd < 0 {
                match errno() {
                    libc::EINTR | libc::ECONNABORTED => continue,
                    // EAGAIN: all taken. EMFILE and the like: try again on the next wake-up.
                    _ => return,
                }
            }
            let one: libc::c_int = 1;
            unsafe {
                libc::setsockopt(
                    fd,
                    libc::IPPROTO_TCP,
                    libc::TCP_NODELAY,
                    &one as *const _ as *const libc::c_void,
                    size_of::<libc::c_int>() as u32,
                )
            };
            let index = fd as usize;
            if self.conns.len() <= index {
                self.conns.resize_with(index + 1, || None);
            }
            self.conns[index] = Some(Conn {
                kind: Kind::Http,
                heard: self.beats,
                inbuf: Vec::new(),
                outbox: Vec::new(),
            });
            self.watch(libc::EPOLL_CTL_ADD, fd, libc::EPOLLIN as u32);
        }
    }

    fn tick(&mut self) {
        let mut expirations = [0u8; 8];
        if unsafe { libc::read(self.timer, expirations.as_mut_ptr().cast(), 8) } != 8 {
            return; // re-armed meanwhile
        }
        self.feed.publish();
        // The fan-out: the same bytes to every subscriber, one send each (with --batch, 64
        // sends to one system call).
        let event = self.feed.ring.back().expect("just published");
        for (subscribers, bytes) in [
            (&self.ws_subscribers, &event.frame),
            (&self.sse_subscribers, &event.chunk),
        ] {
            match self.ring.as_mut() {
                None => {
                    for &fd in subscribers {
                        if let Some(conn) = self.conns[fd as usize].as_mut()
                            && !deliver(self.epoll, fd, conn, bytes)
                        {
                            self.dead.push(fd);
                        }
                    }
                }
                Some(ring) => {
                    for chunk in subscribers.chunks(BATCH) {
                        deliver_batch(
                            ring,
                            self.epoll,
                            chunk,
                            &mut self.conns,
                            bytes,
                            &mut self.dead,
                        );
                    }
                }
            }
        }
        for fd in std::mem::take(&mut self.dead) {
            self.close(fd);
        }
    }

    /// One instant of the heartbeat: the WebSockets of its slot get a ping, or are closed when
    /// silent for [`SILENT_PERIODS`] periods.
    fn heartbeat(&mut self) {
        let mut expirations = [0u8; 8];
        let Some(beat) = self.beat else { return };
        if unsafe { libc::read(beat, expirations.as_mut_ptr().cast(), 8) } != 8 {
            return;
        }
        self.beats += 1;
        let slot = self.beats % HEARTBEAT_SLOTS;
        let ping = ws_frame(0x9, b"");
        for &fd in &self.ws_subscribers {
            if fd as u64 % HEARTBEAT_SLOTS != slot {
                continue;
            }
            let Some(conn) = self.conns[fd as usize].as_mut() else {
                continue;
            };
            if self.beats - conn.heard > SILENT_PERIODS * HEARTBEAT_SLOTS
                || !deliver(self.epoll, fd, conn, &ping)
            {
                self.dead.push(fd);
            }
        }
        for fd in std::mem::take(&mut self.dead) {
            self.close(fd);
        }
    }

    fn close(&mut self, fd: RawFd) {
        let Some(conn) = self.conns.get_mut(fd as usize).and_then(Option::take) else {
            return;
        };
        match conn.kind {
            Kind::Ws => self.ws_subscribers.retain(|&s| s != fd),
            Kind::Sse => self.sse_subscribers.retain(|&s| s != fd),
            Kind::Http => {}
        }
        unsafe { libc::close(fd) }; // also leaves the epoll set
    }

    fn on_socket(&mut self, fd: RawFd, flags: u32) {
        let Some(conn) = self.conns.get_mut(fd as usize).and_then(Option::as_mut) else {
            return;
        };
        if flags & libc::EPOLLOUT as u32 != 0 && !flush(self.epoll, fd, conn) {
            self.close(fd);
            return;
        }
        if flags & (libc::EPOLLIN | libc::EPOLLHUP | libc::EPOLLERR) as u32 == 0 {
            return;
        }
        let mut buf = [0u8; 16 * 1024];
        loop {
            let n = unsafe { libc::recv(fd, buf.as_mut_ptr().cast(), buf.len(), 0) };
            if n > 0 {
                conn.heard = self.beats;
                conn.inbuf.extend_from_slice(&buf[..n as usize]);
                if conn.inbuf.len() > MAX_REQUEST + MAX_MESSAGE {
                    self.close(fd);
                    return;
                }
                continue;
            }
            if n < 0 && errno() == libc::EAGAIN {
                break;
            }
            if n < 0 && errno() == libc::EINTR {
                continue;
            }
            self.close(fd); // end of stream or error
            return;
        }
        let alive = match conn.kind {
            Kind::Http => self.on_http(fd),
            Kind::Ws => self.on_ws_input(fd),
            Kind::Sse => {
                conn.inbuf.clear(); // an SSE client has nothing more to say
                true
            }
        };
        if !alive {
            self.close(fd);
        }
    }

    // ------------------------------------------------------------ HTTP

    /// Answers every complete request in the buffer (keep-alive); false to close.
    fn on_http(&mut self, fd: RawFd) -> bool {
        loop {
            let conn = self.conns[fd as usize].as_mut().expect("open");
            if conn.kind == Kind::Ws {
                return self.on_ws_input(fd); // bytes after the upgrade are frames
            }
            if conn.kind == Kind::Sse {
                conn.inbuf.clear();
                return true;
            }
            let Some(head_end) = conn.inbuf.windows(4).position(|w| w == b"\r\n\r\n") else {
                return conn.inbuf.len() <= MAX_REQUEST;
            };
            let Some(mut request) = parse_head(&conn.inbuf[..head_end]) else {
                let _ = respond(self.epoll, fd, conn, 400, r#"{"error":"bad request"}"#);
                return false;
            };
            let length: usize = request
                .header("content-length")
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            if length > MAX_REQUEST {
                let _ = respond(
                    self.epoll,
                    fd,
                    conn,
                    413,
                    r#"{"error":"the body is too large"}"#,
                );
                return false;
            }
            let total = head_end + 4 + length;
            if conn.inbuf.len() < total {
                return true; // the body is still coming
            }
            request.body = conn.inbuf[head_end + 4..total].to_vec();
            conn.inbuf.drain(..total);
            if !self.route(fd, &request) {
                return false;
            }
        }
    }

    fn route(&mut self, fd: RawFd, request: &Request) -> bool {
        let result = match (request.method.as_str(), request.path.as_str()) {
            ("GET", "/ws") => return self.open_ws(fd, request),
            ("GET", "/api/sse") => return self.open_sse(fd, request),
            ("GET", "/api/poll") => self.poll(request),
            (_, "/api/time") => Ok(format!(r#"{{"ts":{}}}"#, unix_micros())),
            (_, "/healthz") => Ok(format!(
                r#"{{"last_seq":{},"status":"ok"}}"#,
                self.feed.last_seq
            )),
            (_, "/api/admin/settings") => self.admin(request),
            (_, "/ws" | "/api/sse" | "/api/poll") => Err(Refusal(405, "use GET".into())),
            _ => Err(Refusal(404, "no such page or endpoint".into())),
        };
        let conn = self.conns[fd as usize].as_mut().expect("open");
        match result {
            Ok(body) => respond(self.epoll, fd, conn, 200, &body),
            Err(Refusal(status, message)) => {
                respond(self.epoll, fd, conn, status, &error_json(&message))
            }
        }
    }

    /// The `since` of a request (None when absent); refused when not a number or ahead.
    fn since(&self, request: &Request, allowed: &[&str]) -> Result<Option<u64>, Refusal> {
        let mut since = None;
        for pair in request.query.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            if !allowed.contains(&key) {
                return Err(Refusal(400, format!("unknown query parameter \"{key}\"")));
            }
            if key == "since" {
                since = Some(value.to_owned());
            }
        }
        let (name, text) = match request.header("last-event-id") {
            Some(id) if allowed.contains(&"last-event-id") => {
                ("Last-Event-ID", Some(id.trim().to_owned()))
            }
            _ => ("since", since),
        };
        let Some(text) = text else { return Ok(None) };
        let since: u64 = text
            .parse()
            .map_err(|_| Refusal(400, format!("{name} must be a non-negative integer")))?;
        if since > self.feed.last_seq {
            return Err(Refusal(
                400,
                format!(
                    "{name}={since} is ahead of the feed, whose last seq is {}",
                    self.feed.last_seq
                ),
            ));
        }
        Ok(Some(since))
    }

    fn poll(&self, request: &Request) -> Result<String, Refusal> {
        let last = self.feed.last_seq;
        let Some(cursor) = self.since(request, &["since"])? else {
            return Ok(format!(r#"{{"events":[],"last_seq":{last},"missed":0}}"#));
        };
        let since = self.feed.since(cursor);
        let mut body = String::from(r#"{"events":["#);
        for (i, event) in self.feed.ring.iter().skip(since.from).enumerate() {
            if i > 0 {
                body.push(',');
            }
            body.push_str(std::str::from_utf8(&event.json).expect("JSON is UTF-8"));
        }
        body.push_str(&format!(
            r#"],"last_seq":{last},"missed":{}}}"#,
            since.missed
        ));
        Ok(body)
    }

    fn admin(&mut self, request: &Request) -> Result<String, Refusal> {
        if request.header("authorization") != Some(format!("Bearer {}", self.token).as_str()) {
            return Err(Refusal(
                401,
                "missing or wrong admin token (Authorization: Bearer <token>)".into(),
            ));
        }
        if request.method == "GET" {
            return Ok(self.feed.settings());
        }
        if request.method != "PUT" {
            return Err(Refusal(405, "use GET or PUT".into()));
        }
        // The bench sends {"paused":BOOL,"rate_hz":NUMBER}: read those two fields, nothing more.
        let body = String::from_utf8_lossy(&request.body);
        let field = |name: &str| -> Option<String> {
            let after = &body[body.find(&format!("\"{name}\""))? + name.len() + 2..];
            let value = after.trim_start().strip_prefix(':')?.trim_start();
            let end = value.find([',', '}', ' ', '\n']).unwrap_or(value.len());
            Some(value[..end].to_owned())
        };
        let mut rate = self.feed.rate;
        let mut paused = self.feed.paused;
        if let Some(value) = field("rate_hz") {
            rate = value
                .parse()
                .ok()
                .filter(|r| (0.0..=MAX_RATE_HZ).contains(r))
                .ok_or_else(|| Refusal(400, "rate_hz must be a number from 0 to 1000".into()))?;
        }
        if let Some(value) = field("paused") {
            paused = match value.as_str() {
                "true" => true,
                "false" => false,
                _ => return Err(Refusal(400, "paused must be true or false".into())),
            };
        }
        if (rate, paused) != (self.feed.rate, self.feed.paused) {
            self.feed.rate = rate;
            self.feed.paused = paused;
            self.arm_timer();
        }
        Ok(self.feed.settings())
    }

    // ------------------------------------------------------------ WebSocket

    fn open_ws(&mut self, fd: RawFd, request: &Request) -> bool {
        let refuse = |server: &mut Server, Refusal(status, message)| {
            let conn = server.conns[fd as usize].as_mut().expect("open");
            respond(server.epoll, fd, conn, status, &error_json(&message))
        };
        let since = match self.since(request, &["since"]) {
            Ok(since) => since,
            Err(refusal) => return refuse(self, refusal),
        };
        let upgrade = request
            .header("upgrade")
            .is_some_and(|u| u.eq_ignore_ascii_case("websocket"));
        let Some(key) = request.header("sec-websocket-key").filter(|_| upgrade) else {
            return refuse(
                self,
                Refusal(
                    400,
                    "expected a WebSocket upgrade (Upgrade: websocket)".into(),
                ),
            );
        };
        let protocol = match request.header("sec-websocket-protocol") {
            None => "",
            Some(offered) if offered.split(',').any(|p| p.trim() == "pushlab.json") => {
                "Sec-WebSocket-Protocol: pushlab.json\r\n"
            }
            Some(offered) => {
                let message = format!(
                    "none of the offered subprotocols ({offered}) is spoken here; offer pushlab.json or none"
                );
                return refuse(self, Refusal(400, message));
            }
        };
        let mut out = format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Accept: {}\r\n{protocol}\r\n",
            handshake::accept_key(key)
        )
        .into_bytes();
        // The replay after `since`, then the live frames from the next tick on.
        let since = self.feed.since(since.unwrap_or(self.feed.last_seq));
        if since.missed > 0 {
            out.extend_from_slice(&ws_frame(0x1, self.feed.missed_notice(&since).as_bytes()));
        }
        for event in self.feed.ring.iter().skip(since.from) {
            out.extend_from_slice(&event.frame);
        }
        let conn = self.conns[fd as usize].as_mut().expect("open");
        conn.kind = Kind::Ws;
        self.ws_subscribers.push(fd);
        deliver(self.epoll, fd, conn, &out)
    }

    /// Client frames: a close is answered and ends the socket, a ping gets its pong, a text
    /// message an error (this server takes none), a binary one a close 1003.
    fn on_ws_input(&mut self, fd: RawFd) -> bool {
        let conn = self.conns[fd as usize].as_mut().expect("open");
        loop {
            let buf = &conn.inbuf;
            if buf.len() < 2 {
                return true;
            }
            let opcode = buf[0] & 0x0f;
            let masked = buf[1] & 0x80 != 0;
            let (length, mut header) = match buf[1] & 0x7f {
                126 if buf.len() >= 4 => (u16::from_be_bytes([buf[2], buf[3]]) as usize, 4),
                127 if buf.len() >= 10 => (
                    u64::from_be_bytes(buf[2..10].try_into().expect("8 bytes")) as usize,
                    10,
                ),
                126 | 127 => return true,
                n => (n as usize, 2),
            };
            if length > MAX_MESSAGE {
                let _ = deliver(self.epoll, fd, conn, &ws_frame(0x8, &1009u16.to_be_bytes()));
                return false;
            }
            let mask = if masked {
                header += 4;
                buf.get(header - 4..header)
            } else {
                Some(&[0u8; 4][..])
            };
            if buf.len() < header + length {
                return true;
            }
            let mask: [u8; 4] = mask.expect("length checked").try_into().expect("4 bytes");
            let payload: Vec<u8> = buf[header..header + length]
                .iter()
                .enumerate()
                .map(|(i, b)| b ^ mask[i % 4])
                .collect();
            conn.inbuf.drain(..header + length);
            let reply = match opcode {
                0x8 => {
                    let code = payload.get(..2).unwrap_or(&[0x03, 0xe8]).to_vec(); // 1000 when none
                    let _ = deliver(self.epoll, fd, conn, &ws_frame(0x8, &code));
                    return false;
                }
                0x9 => ws_frame(0xA, &payload),
                0x1 => ws_frame(
                    0x1,
                    br#"{"type":"error","error":"this peer does not take messages"}"#,
                ),
                0x2 => {
                    let _ = deliver(self.epoll, fd, conn, &ws_frame(0x8, &1003u16.to_be_bytes()));
                    return false;
                }
                _ => continue, // pong, continuation
            };
            if !deliver(self.epoll, fd, conn, &reply) {
                return false;
            }
        }
    }

    // ------------------------------------------------------------ SSE

    fn open_sse(&mut self, fd: RawFd, request: &Request) -> bool {
        let since = match self.since(request, &["since", "last-event-id"]) {
            Ok(since) => since,
            Err(Refusal(status, message)) => {
                let conn = self.conns[fd as usize].as_mut().expect("open");
                return respond(self.epoll, fd, conn, status, &error_json(&message));
            }
        };
        let mut out =
            b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n\
                        Transfer-Encoding: chunked\r\n\r\n"
                .to_vec();
        out.extend_from_slice(&http_chunk(b"retry: 2000\n\n"));
        let since = self.feed.since(since.unwrap_or(self.feed.last_seq));
        if since.missed > 0 {
            let record = format!(
                "event: missed\ndata: {}\n\n",
                self.feed.missed_notice(&since)
            );
            out.extend_from_slice(&http_chunk(record.as_bytes()));
        }
        for event in self.feed.ring.iter().skip(since.from) {
            out.extend_from_slice(&event.chunk);
        }
        let conn = self.conns[fd as usize].as_mut().expect("open");
        conn.kind = Kind::Sse;
        self.sse_subscribers.push(fd);
        deliver(self.epoll, fd, conn, &out)
    }
}

fn error_json(message: &str) -> String {
    let escaped: String = message
        .chars()
        .flat_map(|c| match c {
            '"' => vec!['\\', '"'],
            '\\' => vec!['\\', '\\'],
            c if (c as u32) < 0x20 => vec![' '],
            c => vec![c],
        })
        .collect();
    format!(r#"{{"error":"{escaped}"}}"#)
}

fn parse_head(head: &[u8]) -> Option<Request> {
    let head = std::str::from_utf8(head).ok()?;
    let mut lines = head.split("\r\n");
    let mut parts = lines.next()?.split(' ');
    let method = parts.next()?.to_owned();
    let target = parts.next()?;
    if !parts.next()?.starts_with("HTTP/1.") {
        return None;
    }
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let mut headers = Vec::new();
    for line in lines {
        let (name, value) = line.split_once(':')?;
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
    }
    Some(Request {
        method,
        path: path.to_owned(),
        query: query.to_owned(),
        headers,
        body: Vec::new(),
    })
}

/// A JSON answer with Content-Length (the bench reads sized bodies); the connection stays open.
fn respond(epoll: RawFd, fd: RawFd, conn: &mut Conn, status: u16, body: &str) -> bool {
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        405 => "Method Not Allowed",
        413 => "Content Too Large",
        _ => "Error",
    };
    let answer = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nCache-Control: no-store\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    deliver(epoll, fd, conn, answer.as_bytes())
}

/// The fast path: one non-blocking send of the whole frame. What the socket does not take waits
/// in the connection's outbox (in order, behind anything already there) until epoll reports it
/// writable. False when the socket is dead or its outbox passed MAX_OUTBOX.
fn deliver(epoll: RawFd, fd: RawFd, conn: &mut Conn, bytes: &[u8]) -> bool {
    if !conn.outbox.is_empty() {
        conn.outbox.extend_from_slice(bytes);
        return conn.outbox.len() <= MAX_OUTBOX;
    }
    let sent = unsafe {
        libc::send(
            fd,
            bytes.as_ptr().cast(),
            bytes.len(),
            libc::MSG_NOSIGNAL | libc::MSG_DONTWAIT,
        )
    };
    let sent = if sent >= 0 {
        sent as usize
    } else if errno() == libc::EAGAIN {
        0
    } else {
        return false;
    };
    keep_rest(epoll, fd, conn, &bytes[sent..]);
    true
}

/// What a send left of its bytes waits in the connection's outbox, and epoll watches the socket
/// for room.
fn keep_rest(epoll: RawFd, fd: RawFd, conn: &mut Conn, rest: &[u8]) {
    if rest.is_empty() {
        return;
    }
    conn.outbox.extend_from_slice(rest);
    let mut event = libc::epoll_event {
        events: (libc::EPOLLIN | libc::EPOLLOUT) as u32,
        u64: fd as u64,
    };
    unsafe { libc::epoll_ctl(epoll, libc::EPOLL_CTL_MOD, fd, &mut event) };
}

/// `deliver` for up to [`BATCH`] sockets in one `io_uring_enter`: each socket whose outbox is
/// empty gets one non-blocking send (`IORING_OP_SEND`, `MSG_DONTWAIT`, answered at once as
/// send(2) answers); the others append to their outbox as `deliver` does.
fn deliver_batch(
    ring: &mut io_uring::IoUring,
    epoll: RawFd,
    fds: &[RawFd],
    conns: &mut [Option<Conn>],
    bytes: &[u8],
    dead: &mut Vec<RawFd>,
) {
    let mut sent_to = 0;
    {
        let mut queue = ring.submission();
        for &fd in fds {
            let Some(conn) = conns[fd as usize].as_mut() else {
                continue;
            };
            if !conn.outbox.is_empty() {
                if !deliver(epoll, fd, conn, bytes) {
                    dead.push(fd);
                }
                continue;
            }
            let send = io_uring::opcode::Send::new(
                io_uring::types::Fd(fd),
                bytes.as_ptr(),
                bytes.len() as u32,
            )
            .flags(libc::MSG_NOSIGNAL | libc::MSG_DONTWAIT)
            .build()
            .user_data(fd as u64);
            // The bytes outlive the submission (read back below); the queue holds BATCH.
            unsafe { queue.push(&send) }.expect("room for the batch");
            sent_to += 1;
        }
    }
    loop {
        match ring.submit_and_wait(sent_to) {
            Ok(_) if ring.completion().len() >= sent_to => break,
            Ok(_) => {}
            Err(e) if e.raw_os_error() == Some(libc::EINTR) => {}
            Err(e) => panic!("io_uring_enter: {e}"),
        }
    }
    for done in ring.completion() {
        let fd = done.user_data() as RawFd;
        let sent = match done.result() {
            n if n >= 0 => n as usize,
            e if e == -libc::EAGAIN => 0,
            _ => {
                dead.push(fd);
                continue;
            }
        };
        if let Some(conn) = conns[fd as usize].as_mut() {
            keep_rest(epoll, fd, conn, &bytes[sent..]);
        }
    }
}

/// Writes what the outbox holds; once empty, the socket is watched for input only again.
fn flush(epoll: RawFd, fd: RawFd, conn: &mut Conn) -> bool {
    while !conn.outbox.is_empty() {
        let sent = unsafe {
            libc::send(
                fd,
                conn.outbox.as_ptr().cast(),
                conn.outbox.len(),
                libc::MSG_NOSIGNAL | libc::MSG_DONTWAIT,
            )
        };
        if sent < 0 {
            return errno() == libc::EAGAIN;
        }
        conn.outbox.drain(..sent as usize);
    }
    let mut event = libc::epoll_event {
        events: libc::EPOLLIN as u32,
        u64: fd as u64,
    };
    unsafe { libc::epoll_ctl(epoll, libc::EPOLL_CTL_MOD, fd, &mut event) };
    true
}
