/**
 * Placement's error responses: the JSON error document of the API working
 * group (`{"errors":[{status,title,detail,request_id,code}]}`), built from
 * WebOb's templates exactly as placement builds it, and WebOb's HTML and
 * plain-text variants for clients that do not accept JSON.
 */
import { acceptableOffers } from './accept.js';
import { MAX_VERSION, MIN_VERSION, Version } from './microversion.js';

/** Error codes placement puts in `code` from microversion 1.23. */
export const ErrorCode = {
  DEFAULT: 'placement.undefined_code',
  INVENTORY_INUSE: 'placement.inventory.inuse',
  CONCURRENT_UPDATE: 'placement.concurrent_update',
  DUPLICATE_NAME: 'placement.duplicate_name',
  PROVIDER_IN_USE: 'placement.resource_provider.inuse',
  PROVIDER_CANNOT_DELETE_PARENT: 'placement.resource_provider.cannot_delete_parent',
  RESOURCE_PROVIDER_NOT_FOUND: 'placement.resource_provider.not_found',
  ILLEGAL_DUPLICATE_QUERYPARAM: 'placement.query.duplicate_key',
  QUERYPARAM_BAD_VALUE: 'placement.query.bad_value',
  QUERYPARAM_MISSING_VALUE: 'placement.query.missing_value',
} as const;

/** The microversion from which errors carry `code`. */
const ERROR_CODE_VERSION = new Version(1, 23);

interface StatusText {
  title: string;
  explanation: string;
  /** WebOb's body template when the class overrides it. */
  template?: string;
}

const DEFAULT_TEMPLATE = '${explanation}<br /><br />\n${detail}\n${html_comment}\n';
const BAD_REQUEST =
  'The server could not comply with the request since it is either malformed or otherwise incorrect.';

const STATUS: Record<number, StatusText> = {
  400: { title: 'Bad Request', explanation: BAD_REQUEST },
  401: {
    title: 'Unauthorized',
    explanation:
      'This server could not verify that you are authorized to access the document you requested. Either you supplied the wrong credentials (e.g., bad password), or your browser does not understand how to supply the credentials required.',
  },
  403: { title: 'Forbidden', explanation: 'Access was denied to this resource.' },
  404: { title: 'Not Found', explanation: 'The resource could not be found.' },
  405: {
    title: 'Method Not Allowed',
    explanation: BAD_REQUEST,
    template:
      'The method ${REQUEST_METHOD} is not allowed for this resource. <br /><br />\n${detail}',
  },
  406: {
    title: 'Not Acceptable',
    explanation: BAD_REQUEST,
    template:
      'The resource could not be generated that was acceptable to your browser\n(content of type ${HTTP_ACCEPT}. <br /><br />\n${detail}',
  },
  409: {
    title: 'Conflict',
    explanation: 'There was a conflict when trying to complete your request.',
  },
  413: {
    title: 'Request Entity Too Large',
    explanation: 'The body of your request was too large for this server.',
  },
  415: {
    title: 'Unsupported Media Type',
    explanation: BAD_REQUEST,
    template:
      'The request media type ${CONTENT_TYPE} is not supported by this server.\n<br /><br />\n${detail}',
  },
  500: {
    title: 'Internal Server Error',
    explanation:
      'The server has either erred or is incapable of performing the requested operation.',
  },
  501: {
    title: 'Not Implemented',
    explanation: 'The server has not been built with the functionality to satisfy the request.',
  },
};

/**
 * An HTTP error, as a handler or the pipeline raises it.
 *
 * `escapes` reproduces a placement detail visible on the wire: errors that
 * placement's handlers return (WebOb exceptions inside `wsgify`) get
 * `vary: openstack-api-version`; errors that escape the handler as Python
 * exceptions (a missing object, a policy refusal, no route) get only the
 * version header.
 */
export class ApiError extends Error {
  readonly status: number;
  readonly detail: string;
  readonly code?: string;
  readonly headers: [string, string][];
  readonly escapes: boolean;
  /** 'webob' is WebOb's own JSON shape ({message, code, title}), used by the auth middleware. */
  readonly format: 'placement' | 'webob';

  constructor(
    status: number,
    detail: string | null,
    options: {
      code?: string;
      headers?: [string, string][];
      escapes?: boolean;
      format?: 'placement' | 'webob';
    } = {},
  ) {
    super(detail ?? STATUS[status]?.title ?? String(status));
    this.status = status;
    this.detail = detail ?? '';
    this.code = options.code;
    this.headers = options.headers ?? [];
    this.escapes = options.escapes ?? false;
    this.format = options.format ?? 'placement';
  }
}

