// @ts-check
// A real `npm start` (tools/start.mjs → wrangler's dev server → workerd) run by a tool: started in a process
// group of its own on a given port and persist directory, so it can be stopped as a whole (SIGTERM),
// killed as a whole mid-flight (SIGKILL: the crash the restart test and the fault harness inflict), and
// started again on the same state.
import { spawn } from "node:child_process";
import { createWriteStream } from "node:fs";
import { join } from "node:path";
import { livePidsInGroup, signalGroup } from "../lib/processes.mjs";

const sleep = (/** @type {number} */ ms) => new Promise((r) => setTimeout(r, ms));

export class DevServer {
  /**
   * `root`: the tree to run (a snapshot, see processes.mjs); `env`: extra variables for start.mjs;
   * `args`: extra options for start.mjs (e.g. `--inspect`); `readyPaths`: what must answer 200 before
   * the server counts as started.
   * `root`, `persistDir` and `logPath` are needed to start a server; without them the instance only asks
   * whether one already answers on `port` (answers()).
   * @param {{ root?: string, port: number, persistDir?: string, logPath?: string, env?: Record<string, string>, args?: string[], readyTimeoutMs?: number, readyPaths?: string[] }} options
   */
  constructor({ root, port, persistDir, logPath, env = {}, args = [], readyTimeoutMs = 90_000, readyPaths = ["/v1/rooms/permis"] }) {
    this.root = root;
    this.port = port;
    this.persistDir = persistDir;
    this.logPath = logPath;
    this.env = env;
    this.args = args;
    this.readyTimeoutMs = readyTimeoutMs;
    this.readyPaths = readyPaths;
    this.base = `http://127.0.0.1:${port}`;
    this.child = null;
    this.starts = 0;
  }

  get pgid() {
    return this.child?.pid ?? null;
  }

  async start() {
    const { root, persistDir, logPath } = this;
    if (root === undefined || persistDir === undefined || logPath === undefined)
      throw new Error("DevServer: start() needs root, persistDir and logPath");
    const out = createWriteStream(logPath, { flags: "a" });
    out.write(`\n===== start ${new Date().toISOString()} port ${this.port} persist ${this.persistDir}\n`);
    const child = spawn(process.execPath, ["tools/start.mjs", ...this.args], {
      cwd: root,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        ...process.env,
        PORT: String(this.port),
        PERSIST_TO: persistDir,
        WRANGLER_LOG_PATH: join(persistDir, "..", "wrangler-logs"),
        FORCE_COLOR: "0",
        NO_COLOR: "1",
        ...this.env,
      },
    });
    this.child = child;
    this.starts++;
    child.stdout.pipe(out, { end: false });
    child.stderr.pipe(out, { end: false });
    let exited = null;
    child.on("exit", (code, signal) => {
      exited = { code, signal };
      setTimeout(() => out.end(), 200);
    });
    const t0 = Date.now();
    while (Date.now() - t0 < this.readyTimeoutMs) {
      if (exited) throw new Error(`server exited before it was ready (${JSON.stringify(exited)}); see ${this.logPath}`);
      if (await this.answers()) return Date.now() - t0;
      await sleep(250);
    }
    throw new Error(`server not ready within ${this.readyTimeoutMs / 1000} s; see ${this.logPath}`);
  }

  /**
   * Ready means the default room answers (the Worker and its Durable Objects are up, not merely the
   * port), and whatever else `readyPaths` names.
   */
  async answers() {
    try {
      const answers = await Promise.all(this.readyPaths.map((p) => fetch(`${this.base}${p}`, { signal: AbortSignal.timeout(2_000) })));
      await Promise.all(answers.map((res) => res.arrayBuffer()));
      return answers.every((res) => res.status === 200);
    } catch {
      return false;
    }
  }

  /** A crash: SIGKILL to the whole group (node, wrangler, both workerd), no shutdown of any kind. */
  async kill() {
    const pgid = this.pgid;
    this.child = null;
    if (!pgid) return;
    signalGroup(pgid, "SIGKILL");
    const deadline = Date.now() + 5_000;
    while (livePidsInGroup(pgid).length > 0 && Date.now() < deadline) await sleep(50);
  }

  /** A clean stop: SIGTERM, then SIGKILL whatever is left after 10 s. Returns the pids that needed it. */
  async stop() {
    const pgid = this.pgid;
    this.child = null;
    if (!pgid) return [];
    signalGroup(pgid, "SIGTERM");
    const deadline = Date.now() + 10_000;
    while (livePidsInGroup(pgid).length > 0 && Date.now() < deadline) await sleep(100);
    const leftovers = livePidsInGroup(pgid);
    if (leftovers.length > 0) {
      signalGroup(pgid, "SIGKILL");
      // Gone before returning, so the next start on the same state finds its port and files free.
      const killDeadline = Date.now() + 3_000;
      while (livePidsInGroup(pgid).length > 0 && Date.now() < killDeadline) await sleep(100);
    }
    return leftovers;
  }

  /** Last resort from exit handlers: synchronous. */
  killNow() {
    if (this.pgid) signalGroup(this.pgid, "SIGKILL");
    this.child = null;
  }
}
