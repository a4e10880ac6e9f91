import { ApiProperty, ApiSchema } from '@nestjs/swagger';
import type { Organization } from '#agentplane/auth';

@ApiSchema({ name: 'Organization' })
export class OrganizationResponseDto {
  @ApiProperty({ example: 'org_5k2mc8q1vz3x0r9d7t4b6n8p2a' })
  id!: string;
  @ApiProperty({ enum: ['organization'] })
  object!: 'organization';
  @ApiProperty()
  name!: string;
  @ApiProperty({ format: 'date-time' })
  created_at!: string;

  static from(org: Organization): OrganizationResponseDto {
    return { id: org.id, object: 'organization', name: org.name, created_at: org.createdAt.toISOString() };
  }
}