/** A 404 raised the way placement's PlacementHandler raises NotFound. */
export function notFound(detail: string, options: { code?: string } = {}): ApiError {
  return new ApiError(404, detail, { ...options, escapes: true });
}

/** A 400 returned from inside a handler. */
export function badRequest(detail: string, code?: string): ApiError {
  return new ApiError(400, detail, { code });
}

/** What the renderer needs to know about the request. */
export interface ErrorContext {
  method: string;
  /** The Accept header after placement's defaulting (absent or * / * → application/json). */
  accept: string;
  contentType: string;
  requestId: string;
  /** The negotiated microversion, or undefined when negotiation itself failed. */
  version?: Version;
}

export interface RenderedError {
  status: number;
  contentType: string;
  body: string;
}

/** WebOb's strip_tags. */
function stripTags(value: string): string {
  return value
    .replace(/\n/g, ' ')
    .replace(/\r/g, '')
    .replace(/<br.*?>/gis, '\n')
    .replace(/<!--|-->/g, '')
    .replace(/<.*?>/gs, '');
}

/** WebOb's html_escape: &<>"' and anything beyond ASCII as a character reference. */
function htmlEscape(value: string): string {
  let out = '';
  for (const ch of value) {
    switch (ch) {
      case '&':
        out += '&amp;';
        break;
      case '<':
        out += '&lt;';
        break;
      case '>':
        out += '&gt;';
        break;
      case '"':
        out += '&quot;';
        break;
      case "'":
        out += '&#x27;';
        break;
      default: {
        const code = ch.codePointAt(0)!;
        out += code > 0x7f ? `&#${code};` : ch;
      }
    }
  }
  return out;
}

function statusLine(status: number): string {
  return `${status} ${STATUS[status]?.title ?? 'Error'}`;
}

function makeBody(err: ApiError, ctx: ErrorContext, escape: (s: string) => string): string {
  const text = STATUS[err.status] ?? { title: 'Error', explanation: '' };
  const args: Record<string, string> = {
    explanation: escape(text.explanation),
    detail: escape(err.detail),
    comment: '',
    html_comment: '',
    REQUEST_METHOD: escape(ctx.method),
    HTTP_ACCEPT: escape(ctx.accept),
    CONTENT_TYPE: escape(ctx.contentType),
  };
  return (text.template ?? DEFAULT_TEMPLATE).replace(
    /\$\{(\w+)\}/g,
    (whole, name: string) => args[name] ?? whole,
  );
}

/** Builds the body of an error response in the media type the client accepts. */
export function renderError(err: ApiError, ctx: ErrorContext): RenderedError {
  const [match] = acceptableOffers(ctx.accept, ['text/html', 'application/json']);
  if (match === 'text/html') {
    const body = makeBody(err, ctx, htmlEscape);
    const status = statusLine(err.status);
    return {
      status: err.status,
      contentType: 'text/html; charset=UTF-8',
      body: `<html>\n <head>\n  <title>${status}</title>\n </head>\n <body>\n  <h1>${status}</h1>\n  ${body}\n </body>\n</html>`,
    };
  }
  if (match === 'application/json') {
    const raw = makeBody(err, ctx, (s) => s);
    const title = STATUS[err.status]?.title ?? 'Error';
    if (err.format === 'webob') {
      return {
        status: err.status,
        contentType: 'application/json',
        body: JSON.stringify({ message: raw, code: statusLine(err.status), title }),
      };
    }
    const entry: Record<string, unknown> = {
      status: err.status,
      title,
      detail: stripTags(raw),
    };
    if (ctx.version && ctx.version.compare(ERROR_CODE_VERSION) >= 0) {
      entry['code'] = err.code ?? ErrorCode.DEFAULT;
    }
    entry['request_id'] = ctx.requestId;
    if (err.status === 406 && !ctx.version) {
      entry['max_version'] = MAX_VERSION.toString();
      entry['min_version'] = MIN_VERSION.toString();
    }
    return {
      status: err.status,
      contentType: 'application/json',
      body: JSON.stringify({ errors: [entry] }),
    };
  }
  return {
    status: err.status,
    contentType: 'text/plain; charset=UTF-8',
    body: `${statusLine(err.status)}\n\n${stripTags(makeBody(err, ctx, (s) => s))}`,
  };
}
