import { Controller, Get, Header } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { register } from 'prom-client';

/**
 * `GET /metrics`: prom-client's global registry in the Prometheus text format, where the module
 * registers its metrics by default (what @willsoto/nestjs-prometheus would serve too).
 */
@ApiExcludeController()
@Controller('metrics')
export class MetricsController {
  @Get()
  @Header('content-type', register.contentType)
  metrics(): Promise<string> {
    return register.metrics();
  }
}
