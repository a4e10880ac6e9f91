import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { createApiKey, ROOT, runCli, runProcess, startApi, type RunningApi } from './support/processes.js';
import { createTestStorage, type TestStorage } from './support/storage.js';

describe('API keys over HTTP', () => {
  let storage: TestStorage;
  let api: RunningApi;

  beforeAll(async () => {
    storage = await createTestStorage();
    api = await startApi(storage.env);
  });

  afterAll(async () => {
    await api?.stop();
    await storage?.dispose();
  });

  const getOrg = (authorization?: string): Promise<Response> =>
    fetch(`${api.url}/v1/organization`, { headers: authorization === undefined ? {} : { authorization } });

  it('serves /healthz without a key', async () => {
    const res = await fetch(`${api.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('serves the docs and the spec, identical to the checked-in openapi.yaml, without a key', async () => {
    const docs = await fetch(`${api.url}/docs`);
    expect(docs.status).toBe(200);
    expect(await docs.text()).toContain('swagger-ui');
    const spec = (await (await fetch(`${api.url}/openapi.json`)).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(spec.paths)).toEqual(expect.arrayContaining(['/healthz', '/v1/organization']));
    expect(spec).toEqual(parse(await readFile(join(ROOT, 'openapi.yaml'), 'utf8')));
  });

  it('answers every kind of bad credential with the same 401 problem', async () => {
    const issued = await createApiKey('acme-401', storage.env);
    const keyId = (
      JSON.parse((await runCli(['api-keys', 'list', '--org', 'acme-401', '--json'], storage.env)).stdout) as {
        data: { id: string }[];
      }
    ).data[0]!.id;
    expect((await runCli(['api-keys', 'revoke', keyId], storage.env)).code).toBe(0);

    const wellFormedUnknown = 'ap_' + 'A'.repeat(43);
    const attempts: (string | undefined)[] = [
      undefined, // missing
      'Basic dXNlcjpwYXNz', // another scheme
      'Bearer', // no token
      'Bearer not-a-key', // malformed
      `Bearer ${wellFormedUnknown}`, // unknown
      `Bearer ${issued.api_key}x`, // almost right
      `Bearer ${issued.api_key}`, // revoked
    ];
    const bodies = [];
    for (const authorization of attempts) {
      const res = await getOrg(authorization);
      expect(res.status).toBe(401);
      expect(res.headers.get('content-type')).toBe('application/problem+json; charset=utf-8');
      expect(res.headers.get('www-authenticate')).toBe('Bearer');
      const body = (await res.json()) as Record<string, unknown>;
      expect(body.request_id).toBe(res.headers.get('x-request-id'));
      delete body.request_id;
      bodies.push(body);
    }
    for (const body of bodies) expect(body).toEqual(bodies[0]);
    expect(bodies[0]).toEqual({
      type: 'https://agentplane.dev/problems/unauthenticated',
      title: 'Unauthenticated',
      status: 401,
      detail: 'A valid API key is required.',
      code: 'unauthenticated',
    });
  });

  it('accepts a key created by the CLI and scopes the caller to its organization', async () => {
    const a = await createApiKey('acme-a', storage.env);
    const b = await createApiKey('acme-b', storage.env);
    const again = await createApiKey('acme-a', storage.env);
    expect(again.org_id).toBe(a.org_id);
    expect(b.org_id).not.toBe(a.org_id);

    for (const [key, org, name] of [
      [a.api_key, a.org_id, 'acme-a'],
      [again.api_key, a.org_id, 'acme-a'],
      [b.api_key, b.org_id, 'acme-b'],
    ] as const) {
      const res = await getOrg(`Bearer ${key}`);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ id: org, object: 'organization', name, created_at: expect.any(String) });
    }
    // The scheme name is case-insensitive (RFC 9110).
    expect((await getOrg(`bearer ${a.api_key}`)).status).toBe(200);
  });

  it('prints exactly {"org_id","api_key"} through the README command, and lists keys without the key', async () => {
    const npm = await runProcess(
      process.platform === 'win32' ? 'npm.cmd' : 'npm',
      ['run', '--silent', 'cli', '--', 'api-keys', 'create', '--org', 'readme-org', '--json'],
      storage.env,
    );
    expect(npm.code).toBe(0);
    expect(npm.stdout).toMatch(/^\{"org_id":"org_[0-9a-z]{26}","api_key":"ap_[A-Za-z0-9_-]{43}"\}\n$/);
    const { api_key: key } = JSON.parse(npm.stdout) as { api_key: string };

    const list = await runCli(['api-keys', 'list', '--org', 'readme-org', '--json'], storage.env);
    expect(list.code).toBe(0);
    expect(list.stdout).not.toContain(key);
    expect(list.stdout).not.toContain(key.slice(10));
    const listed = JSON.parse(list.stdout) as { data: { prefix: string; revoked_at: null }[] };
    expect(listed.data).toHaveLength(1);
    expect(key.startsWith(listed.data[0]!.prefix)).toBe(true);
  });

  it('never writes a key or an Authorization header to the logs', async () => {
    const issued = await createApiKey('acme-logs', storage.env);
    await getOrg(`Bearer ${issued.api_key}`);
    await fetch(`${api.url}/v1/organization?api_key=${issued.api_key}`, { headers: { 'x-api-key': issued.api_key } });
    const secretPart = issued.api_key.slice(3);
    // Give pino's asynchronous destination a moment to flush.
    await new Promise((r) => setTimeout(r, 300));
    expect(api.output()).toContain('request completed');
    expect(api.output()).not.toContain(secretPart);
  });

  it('rejects an unknown CLI organization with a clear message and exit code 1', async () => {
    const result = await runCli(['api-keys', 'list', '--org', 'no-such-org'], storage.env);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('Organization "no-such-org" not found.');
    expect(result.stdout).toBe('');
  });

  it('refuses to revoke a key that does not exist', async () => {
    const result = await runCli(['api-keys', 'revoke', 'key_doesnotexist'], storage.env);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('API key "key_doesnotexist" not found.');
  });
});
