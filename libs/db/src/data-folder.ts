import { mkdir, stat } from 'node:fs/promises';

/**
 * Creates the embedded data folder (0700), or checks the one that exists, and returns its mode.
 * Whoever can write it can replace the database, the lock (and so the socket a CLI connects to)
 * or the master key file, so that is refused before anything is written into it: by the database
 * launcher and by the key file alike, since both start at once and either may come first.
 */
export async function ensurePrivateDataFolder(dataDir: string): Promise<number> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const info = await stat(dataDir);
  if (!info.isDirectory()) throw new Error(`The data folder ${dataDir} is not a folder.`);
  const mode = info.mode & 0o777;
  if ((mode & 0o022) !== 0) {
    throw new Error(
      `The data folder ${dataDir} can be written by group or others (mode ${mode.toString(8)}), so anyone on ` +
        `this host could change the database. Make it private, then start again: chmod 700 ${dataDir}`,
    );
  }
  return mode;
}
