import type { Command } from 'commander';
import { ApiKeyService, type ApiKeySummary } from '#agentplane/auth';
import { withContext } from '../cli-context.js';
import { printJson, printTable } from '../output.js';

export function registerApiKeyCommands(program: Command): void {
  const apiKeys = program.command('api-keys').description('Create, list and revoke organization API keys');

  apiKeys
    .command('create')
    .description('Issue an API key for an organization (created if it does not exist). The key is shown once.')
    .requiredOption('--org <name>', 'organization name')
    .option('--name <label>', 'a label for the key, e.g. where it is used')
    .option('--json', 'print {"org_id","api_key"} as JSON')
    .action(async (options: { org: string; name?: string; json?: boolean }) => {
      const issued = await withContext((ctx) => ctx.get(ApiKeyService).issue(options.org, options.name));
      if (options.json === true) {
        printJson({ org_id: issued.orgId, api_key: issued.apiKey });
      } else {
        process.stdout.write(
          `Organization: ${options.org} (${issued.orgId})\nAPI key id:   ${issued.apiKeyId}\n` +
            `API key:      ${issued.apiKey}\n\nStore the key now: it cannot be shown again.\n`,
        );
      }
    });

  apiKeys
    .command('list')
    .description("List an organization's API keys (never the keys themselves)")
    .requiredOption('--org <name>', 'organization name')
    .option('--json', 'print JSON')
    .action(async (options: { org: string; json?: boolean }) => {
      const { org, keys } = await withContext((ctx) => ctx.get(ApiKeyService).listForOrg(options.org));
      if (options.json === true) {
        printJson({ org_id: org.id, data: keys.map(toJson) });
      } else {
        printTable(
          ['ID', 'PREFIX', 'NAME', 'CREATED', 'LAST USED', 'REVOKED'],
          keys.map((k) => [k.id, `${k.prefix}…`, k.name ?? '', iso(k.createdAt), iso(k.lastUsedAt), iso(k.revokedAt)]),
        );
      }
    });

  apiKeys
    .command('revoke')
    .description('Revoke an API key by id; requests using it fail from now on')
    .argument('<id>', 'API key id (key_…)')
    .option('--json', 'print JSON')
    .action(async (id: string, options: { json?: boolean }) => {
      const revoked = await withContext((ctx) => ctx.get(ApiKeyService).revoke(id));
      if (options.json === true) printJson(toJson(revoked));
      else process.stdout.write(`Revoked ${revoked.id} (${revoked.prefix}…) at ${iso(revoked.revokedAt)}\n`);
    });
}

function toJson(key: ApiKeySummary): Record<string, unknown> {
  return {
    id: key.id,
    org_id: key.orgId,
    name: key.name,
    prefix: key.prefix,
    created_at: iso(key.createdAt),
    last_used_at: key.lastUsedAt === null ? null : iso(key.lastUsedAt),
    revoked_at: key.revokedAt === null ? null : iso(key.revokedAt),
  };
}

function iso(date: Date | null): string {
  return date === null ? '' : date.toISOString();
}
