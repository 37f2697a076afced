import assert from "node:assert/strict";
import { Hono } from "hono";
import { requireBearer, timingSafeEqual } from "../../supabase/functions/_shared/bearer.ts";
import { handleError } from "../../supabase/functions/_shared/http.ts";

Deno.test("timingSafeEqual compares whole strings", () => {
  assert.equal(timingSafeEqual("secret", "secret"), true);
  assert.equal(timingSafeEqual("secret", "secreT"), false);
  assert.equal(timingSafeEqual("secret", "secret2"), false);
  assert.equal(timingSafeEqual("", "x"), false);
  assert.equal(timingSafeEqual("", ""), true);
});

Deno.test("requireBearer answers 401 JSON unless the exact token is sent", async () => {
  const app = new Hono();
  app.onError(handleError);
  app.use("*", requireBearer("s3cret", "CRON_SECRET"));
  app.post("/", (c) => c.json({ ok: true }));
  const call = (authorization?: string) =>
    app.fetch(new Request("http://x/", { method: "POST", headers: authorization ? { authorization } : {} }));

  for (const header of [undefined, "s3cret", "Bearer", "Bearer wrong", "Basic s3cret", "Bearer s3cret2"]) {
    const response = await call(header);
    assert.equal(response.status, 401, String(header));
    const body = await response.json();
    assert.equal(body.error.code, "unauthorized");
    assert.match(body.error.message, /CRON_SECRET/);
  }
  assert.equal((await call("Bearer s3cret")).status, 200);
});
