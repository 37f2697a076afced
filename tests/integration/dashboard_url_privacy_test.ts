// No PII in any URL the dashboard generates: a crawl of every page an admin can reach (overview,
// cases and their pages, pagination, action confirmations, activity, settings, the CSV link), from
// the start and from a member search, with cases made by real signed webhooks. Every href, form
// action, src and redirect Location is checked for the members' names, emails, usernames (and each
// of their words), their cancellation words and what was searched.
import assert from "node:assert/strict";
import { membershipEvent, paymentEvent } from "../../whop-sandbox/payloads.ts";
import { withCaseHarness } from "../support/case_fixtures.ts";
import { enableEverything, signedRequest, withWebhookApp } from "../support/webhooks.ts";

const MAX_PAGES = 80;

Deno.test("dashboard URLs: a crawl of every page finds no member PII in any link, action or redirect", async () => {
  await withCaseHarness(async ({ sql, company }) => {
    await enableEverything(sql);
    const a = await company("url");
    const tag = a.companyId.slice(4, 12);
    const members = [
      { name: "Priscilla Quartermaine", email: `priscilla.q.${tag}@example.net`, username: `pquart${tag}` },
      { name: "Bartholomew Okonkwo", email: `bart.okonkwo.${tag}@example.org`, username: `bokonkwo${tag}` },
    ].map((m, i) => ({ ...m, userId: `user_url${i}_${tag}`, membershipId: `mem_url${i}_${tag}` }));
    const words = "Quietly leaving because Thursday sessions clash";
    await withWebhookApp(async ({ send }) => {
      for (
        const body of [
          paymentEvent("payment.failed", { companyId: a.companyId, ...members[0], amount: 30 }),
          membershipEvent("membership.cancel_at_period_end_changed", {
            companyId: a.companyId,
            ...members[1],
            cancelOption: "other",
            cancellationReason: words,
          }),
        ]
      ) assert.equal((await send(await signedRequest(body))).status, 200);
    });

    const secrets = members.flatMap((m) => [m.name, m.email, m.username, ...m.name.split(" ")])
      .concat(words.split(" ").filter((word) => word.length > 4));
    const seen = new Map<string, string>(); // URL -> where it was found
    const check = (url: string, where: string) => {
      const text = safeDecode(url).toLowerCase();
      for (const secret of secrets) {
        assert.ok(!text.includes(secret.toLowerCase()), `${where} links to ${url}, which holds "${secret}"`);
      }
    };

    const base = `/dashboard/${a.companyId}`;
    const queue: string[] = [base];
    // A search by name and one by email: the list they lead to is crawled too.
    for (const q of ["priscilla", members[1].email]) {
      const posted = await a.post(`${base}/cases`, { q });
      assert.equal(posted.status, 303, q);
      await posted.body?.cancel();
      const location = posted.headers.get("location")!;
      check(location, `the search for ${q}`);
      queue.push(location);
    }
    while (queue.length > 0 && seen.size < MAX_PAGES) {
      const path = queue.shift()!;
      if (seen.has(path)) continue;
      seen.set(path, "crawled");
      const response = await a.request(path, { redirect: "manual" });
      const location = response.headers.get("location");
      if (location) check(location, `the redirect of ${path}`);
      const type = response.headers.get("content-type") ?? "";
      if (!type.includes("text/html")) {
        await response.body?.cancel();
        continue;
      }
      const html = await response.text();
      for (const link of links(html)) {
        check(link, path);
        if (link.startsWith(base) && !seen.has(link)) queue.push(link);
      }
    }
    const crawled = [...seen.keys()];
    // The crawl must have reached what a creator reaches, or it proves nothing.
    assert.ok(crawled.some((p) => /\/cases\/[0-9a-f-]{36}$/.test(p)), "case pages were crawled");
    assert.ok(crawled.some((p) => p.includes("/cases?e=")), "a searched list was crawled");
    assert.ok(crawled.some((p) => p.endsWith("/activity")), "activity was crawled");
    assert.ok(crawled.some((p) => p.endsWith("/settings")), "settings were crawled");
    assert.ok(crawled.some((p) => p.includes("/export.csv")), "the CSV link was followed");
  });
});

/** Every URL in an HTML page: href, src and form action, entities undone. */
function links(html: string): string[] {
  return [...html.matchAll(/\s(?:href|src|action)="([^"]*)"/g)]
    .map((match) => match[1].replaceAll("&amp;", "&"))
    // A mailto: link opens the admin's own mail app with the address; it is never requested.
    .filter((url) => url !== "" && !url.startsWith("#") && !url.startsWith("mailto:"));
}

function safeDecode(url: string): string {
  try {
    return decodeURIComponent(url);
  } catch {
    return url;
  }
}
