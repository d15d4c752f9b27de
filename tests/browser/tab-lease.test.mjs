// tab-lease.test.mjs — the election of clients/tab-lease.js, run in Node (which has
// BroadcastChannel): tabs are TabLease instances with a stand-in page (visibility, pagehide) and
// short timings, so every case takes milliseconds. What a browser adds (real tabs, closing one)
// is checked in tabs.test.mjs.

import { afterEach, test } from "node:test";
import assert from "node:assert/strict";
import { TabLease } from "../../static/js/clients/tab-lease.js";

/** Short timings: the same ratios as the page's (a holder is silent after several heartbeats). */
const TIMING = { heartbeatMs: 20, silentMs: 90, queryMs: 15, claimMs: 15 };
/** Every wait below ends well within this, or the case fails naming what never happened. */
const PATIENCE_MS = 2000;

class StandInPage extends EventTarget {
  constructor(hidden = false) {
    super();
    this.hidden = hidden;
  }

  on(type, handler) {
    this.addEventListener(type, handler);
  }

  fire(type, fields = {}) {
    this.dispatchEvent(Object.assign(new Event(type), fields));
  }
}

let opened = [];
let lane = 0;

afterEach(() => {
  for (const tab of opened) tab.lease.close();
  opened = [];
});

/** A tab of one browser: its lease on `name`, the seq its transport saw, and what it was told. */
function openTab({ hidden = false, seq = null, id } = {}) {
  const page = new StandInPage(hidden);
  const tab = { page, seq, told: [], waiters: [] };
  const tell = (what) => {
    tab.told.push(what);
    for (const waiter of tab.waiters.splice(0)) waiter(what);
  };
  tab.lease = new TabLease(`test-${lane}`, {
    granted: (grant) => tell({ granted: grant }),
    elsewhere: () => tell("elsewhere"),
    position: () => tab.seq, // any value: the lease passes it on
  }, { page, timing: TIMING, id });
  opened.push(tab);
  return tab;
}

