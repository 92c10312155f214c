import type { Context } from "hono";
import { z } from "zod";
import { RoomNameSchema } from "../config/room-config";
import { ApiError } from "./problem";

/**
 * Reading untrusted input at the edge. Each helper either returns a value of the schema's type or
 * throws the ApiError that describes what was wrong; handlers never see unvalidated data.
 * Body size is capped before this runs (bodyLimit in app.ts).
 */

/** Parse a JSON body against `schema`. With `optional`, an empty body reads as `{}`. */
export async function readJson<S extends z.ZodType>(c: Context, schema: S, options: { optional?: boolean } = {}): Promise<z.infer<S>> {
  const text = await c.req.text();
  let value: unknown = {};
  if (text.length > 0 || !options.optional) {
    const type = c.req.header("content-type") ?? "";
    if (!/^application\/json\s*(;|$)/i.test(type)) {
      throw new ApiError("unsupported_media_type", "send the body as application/json");
    }
    try {
      value = JSON.parse(text);
    } catch {
      throw new ApiError("invalid_json", "the body is not well-formed JSON");
    }
  }
  const result = schema.safeParse(value);
  if (!result.success) {
    throw new ApiError("validation_failed", "the body does not match what this endpoint accepts", {
      extras: { errors: result.error.issues.map((i) => ({ path: i.path.join("."), message: i.message })) },
    });
  }
  return result.data;
}

/** The `:room` path parameter; a malformed name cannot exist, so it is a 404 like any unknown room. */
export function roomParam(c: Context): string {
  const result = RoomNameSchema.safeParse(c.req.param("room"));
  if (!result.success) throw new ApiError("not_found", "no such room");
  return result.data;
}

/** The token of an `Authorization: Bearer` header, or null. The scheme is case-insensitive (RFC 9110 §11.1). */
export function bearerToken(c: Context): string | null {
  const header = c.req.header("authorization");
  if (!header) return null;
  const match = /^Bearer ([A-Za-z0-9\-._~+/]+=*)$/i.exec(header.trim());
  return match ? match[1]! : null;
}

export function noRoom(room: string): ApiError {
  return new ApiError("not_found", `no room named "${room}"`);
}
