// poll-suggestion.js — who decides how often the short-poll client asks: the instructor suggests
// an interval (feed.poll_interval_ms, set at /admin), every page adopts it, and a student may
// still choose another; the student's choice holds until the instructor suggests a new value.
//
// The server only publishes the current value, so "a new suggestion" means "a value different
// from the last one seen": suggesting again the value already suggested changes nothing here.

import { t } from "./i18n.js";
import { formatMillis } from "./format.js";

/** The server's interval before any instructor touched it (src/feed/settings.rs). */
const SERVER_DEFAULT_MS = 1000;

export class PollSuggestion {
  /**
   * input: the page's interval box; apply(ms): gives the client a new interval;
   * describe(text): shows who chose the interval (e.g. in the short-poll panel).
   */
  constructor({ input, apply, describe }) {
    this.input = input;
    this.apply = apply;
    this.describe = describe;
    this.suggested = null;
    this.chooser = null; // "instructor" | "default" | "student"
  }

  /** Every stats update: `ms` is feed.poll_interval_ms. */
  serverSays(ms) {
    if (ms == null || ms === this.suggested) return;
    const first = this.suggested == null;
    this.suggested = ms;
    // The first value seen is only the server's default if nobody changed it; it is adopted
    // all the same, as the interval the class is using.
    this.chooser = first && ms === SERVER_DEFAULT_MS ? "default" : "instructor";
    this.input.value = String(ms);
    this.input.dataset.chooser = this.chooser;
    this.apply(ms);
    this.show();
  }

  /** The student typed an interval of their own (already validated). */
  studentChose(ms) {
    this.chooser = "student";
    this.input.dataset.chooser = this.chooser;
    this.apply(ms);
    this.show();
  }

  show() {
    const ms = formatMillis(Number(this.input.value));
    if (this.chooser === "student") {
      this.describe(t("poll.own", { ms, suggested: formatMillis(this.suggested) }));
    } else {
      this.describe(t(this.chooser === "default" ? "poll.default" : "poll.suggested", { ms }));
    }
  }
}
