import type { Command } from 'commander';
import { DatabaseConnection } from '#agentplane/db';
import { withContext } from '../cli-context.js';
import { printJson } from '../output.js';

export function registerMigrateCommand(program: Command): void {
  program
    .command('migrate')
    .description('Apply pending database migrations (the API also does this at start-up)')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      // Opening the connection applies pending migrations under the advisory lock.
      const report = await withContext((ctx) => Promise.resolve(ctx.get(DatabaseConnection).migrations));
      if (options.json === true) {
        printJson({ applied: report.applied, already_applied: report.alreadyApplied, unknown: report.unknown });
        return;
      }
      for (const name of report.applied) process.stdout.write(`applied  ${name}\n`);
      process.stdout.write(
        `${report.applied.length} applied, ${report.alreadyApplied.length} already applied` +
          (report.unknown.length > 0 ? `, ${report.unknown.length} in the database but unknown here` : '') +
          '\n',
      );
    });
}
