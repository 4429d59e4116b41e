/**
 * The Placement API request pipeline, in placement's middleware order:
 * request id → Accept defaulting → authentication → microversion →
 * Content-Type sanity → routing (404/405) → the route's decorator checks →
 * policy → read-only refusal → handler, with CORS (when configured) around
 * all but the request id, as placement's deploy.py stacks oslo.middleware's
 * CORS outside authentication. Framework-free: it takes a plain
 * request and returns a plain response, so the HTTP server, the in-process
 * verifier and the tests all drive the same code.
 */
import { randomUUID } from 'node:crypto';
import { redact } from '../errors/redact.js';
import { acceptableOffers, hasValidAccept } from './accept.js';
import { ObjectNotFound, RequestContext, type Caller } from './context.js';
import { ApiError, renderError, type ErrorContext } from './errors.js';
import {
  MicroversionError,
  negotiateVersion,
  STANDARD_HEADER,
  SERVICE_TYPE,
  type Version,
} from './microversion.js';
import { applyCors, type CorsOptions } from './cors.js';
import {
  defaultPolicy,
  noauthCredentials,
  operatorCredentials,
  policyTarget,
  type PolicyEnforcer,
} from './policy/index.js';
import { pyIntOrNull } from './py-format.js';
import { QueryParams } from './query.js';
import type { ApiResponse } from './response.js';
import { Router, type Operation } from './routes.js';
import type { PlacementStore } from './store/index.js';
import type { PlacementSettings } from './placement-settings.js';

export interface ApiRequest {
  method: string;
  /** The request target's path, still percent-encoded, without the query. */
  rawPath: string;
  query: string;
  /** Header names in lower case; repeated headers joined with ", ". */
  headers: Record<string, string | undefined>;
  /** The request body's bytes, for the write routes. */
  body?: Uint8Array | string;
}

export interface ApiResult extends ApiResponse {
  /** The negotiated microversion, for the access log ('-' when there was none). */
  microversion: string;
  requestId: string;
}

export interface ApiOptions {
  /** Never write; refuse write requests with 403. */
  readOnly: boolean;
  /**
   * The operator's token. When set, X-Auth-Token must equal it and its
   * holder is an admin. When unset, authentication is placement's noauth2.
   */
  authToken?: string;
  /** The policy to enforce (placement.conf's [oslo_policy]); placement's defaults when absent. */
  policy?: PolicyEnforcer;
  /** CORS, when placement.conf's [cors] allowed_origin is set. */
  cors?: CorsOptions;
  /** placement.conf's [placement] options; placement's defaults when absent. */
  settings?: PlacementSettings;
}

/**
 * The path as a WSGI server fills PATH_INFO (PEP 3333): every `%XX` is one
 * byte and every byte one character (latin-1), so a non-ASCII path names
 * what placement's routes see; anything else is kept as sent.
 */
function decodePath(raw: string): string {
  return raw.replace(/%([0-9A-Fa-f]{2})/g, (_, hex: string) =>
    String.fromCharCode(parseInt(hex, 16)),
  );
}

/** noauth2: the token is `user[:project]`; `admin` is an admin, X-Roles overrides. */
function noauthCaller(headers: ApiRequest['headers']): Caller {
  const token = headers['x-auth-token'] ?? '';
  const colon = token.indexOf(':');
  const userId = colon === -1 ? token : token.slice(0, colon);
  const projectId = (colon === -1 ? '' : token.slice(colon + 1)) || userId;
  const rolesHeader = headers['x-roles'];
  const roles =
    rolesHeader !== undefined ? rolesHeader.split(',') : userId === 'admin' ? ['admin'] : [];
  return { userId, projectId, roles, systemScope: headers['openstack-system-scope'] };
}

export class PlacementApi {
  private readonly router = new Router();
  private readonly policy: PolicyEnforcer;

  constructor(
    private readonly store: PlacementStore,
    private readonly options: ApiOptions,
  ) {
    this.policy = options.policy ?? defaultPolicy();
  }

  /** Answers one request; never throws. */
  async handle(req: ApiRequest): Promise<ApiResult> {
    const requestId = `req-${randomUUID()}`;
    const accept =
      !req.headers['accept'] || req.headers['accept'] === '*/*'
        ? 'application/json'
        : req.headers['accept'];
    const errCtx: ErrorContext = {
      method: req.method,
      accept,
      // WebOb shows a missing Content-Type as "None" in its 415 text.
      contentType: req.headers['content-type'] || 'None',
      requestId,
    };
    const path = decodePath(req.rawPath);
    let version: Version | undefined;
    let result: ApiResponse;
    try {
      result = await this.dispatch(req, path, accept, errCtx, (v) => (version = v));
      if (version) result.headers.push(...this.versionHeaders(version, true));
    } catch (err) {
      const apiErr = this.asApiError(err);
      errCtx.version = version;
      const rendered = renderError(apiErr, errCtx);
      const headers: [string, string][] = [
        ['content-type', rendered.contentType],
        ...apiErr.headers,
      ];
      // A 500 comes from the fault wrapper, outside the microversion middleware.
      if (version && apiErr.status !== 500) {
        headers.push(...this.versionHeaders(version, !apiErr.escapes));
      }
      result = { status: rendered.status, headers, body: rendered.body };
      if (req.method === 'HEAD') {
        headers[0] = ['content-type', 'text/html; charset=UTF-8'];
        result.body = '';
      }
    }
    if (this.options.cors) result = applyCors(this.options.cors, req.method, req.headers, result);
    result.headers.push(['x-openstack-request-id', requestId]);
    return { ...result, microversion: version?.toString() ?? '-', requestId };
  }

