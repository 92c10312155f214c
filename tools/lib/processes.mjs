// @ts-check
// Process plumbing shared by the Node-side tools and test runners (test/e2e, test/browser, the
// benchmark, the soak): free ports, and process groups stopped as a whole, so no workerd is left behind
// holding a port or the SQLite files when the next server starts on the same state.
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";

/**
 * A free loopback port (the kernel picks; closed again before the caller binds it).
 * @returns {Promise<number>}
 */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = /** @type {import("node:net").AddressInfo} */ (srv.address());
      srv.close(() => resolve(port));
    });
  });
}

/**
 * PIDs still alive in a process group. On Linux /proc is read so that zombies (exited, not yet reaped by
 * an init that may not reap) do not count as "still running"; elsewhere kill(-pgid, 0) is the test.
 * @param {number} pgid
 * @returns {number[]}
 */
export function livePidsInGroup(pgid) {
  if (!existsSync("/proc/self/stat")) {
    try {
      process.kill(-pgid, 0);
      return [pgid];
    } catch {
      return [];
    }
  }
  const pids = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      // Fields after the parenthesised command: state, ppid, pgrp, ...
      const [state, , pgrp] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(pgrp) === pgid && state !== "Z") pids.push(Number(name));
    } catch {
      // Gone while reading: not alive.
    }
  }
  return pids;
}

/**
 * Signal every process of a group; a group already gone is not an error.
 * @param {number} pgid
 * @param {NodeJS.Signals} signal
 */
export function signalGroup(pgid, signal) {
  try {
    process.kill(-pgid, signal);
  } catch {
    // Already gone.
  }
}

/**
 * wrangler's dev server (`npm start`) watches the sources and reloads the Worker on every change;
 * an edit (or an editor's autosave) during a run would restart the Worker mid-request and drop in-memory
 * state. So runners start the service from a copy of the tree as it was when they started, with the
 * real node_modules linked in. Returns the copy's path (`<workDir>/tree`).
 */
const NOT_COPIED = new Set(["node_modules", ".git", ".wrangler", "reports", "results", "dist", "build", "test"]);

/**
 * @param {string} repo
 * @param {string} workDir
 */
export function snapshotTree(repo, workDir) {
  const dest = join(workDir, "tree");
  mkdirSync(dest);
  for (const name of readdirSync(repo)) {
    if (!NOT_COPIED.has(name)) cpSync(join(repo, name), join(dest, name), { recursive: true });
  }
  symlinkSync(join(repo, "node_modules"), join(dest, "node_modules"), "dir");
  return dest;
}
