// Seal/open throughput of the credential envelope (libs/credentials SecretSealer) for 64-byte
// keys, in this process, no database: seal (fresh data key + two XChaCha20-Poly1305 seals),
// open (unwrap + decrypt + zero), rewrap (unwrap + wrap, the secret untouched), and a bare
// XChaCha20-Poly1305 seal of the same bytes as the floor to compare against.
// Compare ratios within one run; the machines are noisy.
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { pino } from 'pino';
import { MasterKeyRing, SecretSealer, Sodium } from '#agentplane/keys';

const OPS = Number(process.argv[2] ?? 50_000);
const KEY = randomBytes(48).toString('base64'); // 64 characters
const context = { orgId: 'org_bench', ownerId: 'cred_bench', field: 'api_key' };

function rate(name: string, ops: number, run: (i: number) => void): number {
  for (let i = 0; i < Math.min(2000, ops); i++) run(i); // warm-up
  const started = performance.now();
  for (let i = 0; i < ops; i++) run(i);
  const perSecond = Math.round(ops / ((performance.now() - started) / 1000));
  process.stdout.write(`${name.padEnd(28)} ${String(perSecond).padStart(9)} ops/s\n`);
  return perSecond;
}

const sodium = await Sodium.load();
const oldRing = new MasterKeyRing([{ id: 'old', key: new Uint8Array(randomBytes(32)) }], 'bench');
const ring = new MasterKeyRing(
  [
    { id: 'new', key: new Uint8Array(randomBytes(32)) },
    { id: 'old', key: oldRing.material('old')! },
  ],
  'bench',
);
const logger = pino({ level: 'silent' });
const sealer = new SecretSealer(sodium, ring, logger);
const oldSealer = new SecretSealer(sodium, oldRing, logger);

process.stdout.write(`${OPS} operations each, 64-byte keys, Node ${process.version}\n`);
const message = new TextEncoder().encode(KEY);
const bareKey = sodium.randomBytes(32);
const bareNonce = sodium.randomBytes(24);
const aad = new Uint8Array(64);
const bare = rate('bare xchacha20poly1305 seal', OPS, () => sodium.seal(message, aad, bareNonce, bareKey));
const seal = rate('seal', OPS, () => sealer.seal(KEY, context));
const record = sealer.seal(KEY, context);
let opened = 0;
const open = rate('open', OPS, () => {
  void sealer.withPlaintext(record, context, (plaintext) => (opened += plaintext.length));
});
const oldRecord = oldSealer.seal(KEY, context);
const rewrap = rate('rewrap', OPS, () => sealer.rewrap(oldRecord, context));
process.stdout.write(
  `ratios to the bare seal: seal ${(seal / bare).toFixed(2)}, open ${(open / bare).toFixed(2)}, rewrap ${(rewrap / bare).toFixed(2)}\n`,
);
if (opened === 0) throw new Error('nothing opened');
