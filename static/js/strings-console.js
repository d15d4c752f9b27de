// strings-console.js — the texts of the instructor's console (/admin), in English and French.

export const CONSOLE_STRINGS = {};
