// pages/console/rate-steps.js — the console's rate slider: positions on a 1-2-5 ladder from 0 to
// 1000 events/s rather than a linear scale, where 0.5, 1, 2 and 5 (the rates of most experiments)
// would all crowd into the slider's first pixel. The number box beside it takes any rate exactly.

export const RATE_STEPS = [0, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000];

/** The slider position whose rate is nearest to `hz` (compared as ratios: 0.3 → 0.2, 700 → 500). */
export function stepOfRate(hz) {
  if (!(hz > 0)) return 0;
  let best = 1;
  for (let i = 1; i < RATE_STEPS.length; i++) {
    if (Math.abs(Math.log(RATE_STEPS[i] / hz)) < Math.abs(Math.log(RATE_STEPS[best] / hz))) best = i;
  }
  return best;
}

export function rateOfStep(step) {
  return RATE_STEPS[Math.min(RATE_STEPS.length - 1, Math.max(0, Math.round(step)))];
}
