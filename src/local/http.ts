/**
 * Local mode's API Gateway: a loopback `node:http` server that turns each request into an API Gateway REST
 * proxy event, hands it to the same handler the Lambda runs, and writes back its result.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { lambdaContext } from './lambda-context.js';

/** API Gateway's own payload limit (10 MB); smaller bodies reach the handler, which applies the product's limit. */
export const API_GATEWAY_MAX_BODY_BYTES = 10 * 1024 * 1024;

export type ProxyHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

export interface Route {
  /** `ANY`: every method, as an API Gateway `ANY` method. */
  method: 'GET' | 'POST' | 'ANY';
  path: string;
  /**
   * Also every path below `path` that no other route serves, as API Gateway's `{proxy+}` resource (the support
   * console at `/`).
   */
  catchAll?: boolean;
  /** A Lambda handler behind API Gateway (proxy integration). */
  handler?: ProxyHandler;
  /** Or a plain answer computed here (health checks). */
  respond?: () => { statusCode: number; body: unknown };
  functionName?: string;
}

export interface LocalHttpServer {
  readonly server: Server;
  readonly port: number;
  readonly url: string;
  close(): Promise<void>;
}

const REGION = () => process.env.AWS_REGION ?? 'us-east-1';

/** Builds the API Gateway REST (v1) proxy event for a request, exactly as API Gateway would present it. */
export function toApiGatewayEvent(
  req: IncomingMessage,
  body: Buffer,
  resource: string,
): APIGatewayProxyEvent {
  const requestUrl = new URL(req.url ?? '/', 'http://localhost');
  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  // rawHeaders keeps the sender's casing, as API Gateway does (`Stripe-Signature`).
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i] as string;
    const value = req.rawHeaders[i + 1] as string;
    headers[name] = value;
    const values = multiValueHeaders[name] ?? [];
    values.push(value);
    multiValueHeaders[name] = values;
  }
  const query: Record<string, string> = {};
  const multiQuery: Record<string, string[]> = {};
  for (const [name, value] of requestUrl.searchParams) {
    query[name] = value;
    const values = multiQuery[name] ?? [];
    values.push(value);
    multiQuery[name] = values;
  }
  const hasQuery = Object.keys(query).length > 0;
  // Text bodies arrive as text; anything that is not valid UTF-8 is base64-encoded (byte-exact for signatures).
  const text = body.toString('utf8');
  const isText = Buffer.from(text, 'utf8').equals(body);
  const method = req.method ?? 'GET';
  const now = new Date();
  return {
    resource,
    path: requestUrl.pathname,
    httpMethod: method,
    headers,
    multiValueHeaders,
    queryStringParameters: hasQuery ? query : null,
    multiValueQueryStringParameters: hasQuery ? multiQuery : null,
    pathParameters: null,
    stageVariables: null,
    body: body.length === 0 && method === 'GET' ? null : isText ? text : body.toString('base64'),
    isBase64Encoded: !isText,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      authorizer: undefined,
      protocol: `HTTP/${req.httpVersion}`,
      httpMethod: method,
      identity: {
        accessKey: null,
        accountId: null,
        apiKey: null,
        apiKeyId: null,
        caller: null,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        user: null,
        userAgent: req.headers['user-agent'] ?? null,
        userArn: null,
      },
      path: `/local${requestUrl.pathname}`,
      stage: 'local',
      requestId: randomUUID(),
      requestTime: now.toUTCString(),
      requestTimeEpoch: now.getTime(),
      resourceId: 'local',
      resourcePath: resource,
      domainName: req.headers.host,
    },
  };
}

function sendJson(res: ServerResponse, statusCode: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(statusCode, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

function writeResult(res: ServerResponse, result: APIGatewayProxyResult): void {
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(result.headers ?? {})) headers[name] = String(value);
  for (const [name, values] of Object.entries(result.multiValueHeaders ?? {})) {
    headers[name] = values.map((v) => String(v));
  }
  const body = result.isBase64Encoded
    ? Buffer.from(result.body, 'base64')
    : Buffer.from(result.body ?? '', 'utf8');
  if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) {
    headers['content-type'] = 'application/json';
  }
  headers['content-length'] = String(body.length);
  res.writeHead(result.statusCode, headers);
  res.end(body);
}

/** Reads the body up to `limit` bytes; returns undefined (and stops reading) beyond it. */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      if (tooLarge) return;
      size += chunk.length;
      if (size > limit) {
        tooLarge = true;
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!tooLarge) resolve(Buffer.concat(chunks));
    });
    req.on('error', reject);
  });
}

export interface LocalHttpOptions {
  port: number;
  host?: string;
  routes: Route[];
  /** Called with errors the handlers threw (API Gateway answers 502 then). */
  onError?: (error: unknown, route: Route) => void;
}

export async function startLocalHttpServer(options: LocalHttpOptions): Promise<LocalHttpServer> {
  const host = options.host ?? '127.0.0.1';
  const server = createServer((req, res) => {
    void handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { message: 'Internal server error' });
      else res.destroy();
      options.onError?.(error, { method: 'GET', path: req.url ?? '/' });
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const pathname = new URL(req.url ?? '/', 'http://localhost').pathname.replace(/\/+$/, '') || '/';
    const exact = options.routes.filter((r) => r.path === pathname && !r.catchAll);
    const below = (r: Route) =>
      r.catchAll === true && (r.path === '/' || pathname === r.path || pathname.startsWith(`${r.path}/`));
    const candidates = exact.length > 0 ? exact : options.routes.filter(below);
    if (candidates.length === 0) {
      req.resume();
      sendJson(res, 404, {
        message: `no route for ${pathname}: local mode serves ${options.routes.map((r) => `${r.method} ${r.path}`).join(', ')}`,
      });
      return;
    }
    const route = candidates.find((r) => r.method === req.method || r.method === 'ANY');
    if (!route) {
      req.resume();
      res.setHeader('allow', candidates.map((r) => r.method).join(', '));
      sendJson(res, 405, { message: `${req.method} is not allowed on ${pathname}` });
      return;
    }
    if (route.respond) {
      req.resume();
      const answer = route.respond();
      sendJson(res, answer.statusCode, answer.body);
      return;
    }
    const body = await readBody(req, API_GATEWAY_MAX_BODY_BYTES);
    if (body === undefined) {
      sendJson(res, 413, { message: 'Request Too Long' });
      req.resume();
      return;
    }
    if (!route.handler) throw new Error(`route ${route.method} ${route.path} has no handler`);
    const event = toApiGatewayEvent(req, body, route.catchAll ? '/{proxy+}' : route.path);
    const context = lambdaContext(route.functionName ?? 'qbo-sync-local', 29_000, REGION());
    let result: APIGatewayProxyResult;
    try {
      result = await route.handler(event, context);
    } catch (error) {
      // What API Gateway answers when the integration fails.
      options.onError?.(error, route);
      sendJson(res, 502, { message: 'Internal server error' });
      return;
    }
    writeResult(res, result);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    port,
    url: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
