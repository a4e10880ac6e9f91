import { Injectable } from '@nestjs/common';
import { DomainError } from '#agentplane/errors';
import { OrganizationRepository } from './organization.repository.js';
import type { OrgId } from './org-id.js';
import type { Organization } from './organization.js';

@Injectable()
export class OrganizationService {
  constructor(private readonly organizations: OrganizationRepository) {}

  async get(orgId: OrgId): Promise<Organization> {
    const org = await this.organizations.findById(orgId);
    if (org === undefined) throw DomainError.notFound('Organization');
    return org;
  }
}
