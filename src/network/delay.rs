//! Added delay, the rule every transport follows: no event leaves before it was published plus
//! the delay (push transports hold it back until then: `Batch::hold_back`), and no answer leaves
//! before it was ready plus the delay (polling answers wait that long after being computed).
//! Either way the delay shows in `delay_us`, which measures hand-off minus publish.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

/// Holds an answer for `delay` (an instructor's added delay), cut short by `shutdown`.
pub async fn hold_answer(delay: Duration, shutdown: &CancellationToken) {
    if delay.is_zero() {
        return;
    }
    tokio::select! {
        _ = tokio::time::sleep(delay) => {}
        _ = shutdown.cancelled() => {}
    }
}
