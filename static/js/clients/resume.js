// clients/resume.js — after a failure, can a client still resume from the last seq it saw?
//
// Not if the server restarted: its feed starts again from seq 1, and a `since` ahead of the
// feed is refused (400). EventSource and WebSocket hide that 400 from the page, so every
// client asks /healthz, which tells the feed's last seq.

export async function feedRestarted(lastSeq) {
  if (lastSeq == null) return false;
  try {
    const response = await fetch("/healthz", { cache: "no-store" });
    if (!response.ok) return false;
    const health = await response.json();
    return health.last_seq < lastSeq;
  } catch {
    return false; // the server is not there yet: keep the seq and retry later
  }
}
