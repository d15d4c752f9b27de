//! What the bench reads from the machine: server CPU time and memory from `/proc`, the
//! open-file limit, and the embedded server it starts when no `--url` is given.

use std::{net::SocketAddr, sync::Arc};

use crate::{Application, Config, Stopper, state::AppState};

/// Linux reports CPU time in clock ticks of 1/100 s (USER_HZ, fixed at 100 on Linux).
const TICKS_PER_SECOND: u64 = 100;

/// Whose CPU and memory to read.
#[derive(Clone, Copy)]
pub enum ServerProcess {
    /// The embedded server: the threads of this process that actix runs it on.
    Embedded,
    /// A server process of this machine, by pid.
    Pid(u32),
}

/// CPU time a process has used so far, split as `/proc/PID/stat` reports it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CpuTime {
    /// Time in user space (utime), in milliseconds.
    pub user_ms: u64,
    /// Time in the kernel on the process's behalf (stime), in milliseconds: system calls,
    /// and on loopback most of the cost of sending.
    pub kernel_ms: u64,
}

impl CpuTime {
    pub fn total_ms(self) -> u64 {
        self.user_ms + self.kernel_ms
    }

    /// The time used between `self` (earlier) and `later`.
    pub fn until(self, later: CpuTime) -> CpuTime {
        CpuTime {
            user_ms: later.user_ms.saturating_sub(self.user_ms),
            kernel_ms: later.kernel_ms.saturating_sub(self.kernel_ms),
        }
    }

    fn add(self, other: CpuTime) -> CpuTime {
        CpuTime {
            user_ms: self.user_ms + other.user_ms,
            kernel_ms: self.kernel_ms + other.kernel_ms,
        }
    }
}

impl ServerProcess {
    /// CPU time used so far, user and kernel apart; `None` when unreadable.
    pub fn cpu(self) -> Option<CpuTime> {
        match self {
            ServerProcess::Pid(pid) => cpu_of(&format!("/proc/{pid}/stat")),
            ServerProcess::Embedded => {
                let mut total = CpuTime::default();
                for task in std::fs::read_dir("/proc/self/task").ok()?.flatten() {
                    let comm =
                        std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
                    // actix names its threads "actix-rt|system:N|arbiter:M" and "actix-server ...".
                    if comm.starts_with("actix") || comm.starts_with("pushlab-server") {
                        let stat = task.path().join("stat");
                        total = total.add(cpu_of(&stat.to_string_lossy()).unwrap_or_default());
                    }
                }
                Some(total)
            }
        }
    }

    /// Resident memory in KiB, for a separate server only (the embedded one shares its memory
    /// with the simulated clients, so its share cannot be told apart).
    /// Whether process `pid` holds a socket listening on `addr` (its address itself, or every
    /// address: `0.0.0.0`, `::`): the check that `--server-pid` names the `--url` server, not
    /// another process whose CPU would be reported as the server's. Reads `/proc/net/tcp{,6}`
    /// (state 0A: LISTEN) for the sockets' inodes and `/proc/PID/fd` for a link to one. `None`:
    /// `/proc` could not tell (no such pid, or not ours to read).
    pub fn listens_on(pid: u32, addr: std::net::SocketAddr) -> Option<bool> {
        let mut inodes = Vec::new();
        for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
            let Ok(text) = std::fs::read_to_string(table) else {
                continue;
            };
            for line in text.lines().skip(1) {
                let fields: Vec<&str> = line.split_whitespace().collect();
                let (Some(local), Some(state), Some(inode)) =
                    (fields.get(1), fields.get(3), fields.get(9))
                else {
                    continue;
                };
                let Some((ip, port)) = local.split_once(':') else {
                    continue;
                };
                let listening = *state == "0A"
                    && u16::from_str_radix(port, 16) == Ok(addr.port())
                    && proc_net_ip(ip).is_some_and(|ip| ip == addr.ip() || ip.is_unspecified());
                if listening {
                    inodes.push(format!("socket:[{inode}]"));
                }
            }
        }
        let fds = std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?;
        Some(fds.flatten().any(|fd| {
            std::fs::read_link(fd.path())
                .is_ok_and(|target| inodes.iter().any(|i| target.as_os_str() == i.as_str()))
        }))
    }

    pub fn rss_kib(self) -> Option<u64> {
        let ServerProcess::Pid(pid) = self else {
            return None;
        };
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
    }
}

fn to_ms(ticks: u64) -> u64 {
    ticks * 1000 / TICKS_PER_SECOND
}

/// utime and stime from a `stat` file (fields 14 and 15, after the parenthesised name).
fn cpu_of(path: &str) -> Option<CpuTime> {
    let stat = std::fs::read_to_string(path).ok()?;
    parse_stat(&stat)
}

fn parse_stat(stat: &str) -> Option<CpuTime> {
    // The name may hold spaces and parentheses: the fields start after the last ')'.
    let after_name = stat.get(stat.rfind(')')? + 2..)?;
    let fields: Vec<&str> = after_name.split(' ').collect();
    // After the name, field 3 is index 0: utime (14) is index 11, stime (15) index 12.
    let ticks = |index: usize| fields.get(index)?.parse::<u64>().ok();
    Some(CpuTime {
        user_ms: to_ms(ticks(11)?),
        kernel_ms: to_ms(ticks(12)?),
    })
}

