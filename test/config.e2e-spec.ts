import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, runProcess } from './support/processes.js';

const API_MAIN = join(ROOT, 'dist/apps/api/src/main.js');
const CLI_MAIN = join(ROOT, 'dist/apps/cli/src/main.js');

describe('invalid configuration', () => {
  it.each([
    ['PORT', { PORT: 'http' }],
    ['LOG_LEVEL', { LOG_LEVEL: 'chatty' }],
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
