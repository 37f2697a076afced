// A nudge's problem in a creator's words, from what the dispatcher records (retry_policy.ts and
// unknown_outcome.ts write these shapes).
import assert from "node:assert/strict";
import { nudgeProblem } from "../../web/components/cases/nudge_problem.ts";

Deno.test("nudgeProblem: Whop's answers become what they mean and what to do", () => {
  const cases: Array<[number | null, string | null, string]> = [
    [
      503,
      "HTTP 503: Injected sandbox fault flt_123",
      "Whop had a temporary problem. Churn Saver tries again by itself.",
    ],
    [
      null,
      "503: Injected sandbox fault flt_123",
      "Whop had a temporary problem. Churn Saver tries again by itself.",
    ],
    [null, "429: slow down", "Whop asked Churn Saver to slow down. Churn Saver tries again by itself."],
    [
      403,
      "403: forbidden",
      "Whop refused to deliver it: the member may have turned off messages, or the app lost a permission in your Whop dashboard.",
    ],
    [
      null,
      "404: not found",
      "Whop could not find the member or the experience. Check the experience in Settings.",
    ],
    [null, "422: content too long", "Whop did not accept the message. Check its text in Settings."],
    [
      null,
      "gave up after 5 attempts: 502: bad gateway",
      "Churn Saver gave up after 5 tries. Whop had a temporary problem.",
    ],
    [null, "rate limited 8 times: 429", "Whop kept asking Churn Saver to slow down, so it stopped trying."],
    [
      null,
      "outcome still unknown, it may have been delivered: timeout",
      "Whop did not say whether it arrived: it may have been delivered.",
    ],
    [
      null,
      "request timed out after 10000 ms",
      "Whop did not answer in time. Churn Saver tries again by itself.",
    ],
    [null, "nudges paused by the creator", "Nudges paused by the creator."],
    [null, "push turned off in settings", "Push turned off in settings."],
    [null, null, ""],
  ];
  for (const [status, error, expected] of cases) {
    assert.equal(nudgeProblem(status, error) ?? "", expected, `${status} ${error}`);
  }
  for (const [, error] of cases) {
    assert.ok(!(nudgeProblem(null, error) ?? "").includes("flt_"), "no fault ids");
  }
});
