import { Injectable } from '@nestjs/common';
import { PrismaService } from '#agentplane/db';

@Injectable()
export class MasterKeyCheckRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** Records `check` for a key id seen for the first time; returns the check on record. */
  async recordOrGet(id: string, check: Uint8Array<ArrayBuffer>): Promise<Uint8Array> {
    // Insert-or-nothing, then read: concurrent first starts agree on whichever row won.
    await this.prisma.masterKeyCheck.createMany({ data: [{ id, check }], skipDuplicates: true });
    const row = await this.prisma.masterKeyCheck.findUniqueOrThrow({ where: { id }, select: { check: true } });
    return row.check;
  }
}
