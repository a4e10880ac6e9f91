import { resolve } from 'node:path';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import type { AppConfig, EgressAllowEntry, LogLevel, MasterKey, MetricsListenerConfig, PrivateNetwork } from './app-config.js';
import { ConfigError, type ConfigProblem } from './config.error.js';

const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const MASTER_KEY_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const HOST_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
// What a bearer token may hold (RFC 6750 b64token), long enough not to be guessed.
const METRICS_TOKEN = /^[A-Za-z0-9._~+/-]{16,1024}=*$/;

export type Environment = Readonly<Record<string, string | undefined>>;

/**
 * Validates the environment into a typed `AppConfig`, collecting every problem before failing so
 * an operator fixes them in one go. Messages name the variable and never repeat its value, since
 * some variables hold secrets.
 */
export function loadConfig(env: Environment, cwd: string = process.cwd()): AppConfig {
  const problems: ConfigProblem[] = [];
  const fail = (variable: string, message: string): undefined => {
    problems.push({ variable, message });
    return undefined;
  };

  const port = parsePort(nonEmpty(env.PORT) ?? '3000', (m) => fail('PORT', m));
  const host = parseHost(nonEmpty(env.HOST) ?? '127.0.0.1', (m) => fail('HOST', m));
  const dataDir = resolve(cwd, nonEmpty(env.AGENTPLANE_DATA_DIR) ?? './data');
  const databaseUrl = nonEmpty(env.DATABASE_URL);
  if (databaseUrl !== undefined) checkDatabaseUrl(databaseUrl, (m) => fail('DATABASE_URL', m));

  const rawKeys = nonEmpty(env.AGENTPLANE_MASTER_KEYS);
  const masterKeys = rawKeys === undefined ? [] : parseMasterKeys(rawKeys, (m) => fail('AGENTPLANE_MASTER_KEYS', m));
  if (rawKeys === undefined && databaseUrl !== undefined) {
    // With a shared database every instance must hold the same keys, so none may invent its own.
    fail('AGENTPLANE_MASTER_KEYS', 'is required when DATABASE_URL is set (comma-separated id:base64 of 32 bytes; first is active)');
  }

  const allowlist = parseAllowlist(env.AGENTPLANE_EGRESS_ALLOWLIST ?? '', (m) => fail('AGENTPLANE_EGRESS_ALLOWLIST', m));
  const privateNetworks = parsePrivateNetworks(env.AGENTPLANE_EGRESS_PRIVATE_NETWORKS ?? '', (m) =>
    fail('AGENTPLANE_EGRESS_PRIVATE_NETWORKS', m),
  );

  const logLevelRaw = (nonEmpty(env.LOG_LEVEL) ?? 'info').toLowerCase();
  const logLevel = LOG_LEVELS.includes(logLevelRaw as LogLevel)
    ? (logLevelRaw as LogLevel)
    : fail('LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')}`);

  const replyHeartbeatMs = parseWholeNumber(nonEmpty(env.AGENTPLANE_REPLY_HEARTBEAT_MS) ?? '15000', 10, 600_000, (m) =>
    fail('AGENTPLANE_REPLY_HEARTBEAT_MS', m),
  );

  const recordRetentionDays = parseWholeNumber(nonEmpty(env.AGENTPLANE_RECORD_RETENTION_DAYS) ?? '30', 1, 3650, (m) =>
    fail('AGENTPLANE_RECORD_RETENTION_DAYS', m),
  );
  const metrics = parseMetricsListener(env, port, fail);

  if (
    problems.length > 0 ||
    port === undefined ||
    host === undefined ||
    logLevel === undefined ||
    replyHeartbeatMs === undefined ||
    recordRetentionDays === undefined ||
    metrics === undefined
  ) {
    throw new ConfigError(problems);
  }
  return {
    port,
    host,
    storage: databaseUrl === undefined ? { kind: 'embedded', dataDir } : { kind: 'postgres', url: databaseUrl, dataDir },
    masterKeys: masterKeys ?? [],
    egressAllowlist: allowlist ?? [],
    egressPrivateNetworks: privateNetworks ?? [],
    logLevel,
    replyHeartbeatMs,
    recordRetentionDays,
    metrics,
  };
}

/**
 * AGENTPLANE_METRICS_PORT, _HOST and _TOKEN. Without the port there is no metrics listener, and the
 * other two alone are refused: an operator who set a token believes something is listening.
 */
function parseMetricsListener(
  env: Environment,
  apiPort: number | undefined,
  fail: (variable: string, message: string) => undefined,
): MetricsListenerConfig | null | undefined {
  const rawPort = nonEmpty(env.AGENTPLANE_METRICS_PORT);
  if (rawPort === undefined) {
    const orphans = (['AGENTPLANE_METRICS_HOST', 'AGENTPLANE_METRICS_TOKEN'] as const).filter((v) => nonEmpty(env[v]) !== undefined);
    for (const variable of orphans) fail(variable, 'is set without AGENTPLANE_METRICS_PORT, which enables metrics');
    return orphans.length === 0 ? null : undefined;
  }
  const rawHost = nonEmpty(env.AGENTPLANE_METRICS_HOST);
  const rawToken = nonEmpty(env.AGENTPLANE_METRICS_TOKEN);
  let port = parsePort(rawPort, (m) => fail('AGENTPLANE_METRICS_PORT', m));
  // Never on the API's port, whatever the hosts: metrics are not part of the public API. 0 picks a free port.
  if (port !== undefined && port !== 0 && port === apiPort) {
    port = fail('AGENTPLANE_METRICS_PORT', 'must differ from PORT: metrics are never served on the API port');
  }
  // Loopback unless the operator says otherwise, whatever HOST the API listens on.
  const host = parseHost(rawHost ?? '127.0.0.1', (m) => fail('AGENTPLANE_METRICS_HOST', m));
  const token =
    rawToken === undefined || METRICS_TOKEN.test(rawToken)
      ? (rawToken ?? null)
      : fail('AGENTPLANE_METRICS_TOKEN', 'must be 16 to 1024 characters of A-Z a-z 0-9 - . _ ~ + /, then optional =');
  return port === undefined || host === undefined || token === undefined ? undefined : { port, host, token };
}

/** The non-empty items of a comma-separated setting, trimmed. */
function commaSeparated(raw: string): string[] {
  return raw
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed === undefined || trimmed === '' ? undefined : trimmed;
}

function parsePort(raw: string, fail: (m: string) => undefined): number | undefined {
  return parseWholeNumber(raw, 0, 65535, fail);
}

/** Digits only, no more of them than `max` has (so no sign, exponent or long run of zeros). */
function parseWholeNumber(raw: string, min: number, max: number, fail: (m: string) => undefined): number | undefined {
  const n = Number(raw);
  const digits = new RegExp(`^\\d{1,${String(max).length}}$`);
  return digits.test(raw) && n >= min && n <= max ? n : fail(`must be a whole number from ${min} to ${max}`);
}

function parseHost(raw: string, fail: (m: string) => undefined): string | undefined {
  if (isIP(raw) !== 0 || isHostName(raw)) return raw;
  return fail('must be an IP address or a host name to listen on');
}

function isHostName(raw: string): boolean {
  const name = raw.toLowerCase();
  return name.length <= 253 && name.split('.').every((label) => HOST_LABEL.test(label));
}

function checkDatabaseUrl(raw: string, fail: (m: string) => undefined): void {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    fail('must be a postgres:// or postgresql:// connection URL');
    return;
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    fail('must be a postgres:// or postgresql:// connection URL');
  }
}

/**
 * Parses `id:base64,id:base64` (the AGENTPLANE_MASTER_KEYS syntax, also used by the embedded key
 * file). Throws an Error naming the problem, never the key material.
 */
export function parseMasterKeyList(raw: string): MasterKey[] {
  let problem = 'is empty';
  const keys = parseMasterKeys(raw, (m) => {
    problem = m;
    return undefined;
  });
  if (keys === undefined || keys.length === 0) throw new Error(problem);
  return keys;
}

function parseMasterKeys(raw: string, fail: (m: string) => undefined): MasterKey[] | undefined {
  const keys: MasterKey[] = [];
  const seen = new Set<string>();
  const entries = raw.split(',').map((e) => e.trim());
  for (const [index, entry] of entries.entries()) {
    const where = `entry ${index + 1}`;
    const colon = entry.indexOf(':');
    if (colon <= 0) return fail(`${where} must look like id:base64`);
    const id = entry.slice(0, colon);
    const material = entry.slice(colon + 1);
    if (!MASTER_KEY_ID.test(id)) {
      return fail(`${where} has an invalid id (1-32 of A-Z a-z 0-9 . _ -, starting alphanumeric)`);
    }
    if (seen.has(id)) return fail(`key id "${id}" appears more than once`);
    seen.add(id);
    if (!BASE64.test(material)) return fail(`key "${id}" is not valid base64`);
    const key = new Uint8Array(Buffer.from(material, 'base64'));
    if (key.length !== 32) return fail(`key "${id}" must decode to exactly 32 bytes`);
    keys.push({ id, key });
  }
  return keys;
}

/** Comma-separated CIDRs (`10.20.0.0/16`, `fd12:3456::/48`), each written as its network address. */
function parsePrivateNetworks(raw: string, fail: (m: string) => undefined): PrivateNetwork[] | undefined {
  const networks: PrivateNetwork[] = [];
  for (const item of commaSeparated(raw)) {
    let parsed: [ipaddr.IPv4 | ipaddr.IPv6, number];
    try {
      parsed = ipaddr.parseCIDR(item);
    } catch {
      return fail(`"${item}" is not a CIDR like 10.20.0.0/16 or fd12:3456::/48`);
    }
    const [address, prefixLength] = parsed;
    const network = ipaddr.IPv4.isIPv4(item.split('/')[0]!)
      ? ipaddr.IPv4.networkAddressFromCIDR(item)
      : ipaddr.IPv6.networkAddressFromCIDR(item);
    // A typo in a security setting should not widen it silently: the address must be the network's own.
    if (network.toNormalizedString() !== address.toNormalizedString()) {
      return fail(`"${item}" has host bits set: write the network address (${network.toString()}/${prefixLength})`);
    }
    networks.push({ address: network.toString(), prefixLength });
  }
  return networks;
}

function parseAllowlist(raw: string, fail: (m: string) => undefined): EgressAllowEntry[] | undefined {
  const entries: EgressAllowEntry[] = [];
  for (const item of commaSeparated(raw)) {
    const entry = parseAllowEntry(item.toLowerCase());
    if (entry === undefined) {
      return fail(`"${item}" is not host or host:port (IPv6 as [addr] or [addr]:port)`);
    }
    entries.push(entry);
  }
  return entries;
}

function parseAllowEntry(item: string): EgressAllowEntry | undefined {
  const bracketed = /^\[([0-9a-f:.]+)\](?::(\d{1,5}))?$/.exec(item);
  if (bracketed) {
    const [, host, port] = bracketed;
    if (host === undefined || isIP(host) !== 6) return undefined;
    return withPort(host, port);
  }
  const [host, port, extra] = item.split(':');
  if (host === undefined || extra !== undefined) return undefined;
  if (isIP(host) !== 4 && !isHostName(host)) return undefined;
  return withPort(host, port);
}

function withPort(host: string, port: string | undefined): EgressAllowEntry | undefined {
  if (port === undefined) return { host };
  const n = Number(port);
  return /^\d{1,5}$/.test(port) && n >= 1 && n <= 65535 ? { host, port: n } : undefined;
}
