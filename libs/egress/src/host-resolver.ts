import { lookup } from 'node:dns/promises';
import { Injectable } from '@nestjs/common';

/**
 * Turns a host name into every address it resolves to (A and AAAA). Injectable so tests never
 * need real DNS; the default asks the operating system, as a connection would.
 */
export abstract class HostResolver {
  /** Every address, or an empty list when the name does not resolve. */
  abstract resolve(host: string): Promise<string[]>;
}

const NOT_FOUND = new Set(['ENOTFOUND', 'ENODATA', 'EAI_NONAME', 'EAI_NODATA', 'EAI_AGAIN', 'ESERVFAIL', 'EREFUSED']);

@Injectable()
export class SystemHostResolver extends HostResolver {
  async resolve(host: string): Promise<string[]> {
    try {
      const answers = await lookup(host, { all: true, order: 'verbatim' });
      return answers.map((answer) => answer.address);
    } catch (error) {
      if (NOT_FOUND.has((error as NodeJS.ErrnoException).code ?? '')) return [];
      throw error;
    }
  }
}
