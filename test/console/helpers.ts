/**
 * The support console's test rigs: the AWS handler (lambdas/console.ts over the Cognito settings) on a loopback
 * port through local mode's API Gateway stand-in, with a Cognito user pool stand-in, over the harness's runtime
 * (AWS emulators, Stripe and QuickBooks stand-ins). Plus a small cookie-keeping client for real HTTP.
 */

import { consoleHandler } from '../../lambdas/console.js';
import { createConsoleApp } from '../../src/console/app.js';
import { type ConsoleServices, consoleServicesFrom } from '../../src/console/services.js';
import type { ProxyHandler } from '../../src/local/http.js';
import { startLocalHttpServer } from '../../src/local/http.js';
import { type CognitoStandIn, startCognitoStandIn } from '../../standins/cognito/index.js';
import type { Harness } from '../app/harness.js';

export const USERS = [
  { username: 'sam', password: 'Support-pass-1', email: 'sam@support.example', groups: ['support'] },
  { username: 'vic', password: 'Viewer-pass-1', email: 'vic@bookkeeper.example', groups: ['viewer'] },
  { username: 'nora', password: 'Nogroup-pass-1', email: 'nora@example.com', groups: [] },
];

export interface AwsConsole {
  url: string;
  pool: CognitoStandIn;
  close(): Promise<void>;
}

/**
 * The console as the stack serves it (Cognito sign-in), at `<url>/` on loopback, over a harness's runtime or any
 * other console services.
 */
export async function startAwsConsole(over: Harness | (() => Promise<ConsoleServices>)): Promise<AwsConsole> {
  const services =
    typeof over === 'function'
      ? over
      : async () => consoleServicesFrom(over.runtime, { dlqWaitSeconds: 0, local: true });
  const pool = await startCognitoStandIn({ users: USERS });
  let handler: ProxyHandler | undefined;
  const server = await startLocalHttpServer({
    port: 0,
    routes: [
      {
        method: 'ANY',
        path: '/',
        catchAll: true,
        handler: (event, context) => (handler as ProxyHandler)(event, context),
      },
    ],
  });
  pool.callbackUrls.push(`${server.url}/auth/callback`);
  pool.logoutUrls.push(`${server.url}/`);
  handler = consoleHandler(
    createConsoleApp({
      auth: {
        kind: 'cognito',
        userPoolId: pool.userPoolId,
        clientId: pool.clientId,
        authDomain: pool.url,
        consoleUrl: server.url,
        jwksUrl: pool.jwksUrl,
      },
      services,
    }),
  );
  return {
    url: server.url,
    pool,
    close: async () => {
      await server.close();
      await pool.close();
    },
  };
}

/** A client keeping cookies like a browser (by name), redirects not followed. */
export class Client {
  readonly cookies = new Map<string, string>();
  constructor(readonly origin: string) {}

  async request(
    path: string,
    init: { method?: string; form?: Record<string, string>; headers?: Record<string, string> } = {},
  ): Promise<Response> {
    const headers: Record<string, string> = { ...init.headers };
    const url = path.startsWith('http') ? path : `${this.origin}${path}`;
    if (this.cookies.size > 0 && url.startsWith(this.origin)) {
      headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    }
    let body: string | undefined;
    if (init.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      headers.origin ??= this.origin;
      body = new URLSearchParams(init.form).toString();
    }
    const res = await fetch(url, {
      method: init.method ?? (init.form ? 'POST' : 'GET'),
      headers,
      body,
      redirect: 'manual',
    });
    if (url.startsWith(this.origin)) {
      for (const line of res.headers.getSetCookie()) {
        const [pair = ''] = line.split(';');
        const eq = pair.indexOf('=');
        const name = pair.slice(0, eq);
        const value = pair.slice(eq + 1);
        if (value === '' || /max-age=0/i.test(line)) this.cookies.delete(name);
        else this.cookies.set(name, value);
      }
    }
    return res;
  }

  /** The CSRF token a page's forms carry. */
  static csrfOf(html: string): string {
    const m = /name="csrf" value="([^"]+)"/.exec(html);
    if (!m?.[1]) throw new Error(`no CSRF token in the page:\n${html.slice(0, 400)}`);
    return m[1];
  }
}
