import { exports } from "cloudflare:workers";
import { expect, it } from "vitest";
import { newDevice } from "./helpers/device";

it("joins the default room", async () => {
  let t = Date.now();
  const device = await newDevice();
  console.log("keygen", Date.now() - t); t = Date.now();
  const url = "http://antichambre.test/v1/rooms/permis/tickets";
  const proof = await device.proof("POST", url);
  console.log("proof", Date.now() - t); t = Date.now();
  const j = await exports.default.fetch("http://antichambre.test/.well-known/jwks.json");
  console.log("jwks", Date.now() - t, j.status); t = Date.now();
  const r = await exports.default.fetch("http://antichambre.test/v1/rooms/permis");
  console.log("room", Date.now() - t, r.status); t = Date.now();
  const res = await exports.default.fetch(url, { method: "POST", headers: { dpop: proof } });
  console.log("fetch", Date.now() - t); t = Date.now();
  const res2 = await exports.default.fetch(url, { method: "POST", headers: { dpop: await device.proof("POST", url) } });
  console.log("fetch2", Date.now() - t, res2.status); t = Date.now();
  expect(res.status).toBe(201);
});
