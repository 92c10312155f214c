/** One bad variable or secret: its name and what is wrong (never its value: it may be a secret). */
export interface ConfigProblem {
  readonly name: string;
  readonly reason: string;
}

/**
 * The deployment's configuration is wrong: every bad variable at once, so an operator fixes them in one
 * deploy rather than one per attempt. Thrown by src/config/settings.ts; the HTTP layer answers it as
 * 503 not-configured (src/http/errors.ts). It lives here, not in src/http, so that configuration does
 * not depend on the layer that serves it.
 */
export class ConfigError extends Error {
  override readonly name = "ConfigError";

  constructor(
    readonly problems: readonly ConfigProblem[],
    message = `bad configuration: ${problems.map((p) => `${p.name} ${p.reason}`).join("; ")}`,
  ) {
    super(message);
  }
}
