import { randomBytes } from 'node:crypto';
import { chmod, link, open, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { type MasterKey, parseMasterKeyList } from '#agentplane/config';
import { ensurePrivateDataFolder } from '#agentplane/db';

const FILE_NAME = 'master-keys';
const HEADER =
  '# agentplane master keys for this data folder, in AGENTPLANE_MASTER_KEYS syntax (id:base64),\n' +
  '# one per line, the first is active. Without them the stored credentials cannot be opened:\n' +
  '# back this file up with the data folder, and keep it private.\n';

/**
 * The embedded-mode key file (`<data dir>/master-keys`, mode 0600): used only when
 * AGENTPLANE_MASTER_KEYS is unset and there is no DATABASE_URL, so `npm start` works on a bare
 * machine. File I/O lives here so the key ring and services stay free of it.
 */
export class MasterKeyFile {
  constructor(private readonly dataDir: string) {}

  get path(): string {
    return join(this.dataDir, FILE_NAME);
  }

  /** Reads the file, or creates it with one new key. Safe when two processes race to create it. */
  async loadOrCreate(): Promise<{ keys: MasterKey[]; created: boolean }> {
    const existing = await this.read();
    if (existing !== undefined) return { keys: existing, created: false };
    await ensurePrivateDataFolder(this.dataDir);
    const key = generateMasterKey();
    const temp = await this.writeTemp(render([key]));
    try {
      // link() fails if the file exists: exactly one creator wins, the others read its key.
      await link(temp, this.path);
      await syncDirectory(this.dataDir);
      return { keys: [key], created: true };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const winner = await this.read();
      if (winner === undefined) throw error;
      return { keys: winner, created: false };
    } finally {
      await unlink(temp).catch(() => undefined);
    }
  }

  /** Puts a new key first (active), keeping the others so existing records still open. */
  async addActiveKey(): Promise<MasterKey> {
    // Two rotations at once would each keep only their own new key: the loser's records would
    // be sealed under a key no file holds. An exclusive lock file makes the second one fail.
    const lockPath = `${this.path}.lock`;
    const lock = await open(lockPath, 'wx', 0o600).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'EEXIST') throw error;
      throw new Error(`Another key rotation holds ${lockPath}; if none is running, delete that file and retry.`);
    });
    try {
      const current = (await this.read()) ?? [];
      const key = generateMasterKey();
      const temp = await this.writeTemp(render([key, ...current]));
      try {
        await rename(temp, this.path);
      } catch (error) {
        await unlink(temp).catch(() => undefined);
        throw error;
      }
      await syncDirectory(this.dataDir);
      return key;
    } finally {
      await lock.close();
      await unlink(lockPath);
    }
  }

  /** A new private file beside the key file, its content on disk before it is linked into place. */
  private async writeTemp(content: string): Promise<string> {
    const temp = `${this.path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    const handle = await open(temp, 'wx', 0o600);
    try {
      await handle.writeFile(content);
      await handle.sync();
    } finally {
      await handle.close();
    }
    return temp;
  }

  async exists(): Promise<boolean> {
    return (await this.read()) !== undefined;
  }

  /** True when group or others may read the file. */
  async isExposed(): Promise<boolean> {
    return ((await stat(this.path)).mode & 0o077) !== 0;
  }

  async restrictMode(): Promise<void> {
    await chmod(this.path, 0o600);
  }

  private async read(): Promise<MasterKey[] | undefined> {
    let handle;
    try {
      handle = await open(this.path, 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    let text: string;
    try {
      // Checked on the open file, so what is read is what was checked. Whoever can write the
      // file can make this process seal secrets under a key they know.
      const mode = (await handle.stat()).mode & 0o777;
      if ((mode & 0o022) !== 0) {
        throw new Error(
          `The master key file ${this.path} can be written by group or others (mode ${mode.toString(8)}). ` +
            `Make it private, then start again: chmod 600 ${this.path}`,
        );
      }
      text = await handle.readFile('utf8');
    } finally {
      await handle.close();
    }
    const entries = text
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('#'));
    try {
      return parseMasterKeyList(entries.join(','));
    } catch (error) {
      throw new Error(`The master key file ${this.path} is invalid: ${(error as Error).message}`);
    }
  }
}

/** A new random key with an id that says when it was made: `mk-20261122-3f9a1c`. */
export function generateMasterKey(now: Date = new Date()): MasterKey {
  const day = now.toISOString().slice(0, 10).replace(/-/g, '');
  return { id: `mk-${day}-${randomBytes(3).toString('hex')}`, key: new Uint8Array(randomBytes(32)) };
}

export function formatMasterKey(key: MasterKey): string {
  return `${key.id}:${Buffer.from(key.key).toString('base64')}`;
}

/** Makes a new directory entry (link, rename) survive a power cut. */
async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function render(keys: readonly MasterKey[]): string {
  return HEADER + keys.map((k) => formatMasterKey(k) + '\n').join('');
}
