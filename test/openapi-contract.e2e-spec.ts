import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ROOT } from './support/processes.js';

/**
 * What OpenAPI-generated clients rely on, checked in the checked-in openapi.yaml (which CI proves
 * equal to a fresh one, and auth.e2e-spec proves equal to the served /openapi.json).
 */

interface Schema {
  properties?: Record<string, { writeOnly?: boolean; readOnly?: boolean }>;
}
interface Operation {
  operationId: string;
  parameters?: { name: string; in: string }[];
  responses: Record<string, { headers?: Record<string, unknown>; content?: Record<string, unknown> }>;
  security?: unknown[];
}
interface Document {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema> };
  security?: unknown[];
}

let spec: Document;
beforeAll(async () => {
  spec = parse(await readFile(join(ROOT, 'openapi.yaml'), 'utf8')) as Document;
});

const operations = (): [string, string, Operation][] =>
  Object.entries(spec.paths).flatMap(([path, methods]) => Object.entries(methods).map(([method, op]): [string, string, Operation] => [path, method, op]));

describe('openapi.yaml', () => {
  it('names every agents and credentials operation with a stable operationId', () => {
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
      ]),
    );
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('marks keys write-only and hints read-only, and never shows api_key in a response schema', () => {
    const schemas = spec.components.schemas;
    expect(schemas.LlmEntryRequest!.properties!.api_key).toMatchObject({ writeOnly: true });
    expect(schemas.CreateCredentialRequest!.properties!.api_key).toMatchObject({ writeOnly: true });
    expect(schemas.LlmEntry!.properties!.api_key_hint).toMatchObject({ readOnly: true });
    expect(schemas.Credential!.properties!.api_key_hint).toMatchObject({ readOnly: true });
    for (const name of ['Agent', 'LlmEntry', 'AgentList', 'Credential', 'CredentialList']) {
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
