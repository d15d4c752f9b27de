// own-counts.js — what this page counted of one transport ("this page" on a dashboard panel,
// "you" in a lab row): the counting half of the calls a transport client makes. Panel and LabRow
// extend it and draw; one place adds up, so the two pages can never count differently.

export class OwnCounts {
  constructor() {
    this.mine = { requests: 0, delivered: 0, empty: 0, missed: 0, bytesDown: 0, bytesUp: 0 };
  }

  countRequest() {
    this.mine.requests += 1;
    this.scheduleRender();
  }

  countEmpty() {
    this.mine.empty += 1;
    this.scheduleRender();
  }

  countMissed(count) {
    this.mine.missed += count;
    this.scheduleRender();
  }

  addBytesDown(bytes) {
    this.mine.bytesDown += bytes;
    this.scheduleRender();
  }

  addBytesUp(bytes) {
    this.mine.bytesUp += bytes;
    this.scheduleRender();
  }

  /** Redraws soon; the subclass decides how. */
  scheduleRender() {}
}
