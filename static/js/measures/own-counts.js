// measures/own-counts.js — what this page counted of one transport ("this page" on a dashboard
// panel, "you" in a lab row): the counting half of the calls a transport client makes, and a redraw
// at most once per animation frame. Panel and LabRow extend it and say how to render(); one place
// adds up, so the two pages can never count differently.

export class OwnCounts {
  constructor() {
    this.mine = { requests: 0, delivered: 0, empty: 0, missed: 0, bytesDown: 0, bytesUp: 0 };
    this.renderScheduled = false;
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

  /** Redraws at the next animation frame, once however many counts changed before it. */
  scheduleRender() {
    if (this.renderScheduled) return;
    this.renderScheduled = true;
    requestAnimationFrame(() => {
      this.renderScheduled = false;
      this.render();
    });
  }

  /** Draws the numbers: the subclass's part. */
  render() {}
}
