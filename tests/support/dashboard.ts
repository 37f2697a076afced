// Signing in to the dashboard the way Whop does: a user token from the sandbox (which plays Whop's
// proxy and JWKS), for a user the sandbox knows as an admin of the company.
import { sandboxControl, stackVar } from "./stack.ts";

export async function grantAccess(
  userId: string,
  companyId: string,
  level: "admin" | "customer" | "no_access" = "admin",
) {
  await sandboxControl("POST", "/fixtures", {
    access: [{ user_id: userId, resource_id: companyId, access_level: level }],
  });
}

export interface TokenOptions {
  expires_in_seconds?: number;
  /** No `exp` claim at all. */
  no_expiry?: boolean;
  issuer?: string;
  /** A list gives an array `aud`. */
  audience?: string | string[];
  untrusted_key?: boolean;
}

export async function userToken(userId: string, options: TokenOptions = {}): Promise<string> {
  const { token } = await sandboxControl("POST", "/user-token", {
    user_id: userId,
    app_id: stackVar("WHOP_APP_ID"),
    ...options,
  });
  return token;
}

/** A token for a fresh admin of `companyId`. */
export async function adminToken(companyId: string): Promise<{ userId: string; token: string }> {
  const userId = `user_admin_${companyId.slice(4)}`;
  await grantAccess(userId, companyId);
  return { userId, token: await userToken(userId) };
}
