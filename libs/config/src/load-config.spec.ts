import { ConfigError } from './config.error.js';
import { loadConfig, type Environment } from './load-config.js';

const KEY_A = Buffer.alloc(32, 1).toString('base64');
const KEY_B = Buffer.alloc(32, 2).toString('base64');

function problemsOf(env: Environment): { variable: string; message: string }[] {
  try {
    loadConfig(env, '/srv/app');
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return [...(error as ConfigError).problems];
  }
  throw new Error('expected loadConfig to fail');
}

describe('loadConfig', () => {
  it('applies defaults for embedded storage', () => {
    expect(loadConfig({}, '/srv/app')).toEqual({
      port: 3000,
      host: '127.0.0.1',
      storage: { kind: 'embedded', dataDir: '/srv/app/data' },
      masterKeys: [],
      egressAllowlist: [],
      egressPrivateNetworks: [],
      logLevel: 'info',
      replyHeartbeatMs: 15_000,
      recordRetentionDays: 30,
      metrics: null,
    });
  });

  it('parses every variable', () => {
    const config = loadConfig(
      {
        PORT: '8080',
        HOST: '0.0.0.0',
        DATABASE_URL: 'postgresql://postgres@127.0.0.1:5432/agentplane',
        AGENTPLANE_DATA_DIR: '/var/lib/agentplane',
        AGENTPLANE_MASTER_KEYS: `k2:${KEY_B}, k1:${KEY_A}`,
        AGENTPLANE_EGRESS_ALLOWLIST: 'LLM.test, 127.0.0.1:8443,[::1]:9443',
        AGENTPLANE_EGRESS_PRIVATE_NETWORKS: '10.20.0.0/16, FD12:3456::/32',
        LOG_LEVEL: 'DEBUG',
        AGENTPLANE_REPLY_HEARTBEAT_MS: '5000',
        AGENTPLANE_RECORD_RETENTION_DAYS: '7',
        AGENTPLANE_METRICS_PORT: '9464',
        AGENTPLANE_METRICS_HOST: '10.0.0.5',
        AGENTPLANE_METRICS_TOKEN: 'scrape-0123456789abcdef',
      },
      '/srv/app',
    );
    expect(config.port).toBe(8080);
    expect(config.host).toBe('0.0.0.0');
    expect(config.storage).toEqual({
      kind: 'postgres',
      url: 'postgresql://postgres@127.0.0.1:5432/agentplane',
      dataDir: '/var/lib/agentplane',
    });
    expect(config.masterKeys.map((k) => k.id)).toEqual(['k2', 'k1']);
    expect(Buffer.from(config.masterKeys[0]!.key).equals(Buffer.alloc(32, 2))).toBe(true);
    expect(config.egressAllowlist).toEqual([{ host: 'llm.test' }, { host: '127.0.0.1', port: 8443 }, { host: '::1', port: 9443 }]);
    expect(config.egressPrivateNetworks).toEqual([
      { address: '10.20.0.0', prefixLength: 16 },
      { address: 'fd12:3456::', prefixLength: 32 },
    ]);
    expect(config.logLevel).toBe('debug');
    expect(config.replyHeartbeatMs).toBe(5000);
    expect(config.recordRetentionDays).toBe(7);
    expect(config.metrics).toEqual({ port: 9464, host: '10.0.0.5', token: 'scrape-0123456789abcdef' });
  });

  it('listens for metrics on loopback without a token unless told otherwise', () => {
    expect(loadConfig({ HOST: '0.0.0.0', AGENTPLANE_METRICS_PORT: '9464' }).metrics).toEqual({
      port: 9464,
      host: '127.0.0.1',
      token: null,
    });
    // 0 picks a free port, as PORT=0 does, so both may say 0.
    expect(loadConfig({ PORT: '0', AGENTPLANE_METRICS_PORT: '0' }).metrics?.port).toBe(0);
  });

  it.each<[string, Environment]>([
    ['PORT', { PORT: 'eighty' }],
    ['PORT', { PORT: '70000' }],
    ['PORT', { PORT: '-1' }],
    ['HOST', { HOST: 'not a host' }],
    ['HOST', { HOST: 'bad_host!' }],
    ['DATABASE_URL', { DATABASE_URL: 'mysql://root@localhost/db', AGENTPLANE_MASTER_KEYS: `k1:${KEY_A}` }],
    ['DATABASE_URL', { DATABASE_URL: 'not a url', AGENTPLANE_MASTER_KEYS: `k1:${KEY_A}` }],
    ['AGENTPLANE_MASTER_KEYS', { DATABASE_URL: 'postgres://localhost/db' }],
    ['AGENTPLANE_MASTER_KEYS', { AGENTPLANE_MASTER_KEYS: KEY_A }],
    ['AGENTPLANE_MASTER_KEYS', { AGENTPLANE_MASTER_KEYS: `k1:${Buffer.alloc(16).toString('base64')}` }],
    ['AGENTPLANE_MASTER_KEYS', { AGENTPLANE_MASTER_KEYS: 'k1:not*base64' }],
    ['AGENTPLANE_MASTER_KEYS', { AGENTPLANE_MASTER_KEYS: `k1:${KEY_A},k1:${KEY_B}` }],
    ['AGENTPLANE_MASTER_KEYS', { AGENTPLANE_MASTER_KEYS: `bad id:${KEY_A}` }],
    ['AGENTPLANE_EGRESS_ALLOWLIST', { AGENTPLANE_EGRESS_ALLOWLIST: 'https://llm.test' }],
    ['AGENTPLANE_EGRESS_ALLOWLIST', { AGENTPLANE_EGRESS_ALLOWLIST: 'llm.test:0' }],
    ['AGENTPLANE_EGRESS_ALLOWLIST', { AGENTPLANE_EGRESS_ALLOWLIST: '::1' }],
    ['AGENTPLANE_EGRESS_PRIVATE_NETWORKS', { AGENTPLANE_EGRESS_PRIVATE_NETWORKS: '10.20.0.0' }],
    ['AGENTPLANE_EGRESS_PRIVATE_NETWORKS', { AGENTPLANE_EGRESS_PRIVATE_NETWORKS: '10.20.0.0/33' }],
    ['AGENTPLANE_EGRESS_PRIVATE_NETWORKS', { AGENTPLANE_EGRESS_PRIVATE_NETWORKS: 'vllm.internal/24' }],
    ['AGENTPLANE_EGRESS_PRIVATE_NETWORKS', { AGENTPLANE_EGRESS_PRIVATE_NETWORKS: '10.20.1.0/16' }],
    ['LOG_LEVEL', { LOG_LEVEL: 'loud' }],
    ['AGENTPLANE_REPLY_HEARTBEAT_MS', { AGENTPLANE_REPLY_HEARTBEAT_MS: '0' }],
    ['AGENTPLANE_REPLY_HEARTBEAT_MS', { AGENTPLANE_REPLY_HEARTBEAT_MS: '1.5' }],
    ['AGENTPLANE_REPLY_HEARTBEAT_MS', { AGENTPLANE_REPLY_HEARTBEAT_MS: '700000' }],
    ['AGENTPLANE_RECORD_RETENTION_DAYS', { AGENTPLANE_RECORD_RETENTION_DAYS: '0' }],
    ['AGENTPLANE_RECORD_RETENTION_DAYS', { AGENTPLANE_RECORD_RETENTION_DAYS: '3651' }],
    ['AGENTPLANE_RECORD_RETENTION_DAYS', { AGENTPLANE_RECORD_RETENTION_DAYS: '7.5' }],
    ['AGENTPLANE_RECORD_RETENTION_DAYS', { AGENTPLANE_RECORD_RETENTION_DAYS: 'thirty' }],
    ['AGENTPLANE_METRICS_PORT', { AGENTPLANE_METRICS_PORT: '70000' }],
    ['AGENTPLANE_METRICS_PORT', { AGENTPLANE_METRICS_PORT: 'metrics' }],
    ['AGENTPLANE_METRICS_PORT', { AGENTPLANE_METRICS_PORT: '3000' }],
    ['AGENTPLANE_METRICS_PORT', { PORT: '8080', AGENTPLANE_METRICS_PORT: '8080', AGENTPLANE_METRICS_HOST: '10.0.0.5' }],
    ['AGENTPLANE_METRICS_HOST', { AGENTPLANE_METRICS_PORT: '9464', AGENTPLANE_METRICS_HOST: 'not a host' }],
    ['AGENTPLANE_METRICS_HOST', { AGENTPLANE_METRICS_HOST: '0.0.0.0' }],
    ['AGENTPLANE_METRICS_TOKEN', { AGENTPLANE_METRICS_PORT: '9464', AGENTPLANE_METRICS_TOKEN: 'short' }],
    ['AGENTPLANE_METRICS_TOKEN', { AGENTPLANE_METRICS_PORT: '9464', AGENTPLANE_METRICS_TOKEN: 'has a space 0123456789' }],
    ['AGENTPLANE_METRICS_TOKEN', { AGENTPLANE_METRICS_TOKEN: 'scrape-0123456789abcdef' }],
  ])('names %s when it is invalid (%j)', (variable, env) => {
    const problems = problemsOf(env);
    expect(problems.map((p) => p.variable)).toEqual([variable]);
  });

  it('reports every bad variable at once', () => {
    const problems = problemsOf({ PORT: 'x', LOG_LEVEL: 'x', AGENTPLANE_MASTER_KEYS: 'x' });
    expect(problems.map((p) => p.variable).sort()).toEqual(['AGENTPLANE_MASTER_KEYS', 'LOG_LEVEL', 'PORT']);
  });

  it('never repeats secret values in its messages', () => {
    const secretUrl = 'mysql://admin:hunter2-secret@db/x';
    const shortKey = Buffer.from('short-secret-material').toString('base64');
    let message = '';
    try {
      loadConfig({ DATABASE_URL: secretUrl, AGENTPLANE_MASTER_KEYS: `k1:${shortKey}` });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain('DATABASE_URL');
    expect(message).toContain('AGENTPLANE_MASTER_KEYS');
    expect(message).not.toContain('hunter2');
    expect(message).not.toContain(shortKey);
  });

  it('never repeats the metrics token in its messages', () => {
    const token = 'token with spaces 0123456789';
    const problems = problemsOf({ AGENTPLANE_METRICS_PORT: '9464', AGENTPLANE_METRICS_TOKEN: token });
    expect(JSON.stringify(problems)).not.toContain('0123456789');
  });
});
