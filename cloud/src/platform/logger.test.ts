import { describe, expect, it } from 'vitest';
import { createLogger } from './logger';

/** Logs one object through the production logger and returns the JSON line it wrote. */
function logged(fields: Record<string, unknown>): string {
  const lines: string[] = [];
  const logger = createLogger('info', { write: (line: string) => void lines.push(line) });
  logger.info(fields, 'something happened');
  return lines.join('');
}

const SECRET = 'hunter2-super-secret';
const TITLE = 'Salary review - Jane Doe.xlsx';

describe('logger redaction', () => {
  it.each([
    ['a request authorization header', { req: { headers: { authorization: `Bearer ${SECRET}` } } }],
    ['a request cookie', { req: { headers: { cookie: `icarus_session=${SECRET}` } } }],
    ['a password in a body', { body: { email: 'a@b.example', password: SECRET } }],
    ['a device token', { device: { token: SECRET } }],
    ['an access token', { result: { accessToken: SECRET } }],
    ['an assertion', { request: { assertion: SECRET } }],
    ['an enrollment token', { body: { enrollmentToken: SECRET } }],
    ['a TOTP code', { body: { totp: SECRET } }],
    ['a span title', { span: { app: 'Excel', title: SECRET } }],
    [
      'titles of a batch of spans',
      {
        spans: [
          { app: 'Excel', title: SECRET },
          { app: 'Code', title: SECRET },
        ],
      },
    ],
  ])('keeps %s out of the log', (_what, fields) => {
    const line = logged(fields);
    expect(line).toContain('[redacted]');
    expect(line).not.toContain(SECRET);
  });

  it('keeps what is not sensitive, so the log is still useful', () => {
    const line = JSON.parse(logged({ span: { app: 'Excel', title: TITLE }, orgId: 'org-1' })) as {
      span: { app: string; title: string };
      orgId: string;
      service: string;
    };
    expect(line).toMatchObject({ span: { app: 'Excel', title: '[redacted]' }, orgId: 'org-1', service: 'icarus-cloud' });
  });
});
