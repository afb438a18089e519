/**
 * Which QuickBooks company an access token belongs to, asked of QuickBooks itself: `GET
 * /v3/company/<realmId>/companyinfo/<realmId>` with the token. QuickBooks answers only for the company the token
 * was issued for (401 AuthenticationFailed or 403 ApplicationAuthorizationFailed otherwise: Intuit, "Fix common
 * errors", codes 3200/3100; the stand-in does the same), so a successful read proves the realm. Used by the OAuth
 * callback, which must never trust the `realmId` query parameter alone (CONTRACT §7).
 */
import axios from 'axios';
import { z } from 'zod';
import { PermanentError } from '../../app/errors.js';
import { QboTransientError } from './faults.js';
import { MINOR_VERSION } from './transport.js';

const CompanyInfoSchema = z.object({
  CompanyInfo: z.object({ CompanyName: z.string().optional() }).loose(),
});

/** QuickBooks did not confirm the company for this token. */
export class CompanyNotConfirmedError extends PermanentError {
  override readonly name = 'CompanyNotConfirmedError';
}

export async function readCompanyInfo(opts: {
  apiBase: string;
  realmId: string;
  accessToken: string;
  timeoutMs?: number;
}): Promise<{ realmId: string; companyName: string | undefined }> {
  const realm = encodeURIComponent(opts.realmId);
  const url = `${opts.apiBase.replace(/\/+$/, '')}/v3/company/${realm}/companyinfo/${realm}?minorversion=${MINOR_VERSION}`;
  let response: { status: number; data: unknown; headers: Record<string, unknown> };
  try {
    response = await axios.get(url, {
      headers: { Authorization: `Bearer ${opts.accessToken}`, Accept: 'application/json' },
      validateStatus: () => true,
      timeout: opts.timeoutMs ?? 15_000,
      maxRedirects: 0,
    });
  } catch (error) {
    throw new QboTransientError(
      `could not reach QuickBooks to read company ${opts.realmId}: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
  const tid =
    typeof response.headers.intuit_tid === 'string' ? ` [intuit_tid ${response.headers.intuit_tid}]` : '';
  if (response.status === 401 || response.status === 403) {
    throw new CompanyNotConfirmedError(
      `QuickBooks did not confirm company ${opts.realmId} for this authorization (HTTP ${response.status})${tid}`,
      'open the link printed by `npx qbo-sync connect` again and choose the company there, without editing the address',
    );
  }
  if (response.status === 429 || response.status >= 500) {
    throw new QboTransientError(
      `QuickBooks answered HTTP ${response.status} reading company ${opts.realmId}${tid}`,
      {
        status: response.status,
      },
    );
  }
  const parsed = CompanyInfoSchema.safeParse(response.data);
  if (response.status !== 200 || !parsed.success) {
    throw new CompanyNotConfirmedError(
      `QuickBooks answered HTTP ${response.status} without CompanyInfo for company ${opts.realmId}${tid}`,
      'try connecting again: `npx qbo-sync connect --tenant <id>`',
    );
  }
  return { realmId: opts.realmId, companyName: parsed.data.CompanyInfo.CompanyName };
}
