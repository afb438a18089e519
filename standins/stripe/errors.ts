/** Stripe's error shape `{error:{type, code?, message, param?}}` with its status code (docs.stripe.com/api/errors). */

export interface StripeErrorBody {
  type: string;
  code?: string;
  message: string;
  param?: string;
}

export class StripeHttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: StripeErrorBody,
  ) {
    super(body.message);
  }
}

export const invalid = (message: string, param?: string, code?: string, status = 400): StripeHttpError =>
  new StripeHttpError(status, {
    type: 'invalid_request_error',
    message,
    ...(code ? { code } : {}),
    ...(param ? { param } : {}),
  });

export const noSuch = (what: string, id: string, param: string, status: number): StripeHttpError =>
  invalid(`No such ${what}: '${id}'`, param, 'resource_missing', status);