  /** The answer to a body beyond the server's limit, in placement's error format. */
  async tooLarge(method: string, headers: ApiRequest['headers']): Promise<ApiResult> {
    const requestId = `req-${randomUUID()}`;
    const rendered = renderError(new ApiError(413, 'The request body is too large.'), {
      method,
      accept: headers['accept'] || 'application/json',
      contentType: headers['content-type'] || 'None',
      requestId,
    });
    let result: ApiResponse = {
      status: 413,
      headers: [['content-type', rendered.contentType]],
      body: rendered.body,
    };
    if (this.options.cors) result = applyCors(this.options.cors, method, headers, result);
    result.headers.push(['x-openstack-request-id', requestId]);
    return { ...result, microversion: '-', requestId };
  }

  private versionHeaders(version: Version, vary: boolean): [string, string][] {
    const headers: [string, string][] = [[STANDARD_HEADER, `${SERVICE_TYPE} ${version}`]];
    if (vary) headers.push(['vary', STANDARD_HEADER]);
    return headers;
  }

  private asApiError(err: unknown): ApiError {
    if (err instanceof ApiError) return err;
    if (err instanceof ObjectNotFound) return new ApiError(404, err.message, { escapes: true });
    if (err instanceof MicroversionError) {
      return new ApiError(err.status, `Invalid microversion: ${err.message}`, { escapes: true });
    }
    // The driver's own words, without the SQL knex prefixes them with.
    const e = err as { sqlMessage?: unknown; message?: unknown };
    const message =
      typeof e.sqlMessage === 'string'
        ? e.sqlMessage
        : String(e.message ?? err).replace(/^[\s\S]* - (?=[^-]*$)/, '');
    return new ApiError(500, redact(message), { escapes: true });
  }

  private authenticate(req: ApiRequest, path: string): Caller | undefined {
    if (path === '/') return undefined;
    const token = req.headers['x-auth-token'];
    const unauthorized = () => new ApiError(401, null, { format: 'webob' });
    if (this.options.authToken !== undefined) {
      if (token !== this.options.authToken) throw unauthorized();
      return { userId: 'admin', projectId: 'admin', roles: ['admin'], systemScope: 'all' };
    }
    if (token === undefined) throw unauthorized();
    return noauthCaller(req.headers);
  }

  private async dispatch(
    req: ApiRequest,
    path: string,
    accept: string,
    errCtx: ErrorContext,
    setVersion: (v: Version) => void,
  ): Promise<ApiResponse> {
    const caller = this.authenticate(req, path);
    const version = negotiateVersion(req.headers[STANDARD_HEADER]);
    setVersion(version);
    errCtx.version = version;

    // PlacementHandler's check, with Python's int(): " 5 " is 5, "hi mom" a 400.
    const length = req.headers['content-length'];
    if (length) {
      const size = pyIntOrNull(length);
      if (size === null) {
        throw new ApiError(400, 'content-length header must be an integer', { escapes: true });
      }
      if (size > 0 && !req.headers['content-type']) {
        throw new ApiError(400, 'content-type header required when content-length > 0', {
          escapes: true,
        });
      }
    }

    const match = this.router.match(path);
    if (!match) throw new ApiError(404, null, { escapes: true });
    const op = match.route.methods.find(([m]) => m === req.method)?.[1];
    if (!op) {
      throw new ApiError(405, 'The method specified is not allowed for this resource.', {
        headers: [['allow', match.route.methods.map(([m]) => m).join(', ')]],
      });
    }
    const query = new QueryParams(req.query);
    this.runGuards(op, version, accept, req);
    if (caller && op.policy !== '') this.enforcePolicy(op.policy, req, query);
    if (op.write && this.options.readOnly) {
      throw new ApiError(
        403,
        `This Placement API is served read-only by placement-upgrade: ${req.method} ${path} is refused.`,
      );
    }
    if (!op.handler) {
      throw new ApiError(
        501,
        `${req.method} ${match.route.pattern} is not implemented by placement-upgrade yet.`,
      );
    }
    const ctx = new RequestContext(
      this.store,
      version,
      query,
      match.params,
      caller,
      req.body ?? '',
      req.headers,
      this.options.settings,
    );
    return op.handler(ctx);
  }

  /** context.can(action, target) as the handler calls it: 403 when the policy says no. */
  private enforcePolicy(action: string, req: ApiRequest, query: QueryParams): void {
    const creds =
      this.options.authToken !== undefined ? operatorCredentials() : noauthCredentials(req.headers);
    const target = policyTarget(action, creds, (name) => query.get(name));
    const decision = this.policy.decide(action, target, creds);
    if (decision !== 'allowed') {
      // placement re-raises a scope refusal as PolicyNotAuthorized(action): the action is the whole text.
      const detail =
        decision === 'out_of_scope' ? action : `Policy does not allow ${action} to be performed.`;
      throw new ApiError(403, detail, { escapes: true });
    }
  }

  /** The decorators placement stacks on the handler, outermost first. */
  private runGuards(op: Operation, version: Version, accept: string, req: ApiRequest): void {
    for (const guard of op.guards) {
      if (guard === 'version' && op.since && !version.atLeast(op.since)) {
        throw new ApiError(op.belowStatus ?? 404, null);
      }
      if (
        guard === 'accept' &&
        hasValidAccept(accept) &&
        acceptableOffers(accept, ['application/json']).length === 0
      ) {
        throw new ApiError(406, 'Only application/json is provided');
      }
      if (guard === 'content' && !(op.contentBefore && version.atLeast(op.contentBefore))) {
        const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
        if (type !== 'application/json') {
          throw new ApiError(
            415,
            `The media type ${type || 'None'} is not supported, use application/json`,
          );
        }
      }
    }
  }
}
