import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { parse } from 'yaml';
import { ROOT } from './support/processes.js';

/**
 * What OpenAPI-generated clients rely on, checked in the checked-in openapi.yaml (which CI proves
 * equal to a fresh one, and auth.e2e-spec proves equal to the served /openapi.json).
 */

interface Schema {
  properties?: Record<string, { writeOnly?: boolean; readOnly?: boolean }>;
  oneOf?: { $ref: string }[];
}
interface MediaType {
  schema?: unknown;
  example?: unknown;
  examples?: Record<string, { value: unknown }>;
}
interface Response {
  headers?: Record<string, { $ref?: string }>;
  content?: Record<string, MediaType>;
}
interface Operation {
  operationId: string;
  parameters?: { name: string; in: string; schema?: { type?: string } }[];
  requestBody?: { content: Record<string, MediaType> };
  responses: Record<string, Response>;
  security?: unknown[];
}
interface Document {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema>; headers?: Record<string, unknown> };
  security?: unknown[];
}

let spec: Document;
beforeAll(async () => {
  spec = parse(await readFile(join(ROOT, 'openapi.yaml'), 'utf8')) as Document;
});

const operations = (): [string, string, Operation][] =>
  Object.entries(spec.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]): [string, string, Operation] => [path, method, op]),
  );

