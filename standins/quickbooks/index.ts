/**
 * Strict local stand-in for QuickBooks Online (Accounting API v3 + Intuit OAuth 2.0).
 * Start it with `startQuickBooksStandIn()`; point the product at `url` (QBO_API_BASE) and `tokenUrl`
 * (QBO_OAUTH_TOKEN_URL). See docs/standins.md, "QuickBooks Online stand-in".
 */
export { DEFAULT_MAX_RESULTS, MAX_RESULTS_LIMIT } from './query.js';
export { demoCompanySeed } from './seed.js';
export { startQuickBooksStandIn } from './server.js';
export type {
  CompanySeed,
  FaultEnvelope,
  InjectedFault,
  QuickBooksStandIn,
  QuickBooksStandInOptions,
  RequestLogEntry,
  StandInEntityType,
} from './types.js';
