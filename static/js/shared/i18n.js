// shared/i18n.js — every label of the pages in the page's language (French or English).
//
// The server chooses the language (?lang=, else Accept-Language) and writes it into
// <html lang>; this module only looks texts up in the tables of
// strings/. Templates mark translatable
// elements with data-i18n="key" (text; its {placeholders} from a JSON data-i18n-vars written
// by the server, if any), data-i18n-html (trusted markup from the tables),
// data-i18n-placeholder, data-i18n-title and data-i18n-aria-label.

import { COMMON_STRINGS } from "../strings/common.js";
import { CONSOLE_STRINGS } from "../strings/console.js";
import { LAB_STRINGS } from "../strings/lab.js";

/** Every text of every page, one table (modules.test.mjs checks that no key is in two files). */
const STRINGS = { ...COMMON_STRINGS, ...CONSOLE_STRINGS, ...LAB_STRINGS };

export const lang = document.documentElement.lang === "fr" ? "fr" : "en";
export const locale = lang === "fr" ? "fr-FR" : "en-GB";

/** The text of `key`, with {name} placeholders filled from `vars`. */
export function t(key, vars = {}) {
  const entry = STRINGS[key];
  if (!entry) {
    // Loud on purpose: the browser tests fail on console errors, so a missing text is caught.
    console.error(`i18n: no text for "${key}"`);
    return key;
  }
  const text = entry[lang] ?? entry.en;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in vars ? String(vars[name]) : whole));
}

/** Fills every marked element under `root`. */
export function translatePage(root = document) {
  for (const element of root.querySelectorAll("[data-i18n]")) {
    const vars = element.dataset.i18nVars ? JSON.parse(element.dataset.i18nVars) : {};
    element.textContent = t(element.dataset.i18n, vars);
  }
  for (const element of root.querySelectorAll("[data-i18n-html]")) element.innerHTML = t(element.dataset.i18nHtml);
  for (const element of root.querySelectorAll("[data-i18n-placeholder]")) element.placeholder = t(element.dataset.i18nPlaceholder);
  for (const element of root.querySelectorAll("[data-i18n-title]")) element.title = t(element.dataset.i18nTitle);
  for (const element of root.querySelectorAll("[data-i18n-aria-label]")) element.setAttribute("aria-label", t(element.dataset.i18nAriaLabel));
}
