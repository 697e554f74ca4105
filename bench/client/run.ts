/**
 * bench/client: CaryRx getOrder through CaryRxService (validation, HTTP core, wire mapping) against a
 * raw axios GET of the same simulator URL. Same machine, same simulator, same number of calls.
 *
 *   npm run bench:client [-- --calls 5000 --concurrency 1 --rounds 7]
 */
import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import axios from 'axios';
import { Agent } from 'node:http';
import { CaryRxService, FulfilmentModule } from 'nestjs-fulfilment';
import { CaryRxSimulator } from 'nestjs-fulfilment/testing';
import { createTestDatabase } from '../../test/support/test-database.js';

const args = new Map<string, string>();
process.argv.slice(2).forEach((arg, i, all) => arg.startsWith('--') && args.set(arg.slice(2), all[i + 1] ?? ''));
const CALLS = Number(args.get('calls') ?? 5000);
const CONCURRENCY = Number(args.get('concurrency') ?? 1);
/** Rounds alternate raw and service; the median ratio is reported with the spread of the per-round ratios. */
const ROUNDS = Number(args.get('rounds') ?? 7);

async function timeCalls(call: () => Promise<unknown>): Promise<number> {
  let next = 0;
  const t0 = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next++ < CALLS) await call();
    }),
  );
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

async function main(): Promise<void> {
  const sim = new CaryRxSimulator({ apiKey: 'bench-key', stepMs: 0 });
  await sim.start();
  const db = await createTestDatabase('sqlite');

  @Module({
    imports: [
      TypeOrmModule.forRoot(db.options),
      FulfilmentModule.forRoot({
        caryrx: { baseUrl: sim.url, apiKey: 'bench-key', environment: 'development' },
        webhooks: { secret: 'bench-webhook-secret-000000' },
        sync: { enabled: false },
      }),
    ],
  })
  class BenchModule {}
  const app = await NestFactory.createApplicationContext(BenchModule, { logger: ['error'] });
  const caryrx = app.get(CaryRxService);

  const patient = await caryrx.createPatient({ firstName: 'Bench', lastName: 'Patient', dob: '2000-01-01' });
  const location = await caryrx.createPatientLocation(patient.id, { street1: '1 Main St', city: 'Columbus', state: 'OH', zip: '43210' });
  const rx = await caryrx.createPrescription({ patientId: patient.id, medicationName: 'atorvastatin', qtyWritten: 10, refillsWritten: 0, daysSupply: 10 });
  const order = await caryrx.createOrder({ patientId: patient.id, patientLocationId: location.id, prescriptionIds: [rx.id] });

  // The raw baseline: a keep-alive axios instance, no validation, no mapping, no retries.
  const raw = axios.create({ baseURL: sim.url, headers: { apikey: 'bench-key' }, httpAgent: new Agent({ keepAlive: true }) });
  const rawGet = () => raw.get(`/v1/orders/${order.id}`);
  const serviceGet = () => caryrx.getOrder(order.id);

  // Warm up both paths, then alternate rounds so neither gets a warmer machine.
  await timeCalls(rawGet);
  await timeCalls(serviceGet);
  const rawTimes: number[] = [];
  const serviceTimes: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    rawTimes.push(await timeCalls(rawGet));
    serviceTimes.push(await timeCalls(serviceGet));
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const r = median(rawTimes);
  const s = median(serviceTimes);
  console.log(`bench/client: ${CALLS} GET /v1/orders/:id per round, concurrency ${CONCURRENCY}, median of ${ROUNDS} rounds, node ${process.version}`);
  console.table([
    { path: 'raw axios GET', 'total ms': r.toFixed(0), 'µs/call': ((r * 1000) / CALLS).toFixed(0), 'calls/s': Math.round((CALLS * 1000) / r) },
    { path: 'CaryRxService.getOrder', 'total ms': s.toFixed(0), 'µs/call': ((s * 1000) / CALLS).toFixed(0), 'calls/s': Math.round((CALLS * 1000) / s) },
  ]);
  const perRound = serviceTimes.map((t, i) => t / rawTimes[i]).sort((a, b) => a - b);
  console.log(
    `  ratio service/raw = ${(s / r).toFixed(3)}x (goal ≤ 1.15x); per round ${perRound[0].toFixed(3)}–${perRound[perRound.length - 1].toFixed(3)}x, ` +
      `overhead ${(((s - r) * 1000) / CALLS).toFixed(0)} µs/call`,
  );

  await app.close();
  await sim.stop();
  await db.cleanup();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
