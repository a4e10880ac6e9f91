import { randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Client } from '../clients/typescript/client/index.js';
import {
  createCredential,
  type CreateCredentialRequestWritable,
  type Credential,
  type CredentialList,
  deleteCredential,
  getCredential,
  listCredentials,
  replaceCredential,
  type ReplaceCredentialRequestWritable,
} from '../clients/typescript/index.js';
import { apiClient, type ClientResult, expectClientInvalid, expectClientProblem, expectStatus, untyped } from './support/api-client.js';
import { canaryLeaks, expectNoCanary } from './support/canary.js';
import { openTestDatabase } from './support/db-client.js';
import { type Body, expectInvalid, expectProblem, hintOf, ISO, type Problem, providerKey, send, sleep } from './support/http.js';
import { runCli, type CliResult, type RunningApi } from './support/processes.js';
import { openStoredSecrets } from './support/sealed-secrets.js';
import { usingPostgres, type TestStorage } from './support/storage.js';
import { startTestApi, type TestApi } from './support/test-api.js';

const ORIGIN = 'https://api.example.com';

function expectCredentialShape(body: Credential): void {
  expect(Object.keys(body).sort()).toEqual(
    ['allowed_origins', 'api_key_hint', 'created_at', 'id', 'last_used_at', 'name', 'object', 'updated_at'].sort(),
  );
  expect(body).toEqual({
    id: expect.stringMatching(/^cred_[0-9a-z]{26}$/),
    object: 'credential',
    name: expect.any(String),
    api_key_hint: expect.stringMatching(/^\*{4}([\x21-\x7e]{4})?$/),
    allowed_origins: expect.any(Array),
    created_at: expect.stringMatching(ISO),
    updated_at: expect.stringMatching(ISO),
    last_used_at: null,
  });
}

