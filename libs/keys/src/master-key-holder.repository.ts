import { Injectable } from '@nestjs/common';
import { PrismaService } from '#agentplane/db';

export interface MasterKeyHolder {
  readonly instanceId: string;
  readonly hostname: string;
  readonly pid: number;
  readonly keyIds: readonly string[];
  readonly activeKeyId: string;
}

/**
 * The running API processes and the master keys each holds. Times come from the database's
 * clock, so hosts with skewed clocks still agree on who is alive.
 */
@Injectable()
export class MasterKeyHolderRepository {
  constructor(private readonly prisma: PrismaService) {}

  async announce(holder: MasterKeyHolder, forgetAfterSeconds: number): Promise<void> {
    await this.prisma.$transaction([
      // Crashed processes never withdraw; their rows go once nobody could mistake them for live.
      this.prisma.$executeRaw`
        DELETE FROM master_key_holders WHERE seen_at < now() - make_interval(secs => ${forgetAfterSeconds})`,
      this.prisma.$executeRaw`
        INSERT INTO master_key_holders (instance_id, hostname, pid, key_ids, active_key_id, started_at, seen_at)
        VALUES (${holder.instanceId}, ${holder.hostname}, ${holder.pid}, ${[...holder.keyIds]}::text[],
                ${holder.activeKeyId}, now(), now())
        ON CONFLICT (instance_id) DO UPDATE
          SET key_ids = EXCLUDED.key_ids, active_key_id = EXCLUDED.active_key_id, seen_at = now()`,
    ]);
  }

  /** Refreshes `seen_at`; false when the row is gone (forgotten after a long stall), so the caller re-announces. */
  async touch(instanceId: string): Promise<boolean> {
    const updated = await this.prisma.$executeRaw`
      UPDATE master_key_holders SET seen_at = now() WHERE instance_id = ${instanceId}`;
    return updated > 0;
  }

  async withdraw(instanceId: string): Promise<void> {
    await this.prisma.masterKeyHolder.deleteMany({ where: { instanceId } });
  }

  /** Holders seen within the last `withinSeconds`, oldest first. */
  async live(withinSeconds: number): Promise<MasterKeyHolder[]> {
    const rows = await this.prisma.$queryRaw<
      { instance_id: string; hostname: string; pid: number; key_ids: string[]; active_key_id: string }[]
    >`
      SELECT instance_id, hostname, pid, key_ids, active_key_id
        FROM master_key_holders
       WHERE seen_at >= now() - make_interval(secs => ${withinSeconds})
       ORDER BY started_at, instance_id`;
    return rows.map((row) => ({
      instanceId: row.instance_id,
      hostname: row.hostname,
      pid: row.pid,
      keyIds: row.key_ids,
      activeKeyId: row.active_key_id,
    }));
  }
}
