// live/poll-suggestion.js — who decides how often the short-poll client asks: the instructor
// suggests an interval (feed.poll_interval_ms, set at /admin), every page adopts it, and a student
// may still choose another; the student's choice holds until the instructor suggests a new value.
//
// The server numbers the suggestions (feed.poll_interval_suggestion, 0 = never suggested: the
// server's default), so suggesting again the same value is news too.

import { t } from "../shared/i18n.js";
import { formatMillis } from "../shared/format.js";

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
    this.suggestion = null; // the number of the suggestion last adopted
    this.chooser = null; // "instructor" | "default" | "student"
  }

  /** Every stats update: feed.poll_interval_ms and feed.poll_interval_suggestion. */
  serverSays(ms, suggestion) {
    if (ms == null || suggestion === this.suggestion) return;
    this.suggested = ms;
    this.suggestion = suggestion;
    this.chooser = suggestion === 0 ? "default" : "instructor";
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
