/** The pure domain's public API: no AWS, Stripe SDK, HTTP or Powertools here. */
export * from './categories.js';
export * from './chart.js';
export * from './classify.js';
export * from './closed-period.js';
export * from './config.js';
export * from './deposit.js';
export * from './drift.js';
export * from './members.js';
export * from './money.js';
export * from './stripe.js';
export * from './types.js';
