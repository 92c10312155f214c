import { exports } from "cloudflare:workers";
import { z } from "zod";

/**
 * Response conformance: does an answer the Worker gave match what the served OpenAPI document says that
 * route answers with that status? The document is the one GET /openapi.json serves (what client
 * generators read), not the zod schemas it was built from, so a fault in the generation shows here too.
 * JSON bodies are validated by rebuilding each JSON Schema as a zod schema (`z.fromJSONSchema`).
 */

type Json = Record<string, any>;

/** Statuses any route may answer (routing, input limits) without listing them: the document's `default`. */
const ANYWHERE = new Set([404, 405, 413, 414, 431]);

let documentPromise: Promise<Json> | null = null;

export function openApiDocument(origin: string): Promise<Json> {
  documentPromise ??= exports.default.fetch(`${origin}/openapi.json`).then(async (res: Response) => {
    if (res.status !== 200) throw new Error(`GET /openapi.json answered ${res.status}`);
    return (await res.json()) as Json;
  });
  return documentPromise;
}

/** The document's path template for a concrete path (literal segments win over parameters), or null. */
export function templateFor(doc: Json, pathname: string): string | null {
  const matching = Object.keys(doc.paths).filter((template) => {
    const pattern = template.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\{[^}]+\}/g, "[^/]+");
    return new RegExp(`^${pattern}$`).test(pathname);
  });
  matching.sort((a, b) => (a.match(/\{/g)?.length ?? 0) - (b.match(/\{/g)?.length ?? 0));
  return matching[0] ?? null;
}

const validators = new Map<string, z.ZodType>();

/** A zod validator for a schema of the document; component `$ref`s resolve through `$defs`. */
function validatorFor(doc: Json, schema: Json): z.ZodType {
  const key = JSON.stringify(schema);
  let v = validators.get(key);
  if (!v) {
    const rewrite = (value: unknown) => JSON.parse(JSON.stringify(value).replaceAll('"#/components/schemas/', '"#/$defs/'));
    v = z.fromJSONSchema({ ...rewrite(schema), $defs: rewrite(doc.components.schemas) });
    validators.set(key, v);
  }
  return v;
}

function resolve(doc: Json, node: Json): Json {
  if (typeof node.$ref !== "string") return node;
  const path = (node.$ref as string).replace(/^#\//, "").split("/");
  return path.reduce((at: Json, part) => at[part], doc);
}

/**
 * The problems found with `res` as the answer to `method` on `url`: empty when it conforms. Reads a
 * clone, so the caller can still read the body.
 */
export async function openApiMismatches(method: string, url: string, res: Response): Promise<string[]> {
  const { origin, pathname } = new URL(url);
  // The development kit's routes (/v1/dev) are deliberately not in the production document.
  if (pathname.startsWith("/v1/dev/")) return [];
  const doc = await openApiDocument(origin);
  const where = `${method} ${pathname} → ${res.status}`;
  const template = templateFor(doc, pathname);
  if (!template) {
    // No such path: only a refusal, as a problem document (what `default` and routing promise).
    if (!ANYWHERE.has(res.status)) return [`${where}: no path of the document matches`];
    return conforms(doc, where, doc.components.responses.Problem, res);
  }
  const operation = doc.paths[template][method.toLowerCase() === "head" ? "get" : method.toLowerCase()];
  if (!operation) {
    // A method the path does not serve: only a refusal, as a problem document: 405 with Allow, an input
    // limit, or one the path's guard gives before routing (the admin API's 401/403 for any method).
    const guards = Object.values(doc.paths[template] as Json).flatMap((op: Json) =>
      Object.entries(op.responses ?? {})
        .filter(([, r]) => (r as Json).$ref === "#/components/responses/Problem")
        .map(([status]) => status),
    );
    if (!ANYWHERE.has(res.status) && !guards.includes(String(res.status))) return [`${where}: ${template} has no ${method} operation`];
    return conforms(doc, where, doc.components.responses.Problem, res);
  }
  const listed = operation.responses[String(res.status)];
  if (!listed && !ANYWHERE.has(res.status)) return [`${where}: status not documented for ${template}`];
  return conforms(doc, where, resolve(doc, listed ?? operation.responses.default), res);
}

async function conforms(doc: Json, where: string, response: Json, res: Response): Promise<string[]> {
  const bytes = new Uint8Array(await res.clone().arrayBuffer());
  if (!response.content) return bytes.length === 0 ? [] : [`${where}: documented without a body, answered ${bytes.length} bytes`];
  const media = (res.headers.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
  const documented = response.content[media];
  if (!documented) return [`${where}: content-type ${media || "(none)"} is not one of ${Object.keys(response.content).join(", ")}`];
  if (!/json$/.test(media)) return [];
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return [`${where}: body is not JSON`];
  }
  const result = validatorFor(doc, documented.schema).safeParse(value);
  if (result.success) return [];
  return result.error.issues.map((i) => `${where}: ${i.path.join(".") || "(body)"}: ${i.message}`);
}

/** Throws (a test failure) unless `res` conforms to the document. */
export async function expectConforms(method: string, url: string, res: Response): Promise<void> {
  const mismatches = await openApiMismatches(method, url, res);
  if (mismatches.length > 0) throw new Error(`response does not match /openapi.json:\n${mismatches.join("\n")}`);
}
