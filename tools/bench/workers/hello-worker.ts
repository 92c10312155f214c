/**
 * Benchmark-only Worker (npm run bench): the floor of any request in this runtime. It does nothing but
 * answer, so its throughput is what the runtime, the socket and the load generator cost on their own.
 * Never deployed; tools/bench.mjs bundles it and runs it next to the real Worker, in the same
 * workerd process with the same options.
 */
export default {
  fetch(): Response {
    return new Response("Hello World!", { headers: { "content-type": "text/plain" } });
  },
} satisfies ExportedHandler;
