/**
 * Stripe webhook signing secrets, each marked with the events it may sign (CONTRACT §1). Stripe gives the platform's
 * own endpoint and the Connect endpoint ("Events on Connected accounts") different secrets
 * (https://docs.stripe.com/connect/webhooks), so a delivery verified with the platform endpoint's secret must be a
 * platform event (no `account`), and one verified with the Connect endpoint's secret must carry `account`: a secret
 * leaked from one endpoint then cannot forge the other kind of event.
 *
 * Text form (the webhook secret's `webhookSecret`, or `STRIPE_WEBHOOK_SECRET`): comma-separated entries, each
 * `platform:whsec_…` or `connect:whsec_…`; while a secret is being rolled the old and the new one are both listed.
 * An unmarked `whsec_…` may sign either kind: accepted only where `allowUnmarked` (local mode, where
 * `stripe listen` signs every event with one secret).
 */

export type SigningSecretKind = 'platform' | 'connect' | 'any';

export interface SigningSecret {
  secret: string;
  kind: SigningSecretKind;
}

/** The text is not a list of marked signing secrets; the message says what is wrong, never the secret. */
export class SigningSecretsError extends Error {
  override readonly name = 'SigningSecretsError';
}

export function parseSigningSecrets(text: string, opts: { allowUnmarked?: boolean } = {}): SigningSecret[] {
  const out: SigningSecret[] = [];
  const entries = text
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '');
  for (const [i, entry] of entries.entries()) {
    const m = /^(platform|connect):\s*(\S+)$/i.exec(entry);
    if (m !== null) {
      out.push({ kind: (m[1] as string).toLowerCase() as 'platform' | 'connect', secret: m[2] as string });
    } else if (/^[^\s:]+$/.test(entry) && opts.allowUnmarked) {
      out.push({ kind: 'any', secret: entry });
    } else {
      throw new SigningSecretsError(
        `webhook signing secret #${i + 1} of ${entries.length} is not marked: write each as "platform:whsec_…" ` +
          '(the endpoint for your own account\'s events) or "connect:whsec_…" (the endpoint for connected accounts), comma-separated',
      );
    }
  }
  return out;
}

/** Whether a secret of this kind may sign an event with (`connect`) or without (`platform`) an `account`. */
export function maySign(kind: SigningSecretKind, event: { account?: string | undefined }): boolean {
  if (kind === 'any') return true;
  return kind === 'connect' ? event.account !== undefined : event.account === undefined;
}
