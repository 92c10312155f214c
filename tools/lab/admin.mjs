// @ts-check
// The operator's side of the tools: the admin API and the development fault switch (src/faults), over
// loopback HTTP with the development admin token unless ADMIN_TOKEN says otherwise.
export const ADMIN_TOKEN = process.env.ADMIN_TOKEN || "dev-admin-token";

/**
 * One admin API call; answers the status, the parsed JSON body (null if not JSON) and the raw text.
 * @param {string} base
 * @param {string} method
 * @param {string} path
 * @param {unknown} [body]
 * @returns {Promise<{ status: number, json: any, text: string }>} `json` is whatever the endpoint answers
 */
export async function adminCall(base, method, path, body) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body ? { "content-type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
    signal: AbortSignal.timeout(15_000),
  });
  const text = await res.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {
    // The caller reports the text.
  }
  return { status: res.status, json, text };
}

/**
 * Create (or update) a room; throws with the server's answer if refused.
 * @param {string} base
 * @param {string} room
 * @param {Record<string, unknown>} config
 */
export async function putRoom(base, room, config) {
  const res = await adminCall(base, "PUT", `/v1/admin/rooms/${encodeURIComponent(room)}`, config);
  if (res.status !== 200 && res.status !== 201) throw new Error(`creating room ${room}: ${res.status} ${res.text.slice(0, 300)}`);
  return res.json;
}

/**
 * The room's admin statistics, or null if they could not be read (the server may be restarting).
 * @param {string} base
 * @param {string} room
 */
export async function roomStats(base, room) {
  try {
    const res = await adminCall(base, "GET", `/v1/admin/rooms/${encodeURIComponent(room)}`);
    return res.status === 200 ? res.json : null;
  } catch {
    return null;
  }
}

/**
 * Arm a fault plan (`{point: {mode, delay_ms?, times?, probability?}}`) with a seed; answers what is armed.
 * @param {string} base
 * @param {Record<string, { mode: string, delay_ms?: number, times?: number, probability?: number }>} faults
 * @param {number} [seed]
 */
export async function armFaults(base, faults, seed) {
  const res = await adminCall(base, "PUT", "/v1/dev/faults", { faults, ...(seed === undefined ? {} : { seed }) });
  if (res.status !== 200) throw new Error(`arming faults: ${res.status} ${res.text.slice(0, 300)}`);
  return res.json;
}

/**
 * Disarm every fault; answers how often each point fired since it was armed (null if unreachable).
 * @param {string} base
 */
export async function disarmFaults(base) {
  try {
    const res = await adminCall(base, "DELETE", "/v1/dev/faults");
    return res.status === 200 ? res.json : null;
  } catch {
    return null;
  }
}