describe('openapi.yaml', () => {
  it('names every agents, providers, credentials and records operation with a stable operationId', () => {
    const ids = operations().map(([, , op]) => op.operationId);
    expect(ids).toEqual(
      expect.arrayContaining([
        'createAgent',
        'listAgents',
        'getAgent',
        'replaceAgent',
        'deleteAgent',
        'createCredential',
        'listCredentials',
        'getCredential',
        'replaceCredential',
        'deleteCredential',
        'createProvider',
        'listProviders',
        'getProvider',
        'replaceProvider',
        'updateProvider',
        'deleteProvider',
        'listReplyRecords',
        'getUsage',
      ]),
    );
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('marks keys write-only and hints read-only, and never shows api_key in a response schema', () => {
    const schemas = spec.components.schemas;
    expect(schemas.LlmEntryRequest!.properties!.api_key).toMatchObject({ writeOnly: true });
    expect(schemas.CreateCredentialRequest!.properties!.api_key).toMatchObject({ writeOnly: true });
    expect(schemas.ProviderRequest!.properties!.api_key).toMatchObject({ writeOnly: true });
    expect(schemas.Provider!.properties!.api_key_hint).toMatchObject({ readOnly: true });
    expect(schemas.LlmEntry!.properties!.api_key_hint).toMatchObject({ readOnly: true });
    expect(schemas.Credential!.properties!.api_key_hint).toMatchObject({ readOnly: true });
    for (const name of ['Agent', 'LlmEntry', 'AgentList', 'Credential', 'CredentialList', 'Provider', 'ProviderList', 'LlmHeader']) {
      expect(Object.keys(schemas[name]!.properties!)).not.toContain('api_key');
    }
  });

  it('documents Idempotency-Key, If-Match and ETag where they apply', () => {
    const agents = spec.paths['/v1/agents']!;
    const agent = spec.paths['/v1/agents/{id}']!;
    expect(agents.post!.parameters).toContainEqual(expect.objectContaining({ name: 'Idempotency-Key', in: 'header' }));
    expect(agent.put!.parameters).toContainEqual(expect.objectContaining({ name: 'If-Match', in: 'header' }));
    expect(Object.keys(agents.post!.responses['201']!.headers ?? {})).toContain('ETag');
    expect(Object.keys(agent.get!.responses['200']!.headers ?? {})).toContain('ETag');
    expect(Object.keys(agent.put!.responses['200']!.headers ?? {})).toContain('ETag');
    expect(Object.keys(agent.put!.responses)).toEqual(expect.arrayContaining(['200', '401', '404', '412', '422']));
    const providers = spec.paths['/v1/providers']!;
    const provider = spec.paths['/v1/providers/{id}']!;
    expect(providers.post!.parameters).toContainEqual(expect.objectContaining({ name: 'Idempotency-Key', in: 'header' }));
    for (const op of [provider.put!, provider.patch!, provider.delete!]) {
      expect(op.parameters).toContainEqual(expect.objectContaining({ name: 'If-Match', in: 'header' }));
    }
    expect(Object.keys(provider.get!.responses['200']!.headers ?? {})).toContain('ETag');
  });

  it('describes every error response as problem+json', () => {
    const errors = operations().flatMap(([path, method, op]) =>
      Object.entries(op.responses)
        .filter(([status]) => Number(status) >= 400)
        .map(([status, response]) => [`${method.toUpperCase()} ${path} ${status}`, Object.keys(response.content ?? {})] as const),
    );
    expect(errors.length).toBeGreaterThan(20);
    for (const [where, types] of errors) expect({ where, types }).toEqual({ where, types: ['application/problem+json'] });
  });
});

describe('openapi.yaml for generated clients and Swagger UI', () => {
  const authenticated = () => operations().filter(([, , op]) => op.operationId !== 'getHealth');
  const bodyRoutes = () => operations().filter(([, , op]) => op.requestBody !== undefined);

  it('documents 401, 500 and 503 on every authenticated operation, and 400/413/415 on every one that takes a body', () => {
    expect(authenticated().length).toBeGreaterThanOrEqual(12);
    for (const [path, method, op] of authenticated()) {
      expect({ op: `${method} ${path}`, statuses: Object.keys(op.responses) }).toEqual({
        op: `${method} ${path}`,
        statuses: expect.arrayContaining(['401', '500', '503']),
      });
    }
    expect(
      bodyRoutes()
        .map(([path, method]) => `${method} ${path}`)
        .sort(),
    ).toEqual([
      'patch /v1/agents/{id}',
      'patch /v1/providers/{id}',
      'post /v1/agents',
      'post /v1/agents/{id}/replies',
      'post /v1/api-keys',
      'post /v1/credentials',
      'post /v1/llm-tests',
      'post /v1/providers',
      'put /v1/agents/{id}',
      'put /v1/credentials/{id}',
      'put /v1/providers/{id}',
    ]);
    for (const [path, method, op] of bodyRoutes()) {
      expect({ op: `${method} ${path}`, statuses: Object.keys(op.responses) }).toEqual({
        op: `${method} ${path}`,
        statuses: expect.arrayContaining(['400', '413', '415', '422']),
      });
    }
    // force=maybe is a 422 on delete, an unknown page size on list.
    expect(Object.keys(spec.paths['/v1/credentials/{id}']!.delete!.responses)).toEqual(expect.arrayContaining(['404', '409', '422']));
    expect(Object.keys(spec.paths['/v1/providers/{id}']!.delete!.responses)).toEqual(expect.arrayContaining(['404', '409', '412', '422']));
    expect(Object.keys(spec.paths['/v1/credentials']!.get!.responses)).toEqual(expect.arrayContaining(['400', '422']));
    expect(Object.keys(spec.paths['/v1/agents/{id}/reply-records']!.get!.responses)).toEqual(expect.arrayContaining(['400', '404', '422']));
    expect(Object.keys(spec.paths['/v1/usage']!.get!.responses)).toEqual(expect.arrayContaining(['422']));
  });

  it('documents X-Request-Id on every response of every operation', () => {
    expect(spec.components.headers?.XRequestId).toMatchObject({ schema: { type: 'string' } });
    for (const [path, method, op] of operations()) {
      for (const [status, response] of Object.entries(op.responses)) {
        expect({ at: `${method} ${path} ${status}`, header: response.headers?.['X-Request-Id'] }).toEqual({
          at: `${method} ${path} ${status}`,
          header: { $ref: '#/components/headers/XRequestId' },
        });
      }
    }
  });

  it('documents Location and Idempotent-Replayed where a resource is created', () => {
    const agentCreated = spec.paths['/v1/agents']!.post!.responses['201']!.headers!;
    expect(Object.keys(agentCreated)).toEqual(expect.arrayContaining(['ETag', 'Location', 'Idempotent-Replayed']));
    expect(Object.keys(spec.paths['/v1/credentials']!.post!.responses['201']!.headers!)).toContain('Location');
  });

  it('types every limit as an integer', () => {
    const limits = operations().flatMap(([, , op]) => (op.parameters ?? []).filter((p) => p.name === 'limit'));
    expect(limits).toHaveLength(5);
    for (const limit of limits) expect(limit.schema).toMatchObject({ type: 'integer', minimum: 1, maximum: 100 });
  });

  it('describes the reply as JSON or an event stream whose events each have a schema', () => {
    const ok = spec.paths['/v1/agents/{id}/replies']!.post!.responses['200']!.content!;
    expect(ok['application/json']!.schema).toEqual({ $ref: '#/components/schemas/Reply' });
    expect(ok['text/event-stream']!.schema).toEqual({
      oneOf: ['ReplyDelta', 'ReplyToolCall', 'ReplyCompleted', 'ReplyError'].map((name) => ({ $ref: `#/components/schemas/${name}` })),
    });
    const required = (name: string) => (spec.components.schemas[name] as { required?: string[] }).required;
    expect(required('ReplyDelta')).toEqual(['text']);
    expect(required('ReplyToolCall')).toEqual(['id', 'name', 'arguments', 'system']);
    expect(required('ReplyCompleted')).toEqual(['finish_reason', 'entry_index', 'model', 'ttft_ms', 'duration_ms']);
    expect(required('ReplyError')).toEqual(['code', 'message']);
  });

  it('gives every error status its own example problem, with that status and a type naming its code', () => {
    for (const [path, method, op] of operations()) {
      for (const [status, response] of Object.entries(op.responses).filter(([s]) => Number(s) >= 400)) {
        const media = response.content!['application/problem+json']!;
        const bodies = [
          ...(media.example === undefined ? [] : [media.example]),
          ...Object.values(media.examples ?? {}).map((e) => e.value),
        ];
        expect({ at: `${method} ${path} ${status}`, examples: bodies.length > 0 }).toEqual({
          at: `${method} ${path} ${status}`,
          examples: true,
        });
        for (const body of bodies as { status: number; code: string; type: string }[]) {
          expect(body.status).toBe(Number(status));
          expect(body.type).toBe(`https://agentplane.dev/problems/${body.code}`);
        }
      }
    }
  });

  it('has request examples for every body, and every example valid against its schema (as Swagger UI sends and shows them)', () => {
    const ajv = new Ajv({ strict: false, allErrors: true, discriminator: true });
    ajv.addFormat('uri', (value: string) => URL.canParse(value));
    ajv.addFormat('date-time', (value: string) => !Number.isNaN(Date.parse(value)) && /^\d{4}-\d\d-\d\dT/.test(value));
    // Component refs point at schemas registered under their own ids.
    const ID = 'https://agentplane.dev/schemas/';
    const rewrite = (value: unknown): unknown =>
      Array.isArray(value)
        ? value.map(rewrite)
        : value !== null && typeof value === 'object'
          ? Object.fromEntries(
              Object.entries(value).map(([k, v]) => [
                k,
                k === '$ref' && typeof v === 'string' ? v.replace('#/components/schemas/', ID) : rewrite(v),
              ]),
            )
          : value;
    for (const [name, schema] of Object.entries(spec.components.schemas)) {
      // Nothing in a documented body may go unnamed.
      ajv.addSchema(
        {
          ...(rewrite(schema) as object),
          additionalProperties: (schema as { additionalProperties?: unknown }).additionalProperties ?? false,
        },
        ID + name,
      );
    }
    const checked: string[] = [];
    const check = (where: string, schema: unknown, example: unknown): void => {
      const validate: ValidateFunction = ajv.compile(rewrite(schema) as object);
      const valid = validate(example);
      expect({ where, errors: valid ? [] : validate.errors }).toEqual({ where, errors: [] });
      checked.push(where);
    };
    for (const [path, method, op] of operations()) {
      const at = `${method} ${path}`;
      for (const [type, media] of Object.entries(op.requestBody?.content ?? {})) {
        expect({ at, examples: Object.keys(media.examples ?? {}).length > 0 }).toEqual({ at, examples: true });
        for (const [name, example] of Object.entries(media.examples ?? {}))
          check(`${at} request ${type} ${name}`, media.schema, example.value);
      }
      for (const [status, response] of Object.entries(op.responses)) {
        for (const [type, media] of Object.entries(response.content ?? {})) {
          if (media.example !== undefined) check(`${at} ${status} ${type}`, media.schema, media.example);
          for (const [name, example] of Object.entries(media.examples ?? {}))
            check(`${at} ${status} ${type} ${name}`, media.schema, example.value);
        }
      }
    }
    // Not vacuous: every error status and every body route was looked at.
    expect(checked.length).toBeGreaterThan(60);
    // The validator does refuse what the schemas refuse.
    expect(() => check('a reply request without messages', { $ref: '#/components/schemas/ReplyRequest' }, { stream: true })).toThrow();
  });
});
