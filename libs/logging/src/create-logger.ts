import { pino, type Logger, type DestinationStream } from 'pino';
import type { LogLevel } from '#agentplane/config';
import { redactLine } from './redaction.js';

export type { Logger } from 'pino';

export interface LoggerOptions {
  readonly level: LogLevel;
  /** Defaults to stdout; the CLI logs to stderr so its stdout stays machine-readable. */
  readonly destination?: DestinationStream;
  readonly name?: string;
}

/** The one pino instance of a process: JSON lines, secret-named fields redacted from every line. */
export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      name: options.name ?? 'agentplane',
      level: options.level,
      // Secrets are redacted from the finished line, by name, wherever they are (see redactLine).
      hooks: { streamWrite: redactLine },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      serializers: {
        err: pino.stdSerializers.err,
        // Path only: a query string may carry a token someone pasted into a URL.
        req: (req: { method?: string; url?: string; ip?: string }) => ({
          method: req.method,
          path: req.url?.split('?')[0],
          remoteAddress: req.ip,
        }),
      },
    },
    options.destination ?? pino.destination({ fd: 1, sync: false }),
  );
}
