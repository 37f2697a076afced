// Signing in to the dashboard the way Whop does: a user token from the sandbox (which plays Whop's
// proxy and JWKS), for a user the sandbox knows as an admin of the company.
import type { SettingsFormValues } from "../../web/components/settings/form_model.ts";
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

/** The access checks the sandbox has answered for this user (any company), in order. */
export async function accessChecks(userId: string): Promise<{ path: string; status: number }[]> {
  const { calls } = await sandboxControl(
    "GET",
    `/calls?path=${encodeURIComponent(`/api/v1/users/${userId}/access/*`)}`,
  );
  return calls;
}

/**
 * Cross-site (CSRF) attempts every dashboard POST must refuse with 403 and no change, whatever the
 * route: one table, used by the settings, case action and cross-site tests alike. `origin` is the
 * dashboard's own origin in the test.
 */
export function crossSiteAttempts(origin: string): Array<[string, Record<string, string>]> {
  const host = new URL(origin).host;
  return [
    ["Sec-Fetch-Site cross-site", { "sec-fetch-site": "cross-site" }],
    ["Sec-Fetch-Site same-site", { "sec-fetch-site": "same-site" }],
    ["Sec-Fetch-Site none", { "sec-fetch-site": "none" }],
    ["cross-site even with our Origin", { "sec-fetch-site": "cross-site", origin }],
    ["another site's Origin", { origin: "https://evil.example" }],
    ["a look-alike Origin", { "sec-fetch-site": "same-origin", origin: `http://${host}.evil.example` }],
    ["Origin null", { origin: "null" }],
    ["Origin garbage", { origin: "not a url" }],
    // X-Forwarded-Host is whatever the client says: it does not make a foreign Origin ours.
    [
      "X-Forwarded-Host matching a foreign Origin",
      { "sec-fetch-site": "same-origin", origin: "https://evil.example", "x-forwarded-host": "evil.example" },
    ],
  ];
}

/** The settings form as a browser would send it. */
export function settingsFormBody(values: SettingsFormValues): URLSearchParams {
  const body = new URLSearchParams();
  for (const [name, value] of Object.entries(values)) {
    if (name === "templates") continue;
    if (typeof value === "boolean") {
      if (value) body.set(name, "on");
    } else body.set(name, String(value));
  }
  for (const [key, text] of Object.entries(values.templates)) body.set(`templates.${key}`, text);
  return body;
}
