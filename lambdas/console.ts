/**
 * The support console behind the stack's API (`ANY /` and `ANY /{proxy+}`, REST proxy events): the Hono app of
 * src/console/app.ts with the Cognito sign-in, the same app local mode serves on loopback. Thin: the pages and
 * actions are in src/console, the use cases in src/app. The app and its adapters are built on the first request
 * and kept for the container's life; importing this module has no side effects.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import type { Hono } from 'hono';
import { handle } from 'hono/aws-lambda';
import { createConsoleApp } from '../src/console/app.js';
import { cognitoAuthFromEnv } from '../src/console/auth.js';
import { consoleServicesFrom } from '../src/console/services.js';
import { buildRuntime } from '../src/runtime.js';

export type ConsoleHandler = (
  event: APIGatewayProxyEvent,
  context: Context,
) => Promise<APIGatewayProxyResult>;

/** A Lambda (REST proxy) handler over a console app; local mode serves the same through its API Gateway stand-in. */
export function consoleHandler<E extends object>(app: Hono<E>): ConsoleHandler {
  const run = handle(app);
  return async (event, context) =>
    (await run(event as unknown as Parameters<typeof run>[0], context)) as APIGatewayProxyResult;
}

let built: ConsoleHandler | undefined;

/** The Lambda entry point: settings from the environment the stack gives this function (CONSOLE_*, tables, queues). */
export const handler: ConsoleHandler = async (event, context) => {
  built ??= consoleHandler(
    createConsoleApp({
      auth: cognitoAuthFromEnv(process.env),
      services: async () =>
        consoleServicesFrom(await buildRuntime(process.env, { serviceName: 'qbo-sync-console' }), {
          // Real SQS samples its servers: a short long-poll finds every DLQ message.
          dlqWaitSeconds: 1,
          local: false,
        }),
    }),
  );
  return built(event, context);
};
