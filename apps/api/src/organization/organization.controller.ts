import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { type AuthContext, CurrentAuth, OrganizationService } from '@agentplane/auth';
import { OrganizationResponseDto } from './organization-response.dto.js';
import { ProblemDetailsDto } from '../problem/problem-details.dto.js';

@ApiTags('organization')
@ApiBearerAuth()
@Controller('v1/organization')
export class OrganizationController {
  constructor(private readonly organizations: OrganizationService) {}

  @Get()
  @ApiOperation({ operationId: 'getOrganization', summary: 'The organization the API key belongs to' })
  @ApiOkResponse({ type: OrganizationResponseDto })
  @ApiUnauthorizedResponse({ type: ProblemDetailsDto })
  async get(@CurrentAuth() auth: AuthContext): Promise<OrganizationResponseDto> {
    return OrganizationResponseDto.from(await this.organizations.get(auth.orgId));
  }
}
