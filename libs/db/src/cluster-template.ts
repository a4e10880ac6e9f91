import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { gunzip as gunzipCallback } from 'node:zlib';
import { PGlite } from '@electric-sql/pglite';

const gunzip = promisify(gunzipCallback);

/**
 * A freshly initialized embedded cluster, kept as a tarball: a new data folder is unpacked from it
 * in about a second instead of running initdb (three). It holds only what initdb writes (no
 * tables of ours, no data, no secret) and is tied to the PGlite version that made it, so an
 * upgrade of PGlite simply makes a new one. Written once per install (`npm install` runs
 * `dist/scripts/write-cluster-template.js`); without it, a new folder runs initdb as before.
 */
export function clusterTemplatePath(): string {
  const pglite = pgliteFolder();
  const { version } = JSON.parse(readFileSync(join(pglite, 'package.json'), 'utf8')) as { version: string };
  // node_modules/.cache, where tools keep what can be rebuilt from what is installed.
  return join(pglite, '..', '..', '.cache', 'agentplane', `pglite-${version}-cluster.tar.gz`);
}

/**
 * The template as an uncompressed tarball; undefined when there is none. Throws when it is not a
 * gzipped tarball: it is decompressed and checked here, since PGlite, given a broken one, rejects
 * and also leaves an unhandled rejection behind, which would stop the process.
 */
export async function readClusterTemplate(path: string): Promise<Blob | undefined> {
  let compressed: Buffer;
  try {
    compressed = await readFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const tar = await gunzip(compressed);
  // Every tar header block says "ustar" at byte 257.
  if (tar.subarray(257, 262).toString('latin1') !== 'ustar') throw new Error(`${path} is not a tarball`);
  return new Blob([tar], { type: 'application/x-tar' });
}

/** Writes the template unless it exists; true when it wrote one. Atomic: a reader never sees half of it. */
export async function writeClusterTemplate(path = clusterTemplatePath()): Promise<boolean> {
  if (existsSync(path)) return false;
  const db = await PGlite.create();
  try {
    const tarball = await db.dumpDataDir('gzip');
    await mkdir(dirname(path), { recursive: true });
    const temp = `${path}.${process.pid}.tmp`;
    try {
      await writeFile(temp, Buffer.from(await tarball.arrayBuffer()));
      await rename(temp, path);
    } finally {
      await rm(temp, { force: true });
    }
    return true;
  } finally {
    await db.close();
  }
}

function pgliteFolder(): string {
  // The package's exports do not include its package.json: walk up from its entry point.
  let dir = dirname(createRequire(import.meta.url).resolve('@electric-sql/pglite'));
  while (!existsSync(join(dir, 'package.json'))) dir = dirname(dir);
  return dir;
}
