import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabaseKinds } from '../test/support/database';
import { makeTestOrg, PASSWORD, startPeopleCloud, type PeopleCloud, type TestOrg } from '../test/support/people';
import { httpsRequest, makeSelfSignedCertificate, type TestCertificate } from '../test/support/tls';
import { startCloud } from './start';

describe.each(testDatabaseKinds())('a cloud serving TLS itself on %s', (kind) => {
  let cert: TestCertificate;
  let cloud: PeopleCloud;
  let org: TestOrg;

  beforeAll(async () => {
    cert = makeSelfSignedCertificate();
    cloud = await startPeopleCloud(kind, { TLS_CERT: cert.certPath, TLS_KEY: cert.keyPath });
    org = await makeTestOrg(cloud, `tls${kind}`);
  });
  afterAll(async () => {
    await cloud?.stopAll();
    cert?.remove();
  });

  it('answers over HTTPS and its own address says so', async () => {
    expect(cloud.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const ready = await httpsRequest(`${cloud.url}/readyz`, cert.ca);
    expect(ready.status).toBe(200);
  });

  it('signs a person in over HTTPS with a Secure session cookie', async () => {
    const response = await httpsRequest(`${cloud.url}/api/session`, cert.ca, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: org.people.employee.email, password: PASSWORD }),
    });
    expect(response.status).toBe(201);
    const session = response.setCookies.find((line) => line.startsWith('icarus_session='));
    expect(session).toMatch(/;\s*Secure/i);
    expect(session).toMatch(/HttpOnly/i);
  });
});

describe('TLS settings', () => {
  it('refuses to start with only one of TLS_CERT and TLS_KEY, naming the missing one', async () => {
    await expect(startCloud({ env: { TLS_CERT: '/etc/hostname', DATA_DIR: ':memory:' }, silent: true })).rejects.toThrow(/TLS_KEY must be set too/);
  });

  it('refuses a certificate file it cannot read, naming the variable', async () => {
    await expect(
      startCloud({ env: { TLS_CERT: '/nonexistent/cert.pem', TLS_KEY: '/nonexistent/key.pem', DATA_DIR: ':memory:' }, silent: true }),
    ).rejects.toThrow(/TLS_CERT: cannot read \/nonexistent\/cert\.pem/);
  });

  it('refuses a key that does not belong to the certificate', async () => {
    const one = makeSelfSignedCertificate();
    const other = makeSelfSignedCertificate();
    try {
      await expect(startCloud({ env: { TLS_CERT: one.certPath, TLS_KEY: other.keyPath, DATA_DIR: ':memory:' }, silent: true })).rejects.toThrow(
        /TLS_CERT\/TLS_KEY: .*key values mismatch/,
      );
    } finally {
      one.remove();
      other.remove();
    }
  });
});
