import { describe, expect, it } from "vitest";
import { recordAdmissions, recordIssuance, type AnalyticsSink } from "../../src/metrics/analytics";

function fakeDataset() {
  const points: Parameters<AnalyticsSink["writeDataPoint"]>[0][] = [];
  return { points, ANALYTICS: { writeDataPoint: (p: (typeof points)[number]) => void points.push(p) } };
}

describe("Analytics Engine recording", () => {
  it("writes admissions with the documented layout", () => {
    const env = fakeDataset();
    recordAdmissions(env, "permis", 17, { waiting: 120, tickMs: 35 });
    expect(env.points).toEqual([{ indexes: ["permis"], blobs: ["admission", "permis", "admitted", ""], doubles: [17, 35, 120] }]);
  });

  it("writes issuance outcomes with room, configuration, count and latency", () => {
    const env = fakeDataset();
    recordIssuance(env, "issued", { room: "permis", configuration: "fr.antichambre.mdl.mso_mdoc", count: 2, latencyMs: 80 });
    recordIssuance(env, "register_busy");
    expect(env.points).toEqual([
      { indexes: ["permis"], blobs: ["issuance", "permis", "issued", "fr.antichambre.mdl.mso_mdoc"], doubles: [2, 80, 0] },
      { indexes: [""], blobs: ["issuance", "", "register_busy", ""], doubles: [1, 0, 0] },
    ]);
  });

  it("is a no-op without a binding, and never throws when the dataset does", () => {
    expect(() => recordAdmissions({}, "permis", 1)).not.toThrow();
    const broken = {
      ANALYTICS: {
        writeDataPoint: () => {
          throw new Error("quota");
        },
      },
    };
    expect(() => recordIssuance(broken, "denied", { room: "permis" })).not.toThrow();
  });
});
