import type { Env } from "../config/env";
import type { AccessGrant } from "../issuance/dpop-access";

/** Hono's typed context for every router of the Worker. */
export interface AppEnv {
  Bindings: Env;
  Variables: {
    /** Set by the dpopAccess middleware on the credential and notification endpoints. */
    grant: AccessGrant;
    /**
     * How the authorization flow's relying party reaches the identity provider's token endpoint and
     * keys: the global fetch unless the development kit answers for its embedded provider in-process.
     */
    identityFetch?: (request: Request) => Promise<Response>;
    /** Set by requireAdmin: who is calling, as the audit log names them (never the token). */
    adminActor: string;
  };
}