/// Raises the open-file limit to its hard maximum; returns the limit now in force.
pub fn raise_open_files() -> u64 {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => limit,
        Err(e) => {
            eprintln!("could not raise the open-file limit: {e}");
            rlimit::getrlimit(rlimit::Resource::NOFILE).map_or(1024, |(soft, _)| soft)
        }
    }
}

/// A pushlab started by the bench on its own thread and runtime, as a separate server would be.
pub struct Embedded {
    pub addr: SocketAddr,
    pub state: Arc<AppState>,
    stopper: Stopper,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Embedded {
    pub fn start(config: Config) -> anyhow::Result<Embedded> {
        let (ready, started) = std::sync::mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("pushlab-server".into())
            .spawn(move || {
                actix_web::rt::System::new().block_on(async move {
                    match Application::build(config).await {
                        Ok(app) => {
                            let _ = ready.send(Ok((app.addr(), app.state(), app.stopper())));
                            let _ = app.run_until_stopped().await;
                        }
                        Err(e) => {
                            let _ = ready.send(Err(e));
                        }
                    }
                })
            })?;
        let (addr, state, stopper) = started.recv()??;
        Ok(Embedded {
            addr,
            state,
            stopper,
            thread: Some(thread),
        })
    }

    pub async fn stop(mut self) {
        self.stopper.stop().await;
        if let Some(thread) = self.thread.take() {
            let _ = tokio::task::spawn_blocking(move || thread.join()).await;
        }
    }
}

/// An address as `/proc/net/tcp{,6}` writes it: the address's bytes in network order, read as
/// 32-bit words of this machine and printed in hex (`0100007F` is 127.0.0.1 on x86).
fn proc_net_ip(hex: &str) -> Option<std::net::IpAddr> {
    let words = |count: usize| -> Option<Vec<u8>> {
        (0..count)
            .map(|i| {
                let word = u32::from_str_radix(hex.get(i * 8..i * 8 + 8)?, 16).ok()?;
                Some(word.to_ne_bytes())
            })
            .collect::<Option<Vec<_>>>()
            .map(|w| w.concat())
    };
    match hex.len() {
        8 => <[u8; 4]>::try_from(words(1)?)
            .ok()
            .map(std::net::IpAddr::from),
        32 => <[u8; 16]>::try_from(words(4)?)
            .ok()
            .map(|b| std::net::Ipv6Addr::from(b).to_canonical()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `--server-pid` is checked to hold the `--url`'s listening socket: pid 1 (or any other
    /// process) was taken at its word and its CPU reported as the server's.
    #[test]
    fn the_server_pid_is_the_process_that_listens_on_the_port() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let me = std::process::id();
        assert_eq!(ServerProcess::listens_on(me, addr), Some(true));
        // The same port on another address is another server's.
        let elsewhere = std::net::SocketAddr::new([127, 0, 0, 2].into(), addr.port());
        assert_eq!(ServerProcess::listens_on(me, elsewhere), Some(false));
        drop(listener);
        assert_eq!(ServerProcess::listens_on(me, addr), Some(false));
        assert_eq!(ServerProcess::listens_on(u32::MAX, addr), None);
        // Every address (0.0.0.0) listens on 127.0.0.1 too.
        let any = std::net::TcpListener::bind("0.0.0.0:0").unwrap();
        let port = any.local_addr().unwrap().port();
        let local = std::net::SocketAddr::new([127, 0, 0, 1].into(), port);
        assert_eq!(ServerProcess::listens_on(me, local), Some(true));
    }

    #[test]
    fn utime_and_stime_are_read_apart_after_an_awkward_name() {
        // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime ...
        let stat = "4242 (bun (x) y) S 1 4242 4242 0 -1 4194560 100 0 0 0 123 45 0 0 20 0 5 0";
        assert_eq!(
            parse_stat(stat),
            Some(CpuTime {
                user_ms: 1230,
                kernel_ms: 450
            })
        );
        assert_eq!(parse_stat("4242 (truncated"), None);
    }

    #[test]
    fn this_process_cpu_time_grows_in_user_space_when_it_spins() {
        let me = ServerProcess::Pid(std::process::id());
        let before = me.cpu().expect("own /proc stat");
        // Spin until user time shows (ticks of 10 ms), for at most 5 s of a busy machine.
        let start = std::time::Instant::now();
        let mut x = 0u64;
        let mut used = CpuTime::default();
        while used.user_ms == 0 && start.elapsed() < std::time::Duration::from_secs(5) {
            for _ in 0..100_000 {
                x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(7));
            }
            used = before.until(me.cpu().expect("own /proc stat"));
        }
        assert!(used.user_ms > 0, "{used:?}");
        assert_eq!(used.total_ms(), used.user_ms + used.kernel_ms);
    }
}
