// The part of autocannon's programmatic API that tools/bench/load.mjs uses (autocannon ships no types).
declare module "autocannon" {
  export interface Instance {
    stop(): void;
    on(event: "response", listener: (client: unknown, statusCode: number, bytes: number, responseTime: number) => void): void;
  }
  export interface Result {
    /** Seconds the run lasted. */
    duration: number;
    /** Transport errors (connection failures, resets). */
    errors: number;
    timeouts: number;
  }
  export interface Request {
    method?: string;
    path?: string;
    headers?: Record<string, string>;
    body?: string;
    setupRequest?: (request: Request) => Request;
  }
  export interface Options extends Request {
    url: string;
    connections: number;
    amount?: number;
    duration?: number;
    timeout?: number;
    requests?: Request[];
  }
  function autocannon(options: Options, callback: (err: Error | null, result: Result) => void): Instance;
  export default autocannon;
}
