//! The loopback round trip of this machine, measured in the same run as the bench: the floor
//! under any latency a server on 127.0.0.1 can show, against which p50 is judged.

use std::time::{Duration, Instant};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
};

/// Ping-pongs timed (after as many untimed ones to warm caches and the scheduler).
const ROUND_TRIPS: usize = 1000;

/// The median time for one byte to go to a TCP echo on 127.0.0.1 and back, through the same
/// kernel path and the same Tokio runtime the simulated clients use.
pub async fn loopback_rtt() -> std::io::Result<Duration> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let echo = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await?;
        socket.set_nodelay(true)?;
        let mut byte = [0u8; 1];
        // Ends when the client hangs up (read of 0 bytes or an error).
        while socket.read(&mut byte).await? == 1 {
            socket.write_all(&byte).await?;
        }
        Ok::<_, std::io::Error>(())
    });
    let mut client = TcpStream::connect(addr).await?;
    client.set_nodelay(true)?;
    let mut times = Vec::with_capacity(ROUND_TRIPS);
    let mut byte = [7u8; 1];
    for round in 0..2 * ROUND_TRIPS {
        let start = Instant::now();
        client.write_all(&byte).await?;
        client.read_exact(&mut byte).await?;
        if round >= ROUND_TRIPS {
            times.push(start.elapsed());
        }
    }
    drop(client);
    let _ = echo.await;
    times.sort();
    Ok(times[times.len() / 2])
}