/** The next thing the tab is told, or a failure naming the tab after PATIENCE_MS. */
function nextTold(tab, name) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} was told nothing within ${PATIENCE_MS} ms`)), PATIENCE_MS);
    tab.waiters.push((what) => {
      clearTimeout(timer);
      resolve(what);
    });
  });
}

const holders = (tabs) => tabs.filter((tab) => tab.lease.role === "holder");

test("a lone tab holds the transport, as the first holder of the browser", async () => {
  lane += 1;
  const tab = openTab();
  tab.lease.want();
  assert.deepEqual(await nextTold(tab, "the tab"), { granted: { after: null, takeover: false } });
});

test("tabs that start together elect exactly one holder; the others are told it is elsewhere", async () => {
  lane += 1;
  const tabs = [openTab(), openTab(), openTab(), openTab()];
  const told = tabs.map((tab, i) => nextTold(tab, `tab ${i}`));
  for (const tab of tabs) tab.lease.want();
  const first = await Promise.all(told);
  assert.equal(first.filter((what) => what.granted).length, 1, JSON.stringify(first));
  assert.equal(first.filter((what) => what === "elsewhere").length, 3);
  assert.equal(holders(tabs).length, 1);
});

test("a tab opened later finds the holder and follows it", async () => {
  lane += 1;
  const first = openTab();
  first.lease.want();
  await nextTold(first, "the first tab");
  const later = openTab();
  later.lease.want();
  assert.equal(await nextTold(later, "the later tab"), "elsewhere");
  assert.equal(first.lease.role, "holder");
});

test("a holder that closes hands its last seq to the tab that takes over", async () => {
  lane += 1;
  const holder = openTab({ seq: 41 });
  holder.lease.want();
  await nextTold(holder, "the holder");
  const others = [openTab(), openTab()];
  await Promise.all(others.map((tab, i) => {
    const told = nextTold(tab, `tab ${i}`);
    tab.lease.want();
    return told;
  }));
  holder.seq = 57;
  const next = Promise.any(others.map((tab, i) => nextTold(tab, `tab ${i}`)));
  holder.page.fire("pagehide");
  assert.deepEqual(await next, { granted: { after: 57, takeover: true } });
  assert.equal(holders(others).length, 1);
});

test("a holder that goes silent (a crash: no pagehide) is replaced, from the seq it last reported", async () => {
  lane += 1;
  const holder = openTab({ seq: 7 });
  holder.lease.want();
  await nextTold(holder, "the holder");
  const follower = openTab();
  const followed = nextTold(follower, "the follower");
  follower.lease.want();
  assert.equal(await followed, "elsewhere");
  const next = nextTold(follower, "the follower");
  holder.lease.clearTimers();
  holder.lease.channel.close(); // gone without a word
  holder.lease.role = "none";
  assert.deepEqual(await next, { granted: { after: 7, takeover: true } });
});

test("a visible tab takes the transport from a hidden holder, and a click takes it here", async () => {
  lane += 1;
  const holder = openTab({ seq: 3 });
  holder.lease.want();
  await nextTold(holder, "the holder");
  const visible = openTab();
  const followed = nextTold(visible, "the visible tab");
  visible.lease.want();
  assert.equal(await followed, "elsewhere");

  const handed = nextTold(visible, "the visible tab");
  const lost = nextTold(holder, "the holder");
  holder.page.hidden = true;
  holder.page.fire("visibilitychange");
  assert.deepEqual(await handed, { granted: { after: 3, takeover: true } });
  assert.equal(await lost, "elsewhere");

  // The hidden tab comes back: it follows, until someone there asks for it.
  holder.page.hidden = false;
  holder.page.fire("visibilitychange");
  visible.seq = 12;
  const back = nextTold(holder, "the first tab");
  holder.lease.request();
  assert.deepEqual(await back, { granted: { after: 12, takeover: true } });
  assert.equal(visible.lease.role, "follower");
});

test("a paused tab hands the transport over and does not claim it while paused", async () => {
  lane += 1;
  const holder = openTab({ seq: 5 });
  holder.lease.want();
  await nextTold(holder, "the holder");
  const other = openTab();
  const followed = nextTold(other, "the other tab");
  other.lease.want();
  await followed;
  const next = nextTold(other, "the other tab");
  holder.lease.unwant();
  assert.deepEqual(await next, { granted: { after: 5, takeover: true } });
  assert.equal(holder.lease.role, "none");
  assert.deepEqual(holder.told, [{ granted: { after: null, takeover: false } }], "a paused tab is not told 'elsewhere'");
});

test("two holders that hear each other keep one (a frozen tab woke up)", async () => {
  lane += 1;
  const a = openTab({ id: "a" });
  const b = openTab({ id: "b" });
  // Both became holders while they could not hear each other.
  a.lease.wanted = true;
  b.lease.wanted = true;
  a.lease.becomeHolder();
  b.lease.becomeHolder(); // told "granted" at once
  const bLoses = nextTold(b, "tab b");
  assert.deepEqual(b.told, [{ granted: { after: null, takeover: false } }]);
  assert.equal(await bLoses, "elsewhere");
  assert.equal(a.lease.role, "holder");
  assert.equal(b.lease.role, "follower");
});

test("a holder the browser freezes stops its transport and hands it over; on resume it follows the new holder", async () => {
  lane += 1;
  const holder = openTab({ seq: 92 });
  holder.lease.want();
  await nextTold(holder, "the holder");
  const other = openTab();
  const followed = nextTold(other, "the other tab");
  other.lease.want();
  assert.equal(await followed, "elsewhere");
  // Frozen: its stream must close now (told "elsewhere"), or it would stay open beside the
  // other tab's and replay, on resume, what that tab showed.
  const stopped = nextTold(holder, "the frozen holder");
  const taken = nextTold(other, "the other tab");
  holder.page.fire("freeze");
  assert.equal(await stopped, "elsewhere");
  assert.deepEqual(await taken, { granted: { after: 92, takeover: true } });
  holder.page.fire("resume");
  await new Promise((resolve) => setTimeout(resolve, TIMING.queryMs + TIMING.claimMs + 4 * TIMING.heartbeatMs));
  assert.equal(holder.lease.role, "follower");
  assert.deepEqual(holder.told, [{ granted: { after: null, takeover: false } }, "elsewhere"], "told nothing more on resume");
  assert.deepEqual(holders([holder, other]), [other]);
});
