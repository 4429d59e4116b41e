import { describe, expect, it } from 'vitest';
import { ApiError, renderError, type ErrorContext } from '../../../src/api/errors.js';
import { Version } from '../../../src/api/microversion.js';

const ctx = (over: Partial<ErrorContext> = {}): ErrorContext => ({
  method: 'GET',
  accept: 'application/json',
  contentType: 'None',
  requestId: 'req-1',
  version: new Version(1, 0),
  ...over,
});

describe('error documents as placement renders them', () => {
  it("strips WebOb's template into the detail, with code from 1.23", () => {
    const body = JSON.parse(
      renderError(
        new ApiError(404, 'No resource provider with uuid abc found'),
        ctx({ version: new Version(1, 23) }),
      ).body,
    );
    expect(body).toEqual({
      errors: [
        {
          status: 404,
          title: 'Not Found',
          detail: 'The resource could not be found.\n\n No resource provider with uuid abc found  ',
          code: 'placement.undefined_code',
          request_id: 'req-1',
        },
      ],
    });
  });

  it('uses the 405 and 406 templates, and adds version bounds when negotiation failed', () => {
    const e405 = JSON.parse(
      renderError(
        new ApiError(405, 'The method specified is not allowed for this resource.'),
        ctx({ method: 'DELETE' }),
      ).body,
    );
    expect(e405.errors[0].detail).toBe(
      'The method DELETE is not allowed for this resource. \n\n The method specified is not allowed for this resource.',
    );
    const e406 = JSON.parse(
      renderError(
        new ApiError(406, 'Invalid microversion: Unacceptable version header: 1.40'),
        ctx({ version: undefined }),
      ).body,
    );
    expect(e406.errors[0]).toMatchObject({
      detail:
        'The resource could not be generated that was acceptable to your browser (content of type application/json. \n\n Invalid microversion: Unacceptable version header: 1.40',
      max_version: '1.39',
      min_version: '1.0',
    });
  });

  it('answers HTML or plain text to clients that do not take JSON', () => {
    const html = renderError(
      new ApiError(406, 'Only application/json is provided'),
      ctx({ accept: 'text/html' }),
    );
    expect(html.contentType).toBe('text/html; charset=UTF-8');
    expect(html.body).toContain('<title>406 Not Acceptable</title>');
    const plain = renderError(
      new ApiError(406, 'Only application/json is provided'),
      ctx({ accept: 'text/plain' }),
    );
    expect(plain.body).toBe(
      '406 Not Acceptable\n\nThe resource could not be generated that was acceptable to your browser (content of type text/plain. \n\n Only application/json is provided',
    );
  });

  it("renders the auth middleware's 401 in WebOb's own JSON", () => {
    const body = JSON.parse(renderError(new ApiError(401, null, { format: 'webob' }), ctx()).body);
    expect(body.code).toBe('401 Unauthorized');
    expect(body.message).toMatch(/credentials required\.<br \/><br \/>\n\n\n$/);
  });
});
