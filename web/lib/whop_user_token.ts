// How a Whop user token (`x-whop-user-token`) is judged: exactly as Whop's own verifiers judge it
// (@whop/sdk 0.0.42 lib/verify-user-token.js, @whop/api 0.0.51 verifyUserToken; WHOP.md section 3),
// so a token Whop's proxy issues is never refused and nothing those verifiers refuse gets in.
import { jwtVerify, type JWTVerifyGetKey } from "jose";

export const WHOP_TOKEN_ISSUER = "urn:whopcom:exp-proxy";

/** The token's user id (`sub`); throws for any token Whop's verifiers would refuse. */
export async function verifyWhopUserToken(
  token: string,
  keys: JWTVerifyGetKey,
  appId: string,
): Promise<string> {
  // jose checks the signature, ES256 only, the issuer, and `exp`/`nbf` only when present. `exp` is
  // deliberately not required: the official verifiers do not require it, and whether Whop's tokens
  // carry one is unknown, so requiring it could lock every admin out.
  const { payload } = await jwtVerify(token, keys, { issuer: WHOP_TOKEN_ISSUER, algorithms: ["ES256"] });
  // Not jose's `audience` option: it accepts an array `aud` that contains our id, which Whop's
  // verifiers refuse. `aud` must be one string, our app id.
  if (typeof payload.aud !== "string" || payload.aud === "" || payload.aud !== appId) {
    throw new Error("the token is not for this app");
  }
  // The verifiers only ask for a truthy `sub`; a user id is always a non-empty string.
  if (typeof payload.sub !== "string" || payload.sub === "") throw new Error("the token has no subject");
  return payload.sub;
}
