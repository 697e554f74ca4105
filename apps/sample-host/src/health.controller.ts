import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import { FulfilmentHealthIndicator } from 'nestjs-fulfilment';

@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly db: TypeOrmHealthIndicator,
    private readonly fulfilment: FulfilmentHealthIndicator,
  ) {}

  /** 200 when the database answers and the fulfilment module is healthy (sync not behind, webhooks confirmed), 503 otherwise. */
  @Get()
  @HealthCheck()
  check() {
    return this.health.check([() => this.db.pingCheck('database'), () => this.fulfilment.isHealthy('fulfilment')]);
  }
}
