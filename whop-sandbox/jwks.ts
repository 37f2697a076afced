// The sandbox's stand-in for Whop's token signing: an ES256 key whose public half is served as a JWKS
// (like https://api.whop.com/.well-known/jwks.json) and whose private half mints the JWTs Whop's proxy
// puts in `x-whop-user-token`. The dashboard verifies those tokens exactly as it would in production.
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type JWK, SignJWT } from "jose";

export const WHOP_TOKEN_ISSUER = "urn:whopcom:exp-proxy";

export interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

/** Uses the given private JWK, or generates a fresh key pair (a new one each sandbox start). */
export async function loadSigningKey(privateJwk?: JWK): Promise<SigningKey> {
  if (privateJwk) {
    const { d: _d, ...pub } = privateJwk;
    const publicJwk: JWK = { kty: pub.kty, crv: pub.crv, x: pub.x, y: pub.y };
    const kid = privateJwk.kid ?? (await calculateJwkThumbprint(publicJwk));
    const privateKey = (await importJWK({ ...privateJwk, alg: "ES256" }, "ES256")) as CryptoKey;
    return { kid, privateKey, publicJwk: { ...publicJwk, kid, alg: "ES256", use: "sig" } };
  }
  const { privateKey, publicKey } = await generateKeyPair("ES256", { extractable: true });
  const exported = await exportJWK(publicKey);
  const publicJwk: JWK = { kty: exported.kty, crv: exported.crv, x: exported.x, y: exported.y };
  const kid = await calculateJwkThumbprint(publicJwk);
  return { kid, privateKey, publicJwk: { ...publicJwk, kid, alg: "ES256", use: "sig" } };
}

export function jwksDocument(key: SigningKey): { keys: JWK[] } {
  return { keys: [key.publicJwk] };
}

export interface UserTokenInput {
  userId: string;
  /** A list gives an array `aud`, which Whop's verifiers refuse (for negative tests). */
  audience: string | string[];
  issuer?: string;
  expiresInSeconds?: number;
  /** Leave `exp` out: Whop's verifiers do not require it, so the app must accept such a token. */
  noExpiry?: boolean;
}

/** An ES256 JWT shaped like Whop's `x-whop-user-token`: iss urn:whopcom:exp-proxy, aud app id,
 * sub user id. A negative expiry gives an already-expired token for negative tests. */
export async function mintUserToken(key: SigningKey, input: UserTokenInput): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const expiresIn = input.expiresInSeconds ?? 300;
  const jwt = new SignJWT({})
    .setProtectedHeader({ alg: "ES256", kid: key.kid, typ: "JWT" })
    .setIssuer(input.issuer ?? WHOP_TOKEN_ISSUER)
    .setAudience(input.audience)
    .setSubject(input.userId);
  if (input.noExpiry) return await jwt.setIssuedAt(now).sign(key.privateKey);
  return await jwt
    .setIssuedAt(Math.min(now, now + expiresIn - 60))
    .setExpirationTime(now + expiresIn)
    .sign(key.privateKey);
}
