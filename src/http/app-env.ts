import type { Env } from "../config/env";
import type { AccessGrant } from "../issuance/dpop-access";

/** Hono's typed context for every router of the Worker. */
export interface AppEnv {
  Bindings: Env;
  Variables: {
    /** Set by the dpopAccess middleware on the credential and notification endpoints. */
    grant: AccessGrant;
    /** Set by requireAdmin: who is calling, as the audit log names them (never the token). */
    adminActor: string;
  };
}
