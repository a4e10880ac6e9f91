import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseMasterKeyList } from '#agentplane/config';
import { formatMasterKey, generateMasterKey, MasterKeyFile } from './master-key-file.js';

const KEY_ID = /^mk-\d{8}-[0-9a-f]{6}$/;

let root: string;
let dataDir: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'agentplane-master-key-file-'));
  // A folder that does not exist yet, as on a first start.
  dataDir = join(root, 'data');
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function modeOf(path: string): Promise<number> {
  return (await stat(path)).mode & 0o777;
}

describe('MasterKeyFile.loadOrCreate', () => {
  it('creates the file, mode 0600, with one new 32-byte key', async () => {
    const file = new MasterKeyFile(dataDir);
    expect(file.path).toBe(join(dataDir, 'master-keys'));
    const { keys, created } = await file.loadOrCreate();
    expect(created).toBe(true);
    expect(keys).toHaveLength(1);
    const [key] = keys;
    expect(key?.id).toMatch(KEY_ID);
    expect(key?.key).toBeInstanceOf(Uint8Array);
    expect(key?.key).toHaveLength(32);
    expect(Buffer.from(key?.key ?? []).equals(Buffer.alloc(32))).toBe(false);
    expect(await modeOf(file.path)).toBe(0o600);
    expect((await stat(dataDir)).mode & 0o077).toBe(0);
    const text = await readFile(file.path, 'utf8');
    expect(text).toContain(formatMasterKey(key!));
    expect(await readdir(dataDir)).toEqual(['master-keys']);
  });

  it('writes nothing into a data folder others can write: the database launcher refuses it too, and may stop the process first', async () => {
    await mkdir(dataDir, { mode: 0o700 });
    await chmod(dataDir, 0o777);
    await expect(new MasterKeyFile(dataDir).loadOrCreate()).rejects.toThrow(`chmod 700 ${dataDir}`);
    expect(await readdir(dataDir)).toEqual([]);
  });

  it('returns the same key on the next call, without creating another', async () => {
    const first = await new MasterKeyFile(dataDir).loadOrCreate();
    const before = await readFile(join(dataDir, 'master-keys'), 'utf8');
    const second = await new MasterKeyFile(dataDir).loadOrCreate();
    expect(second.created).toBe(false);
    expect(second.keys).toHaveLength(1);
    expect(second.keys[0]?.id).toBe(first.keys[0]?.id);
    expect(Buffer.from(second.keys[0]?.key ?? []).equals(Buffer.from(first.keys[0]?.key ?? [1]))).toBe(true);
    expect(await readFile(join(dataDir, 'master-keys'), 'utf8')).toBe(before);
  });

  it('gives every racing caller the same key, and exactly one of them creates it', async () => {
    const results = await Promise.all(Array.from({ length: 10 }, () => new MasterKeyFile(dataDir).loadOrCreate()));
    const ids = new Set(results.map((r) => r.keys[0]?.id));
    expect(ids.size).toBe(1);
    expect(results.every((r) => r.keys.length === 1)).toBe(true);
    const materials = new Set(results.map((r) => Buffer.from(r.keys[0]?.key ?? []).toString('hex')));
    expect(materials.size).toBe(1);
    expect(results.filter((r) => r.created)).toHaveLength(1);
    const files = await readdir(dataDir);
    expect(files.filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(files).toEqual(['master-keys']);
    const onDisk = await new MasterKeyFile(dataDir).loadOrCreate();
    expect(onDisk.keys[0]?.id).toBe([...ids][0]);
  });

  it('refuses a corrupt file, naming the path but not the key material', async () => {
    const file = new MasterKeyFile(dataDir);
    await file.loadOrCreate();
    await writeFile(file.path, 'k1:notbase64!\n');
    const error = await file.loadOrCreate().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    const message = (error as Error).message;
    expect(message).toContain(file.path);
    expect(message).not.toContain('notbase64');
  });

  it('refuses a key of the wrong length without printing it', async () => {
    const file = new MasterKeyFile(dataDir);
    const material = Buffer.alloc(31, 7).toString('base64');
    await file.loadOrCreate();
    await writeFile(file.path, `# comment\nk1:${material}\n`);
    const error = await file.loadOrCreate().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toContain(file.path);
    expect((error as Error).message).not.toContain(material);
    expect((error as Error).message).not.toContain(material.slice(0, 16));
  });

  it('refuses a file with no keys rather than creating a new one over it', async () => {
    const file = new MasterKeyFile(dataDir);
    await file.loadOrCreate();
    await writeFile(file.path, '# only a comment\n\n');
    await expect(file.loadOrCreate()).rejects.toThrow(file.path);
    expect(await readFile(file.path, 'utf8')).toBe('# only a comment\n\n');
  });

  it('reads a hand-written file with comments, blank lines and several keys', async () => {
    const a = generateMasterKey(new Date('2026-01-02T03:04:05Z'));
    const b = generateMasterKey(new Date('2025-12-31T23:59:59Z'));
    expect(a.id).toMatch(/^mk-20260102-[0-9a-f]{6}$/);
    expect(b.id).toMatch(/^mk-20251231-[0-9a-f]{6}$/);
    const file = new MasterKeyFile(root);
    await writeFile(file.path, `# keys\n\n  ${formatMasterKey(a)}  \n# old\n${formatMasterKey(b)}\n`, { mode: 0o600 });
    const { keys, created } = await file.loadOrCreate();
    expect(created).toBe(false);
    expect(keys.map((k) => k.id)).toEqual([a.id, b.id]);
    expect(Buffer.from(keys[1]!.key).equals(Buffer.from(b.key))).toBe(true);
  });
});

describe('MasterKeyFile.addActiveKey', () => {
  it('puts a new key first and keeps the old one second', async () => {
    const file = new MasterKeyFile(dataDir);
    const { keys: before } = await file.loadOrCreate();
    const added = await file.addActiveKey();
    expect(added.id).toMatch(KEY_ID);
    expect(added.id).not.toBe(before[0]?.id);
    expect(added.key).toHaveLength(32);
    const { keys, created } = await file.loadOrCreate();
    expect(created).toBe(false);
    expect(keys.map((k) => k.id)).toEqual([added.id, before[0]?.id]);
    expect(Buffer.from(keys[0]!.key).equals(Buffer.from(added.key))).toBe(true);
    expect(Buffer.from(keys[1]!.key).equals(Buffer.from(before[0]!.key))).toBe(true);
    expect(await modeOf(file.path)).toBe(0o600);
    expect((await readdir(dataDir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('keeps every earlier key across several rotations', async () => {
    const file = new MasterKeyFile(dataDir);
    const { keys: first } = await file.loadOrCreate();
    const second = await file.addActiveKey();
    const third = await file.addActiveKey();
    const { keys } = await file.loadOrCreate();
    expect(keys.map((k) => k.id)).toEqual([third.id, second.id, first[0]?.id]);
  });

  it('lets only one of two concurrent rotations through, so no new key is lost', async () => {
    const file = new MasterKeyFile(dataDir);
    const { keys: first } = await file.loadOrCreate();
    const results = await Promise.allSettled([file.addActiveKey(), file.addActiveKey()]);
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r) => r.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    expect(String((lost[0] as PromiseRejectedResult).reason)).toMatch(/Another key rotation holds .*master-keys\.lock/);
    const { keys } = await file.loadOrCreate();
    expect(keys.map((k) => k.id)).toEqual([(won[0] as PromiseFulfilledResult<{ id: string }>).value.id, first[0]?.id]);
    // The lock is released: the next rotation goes through.
    expect(await readdir(dataDir)).not.toContain('master-keys.lock');
    await expect(file.addActiveKey()).resolves.toBeDefined();
  });
});

describe('MasterKeyFile permissions', () => {
  it('reports a group- or world-readable file as exposed until restricted', async () => {
    const file = new MasterKeyFile(dataDir);
    await file.loadOrCreate();
    expect(await file.isExposed()).toBe(false);
    await chmod(file.path, 0o644);
    expect(await file.isExposed()).toBe(true);
    await file.restrictMode();
    expect(await modeOf(file.path)).toBe(0o600);
    expect(await file.isExposed()).toBe(false);
    await chmod(file.path, 0o640);
    expect(await file.isExposed()).toBe(true);
    await chmod(file.path, 0o602);
    expect(await file.isExposed()).toBe(true);
    await chmod(file.path, 0o400);
    expect(await file.isExposed()).toBe(false);
  });
});

describe('MasterKeyFile on a file others can write', () => {
  it.each([
    ['group', 0o620],
    ['others', 0o602],
    ['everyone', 0o666],
  ])('refuses to use or rotate it when %s can write it, naming the path and the fix', async (_who, mode) => {
    const file = new MasterKeyFile(dataDir);
    await file.loadOrCreate();
    await chmod(file.path, mode);
    for (const use of [() => file.loadOrCreate(), () => file.addActiveKey()]) {
      const error = (await use().catch((e: unknown) => e)) as Error;
      expect(error).toBeInstanceOf(Error);
      expect(error.message).toContain(file.path);
      expect(error.message).toContain(`chmod 600 ${file.path}`);
    }
    // Nothing was rotated into it.
    await chmod(file.path, 0o600);
    expect((await file.loadOrCreate()).keys).toHaveLength(1);
  });
});

describe('formatMasterKey', () => {
  it('round-trips through parseMasterKeyList', () => {
    const a = generateMasterKey();
    const b = { id: 'k2', key: new Uint8Array(Buffer.alloc(32, 0xfe)) };
    const parsed = parseMasterKeyList([a, b].map(formatMasterKey).join(','));
    expect(parsed.map((k) => k.id)).toEqual([a.id, 'k2']);
    expect(Buffer.from(parsed[0]!.key).equals(Buffer.from(a.key))).toBe(true);
    expect(Buffer.from(parsed[1]!.key).equals(Buffer.alloc(32, 0xfe))).toBe(true);
  });

  it('writes id:base64', () => {
    expect(formatMasterKey({ id: 'k1', key: new Uint8Array(Buffer.alloc(32, 1)) })).toBe(`k1:${Buffer.alloc(32, 1).toString('base64')}`);
  });

  it('generates distinct random keys', () => {
    const a = generateMasterKey();
    const b = generateMasterKey();
    expect(a.id).not.toBe(b.id);
    expect(Buffer.from(a.key).equals(Buffer.from(b.key))).toBe(false);
  });
});
