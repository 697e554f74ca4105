import { describe, it, expect, afterAll } from '@jest/globals';
import { Body, Controller, Post, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ApiProperty, DocumentBuilder, PickType, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { CaryRxPatientInputDto, FulfilmentModule, ScriptDropPrescriptionDto, type FulfilmentModuleExtras } from 'nestjs-fulfilment';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

/** A host's own DTOs built from the module's: a plain property, a list, and a swagger mapped type. */
class VisitDto {
  @ApiProperty()
  patient: CaryRxPatientInputDto;

  @ApiProperty({ type: [ScriptDropPrescriptionDto] })
  prescriptions: ScriptDropPrescriptionDto[];
}
class PatientNameDto extends PickType(CaryRxPatientInputDto, ['firstName', 'lastName'] as const) {}

@Controller('visits')
class VisitsController {
  @Post()
  create(@Body() body: VisitDto) {
    return body;
  }

  @Post('names')
  name(@Body() body: PatientNameDto) {
    return body;
  }
}

const WEBHOOK_PATHS = ['/fulfilment/webhooks/caryrx/prescriptions', '/fulfilment/webhooks/caryrx/orders'];

/** A host app with its own controller and the module, and the swagger document it builds. */
async function hostDocument(extras: FulfilmentModuleExtras = {}): Promise<OpenAPIObject> {
  const db = await createTestDatabase();
  databases.push(db);
  const moduleRef = await Test.createTestingModule({
    imports: [
      TypeOrmModule.forRoot(db.options),
      FulfilmentModule.forRoot({ sandbox: { stepMs: 0 }, webhooks: { secret: 'openapi-webhook-secret-01' }, sync: { enabled: false }, ...extras }),
    ],
    controllers: [VisitsController],
  }).compile();
  const app = moduleRef.createNestApplication({ logger: ['error', 'warn'] });
  apps.push(app);
  return SwaggerModule.createDocument(app, new DocumentBuilder().build());
}
const apps: INestApplication[] = [];
const databases: TestDatabase[] = [];

afterAll(async () => {
  for (const app of apps) await app.close();
  for (const db of databases) await db.cleanup();
});

describe('the module in a host’s @nestjs/swagger document', () => {
  it('lists the webhook routes with no work on the host’s side, and describes the module DTOs a host uses in its own', async () => {
    const doc = await hostDocument();
    const schemas = doc.components!.schemas as Record<string, { properties?: Record<string, unknown>; required?: string[] }>;
    for (const path of WEBHOOK_PATHS) {
      const post = doc.paths[path].post!;
      expect(post.tags).toEqual(['fulfilment webhooks']);
      expect(post.parameters).toEqual([expect.objectContaining({ name: 'token', in: 'query', required: true })]);
      expect(Object.keys(post.responses).sort()).toEqual(['200', '400', '401', '413', '415']);
    }
    expect(schemas.VisitDto.properties).toEqual({
      patient: { $ref: '#/components/schemas/CaryRxPatientInputDto' },
      prescriptions: { type: 'array', items: { $ref: '#/components/schemas/ScriptDropPrescriptionDto' } },
    });
    expect(schemas.CaryRxPatientInputDto.required).toEqual(['firstName', 'lastName', 'dob']);
    expect(Object.keys(schemas.ScriptDropPrescriptionDto.properties!)).toContain('ndc');
    expect(schemas.PatientNameDto).toMatchObject({ required: ['firstName', 'lastName'], properties: { firstName: { type: 'string', maxLength: 100 } } });
  });

  it('leaves the webhook routes out with `openApi: false`, app by app', async () => {
    const without = await hostDocument({ openApi: false });
    expect(Object.keys(without.paths)).toEqual(['/visits', '/visits/names']);
    // Another app in the same process still lists them: the exclusion is per forRoot.
    const withThem = await hostDocument();
    expect(Object.keys(withThem.paths)).toEqual(expect.arrayContaining(WEBHOOK_PATHS));
  });
});
