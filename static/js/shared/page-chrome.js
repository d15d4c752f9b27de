// shared/page-chrome.js — what both pages share around their content: texts in the page's language,
// the language switch, and the projector mode (large type, remembered in localStorage).

import { translatePage } from "./i18n.js";

export const PROJECTOR_KEY = "pushlab.projector";

export function setUpChrome() {
  translatePage();
  const root = document.documentElement;
  for (const link of document.querySelectorAll(".lang-switch a")) {
    link.setAttribute("aria-current", String(link.hreflang === root.lang));
  }
  const toggle = document.getElementById("projector-toggle");
  const show = () => toggle.setAttribute("aria-pressed", String(root.classList.contains("projector")));
  show();
  toggle.addEventListener("click", () => {
    const on = root.classList.toggle("projector");
    try {
      localStorage.setItem(PROJECTOR_KEY, on ? "on" : "off");
    } catch {
      // Storage refused (private mode): the mode still applies to this page.
    }
    show();
    document.dispatchEvent(new CustomEvent("pushlab:projector", { detail: { on } }));
  });
}
