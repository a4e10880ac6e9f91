import 'reflect-metadata';
import { Command, CommanderError } from 'commander';
import { CliFailure } from './cli-context.js';
import { registerApiKeyCommands } from './commands/api-keys.command.js';
import { registerKeyCommands } from './commands/keys.command.js';
import { registerMigrateCommand } from './commands/migrate.command.js';

const program = new Command('agentplane')
  .description('agentplane admin CLI. Uses the same environment variables as the API.')
  .exitOverride();
registerMigrateCommand(program);
registerApiKeyCommands(program);
registerKeyCommands(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    process.exitCode = error.exitCode === 0 ? 0 : 2;
  } else if (error instanceof CliFailure) {
    process.stderr.write(`agentplane: ${error.message}\n`);
    process.exitCode = error.exitCode;
  } else {
    // A failure while the context was being built (e.g. a master key that does not match) leaves
    // no context to close, so its open database handles would keep the process alive: leave now.
    process.stderr.write(`agentplane: ${(error as Error).message}\n`);
    process.exit(1);
  }
}
