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

impl ServerProcess {
    /// CPU time used so far (user + system), in milliseconds; `None` when unreadable.
    pub fn cpu_ms(self) -> Option<u64> {
        match self {
            ServerProcess::Pid(pid) => ticks_of(&format!("/proc/{pid}/stat")).map(to_ms),
            ServerProcess::Embedded => {
                let mut ticks = 0;
                for task in std::fs::read_dir("/proc/self/task").ok()?.flatten() {
                    let comm =
                        std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
                    // actix names its threads "actix-rt|system:N|arbiter:M" and "actix-server ...".
                    if comm.starts_with("actix") || comm.starts_with("pushlab-server") {
                        ticks += ticks_of(&task.path().join("stat").to_string_lossy()).unwrap_or(0);
                    }
                }
                Some(to_ms(ticks))
            }
        }
    }

    /// Resident memory in KiB, for a separate server only (the embedded one shares its memory
    /// with the simulated clients, so its share cannot be told apart).
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

/// utime + stime from a `stat` file (fields 14 and 15, after the parenthesised name).
fn ticks_of(path: &str) -> Option<u64> {
    let stat = std::fs::read_to_string(path).ok()?;
    let after_name = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = after_name.split(' ').collect();
    // After the name, field 3 is index 0: utime (14) is index 11, stime (15) index 12.
    Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
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
