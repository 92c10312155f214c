/**
 * Cloudflare Workers Paid prices (USD), as published on Cloudflare's documentation pages below, read
 * on 2026-12-06 through the project's documentation search (docs corpus). The monthly allowances are
 * listed but a launch is priced as if they were already used up by the rest of the month: the report
 * gives the marginal cost of the launch, which is what a second launch in the same month costs.
 */
export const PRICES = {
  takenOn: "2026-12-06",
  sources: [
    "https://developers.cloudflare.com/workers/platform/pricing/",
    "https://developers.cloudflare.com/durable-objects/platform/pricing/",
    "https://developers.cloudflare.com/d1/platform/pricing/",
  ],
  /** The Workers Paid subscription, per account and month. */
  subscriptionPerMonth: 5,
  workers: {
    /** Standard usage model: 10 M requests/month included, then $0.30 per million. */
    requestsPerMillion: 0.3,
    includedRequestsPerMonth: 10_000_000,
    /** 30 M CPU ms/month included, then $0.02 per million CPU ms. */
    cpuMsPerMillion: 0.02,
    includedCpuMsPerMonth: 30_000_000,
  },
  durableObjects: {
    /** HTTP requests, RPC sessions (every RPC call on a stub is one), alarms: 1 M/month, then $0.15/M. */
    requestsPerMillion: 0.15,
    includedRequestsPerMonth: 1_000_000,
    /** Wall-clock while active, billed at 128 MB: 400,000 GB-s/month, then $12.50 per million GB-s. */
    gbSecondsPerMillion: 12.5,
    includedGbSecondsPerMonth: 400_000,
    /** SQLite storage backend: rows read 25 billion/month, then $0.001/M; rows written 50 M, then $1.00/M. */
    rowsReadPerMillion: 0.001,
    includedRowsReadPerMonth: 25_000_000_000,
    rowsWrittenPerMillion: 1.0,
    includedRowsWrittenPerMonth: 50_000_000,
    /** Stored data: 5 GB-month included, then $0.20 per GB-month. */
    storedGbMonth: 0.2,
  },
  d1: {
    /** Rows read: 25 billion/month, then $0.001/M; rows written: 50 M/month, then $1.00/M. */
    rowsReadPerMillion: 0.001,
    includedRowsReadPerMonth: 25_000_000_000,
    rowsWrittenPerMillion: 1.0,
    includedRowsWrittenPerMonth: 50_000_000,
    /** 5 GB included, then $0.75 per GB-month. */
    storedGbMonth: 0.75,
  },
  /** The Cache API is not billed per operation. */
  cacheApiPerMillion: 0,
} as const;
