import type { LaunchTotals } from "./load";
import { PRICES } from "./prices";

/**
 * The launch's cost on Workers Paid, line by line, from the run's own request counts (LaunchTotals) and
 * the price table (tools/sim/prices.ts). Marginal: the month's allowances are taken as already used,
 * and the $5 subscription is left out (it is paid whether or not there is a launch).
 */
export interface CostLine {
  readonly item: string;
  readonly quantity: number;
  readonly unit: string;
  readonly usd: number;
}

export interface LaunchCost {
  readonly pricesTakenOn: string;
  readonly lines: CostLine[];
  readonly totalUsd: number;
  readonly perMillionAdmittedUsd: number;
}

export function launchCost(t: LaunchTotals, admitted: number): LaunchCost {
  const w = PRICES.workers;
  const dop = PRICES.durableObjects;
  const workerRequests = Object.values(t.workerRequests).reduce((a, b) => a + b, 0);
  const doRequests = Object.values(t.durableObjectRequests).reduce((a, b) => a + b, 0);
  const line = (item: string, quantity: number, unit: string, perMillion: number): CostLine => ({
    item,
    quantity: Math.round(quantity),
    unit,
    usd: (quantity / 1e6) * perMillion,
  });
  const lines = [
    line("Worker requests", workerRequests, "requests", w.requestsPerMillion),
    line("Worker CPU time (modelled per request)", t.workerCpuMs, "CPU ms", w.cpuMsPerMillion),
    line("Durable Object requests", doRequests, "requests", dop.requestsPerMillion),
    line("Durable Object duration", t.durableObjectGbSeconds, "GB-s", dop.gbSecondsPerMillion),
    line("Durable Object SQLite rows read (modelled per call)", t.sqliteRowsRead, "rows", dop.rowsReadPerMillion),
    line("Durable Object SQLite rows written (modelled per call)", t.sqliteRowsWritten, "rows", dop.rowsWrittenPerMillion),
    line("D1 rows read (register)", t.d1RowsRead, "rows", PRICES.d1.rowsReadPerMillion),
    line("Cache API operations", t.cacheOperations, "operations", PRICES.cacheApiPerMillion),
  ];
  const totalUsd = lines.reduce((a, l) => a + l.usd, 0);
  return {
    pricesTakenOn: PRICES.takenOn,
    lines,
    totalUsd,
    perMillionAdmittedUsd: admitted > 0 ? (totalUsd / admitted) * 1e6 : 0,
  };
}
