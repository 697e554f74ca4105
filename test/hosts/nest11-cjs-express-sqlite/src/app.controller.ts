import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import { FulfilmentHealthIndicator } from 'nestjs-fulfilment';

@Controller()
export class AppController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly fulfilment: FulfilmentHealthIndicator,
  ) {}

  @Get('health')
  @HealthCheck()
  check() {
    return this.health.check([() => this.fulfilment.isHealthy('fulfilment')]);
  }
}
