// strings-lab.js — the texts of the lab (/lab), in English and French.

export const LAB_STRINGS = {};
