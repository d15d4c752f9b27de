// controls/report.js — what happened to the last thing a control asked the server: "sending…",
// "applied at 14:03:07", or the server's refusal in its own words, shown next to that control.
// The console and the lab's Apply buttons use it; the control's element carries
// data-result="sending|ok|error" for the browser tests.

import { t, locale } from "../shared/i18n.js";

export class ControlReport {
  /** element: the control's box; status and error: where to write (inside it, usually). */
  constructor(element, { status = element.querySelector(".status"), error = element.querySelector(".error") } = {}) {
    this.element = element;
    this.status = status;
    this.error = error;
  }

  /**
   * Runs `action` (async, may throw an AdminApiError) and reports. `success(answer)` gives the
   * text shown when it worked (default: "applied at <time>"). Resolves to the answer, or null.
   */
  async run(action, success) {
    this.element.dataset.result = "sending";
    this.error.textContent = "";
    this.status.textContent = t("control.sending");
    try {
      const answer = await action();
      this.element.dataset.result = "ok";
      const time = new Date().toLocaleTimeString(locale);
      this.status.textContent = success ? success(answer, time) : t("control.applied", { time });
      return answer;
    } catch (error) {
      this.fail(error);
      return null;
    }
  }

  /**
   * A refusal in words: the server's (error.status > 0, 401 meaning the session is over), or the
   * page's own when the value could not even be sent or the server not reached (status 0).
   */
  fail(error) {
    this.element.dataset.result = "error";
    this.status.textContent = "";
    if (error.status === 401) this.error.textContent = t("control.session_over", { why: error.message });
    else if (error.status > 0) this.error.textContent = t("control.refused", { why: error.message });
    else this.error.textContent = error.message;
  }
}