describe('credentials over HTTP', () => {
  let test: TestApi;
  let client: Client;

  /** What no typed client sends (raw JSON text, strings it cannot store): a plain request. */
  const call = (method: string, path: string, body?: Body): Promise<Response> =>
    send(test.api.url, method, path, test.keys['creds-main'], body);

  beforeAll(async () => {
    test = await startTestApi(['creds-main']);
    client = test.client('creds-main');
  });

  afterAll(async () => {
    await test?.dispose();
  });

  /** `as`: the caller's client (another organization's, or one with a wrong or no key). */
  const post = (body: CreateCredentialRequestWritable, as = client) => createCredential({ client: as, body });
  const put = (id: string, body: ReplaceCredentialRequestWritable, as = client) => replaceCredential({ client: as, path: { id }, body });
  const get = (id: string, as = client) => getCredential({ client: as, path: { id } });
  const remove = (id: string, force?: string, as = client) =>
    deleteCredential({ client: as, path: { id }, ...(force === undefined ? {} : { query: { force: untyped<'true'>(force) } }) });
  const list = (query: { limit?: number | string; after?: string } = {}, as = client) =>
    listCredentials({ client: as, query: untyped(query) });
  const orgClient = (key: string) => apiClient(test.api.url, key);

  async function create(input: CreateCredentialRequestWritable, as = client): Promise<Credential> {
    return expectStatus(await post(input, as), 201);
  }

  async function getOk(id: string, as = client): Promise<Credential> {
    return expectStatus(await get(id, as), 200);
  }

  async function listAll(as = client): Promise<Credential[]> {
    const page = expectStatus(await list({ limit: 100 }, as), 200);
    expect(page.has_more).toBe(false);
    return page.data;
  }

  describe('happy paths', () => {
    it('creates: 201, Location, the exact shape, normalized and de-duplicated origins, a hint for a 64-character key', async () => {
      const apiKey = providerKey(64);
      const res = await post({
        name: 'OpenAI production',
        api_key: apiKey,
        allowed_origins: [
          'https://API.example.com:443/',
          'https://api.example.com',
          'https://eu.Example.com:8443',
          'https://api.example.com/',
        ],
      });
      const body = expectStatus(res, 201);
      expect(res.response!.headers.get('content-type')).toBe('application/json; charset=utf-8');
      const text = JSON.stringify(body);
      expect(text).not.toContain(apiKey);
      expect(text).not.toContain('"api_key"');
      expectCredentialShape(body);
      expect(body).toEqual({
        id: body.id,
        object: 'credential',
        name: 'OpenAI production',
        api_key_hint: '****' + apiKey.slice(-4),
        allowed_origins: ['https://api.example.com', 'https://eu.example.com:8443'],
        created_at: body.created_at,
        updated_at: body.created_at,
        last_used_at: null,
      });
      const location = res.response!.headers.get('location')!;
      expect(location).toBe(`/v1/credentials/${body.id}`);
      // Location names the resource: reading it gives back the same representation.
      const again = await client.get<{ 200: Credential }>({ url: location, security: [{ scheme: 'bearer', type: 'http' }] });
      expect(expectStatus(again, 200)).toEqual(body);
    });

    it.each([
      [10, '****'],
      [19, '****'],
      [20, 'last4'],
      [64, 'last4'],
    ])('shows a fixed-length hint for a %i-character key', async (length, expected) => {
      const apiKey = providerKey(length);
      const body = await create({ name: `len ${length}`, api_key: apiKey, allowed_origins: [ORIGIN] });
      expect(body.api_key_hint).toBe(expected === 'last4' ? '****' + apiKey.slice(-4) : '****');
      expect((await getOk(body.id)).api_key_hint).toBe(body.api_key_hint);
    });

    it('gets and lists a credential without its key', async () => {
      const apiKey = providerKey(48);
      const created = await create({ name: 'get me', api_key: apiKey, allowed_origins: [ORIGIN] });
      const got = expectStatus(await get(created.id), 200);
      expect(JSON.stringify(got)).not.toContain(apiKey.slice(0, 40));
      expect(got).toEqual(created);

      const page = expectStatus(await list(), 200);
      expect(JSON.stringify(page)).not.toContain(apiKey.slice(0, 40));
      expect(Object.keys(page).sort()).toEqual(['data', 'has_more', 'next_cursor']);
      expect(page.data[0]).toEqual(created); // the newest
      for (const item of page.data) expectCredentialShape(item);
    });

    it('replaces: rename + rotate changes hint and updated_at; rename alone keeps the hint; narrowing needs no key', async () => {
      const first = providerKey(40);
      const created = await create({ name: 'before', api_key: first, allowed_origins: [ORIGIN, 'https://eu.example.com'] });
      await sleep(5);

      const second = providerKey(40);
      const rotated = expectStatus(
        await put(created.id, { name: 'after', api_key: second, allowed_origins: [ORIGIN, 'https://eu.example.com'] }),
        200,
      );
      expect(JSON.stringify(rotated)).not.toContain(second.slice(0, 30));
      expectCredentialShape(rotated);
      expect(rotated).toEqual({
        ...created,
        name: 'after',
        api_key_hint: '****' + second.slice(-4),
        updated_at: expect.stringMatching(ISO),
      });
      expect(rotated.api_key_hint).not.toBe(created.api_key_hint);
      expect(Date.parse(rotated.updated_at)).toBeGreaterThan(Date.parse(created.updated_at));
      expect(await getOk(created.id)).toEqual(rotated);
      await sleep(5);

      const renamed = expectStatus(await put(created.id, { name: 'renamed', allowed_origins: [ORIGIN, 'https://eu.example.com'] }), 200);
      expect(renamed).toEqual({ ...rotated, name: 'renamed', updated_at: expect.stringMatching(ISO) });
      expect(Date.parse(renamed.updated_at)).toBeGreaterThan(Date.parse(rotated.updated_at));
      await sleep(5);

      // Removing an origin (and re-spelling a kept one) does not widen anything: no key needed.
      const narrowed = expectStatus(await put(created.id, { name: 'renamed', allowed_origins: ['https://API.EXAMPLE.com:443'] }), 200);
      expect(narrowed).toEqual({ ...renamed, allowed_origins: [ORIGIN], updated_at: expect.stringMatching(ISO) });
      expect(Date.parse(narrowed.updated_at)).toBeGreaterThan(Date.parse(renamed.updated_at));
      expect(await getOk(created.id)).toEqual(narrowed);
    });

    it('deletes: 204 with no body, then 404 on every route and gone from the list', async () => {
      const created = await create({ name: 'doomed', api_key: providerKey(30), allowed_origins: [ORIGIN] });
      const res = await remove(created.id);
      expectStatus(res, 204);
      expect(await res.response!.text()).toBe('');
      expectClientProblem(await get(created.id), 404, 'not_found');
      expectClientProblem(await remove(created.id), 404, 'not_found');
      expectClientProblem(await put(created.id, { name: 'x', api_key: providerKey(30), allowed_origins: [ORIGIN] }), 404, 'not_found');
      expect((await listAll()).map((c) => c.id)).not.toContain(created.id);
    });

    it('deletes an unreferenced credential with force=true (204) and refuses force=maybe (422)', async () => {
      const created = await create({ name: 'forced', api_key: providerKey(30), allowed_origins: [ORIGIN] });
      const maybe = expectClientInvalid(await remove(created.id, 'maybe'));
      expect(maybe).toEqual([expect.objectContaining({ path: 'force', code: 'is_in' })]);
      expect((await getOk(created.id)).id).toBe(created.id);

      expectStatus(await remove(created.id, 'true'), 204);
      expectClientProblem(await get(created.id), 404, 'not_found');
    });
  });

  describe('errors', () => {
    let existing: Credential;
    let existingKey: string;

    beforeAll(async () => {
      existingKey = providerKey(36);
      existing = await create({ name: 'target', api_key: existingKey, allowed_origins: [ORIGIN] });
    });

    const valid = (): CreateCredentialRequestWritable => ({ name: 'valid', api_key: providerKey(32), allowed_origins: [ORIGIN] });

    it('names every missing field', async () => {
      const errors = expectClientInvalid(await post(untyped({})));
      expect(new Set(errors.map((e) => e.path))).toEqual(new Set(['name', 'api_key', 'allowed_origins']));
      const replaced = expectClientInvalid(await put(existing.id, untyped({})));
      // api_key is optional on PUT.
      expect(new Set(replaced.map((e) => e.path))).toEqual(new Set(['name', 'allowed_origins']));
    });

    it('refuses an unknown property (unknown_property) rather than dropping it', async () => {
      const errors = expectClientInvalid(await post(untyped({ ...valid(), extra: 1 })));
      expect(errors).toEqual([{ path: 'extra', code: 'unknown_property', message: expect.any(String) }]);
      const replaced = expectClientInvalid(
        await put(existing.id, untyped({ name: 'x', allowed_origins: [ORIGIN], apiKey: providerKey(30) })),
      );
      expect(replaced).toEqual([{ path: 'apiKey', code: 'unknown_property', message: expect.any(String) }]);
    });

    it('refuses wrong types', async () => {
      const errors = expectClientInvalid(await post(untyped({ name: 12, api_key: 34, allowed_origins: 'https://api.example.com' })));
      // One error per field: its type, not also the length or format a non-string cannot have.
      expect(errors).toEqual([
        { path: 'name', code: 'is_string', message: 'must be a string' },
        { path: 'api_key', code: 'is_string', message: 'must be a string' },
        { path: 'allowed_origins', code: 'is_array', message: 'must be an array' },
      ]);
      expect(expectClientInvalid(await post(untyped({})))).toEqual([
        { path: 'name', code: 'required', message: 'is required' },
        { path: 'api_key', code: 'required', message: 'is required' },
        { path: 'allowed_origins', code: 'required', message: 'is required' },
      ]);
      const items = expectClientInvalid(await post(untyped({ ...valid(), allowed_origins: [ORIGIN, 42] })));
      expect(items).toEqual([{ path: 'allowed_origins[1]', code: 'is_string', message: 'must be a string' }]);
      // A JSON body that is not an object is not a credential (the client would send no body for null).
      const key = test.keys['creds-main'];
      await expectInvalid(await send(test.api.url, 'POST', '/v1/credentials', key, 'null'));
      expectClientInvalid(await post(untyped('text')));
    });

    it('refuses NUL and unpaired surrogates, which PostgreSQL cannot store, naming the field', async () => {
      expect(await expectInvalid(await call('POST', '/v1/credentials', { ...valid(), name: 'prod\u0000' }))).toEqual([
        { path: 'name', code: 'nul_character', message: expect.any(String) },
      ]);
      expect(
        await expectInvalid(await call('PUT', `/v1/credentials/${existing.id}`, { name: '\ud800prod', allowed_origins: [ORIGIN] })),
      ).toEqual([{ path: 'name', code: 'unpaired_surrogate', message: expect.any(String) }]);
      expect(
        await expectInvalid(await call('POST', '/v1/credentials', { ...valid(), allowed_origins: [ORIGIN, `${ORIGIN}\udfff`] })),
      ).toEqual([{ path: 'allowed_origins[1]', code: 'unpaired_surrogate', message: expect.any(String) }]);
      // An api_key is refused by its own rule, which never names the key.
      expect(await expectInvalid(await call('POST', '/v1/credentials', { ...valid(), api_key: `${providerKey(30)}\u0000` }))).toEqual([
        { path: 'api_key', code: 'invalid_api_key', message: expect.any(String) },
      ]);
    });

    it('refuses blank names and empty or oversized allowed_origins', async () => {
      expect(expectClientInvalid(await post({ ...valid(), name: '   ' }))).toEqual([
        expect.objectContaining({ path: 'name', code: 'blank' }),
      ]);
      expect(expectClientInvalid(await post({ ...valid(), allowed_origins: [] }))).toEqual([
        expect.objectContaining({ path: 'allowed_origins', code: 'array_min_size' }),
      ]);
      const many = Array.from({ length: 21 }, (_, i) => `https://a${i}.example.com`);
      expect(expectClientInvalid(await post({ ...valid(), allowed_origins: many }))).toEqual([
        expect.objectContaining({ path: 'allowed_origins', code: 'array_max_size' }),
      ]);
      expect(expectClientInvalid(await put(existing.id, { name: 'x', allowed_origins: [] }))).toEqual([
        expect.objectContaining({ path: 'allowed_origins', code: 'array_min_size' }),
      ]);
    });

    it('names each bad origin by its index: https_required, invalid_origin', async () => {
      const errors = expectClientInvalid(
        await post({
          ...valid(),
          allowed_origins: [
            ORIGIN,
            'http://api.example.com',
            'https://api.example.com/v1',
            'https://api.example.com?x=1',
            'https://user:pw@api.example.com',
            'not a url',
            'https://api.example.com#frag',
          ],
        }),
      );
      expect(errors).toEqual([
        { path: 'allowed_origins[1]', code: 'https_required', message: expect.any(String) },
        { path: 'allowed_origins[2]', code: 'invalid_origin', message: expect.any(String) },
        { path: 'allowed_origins[3]', code: 'invalid_origin', message: expect.any(String) },
        { path: 'allowed_origins[4]', code: 'invalid_origin', message: expect.any(String) },
        { path: 'allowed_origins[5]', code: 'invalid_origin', message: expect.any(String) },
        { path: 'allowed_origins[6]', code: 'invalid_origin', message: expect.any(String) },
      ]);
      const replaced = expectClientInvalid(await put(existing.id, { name: 'x', allowed_origins: ['http://api.example.com'] }));
      expect(replaced).toEqual([{ path: 'allowed_origins[0]', code: 'https_required', message: expect.any(String) }]);
    });

    it.each([
      ['a space', (k: string) => `${k.slice(0, 10)} ${k.slice(10)}`],
      ['a newline', (k: string) => `${k}\n`],
      ['a tab', (k: string) => `\t${k}`],
      ['a non-ASCII character', (k: string) => `${k}é`],
    ])('refuses an api_key with %s (invalid_api_key) on POST and PUT', async (_, spoil) => {
      const bad = spoil(providerKey(32));
      expect(expectClientInvalid(await post({ ...valid(), api_key: bad }))).toEqual([
        { path: 'api_key', code: 'invalid_api_key', message: expect.any(String) },
      ]);
      expect(expectClientInvalid(await put(existing.id, { name: 'x', api_key: bad, allowed_origins: [ORIGIN] }))).toEqual([
        { path: 'api_key', code: 'invalid_api_key', message: expect.any(String) },
      ]);
    });

    it('refuses an empty or over-long api_key', async () => {
      expect(expectClientInvalid(await post({ ...valid(), api_key: '' }))).toEqual(
        expect.arrayContaining([expect.objectContaining({ path: 'api_key' })]),
      );
      expect(expectClientInvalid(await post({ ...valid(), api_key: 'k'.repeat(4097) }))).toEqual([
        expect.objectContaining({ path: 'api_key', code: 'is_length' }),
      ]);
    });

    it('refuses a hint-shaped api_key (masked_value_submitted) on POST and PUT, including the hint a read showed', async () => {
      for (const masked of ['****abcd', '****', '***', '*****', existing.api_key_hint]) {
        const created = expectClientProblem(await post({ ...valid(), api_key: masked }), 422, 'masked_value_submitted');
        expect(created.errors).toEqual([{ path: 'api_key', code: 'masked_value_submitted', message: expect.any(String) }]);
        const replaced = expectClientProblem(
          await put(existing.id, { name: 'x', api_key: masked, allowed_origins: [ORIGIN] }),
          422,
          'masked_value_submitted',
        );
        expect(replaced.errors).toEqual([{ path: 'api_key', code: 'masked_value_submitted', message: expect.any(String) }]);
      }
      // Other mask characters are not printable ASCII, so they never get as far as the mask check.
      for (const masked of ['••••abcd', '●●●●', '····abcd']) {
        for (const res of [
          await post({ ...valid(), api_key: masked }),
          await put(existing.id, { name: 'x', api_key: masked, allowed_origins: [ORIGIN] }),
        ]) {
          expect(res.response!.status).toBe(422);
          const { errors } = res.error as Problem;
          expect(errors).toEqual([
            { path: 'api_key', code: expect.stringMatching(/^(invalid_api_key|masked_value_submitted)$/), message: expect.any(String) },
          ]);
        }
      }
      expect(await getOk(existing.id)).toEqual(existing);
    });

    it('refuses to add an origin without the key (api_key_required) and leaves the credential as it was', async () => {
      const body = expectClientProblem(
        await put(existing.id, { name: 'widened', allowed_origins: [ORIGIN, 'https://evil.example.net'] }),
        422,
        'api_key_required',
      );
      expect(body.errors).toEqual([{ path: 'api_key', code: 'api_key_required', message: expect.any(String) }]);
      // Replacing the only origin by another one also adds an origin.
      expectClientProblem(
        await put(existing.id, { name: 'moved', allowed_origins: ['https://evil.example.net'] }),
        422,
        'api_key_required',
      );
      expect(await getOk(existing.id)).toEqual(existing);
    });

    it('treats api_key: null on PUT as an error, not as "keep the key"', async () => {
      const errors = expectClientInvalid(await put(existing.id, untyped({ name: 'x', api_key: null, allowed_origins: [ORIGIN] })));
      expect(errors.length).toBeGreaterThan(0);
      for (const e of errors) expect(e.path).toBe('api_key');
      expect(await getOk(existing.id)).toEqual(existing);
    });

    it('answers 404 for an unknown id on GET, PUT and DELETE', async () => {
      for (const id of ['cred_00000000000000000000000000', 'cred_nope', 'not-an-id', existing.id.toUpperCase()]) {
        expectClientProblem(await get(id), 404, 'not_found');
        expectClientProblem(await put(id, { name: 'x', allowed_origins: [ORIGIN] }), 404, 'not_found');
        expectClientProblem(await put(id, { name: 'x', api_key: providerKey(30), allowed_origins: [ORIGIN] }), 404, 'not_found');
        expectClientProblem(await remove(id), 404, 'not_found');
        const forced = expectClientProblem(await remove(id, 'true'), 404, 'not_found');
        // The problem does not repeat what the client put in the path.
        expect(JSON.stringify(forced)).not.toContain(id);
      }
    });

    it('answers 400 invalid_cursor for a cursor it did not issue', async () => {
      const forged = Buffer.from(JSON.stringify(['yesterday', 'cred_x'])).toString('base64url');
      for (const after of ['zzz', 'not!base64', forged, Buffer.from('[1,2]').toString('base64url')]) {
        expectClientProblem(await list({ after }), 400, 'invalid_cursor');
      }
    });

    it.each(['-000001-01-01T00:00:00.000Z', '0000-01-01T00:00:00.000Z', '+010000-01-01T00:00:00.000Z'])(
      'answers 400 invalid_cursor for a forged cursor dated %s',
      async (at) => {
        const after = Buffer.from(JSON.stringify([at, 'cred_x'])).toString('base64url');
        await expectProblem(await call('GET', `/v1/credentials?after=${after}`), 400, 'invalid_cursor');
      },
    );

    it.each(['toString', 'constructor', '__proto__', 'hasOwnProperty', 'valueOf', 'foo'])(
      'refuses the unknown query parameter %s on the list and on delete',
      async (name) => {
        expect(await expectInvalid(await call('GET', `/v1/credentials?${name}=1`))).toEqual([
          { path: name, code: 'unknown_property', message: expect.any(String) },
        ]);
        expect(await expectInvalid(await call('DELETE', `/v1/credentials/${existing.id}?${name}=1`))).toEqual([
          { path: name, code: 'unknown_property', message: expect.any(String) },
        ]);
      },
    );

    it('refuses a body property named like an Object.prototype member', async () => {
      for (const name of ['toString', 'constructor', '__proto__']) {
        const raw = JSON.stringify({ ...valid() }).replace(/}$/, `,"${name}":"x"}`);
        expect(await expectInvalid(await call('POST', '/v1/credentials', raw))).toEqual([
          { path: name, code: 'unknown_property', message: expect.any(String) },
        ]);
      }
    });

    it.each(['0', '101', 'abc', '-1', '2.5'])('refuses limit=%s with 422', async (limit) => {
      const errors = expectClientInvalid(await list({ limit }));
      expect(errors.length).toBeGreaterThan(0);
      for (const e of errors) expect(e.path).toBe('limit');
    });

    it('accepts limit=1 and limit=100', async () => {
      for (const limit of [1, 100]) {
        expect(expectStatus(await list({ limit }), 200).data.length).toBeLessThanOrEqual(limit);
      }
    });

    it('answers malformed JSON with 400 on POST and PUT, without echoing it', async () => {
      // Bytes no client would send: raw requests.
      const secret = providerKey(40);
      for (const [method, path] of [
        ['POST', '/v1/credentials'],
        ['PUT', `/v1/credentials/${existing.id}`],
      ] as const) {
        const body = await expectProblem(
          await send(test.api.url, method, path, test.keys['creds-main'], `{"name": "x", "api_key": "${secret}"`),
          400,
          'bad_request',
        );
        expect(JSON.stringify(body)).not.toContain(secret.slice(0, 10));
      }
      expect(await getOk(existing.id)).toEqual(existing);
    });

    it('answers 401 on every route without a valid key', async () => {
      for (const as of [apiClient(test.api.url), orgClient('ap_' + 'A'.repeat(43)), orgClient(`${test.keys['creds-main']}x`)]) {
        const results: ClientResult[] = [
          await post(valid(), as),
          await list({}, as),
          await get(existing.id, as),
          await put(existing.id, { name: 'x', allowed_origins: [ORIGIN] }, as),
          await remove(existing.id, undefined, as),
          await remove(existing.id, 'true', as),
        ];
        for (const res of results) {
          expectClientProblem(res, 401, 'unauthenticated');
          expect(res.response!.headers.get('www-authenticate')).toBe('Bearer');
        }
      }
      expect(await getOk(existing.id)).toEqual(existing);
    });
  });

  describe('pagination', () => {
    it('pages newest first in pages of 3, 3, 1 with no duplicates or gaps, and an old cursor still works after inserts', async () => {
      const pager = orgClient(await test.newKey('creds-pages'));
      const created: Credential[] = [];
      for (let i = 0; i < 7; i++) {
        created.push(await create({ name: `page ${i}`, api_key: providerKey(24), allowed_origins: [ORIGIN] }, pager));
        await sleep(3); // distinct created_at, so "newest first" is exactly the reverse creation order
      }
      const newestFirst = [...created].reverse();

      const pages: CredentialList[] = [];
      let after: string | null = null;
      do {
        const page: CredentialList = expectStatus(await list({ limit: 3, ...(after === null ? {} : { after }) }, pager), 200);
        pages.push(page);
        after = page.next_cursor;
        expect(pages.length).toBeLessThan(5);
      } while (after !== null);

      expect(pages.map((p) => p.data.length)).toEqual([3, 3, 1]);
      expect(pages.map((p) => p.has_more)).toEqual([true, true, false]);
      expect(pages.map((p) => typeof p.next_cursor)).toEqual(['string', 'string', 'object']);
      expect(pages[2]!.next_cursor).toBeNull();
      const seen = pages.flatMap((p) => p.data);
      expect(new Set(seen.map((c) => c.id)).size).toBe(7);
      expect(seen).toEqual(newestFirst);
      for (let i = 1; i < seen.length; i++) {
        expect(Date.parse(seen[i - 1]!.created_at)).toBeGreaterThan(Date.parse(seen[i]!.created_at));
      }

      const cursor1 = pages[0]!.next_cursor!;

      // New credentials are newer than everything: they belong before page 1, never after a cursor.
      const newer = [
        await create({ name: 'late 1', api_key: providerKey(24), allowed_origins: [ORIGIN] }, pager),
        await create({ name: 'late 2', api_key: providerKey(24), allowed_origins: [ORIGIN] }, pager),
      ];
      const rest: Credential[] = [];
      let next: string | null = cursor1;
      while (next !== null) {
        const page: CredentialList = expectStatus(await list({ limit: 3, after: next }, pager), 200);
        rest.push(...page.data);
        next = page.next_cursor;
      }
      expect(rest).toEqual(newestFirst.slice(3));
      const first = expectStatus(await list({ limit: 3 }, pager), 200);
      expect(first.data.map((c) => c.id)).toEqual([newer[1]!.id, newer[0]!.id, newestFirst[0]!.id]);

      // The default page holds them all, and a page that ends exactly at the end says so.
      const all = expectStatus(await list({}, pager), 200);
      expect(all).toEqual({ data: [...[...newer].reverse(), ...newestFirst], has_more: false, next_cursor: null });
      const exact = expectStatus(await list({ limit: 9 }, pager), 200);
      expect(exact.has_more).toBe(false);
      expect(exact.next_cursor).toBeNull();
    });
  });

  describe('tenancy', () => {
    it('hides one organization’s credentials from another: 404 on GET/PUT/DELETE, absent from its list, unchanged', async () => {
      const aKeyOrg = await test.newKey('creds-tenant-a');
      const bKeyOrg = await test.newKey('creds-tenant-b');
      const a = orgClient(aKeyOrg);
      const b = orgClient(bKeyOrg);
      const aOrg = expectStatus(
        await a.get<{ 200: { id: string } }>({ url: '/v1/organization', security: [{ scheme: 'bearer', type: 'http' }] }),
        200,
      );
      const bOrg = expectStatus(
        await b.get<{ 200: { id: string } }>({ url: '/v1/organization', security: [{ scheme: 'bearer', type: 'http' }] }),
        200,
      );
      expect(bOrg.id).not.toBe(aOrg.id);
      const aKey = providerKey(40);
      const mine = await create({ name: 'A only', api_key: aKey, allowed_origins: [ORIGIN] }, a);
      const theirs = await create({ name: 'B only', api_key: providerKey(40), allowed_origins: [ORIGIN] }, b);

      const attempts: ClientResult[] = [
        await get(mine.id, b),
        await put(mine.id, { name: 'stolen', allowed_origins: [ORIGIN] }, b),
        await put(mine.id, { name: 'stolen', api_key: providerKey(40), allowed_origins: ['https://evil.example.net'] }, b),
        await remove(mine.id, undefined, b),
        await remove(mine.id, 'true', b),
      ];
      const problems = [];
      for (const res of attempts) {
        const problem = expectClientProblem(res, 404, 'not_found');
        problems.push({ ...problem, request_id: undefined });
      }
      // Indistinguishable from an id that does not exist anywhere.
      const unknown = expectClientProblem(await get('cred_00000000000000000000000000', b), 404, 'not_found');
      for (const p of problems) expect(p).toEqual({ ...unknown, request_id: undefined });

      const bList = await listAll(b);
      expect(bList.map((c) => c.id)).toEqual([theirs.id]);
      const aList = await listAll(a);
      expect(aList.map((c) => c.id)).toEqual([mine.id]);
      expect(await getOk(mine.id, a)).toEqual(mine);
      // And the other way round.
      expectClientProblem(await get(theirs.id, a), 404, 'not_found');
      // Paging from a cursor does not cross organizations either.
      const cursor = Buffer.from(JSON.stringify(['2999-01-01T00:00:00.000Z', 'cred_zzzzzzzzzzzzzzzzzzzzzzzzzz'])).toString('base64url');
      const fromFuture = expectStatus(await list({ after: cursor }, b), 200);
      expect(fromFuture.data.map((c) => c.id)).toEqual([theirs.id]);
    });
  });
});

