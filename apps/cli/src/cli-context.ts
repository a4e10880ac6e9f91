import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { type AppConfig, ConfigError, loadConfig } from '#agentplane/config';
import { DomainError } from '#agentplane/errors';
import { createLogger, PinoNestLogger } from '#agentplane/logging';
import { pino } from 'pino';
import { CliModule } from './cli.module.js';

/** Exit codes: 0 done, 1 the command failed, 2 bad configuration or usage. */
export class CliFailure extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

/** The configuration alone, for commands that need neither the database nor the key ring. */
export function loadCliConfig(): AppConfig {
  try {
    return loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) throw new CliFailure(error.message, 2);
    throw error;
  }
}

/**
 * Runs one command inside a Nest standalone context and always closes it, which releases the
 * database (and the embedded server, when this process started it). Logs go to stderr so that
 * stdout carries only the command's output.
 */
export async function withContext<T>(run: (context: INestApplicationContext) => Promise<T>): Promise<T> {
  const config = loadCliConfig();
  const logger = createLogger({
    level: config.logLevel === 'info' ? 'warn' : config.logLevel,
    destination: pino.destination({ fd: 2, sync: true }),
    name: 'agentplane-cli',
  });
  const context = await NestFactory.createApplicationContext(CliModule.forRoot(config, logger), {
    logger: new PinoNestLogger(logger.child({ component: 'nest' })),
    abortOnError: false,
  });
  try {
    return await run(context);
  } catch (error) {
    if (error instanceof DomainError) {
      const fields = (error.errors ?? []).map((e) => `\n  ${e.path}: ${e.message}`).join('');
      throw new CliFailure(`${error.detail ?? error.code}${fields}`, 1);
    }
    throw error;
  } finally {
    await context.close();
  }
}
