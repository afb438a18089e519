/**
 * The ExchangeRate entity of a multicurrency company: `GET /v3/company/<realm>/exchangerate?sourcecurrencycode=EUR
 * &asofdate=YYYY-MM-DD` → `{"ExchangeRate": {SourceCurrencyCode, TargetCurrencyCode, Rate, AsOfDate, MetaData},
 * "time"}`.
 *
 * Sources: Intuit's Accounting API reference, ExchangeRate entity ("Read an exchange rate": both query parameters,
 * the fields above; `Rate` is home-currency units per one source unit, as every transaction's `ExchangeRate`, see
 * Intuit's "Manage multiple currencies" guide); quickbooks-ruby `Quickbooks::Service::ExchangeRate#fetch_by_currency`
 * (the same two parameters on `GET exchangerate`). Assumptions, not documented by Intuit and stated as such in
 * docs/standins.md: a date without a rate of its own takes the latest earlier rate (QuickBooks downloads one a day);
 * a currency with none at all is answered 610 "Object Not Found"; the home currency has rate 1.
 */
import { z } from 'zod';
import { qboTime } from './clock.js';
import type { CompanySettings } from './company.js';
import { objectNotFound, requiredMissing } from './faults.js';

export interface ExchangeRateSeed {
  SourceCurrencyCode: string;
  AsOfDate: string;
  Rate: number;
}

export const exchangeRatesSchema = z.array(
  z.object({
    SourceCurrencyCode: z
      .string()
      .regex(/^[A-Za-z]{3}$/, 'SourceCurrencyCode: a 3-letter ISO code')
      .transform((c) => c.toUpperCase()),
    AsOfDate: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'AsOfDate: YYYY-MM-DD'),
    Rate: z.number().positive(),
  }),
);

/** The answer to `GET /exchangerate` (throws a QboFault when a parameter is missing or there is no rate). */
export function readExchangeRate(
  settings: CompanySettings,
  query: URLSearchParams,
  nowMs: number,
): Record<string, unknown> {
  const source = query.get('sourcecurrencycode')?.trim().toUpperCase();
  if (!source) {
    throw requiredMissing(
      'Required parameter sourcecurrencycode is missing in the request',
      'sourcecurrencycode',
    );
  }
  const asOfDate = query.get('asofdate')?.trim() || qboTime(nowMs).slice(0, 10);
  const meta = { CreateTime: qboTime(settings.createdAt), LastUpdatedTime: qboTime(settings.createdAt) };
  const answer = (rate: number, date: string) => ({
    ExchangeRate: {
      SourceCurrencyCode: source,
      TargetCurrencyCode: settings.homeCurrency,
      Rate: rate,
      AsOfDate: date,
      MetaData: meta,
    },
  });
  if (source === settings.homeCurrency) return answer(1, asOfDate);
  const best = (settings.exchangeRates ?? [])
    .filter((r) => r.SourceCurrencyCode === source && r.AsOfDate <= asOfDate)
    .sort((a, b) => (a.AsOfDate < b.AsOfDate ? 1 : a.AsOfDate > b.AsOfDate ? -1 : 0))[0];
  if (!settings.multicurrency || best === undefined) {
    throw objectNotFound(`No exchange rate for ${source} as of ${asOfDate}.`, 'sourcecurrencycode');
  }
  return answer(best.Rate, best.AsOfDate);
}
