/**
 * An HTTP proxy in front of a Placement service, for the workload's fault
 * tests: it can rewrite a request body on its way in (a service that loses
 * part of what it was sent) and hold a request until the test lets it go
 * (to interrupt the client at a known point, never after a fixed delay).
 */
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';

export interface ProxyRule {
  /** Which requests the rule applies to. */
  match: (method: string, path: string) => boolean;
  /** Rewrites the request body (parsed JSON) before it goes on. */
  rewrite?: (body: unknown) => unknown;
  /** Holds the first matching request: `held` resolves when it arrives, `release()` lets it go. */
  hold?: boolean;
}

export interface RunningProxy {
  url: string;
  /** Resolves when a held request has arrived. */
  held: Promise<void>;
  release(): void;
  /** How many requests matched a rule. */
  matched(): number;
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export async function startProxy(upstream: string, rule: ProxyRule): Promise<RunningProxy> {
  const target = new URL(upstream);
  let arrived!: () => void;
  const held = new Promise<void>((r) => (arrived = r));
  let releaseHeld!: () => void;
  const released = new Promise<void>((r) => (releaseHeld = r));
  let holding = rule.hold ?? false;
  let matched = 0;
  const server: Server = createServer((req, res) => {
    void (async () => {
      let body = await readBody(req);
      const path = req.url ?? '/';
      if (rule.match(req.method ?? 'GET', path)) {
        matched += 1;
        if (rule.rewrite && body.length > 0) {
          body = Buffer.from(JSON.stringify(rule.rewrite(JSON.parse(body.toString()))));
        }
        if (holding) {
          holding = false;
          arrived();
          await released;
        }
      }
      const headers = { ...req.headers, host: target.host, 'content-length': String(body.length) };
      const out = httpRequest(
        { host: target.hostname, port: target.port, method: req.method, path, headers },
        (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        },
      );
      out.on('error', () => {
        res.writeHead(502);
        res.end();
      });
      out.end(body);
    })();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    held,
    release: () => releaseHeld(),
    matched: () => matched,
    close: () =>
      new Promise<void>((r) => {
        releaseHeld();
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
