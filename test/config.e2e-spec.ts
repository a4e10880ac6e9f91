import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expectInvalid, send } from './support/http.js';
import { createApiKey, ROOT, runProcess, startApi } from './support/processes.js';
import { createTestStorage } from './support/storage.js';

const API_MAIN = join(ROOT, 'dist/apps/api/src/main.js');
const CLI_MAIN = join(ROOT, 'dist/apps/cli/src/main.js');

describe('invalid configuration', () => {
  it.each([
    ['PORT', { PORT: 'http' }],
    ['LOG_LEVEL', { LOG_LEVEL: 'chatty' }],
    ['AGENTPLANE_EGRESS_PRIVATE_NETWORKS', { AGENTPLANE_EGRESS_PRIVATE_NETWORKS: '10.20.0.0' }],
    ['AGENTPLANE_METRICS_PORT', { PORT: '9464', AGENTPLANE_METRICS_PORT: '9464' }],
    ['AGENTPLANE_MASTER_KEYS', { AGENTPLANE_MASTER_KEYS: 'k1:c2hvcnQtc2VjcmV0' }],
    ['AGENTPLANE_MASTER_KEYS', { DATABASE_URL: 'postgresql://postgres@127.0.0.1:5432/x' }],
  ])('stops the API before it touches storage, naming %s and showing no stack', async (variable, env) => {
    const dataDir = join(tmpdir(), `agentplane-never-created-${process.pid}-${Date.now()}`);
    const result = await runProcess(process.execPath, [API_MAIN], { AGENTPLANE_DATA_DIR: dataDir, ...env });
    expect(result.code).toBe(2);
    expect(existsSync(dataDir)).toBe(false);
    expect(result.stderr).toContain(`${variable}:`);
    expect(result.stderr).not.toMatch(/^\s+at /m);
    expect(result.stderr).not.toContain('c2hvcnQtc2VjcmV0');
    expect(result.stdout).toBe('');
  });

  it('stops the CLI the same way', async () => {
    const result = await runProcess(process.execPath, [CLI_MAIN, 'migrate'], { HOST: 'not a host' });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('HOST:');
    expect(result.stderr).not.toMatch(/^\s+at /m);
  });
});

describe('AGENTPLANE_EGRESS_ALLOWLIST', () => {
  it('is logged as a warning at start-up, naming every exempted host', async () => {
    const storage = await createTestStorage();
    const api = await startApi({ ...storage.env, AGENTPLANE_EGRESS_ALLOWLIST: 'localhost:8443, [::1]:9443,Upstream.Test' });
    try {
      const warning = api
        .output()
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as { level: number; msg: string; egress_allowlist?: string[] })
        .find((entry) => entry.msg.includes('AGENTPLANE_EGRESS_ALLOWLIST'));
      expect(warning).toMatchObject({ level: 'warn', egress_allowlist: ['localhost:8443', '[::1]:9443', 'upstream.test'] });
    } finally {
      await api.stop();
      await storage.dispose();
    }
  });
});

describe('AGENTPLANE_EGRESS_PRIVATE_NETWORKS', () => {
  it('lets an agent use a base_url inside a listed network, keeps refusing the rest, and logs the networks at start-up', async () => {
    const storage = await createTestStorage();
    const api = await startApi({ ...storage.env, AGENTPLANE_EGRESS_PRIVATE_NETWORKS: '10.20.0.0/16' });
    try {
      const { api_key: key } = await createApiKey('private-networks', storage.env);
      const create = (baseUrl: string) =>
        send(api.url, 'POST', '/v1/agents', key, { name: 'in-house', llm: [{ base_url: baseUrl, model: 'llama', auth: 'none' }] });
      expect((await create('https://10.20.4.2:8000/v1')).status).toBe(201);
      for (const refused of ['https://10.21.0.1/v1', 'https://127.0.0.1/v1', 'https://169.254.169.254/v1']) {
        const errors = await expectInvalid(await create(refused));
        expect(errors).toEqual([{ path: 'llm[0].base_url', code: 'private_host', message: expect.any(String) }]);
      }
      const logged = api
        .output()
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as { level: string; egress_private_networks?: string[] })
        .find((entry) => entry.egress_private_networks !== undefined);
      expect(logged).toMatchObject({ level: 'info', egress_private_networks: ['10.20.0.0/16'] });
    } finally {
      await api.stop();
      await storage.dispose();
    }
  });
});
