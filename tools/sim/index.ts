/**
 * The launch-day simulator: pure, no I/O. `npm run simulate` (tools/simulate.mjs) bundles this
 * module, runs it and writes what it returns; the unit test runs a small launch through it.
 */
export { simConfig, type SimConfig, type SimOptions } from "./config";
export { runSimulation, type RunOutput } from "./run";
export { buildReport, type SimulationReport, type Target } from "./report";
export { formatReport } from "./format";
export { renderCharts } from "./charts";

import { simConfig, type SimOptions } from "./config";
import { buildReport, type SimulationReport } from "./report";
import { runSimulation } from "./run";

/** Configure, run and report in one call. */
export function simulate(options: SimOptions = {}): SimulationReport {
  return buildReport(runSimulation(simConfig(options)));
}
