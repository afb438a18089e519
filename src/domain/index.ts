/** The pure domain's public API: no AWS, Stripe SDK, HTTP or Powertools here. */
export * from './categories.js';
export * from './chart.js';
export * from './classify.js';
export * from './closed-period.js';
export * from './config.js';
export * from './customer-currency.js';
export * from './deposit.js';
export * from './deposit-lines.js';
export * from './drift.js';
export * from './entry-body.js';
export * from './entry-common.js';
export * from './members.js';
export * from './money.js';
export * from './reporting.js';
export * from './reversal-entry.js';
export * from './stripe.js';
export * from './types.js';
