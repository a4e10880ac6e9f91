import { type Command, InvalidArgumentError } from 'commander';
import { formatMasterKey, generateMasterKey, InstancesLackActiveKeyError, KeyRotationService, MasterKeyFile } from '#agentplane/keys';
import { CliFailure, loadCliConfig, withContext } from '../cli-context.js';
import { printJson, printTable } from '../output.js';

const DEFAULT_BATCH = 100;

export function registerKeyCommands(program: Command): void {
  const keys = program.command('keys').description('Master-key ring: status, rotation, rewrap and verification');

  keys
    .command('status')
    .description('How many stored secrets each master key protects')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      const { usage, source, instances } = await withContext(async (ctx) => {
        const rotation = ctx.get(KeyRotationService);
        return { usage: await rotation.status(), source: rotation.keySource, instances: await rotation.liveInstances() };
      });
      if (options.json === true) {
        printJson({
          source,
          keys: usage.map((u) => ({ id: u.masterKeyId, records: u.records, active: u.active, configured: u.configured })),
          instances: instances.map((i) => ({ hostname: i.hostname, pid: i.pid, key_ids: i.keyIds, active_key_id: i.activeKeyId })),
        });
        return;
      }
      process.stdout.write(`Master keys from ${source}\n`);
      printTable(
        ['KEY ID', 'RECORDS', 'STATE'],
        usage.map((u) => [u.masterKeyId, String(u.records), u.active ? 'active' : u.configured ? 'configured' : 'NOT CONFIGURED']),
      );
      if (usage.some((u) => !u.configured)) {
        process.stdout.write('\nRecords under a key that is not configured cannot be opened until it is added back.\n');
      }
      process.stdout.write(`\nRunning instances: ${instances.length}\n`);
      if (instances.length > 0) {
        printTable(
          ['HOST', 'PID', 'ACTIVE KEY', 'HOLDS'],
          instances.map((i) => [i.hostname, String(i.pid), i.activeKeyId, i.keyIds.join(',')]),
        );
      }
    });

  keys
    .command('rotate')
    .description('Make a new master key and explain how to make it active')
    .action(async () => {
      // No context: starting one would load the key ring, which creates the key file when it is
      // missing, and the rotation would then add a second key to a folder that had none.
      const config = loadCliConfig();
      if (config.masterKeys.length === 0 && config.storage.kind === 'embedded') {
        const file = new MasterKeyFile(config.storage.dataDir);
        if (!(await file.exists())) {
          throw new CliFailure(
            `There is no master key file at ${file.path} yet, so there is no key to rotate. ` +
              'agentplane creates it with the first key when it starts (npm start); rotate after that.',
            1,
          );
        }
        const key = await file.addActiveKey();
        process.stdout.write(
          `Added master key ${key.id} to ${file.path}, first (active).\n\n` +
            'Next:\n' +
            '  1. Restart agentplane so that it seals with the new key.\n' +
            '  2. npm run cli -- keys rewrap      re-wraps every stored secret under the new key\n' +
            '  3. npm run cli -- keys status      the old keys should protect 0 records\n' +
            '  4. npm run cli -- keys verify      every secret opens\n' +
            `  5. Delete the old keys' lines from ${file.path}, then restart.\n`,
        );
        return;
      }
      const key = generateMasterKey();
      const active = config.masterKeys[0]?.id ?? '<current>';
      process.stdout.write(
        `A new master key (shown once; store it where you keep the others):\n\n  ${formatMasterKey(key)}\n\n` +
          'AGENTPLANE_MASTER_KEYS lists id:base64 entries; the first seals new secrets, all of them open.\n' +
          'Every instance must hold a key before anything is sealed with it, so rotate in two deploys:\n' +
          `  1. Append it:     AGENTPLANE_MASTER_KEYS=<current entries>,${key.id}:…   and restart every instance.\n` +
          `  2. Make it first: AGENTPLANE_MASTER_KEYS=${key.id}:…,<current entries>   and restart every instance.\n` +
          '  3. npm run cli -- keys rewrap      re-wraps every stored secret under the new key\n' +
          `  4. npm run cli -- keys status      ${active} and other old keys should protect 0 records\n` +
          '  5. npm run cli -- keys verify      every secret opens\n' +
          '  6. Remove the old entries from AGENTPLANE_MASTER_KEYS and restart.\n',
      );
    });

  keys
    .command('rewrap')
    .description('Re-wrap every data key under the active master key (resumable; safe while the API runs)')
    .option('--batch <n>', `records per transaction (at most ${MAX_REWRAP_BATCH})`, parseRewrapBatch, DEFAULT_BATCH)
    .option('--json', 'print JSON')
    .action(async (options: { batch: number; json?: boolean }) => {
      const { report, active } = await withContext(async (ctx) => {
        const rotation = ctx.get(KeyRotationService);
        try {
          const report = await rotation.rewrap(options.batch, (done) => {
            if (options.json !== true) process.stderr.write(`\rre-wrapped ${done}`);
          });
          return { report, active: rotation.activeKeyId };
        } catch (error) {
          if (error instanceof InstancesLackActiveKeyError) throw new CliFailure(error.message, 1);
          throw error;
        } finally {
          if (options.json !== true) process.stderr.write('\n');
        }
      });
      if (options.json === true) {
        printJson({ active_key_id: active, rewrapped: report.rewrapped, failed: report.failed, remaining: report.remaining });
      } else {
        process.stdout.write(
          `Re-wrapped ${report.rewrapped} record(s) under ${active}; ${report.failed} failed; ` +
            `${report.remaining} still on other keys.\n`,
        );
      }
      if (report.failed > 0) {
        throw new CliFailure(
          `${report.failed} record(s) could not be re-wrapped: their master key is missing or they are damaged (see the log)`,
          1,
        );
      }
      if (report.remaining > 0) {
        throw new CliFailure(
          `${report.remaining} record(s) are still on other keys (another process kept them locked): run keys rewrap again`,
          1,
        );
      }
    });

  keys
    .command('verify')
    .description('Open every stored secret and report any that do not open')
    .option('--batch <n>', 'records per page', parseBatch, DEFAULT_BATCH)
    .option('--json', 'print JSON')
    .action(async (options: { batch: number; json?: boolean }) => {
      const report = await withContext((ctx) => ctx.get(KeyRotationService).verify(options.batch));
      if (options.json === true) {
        printJson({
          checked: report.checked,
          failed: report.failed.map((f) => ({ id: f.id, org_id: f.orgId, master_key_id: f.masterKeyId })),
        });
      } else {
        process.stdout.write(`Checked ${report.checked} record(s); ${report.failed.length} did not open.\n`);
        for (const f of report.failed) process.stdout.write(`  ${f.id}  (org ${f.orgId}, master key ${f.masterKeyId})\n`);
      }
      if (report.failed.length > 0) throw new CliFailure(`${report.failed.length} record(s) did not open`, 1);
    });
}

// One transaction holds a batch's row locks; past this, API writes to those rows wait too long.
const MAX_REWRAP_BATCH = 1000;

function parseRewrapBatch(raw: string): number {
  const batch = parseBatch(raw);
  if (batch > MAX_REWRAP_BATCH) throw new InvalidArgumentError(`must be a whole number from 1 to ${MAX_REWRAP_BATCH}`);
  return batch;
}

function parseBatch(raw: string): number {
  if (!/^\d{1,5}$/.test(raw) || Number(raw) < 1 || Number(raw) > 10_000) {
    throw new InvalidArgumentError('must be a whole number from 1 to 10000');
  }
  return Number(raw);
}
