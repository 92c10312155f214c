// @ts-check
// Memory of a running `npm start`, read from /proc (Linux). wrangler's dev server runs two workerd processes: a
// proxy listening on the public port (--socket-addr=entry=127.0.0.1:<port>) and, beside it (same
// parent), the one that runs the Worker and its Durable Objects. The latter is the one that must not grow.
import { readdirSync, readFileSync } from "node:fs";

/** @param {string} path */
function read(path) {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return null;
  }
}

function processes() {
  const out = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const cmdline = read(`/proc/${name}/cmdline`);
    const stat = read(`/proc/${name}/stat`);
    if (!cmdline || !stat) continue;
    const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    out.push({ pid: Number(name), ppid, args: cmdline.split("\0") });
  }
  return out;
}

/**
 * VmRSS of a process in KiB, or null if it is gone.
 * @param {number} pid
 * @returns {number | null}
 */
export function rssKiB(pid) {
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(read(`/proc/${pid}/status`) ?? "");
  return m ? Number(m[1]) : null;
}

/**
 * The workerd processes serving `port`: { worker, proxy } pids (null when not found).
 * @param {number} port
 */
export function workerdFor(port) {
  const all = processes().filter((p) => p.args.some((a) => /\/workerd$/.test(a)) && p.args.includes("serve"));
  const proxy = all.find((p) => p.args.includes(`--socket-addr=entry=127.0.0.1:${port}`)) ?? null;
  const worker = proxy ? (all.find((p) => p.ppid === proxy.ppid && p.pid !== proxy.pid) ?? null) : null;
  return { worker: worker?.pid ?? null, proxy: proxy?.pid ?? null };
}

/**
 * RSS in MiB of both, for a report line.
 * @param {number} port
 */
export function workerdMemory(port) {
  const { worker, proxy } = workerdFor(port);
  const mib = (/** @type {number | null} */ pid) => {
    const kib = pid === null ? null : rssKiB(pid);
    return kib === null ? null : Math.round((kib / 1024) * 10) / 10;
  };
  return { worker_pid: worker, worker_rss_mib: mib(worker), proxy_pid: proxy, proxy_rss_mib: mib(proxy) };
}
