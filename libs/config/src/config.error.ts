export interface ConfigProblem {
  readonly variable: string;
  readonly message: string;
}

/** Thrown by `loadConfig`; its message names every offending variable and never echoes a value. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly ConfigProblem[]) {
    super('Invalid configuration:\n' + problems.map((p) => `  ${p.variable}: ${p.message}`).join('\n'));
    this.name = 'ConfigError';
  }
}
