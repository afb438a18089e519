/** The QuickBooks Online adapter: clients per realm, tokens, the limiter and the fault → error mapping. */
export {
  BATCH_SIZE,
  DEFAULT_API_BASE,
  displayNameCandidate,
  MINOR_VERSION,
  maskEmail,
  PAGE_SIZE,
  QboCallCounters,
  type QboRealmCalls,
  QuickBooksClientFactory,
  type QuickBooksClientOptions,
  QuickBooksRealmClient,
  qboQuoted,
  rankCustomers,
  SANDBOX_API_BASE,
} from './client.js';
export {
  errorForResponse,
  hintForCode,
  maskEmails,
  parseFault,
  type QboFault,
  type QboFaultItem,
  QboReconnectRequiredError,
  QboTransientError,
  QboValidationFault,
} from './faults.js';
export { LimiterRegistry, type LimiterStats, processLimiters, RateLimiter } from './limiter.js';
export {
  DEFAULT_AUTHORIZE_URL,
  DEFAULT_TOKEN_URL,
  QBO_ACCOUNTING_SCOPE,
  type QboLogger,
  QboTokenManager,
  type QboTokenManagerOptions,
} from './tokens.js';
