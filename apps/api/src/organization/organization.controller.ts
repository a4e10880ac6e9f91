import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { type AuthContext, CurrentAuth, OrganizationService } from '#agentplane/auth';
import { OrganizationResponseDto } from './organization-response.dto.js';
import { ApiAuthenticatedProblems } from '../problem/api-problem-response.decorator.js';

@ApiTags('organization')
@ApiBearerAuth()
@ApiAuthenticatedProblems()
@Controller('v1/organization')
export class OrganizationController {
  constructor(private readonly organizations: OrganizationService) {}

  @Get()
  @ApiOperation({ operationId: 'getOrganization', summary: 'The organization the API key belongs to' })
  @ApiOkResponse({ type: OrganizationResponseDto })
  async get(@CurrentAuth() auth: AuthContext): Promise<OrganizationResponseDto> {
    return OrganizationResponseDto.from(await this.organizations.get(auth.orgId));
  }
}