// --- Canary ----------------------------------------------------------------------------------

interface Exchange {
  readonly label: string;
  readonly status: number;
  readonly headers: string;
  readonly body: string;
}

/** Every file under `dir`, recursively. */
async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await filesUnder(path)));
    else if (entry.isFile()) out.push(path);
  }
  return out;
}

describe('a submitted key never leaves again (canary)', () => {
  // Random, with no fixed prefix, so a match can only be the key itself.
  const canary = randomBytes(48).toString('base64url'); // 64 characters
  const rotatedCanary = randomBytes(48).toString('base64url');
  const canaries = [
    ['canary', canary],
    ['rotation canary', rotatedCanary],
  ] as const;

  // Raw requests throughout: what is checked is every byte that comes back, error paths with
  // malformed bodies, wrong content types and odd headers included.
  let test: TestApi;
  let storage: TestStorage;
  let api: RunningApi;
  let key: string;
  let otherKey: string;
  const exchanges: Exchange[] = [];
  const cliRuns: { label: string; result: CliResult }[] = [];
  let kept: Credential; // created with the canary, then rotated to the rotation canary
  let untouched: Credential; // created with the canary, kept as it is
  let stopped: { code: number | null; signal: NodeJS.Signals | null } | undefined;

  beforeAll(async () => {
    test = await startTestApi(['canary-org', 'canary-other-org'], { LOG_LEVEL: 'trace' });
    ({ storage, api } = test);
    key = test.keys['canary-org']!;
    otherKey = test.keys['canary-other-org']!;
  });

  afterAll(async () => {
    await test?.dispose();
  });

  /** Sends a request and records its status, every header and the body text. */
  async function record(
    label: string,
    method: string,
    path: string,
    body?: Body,
    options: { as?: string | null; headers?: Record<string, string> } = {},
  ): Promise<Exchange> {
    const as = options.as === null ? undefined : (options.as ?? key);
    const res = await send(api.url, method, path, as, body, options.headers);
    const exchange: Exchange = {
      label: `${label} (${method} ${path.replace(canary, '<canary>')})`,
      status: res.status,
      headers: [...res.headers].map(([name, value]) => `${name}: ${value}`).join('\n'),
      body: await res.text(),
    };
    exchanges.push(exchange);
    return exchange;
  }

  it('finds a planted piece of a canary, and reports where without printing it', () => {
    const piece = canary.slice(20, 28);
    const leaks = canaryLeaks(`prefix ${piece} suffix`, canary, 'probe');
    expect(leaks).toHaveLength(1);
    expect(leaks[0]).toContain('probe: 8 consecutive characters of the canary (its chars 20..28) at offset 7');
    expect(leaks[0]).not.toContain(piece);
    const whole = canaryLeaks(`{"api_key":"${canary}"}`, canary, 'whole');
    expect(whole).toHaveLength(1);
    expect(whole[0]).toContain(`${canary.length} consecutive characters`);
    expect(whole[0]).not.toContain(canary.slice(0, 8));
    expect(canaryLeaks(canary.slice(0, 7) + '#' + canary.slice(8, 15), canary, 'short')).toEqual([]);
    expect(() => expectNoCanary(` ${canary.slice(-8)}`, canary, 'tail')).toThrow(/tail: 8 consecutive characters/);
  });

  it('exercises every route with the canary, including error paths that receive it', async () => {
    const origins = [ORIGIN];
    const expectStatus = (e: Exchange, status: number): void =>
      expect({ label: e.label, status: e.status }).toEqual({ label: e.label, status });
    const create = (label: string, name: string): Promise<Exchange> =>
      record(label, 'POST', '/v1/credentials', { name, api_key: canary, allowed_origins: origins });

    // Happy paths.
    const created = await create('create', 'canary');
    expectStatus(created, 201);
    kept = JSON.parse(created.body) as Credential;
    expect(kept.api_key_hint).toBe(hintOf(canary));
    const second = await create('create again', 'canary 2');
    expectStatus(second, 201);
    untouched = JSON.parse(second.body) as Credential;
    const third = await create('create to delete', 'canary 3');
    expectStatus(third, 201);
    const doomed = JSON.parse(third.body) as Credential;
    const fourth = await create('create to force-delete', 'canary 4');
    expectStatus(fourth, 201);
    const forced = JSON.parse(fourth.body) as Credential;

    expectStatus(await record('get', 'GET', `/v1/credentials/${kept.id}`), 200);
    expectStatus(await record('list', 'GET', '/v1/credentials'), 200);
    const page = await record('list page 1', 'GET', '/v1/credentials?limit=1');
    expectStatus(page, 200);
    const cursor = (JSON.parse(page.body) as CredentialList).next_cursor!;
    expectStatus(await record('list page 2', 'GET', `/v1/credentials?limit=1&after=${cursor}`), 200);
    expectStatus(await record('rename, same key', 'PUT', `/v1/credentials/${kept.id}`, { name: 'renamed', allowed_origins: origins }), 200);
    expectStatus(
      await record('rotate to the same canary', 'PUT', `/v1/credentials/${untouched.id}`, {
        name: 'same',
        api_key: canary,
        allowed_origins: origins,
      }),
      200,
    );
    const rotated = await record('rotate to the rotation canary', 'PUT', `/v1/credentials/${kept.id}`, {
      name: 'rotated',
      api_key: rotatedCanary,
      allowed_origins: [...origins, 'https://eu.example.com'],
    });
    expectStatus(rotated, 200);
    expect((JSON.parse(rotated.body) as Credential).api_key_hint).toBe(hintOf(rotatedCanary));
    expectStatus(await record('get rotated', 'GET', `/v1/credentials/${kept.id}`), 200);
    expectStatus(await record('delete', 'DELETE', `/v1/credentials/${doomed.id}`), 204);
    expectStatus(await record('delete, force', 'DELETE', `/v1/credentials/${forced.id}?force=true`), 204);

    // Error paths that receive the canary.
    const post = (label: string, body: Body, status: number, headers?: Record<string, string>): Promise<void> =>
      record(label, 'POST', '/v1/credentials', body, headers === undefined ? {} : { headers }).then((e) => expectStatus(e, status));
    const put = (label: string, id: string, body: Body, status: number, as?: string): Promise<void> =>
      record(label, 'PUT', `/v1/credentials/${id}`, body, as === undefined ? {} : { as }).then((e) => expectStatus(e, status));

    await post('http origin', { name: 'x', api_key: canary, allowed_origins: ['http://api.example.com'] }, 422);
    await post('origin with a path', { name: 'x', api_key: canary, allowed_origins: ['https://api.example.com/v1'] }, 422);
    await post('origin that embeds the canary', { name: 'x', api_key: canary, allowed_origins: [`https://${canary}@a.example.com`] }, 422);
    await post('no origins', { name: 'x', api_key: canary, allowed_origins: [] }, 422);
    await post('unknown property', { name: 'x', api_key: canary, allowed_origins: origins, extra: true }, 422);
    await post('canary under a wrong name', { name: 'x', apiKey: canary, allowed_origins: origins }, 422);
    await post(
      'canary nested under a wrong name',
      { name: 'x', api_key: canary, allowed_origins: origins, llm: [{ api_key: canary }] },
      422,
    );
    await post('missing name', { api_key: canary, allowed_origins: origins }, 422);
    await post('name of a wrong type', { name: ['x'], api_key: canary, allowed_origins: origins }, 422);
    await post('canary with a space', { name: 'x', api_key: `${canary.slice(0, 32)} ${canary.slice(32)}`, allowed_origins: origins }, 422);
    await post('canary with a newline', { name: 'x', api_key: `${canary}\n`, allowed_origins: origins }, 422);
    await post('canary too long', { name: 'x', api_key: canary.repeat(70), allowed_origins: origins }, 422);
    await post('canary as an array', { name: 'x', api_key: [canary], allowed_origins: origins }, 422);
    await post('canary as an object', { name: 'x', api_key: { value: canary }, allowed_origins: origins }, 422);
    await post('body too large', { name: 'x', api_key: canary, allowed_origins: origins, pad: canary.repeat(5000) }, 413);
    await post('malformed JSON', `{"name": "x", "api_key": "${canary}", "allowed_origins": [`, 400);
    await post('malformed JSON, bad token', `{"name": "x", "api_key": "${canary}" "allowed_origins": []}`, 400);
    await post('malformed JSON, bad escape', `{"api_key": "${canary}\\q"}`, 400);
    await post('not JSON at all', `api_key=${canary}`, 400);
    const asText = JSON.stringify({ name: 'x', api_key: canary, allowed_origins: origins });
    const textPlain = await record('text/plain body', 'POST', '/v1/credentials', asText, { headers: { 'content-type': 'text/plain' } });
    expect(textPlain.status).toBe(415);
    const form = await record('form body', 'POST', '/v1/credentials', `name=x&api_key=${canary}`, {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(form.status).toBe(415);

    await put('adding an origin without a key', untouched.id, { name: 'x', allowed_origins: [ORIGIN, 'https://evil.example.net'] }, 422);
    await put('canary with a bad origin', untouched.id, { name: 'x', api_key: canary, allowed_origins: ['http://api.example.com'] }, 422);
    await put('canary with an unknown property', untouched.id, { name: 'x', api_key: canary, allowed_origins: origins, extra: 1 }, 422);
    await put('canary with a newline', untouched.id, { name: 'x', api_key: `${canary}\r\n`, allowed_origins: origins }, 422);
    await put('canary to an unknown id', 'cred_00000000000000000000000000', { name: 'x', api_key: canary, allowed_origins: origins }, 404);
    await put('canary to another org', untouched.id, { name: 'x', api_key: canary, allowed_origins: origins }, 404, otherKey);
    expectStatus(await record('malformed JSON on PUT', 'PUT', `/v1/credentials/${untouched.id}`, `{"api_key": "${canary}`), 400);
    expectStatus(
      await record('body too large on PUT', 'PUT', `/v1/credentials/${untouched.id}`, {
        name: 'x',
        api_key: canary.repeat(5000),
        allowed_origins: origins,
      }),
      413,
    );

    // The canary where keys do not belong: headers and query strings.
    expectStatus(await record('canary as the bearer token', 'GET', '/v1/credentials', undefined, { as: canary }), 401);
    const basic = `Basic ${Buffer.from(`u:${canary}`).toString('base64')}`;
    const anonymous = (headers: Record<string, string>) => ({ as: null, headers });
    expectStatus(await record('canary as a Basic password', 'GET', '/v1/credentials', undefined, anonymous({ authorization: basic })), 401);
    expectStatus(
      await record('canary in x-api-key, no auth', 'GET', '/v1/credentials', undefined, anonymous({ 'x-api-key': canary })),
      401,
    );
    expectStatus(await record('canary in x-api-key', 'GET', '/v1/credentials', undefined, { headers: { 'x-api-key': canary } }), 200);
    const cookie = { headers: { cookie: `api_key=${canary}` } };
    expectStatus(await record('canary in a cookie', 'GET', `/v1/credentials/${kept.id}`, undefined, cookie), 200);
    expectStatus(await record('canary in the list query', 'GET', `/v1/credentials?api_key=${canary}`), 422);
    expectStatus(await record('canary as the cursor', 'GET', `/v1/credentials?after=${canary}`), 400);
    expectStatus(await record('canary as the limit', 'GET', `/v1/credentials?limit=${canary}`), 422);
    await record('canary in the get query', 'GET', `/v1/credentials/${kept.id}?api_key=${canary}`);
    expectStatus(await record('canary as force', 'DELETE', `/v1/credentials/${untouched.id}?force=${canary}`), 422);
    expectStatus(await record('canary in the query, no auth', 'GET', `/v1/credentials?api_key=${canary}`, undefined, { as: null }), 401);
    expectStatus(await record('canary in a query on an unknown route', 'GET', `/v1/nothing?api_key=${canary}`), 404);

    // Reads afterwards: the hints, and nothing else, of what was stored.
    const after = await record('list afterwards', 'GET', '/v1/credentials');
    expectStatus(after, 200);
    const list = JSON.parse(after.body) as CredentialList;
    expect(Object.fromEntries(list.data.map((c) => [c.id, c.api_key_hint]))).toEqual({
      [kept.id]: hintOf(rotatedCanary),
      [untouched.id]: hintOf(canary),
    });

    // The operator CLI, at the most verbose level, over the same storage (it opens every secret).
    const cliEnv = { ...storage.env, LOG_LEVEL: 'trace' };
    for (const args of [
      ['keys', 'verify', '--json'],
      ['keys', 'verify'],
      ['keys', 'status', '--json'],
      ['keys', 'status'],
      ['api-keys', 'list', '--org', 'canary-org', '--json'],
    ]) {
      const result = await runCli(args, cliEnv);
      expect({ args, code: result.code, stderr: result.stderr }).toEqual({ args, code: 0, stderr: expect.any(String) });
      cliRuns.push({ label: `cli ${args.join(' ')}`, result });
    }
    expect(JSON.parse(cliRuns[0]!.result.stdout)).toEqual({ checked: 2, failed: [] });
  });

  it('puts no piece of either canary in any response body or header', () => {
    expect(exchanges.length).toBeGreaterThan(50);
    const leaks: string[] = [];
    for (const e of exchanges) {
      for (const [name, value] of canaries) {
        leaks.push(...canaryLeaks(e.body, value, `${name} in the body of "${e.label}" (${e.status})`));
        leaks.push(...canaryLeaks(e.headers, value, `${name} in the headers of "${e.label}" (${e.status})`));
      }
    }
    expect(leaks).toEqual([]);
  });

  it('puts no piece of either canary in the API log or the CLI output', async () => {
    // Let the last request's log line out before stopping (pino writes asynchronously).
    const lastId = /x-request-id: (\S+)/.exec(exchanges.at(-1)!.headers)?.[1];
    expect(lastId).toBeDefined();
    const deadline = Date.now() + 5_000;
    while (!new RegExp(`"request_id":"${lastId}"[^\\n]*"request completed"`).test(api.output()) && Date.now() < deadline) await sleep(50);
    stopped = await api.stop();
    expect(stopped.code === 0 || stopped.signal === 'SIGTERM').toBe(true);

    const log = api.output();
    // The log is not vacuous: every request was logged.
    expect((log.match(/"msg":"request completed"/g) ?? []).length).toBeGreaterThanOrEqual(exchanges.length);
    expect(log).toContain('"msg":"request rejected"');
    const leaks: string[] = [];
    for (const [name, value] of canaries) {
      leaks.push(...canaryLeaks(log, value, `${name} in the API log`));
      for (const run of cliRuns) {
        leaks.push(...canaryLeaks(run.result.stdout, value, `${name} in the stdout of ${run.label}`));
        leaks.push(...canaryLeaks(run.result.stderr, value, `${name} in the stderr of ${run.label}`));
      }
    }
    expect(leaks).toEqual([]);
  });

  it('puts no piece of either canary in any row of any table, while the sealed key is there and opens', async () => {
    stopped ??= await api.stop(); // the API must no longer hold the (embedded) database
    const db = await openTestDatabase(storage);
    const leaks: string[] = [];
    let credentialRows: { id: string; api_key_hint: string }[];
    try {
      const client = await db.client();
      const tables = (
        await client.query<{ tablename: string }>("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
      ).rows.map((r) => r.tablename);
      expect(tables).toEqual(expect.arrayContaining(['credentials', 'organizations', 'api_keys']));
      for (const table of tables) {
        const rows = (await client.query<{ row: string }>(`SELECT t::text AS row FROM "${table.replaceAll('"', '""')}" t`)).rows;
        const dump = rows.map((r) => r.row).join('\n');
        for (const [name, value] of canaries) leaks.push(...canaryLeaks(dump, value, `${name} in table ${table}`));
      }
      credentialRows = (await client.query<{ id: string; api_key_hint: string }>('SELECT id, api_key_hint FROM credentials ORDER BY id'))
        .rows;
    } finally {
      await db.close();
    }
    expect(leaks).toEqual([]);
    // Not vacuous: the rows are there, with the hint of the key each one holds.
    expect(Object.fromEntries(credentialRows.map((r) => [r.id, r.api_key_hint]))).toEqual({
      [kept.id]: '****' + rotatedCanary.slice(-4),
      [untouched.id]: '****' + canary.slice(-4),
    });

    // ...and the sealed secrets really are the canaries, so the search looked where they live.
    const masterKeys =
      storage.env.AGENTPLANE_MASTER_KEYS ??
      (await readFile(join(storage.dataDir, 'master-keys'), 'utf8'))
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l !== '' && !l.startsWith('#'))
        .join(',');
    expect(await openStoredSecrets(storage, masterKeys)).toEqual(
      new Map([
        [kept.id, rotatedCanary],
        [untouched.id, canary],
      ]),
    );
  });

  (usingPostgres ? it.skip : it)('puts no piece of either canary in any file of the embedded data folder', async () => {
    stopped ??= await api.stop();
    const files = await filesUnder(storage.dataDir);
    expect(files.length).toBeGreaterThan(0);
    const leaks: string[] = [];
    for (const file of files) {
      const text = (await readFile(file)).toString('latin1');
      for (const [name, value] of canaries) leaks.push(...canaryLeaks(text, value, `${name} in ${file.slice(storage.dataDir.length)}`));
    }
    expect(leaks).toEqual([]);
  });
});
