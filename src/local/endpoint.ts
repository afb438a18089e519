/**
 * Local mode's HTTP endpoint: the routes API Gateway serves in AWS (the Stripe webhook, the QuickBooks OAuth
 * callback) plus `/healthz`, each Lambda handler answering 503 until local mode is ready.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { consoleHandler } from '../../lambdas/console.js';
import { handler as qboCallbackHandler } from '../../lambdas/qbo-callback.js';
import { handler as webhookHandler } from '../../lambdas/webhook.js';
import { type AppLog, describeError } from '../app/log.js';
import { createConsoleApp } from '../console/app.js';
import type { ConsoleServices } from '../console/services.js';
import { type LocalHttpServer, type ProxyHandler, type Route, startLocalHttpServer } from './http.js';
import { LocalStartError } from './types.js';

export interface EndpointOptions {
  port: number;
  /** False while local mode starts or stops: the handlers answer 503. */
  isReady: () => boolean;
  log: AppLog;
  /**
   * The support console at `/` (loopback, no sign-in): its adapters once local mode has built them, and the
   * operating-system user it records as the person behind its requests.
   */
  console?: { services: () => Promise<ConsoleServices>; user: string };
}

/** The routes local mode serves. */
export function localRoutes({ isReady, console }: Pick<EndpointOptions, 'isReady' | 'console'>): Route[] {
  const notReady = () => ({
    statusCode: 503,
    body: { status: 'starting', message: 'local mode is starting; try again in a moment' },
  });
  /** A Lambda handler behind the endpoint, answering 503 until everything is ready. */
  const whenReady =
    (
      handler: (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>,
    ): ProxyHandler =>
    async (event, context) => {
      if (!isReady()) return { statusCode: 503, body: JSON.stringify(notReady().body) };
      return handler(event, context);
    };
  return [
    {
      method: 'GET',
      path: '/healthz',
      respond: () => (isReady() ? { statusCode: 200, body: { status: 'ok' } } : notReady()),
    },
    {
      method: 'POST',
      path: '/webhooks/stripe',
      functionName: 'qbo-sync-local-webhook',
      handler: whenReady(webhookHandler),
    },
    {
      method: 'GET',
      path: '/quickbooks/callback',
      functionName: 'qbo-sync-local-qbo-callback',
      handler: whenReady(qboCallbackHandler),
    },
    ...(console
      ? [
          {
            // Every other path: the support console, the same app the stack serves behind Cognito.
            method: 'ANY' as const,
            path: '/',
            catchAll: true,
            functionName: 'qbo-sync-local-console',
            handler: whenReady(
              consoleHandler(
                createConsoleApp({ auth: { kind: 'local', user: console.user }, services: console.services }),
              ),
            ),
          },
        ]
      : []),
  ];
}

/** Opens the endpoint. @throws LocalStartError when the port is taken or not allowed. */
export async function startEndpoint(options: EndpointOptions): Promise<LocalHttpServer> {
  const { port, log } = options;
  return startLocalHttpServer({
    port,
    routes: localRoutes(options),
    onError: (error, route) =>
      log.error('a local handler failed', { route: route.path, reason: describeError(error) }),
  }).catch((error: unknown) => {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') {
      throw new LocalStartError(
        `port ${port} is in use (another local mode, or another server): stop it, or choose another port with --port P or PORT=P`,
      );
    }
    if (code === 'EACCES')
      throw new LocalStartError(`port ${port} cannot be opened here: choose one above 1023 with --port P`);
    throw error;
  });
}
