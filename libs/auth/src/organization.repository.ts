import { Injectable } from '@nestjs/common';
import { newId, PrismaService } from '#agentplane/db';
import { asOrgId, type OrgId } from './org-id.js';
import type { Organization } from './organization.js';

@Injectable()
export class OrganizationRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** Operator action (CLI): organizations are addressed by their unique name. */
  async findOrCreateByName(name: string): Promise<Organization> {
    // An upsert on the unique name is race-free: two CLIs naming one new org get one row.
    const row = await this.prisma.organization.upsert({
      where: { name },
      create: { id: newId('org'), name },
      update: {},
    });
    return { id: asOrgId(row.id), name: row.name, createdAt: row.createdAt };
  }

  async findByName(name: string): Promise<Organization | undefined> {
    const row = await this.prisma.organization.findUnique({ where: { name } });
    return row === null ? undefined : { id: asOrgId(row.id), name: row.name, createdAt: row.createdAt };
  }

  async findById(orgId: OrgId): Promise<Organization | undefined> {
    const row = await this.prisma.organization.findUnique({ where: { id: orgId } });
    return row === null ? undefined : { id: asOrgId(row.id), name: row.name, createdAt: row.createdAt };
  }
}
