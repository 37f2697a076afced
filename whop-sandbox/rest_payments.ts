// GET /payments/{id} and POST /payments/{id}/retry. A retry succeeds unless the payment's fixture set
// `retry_outcome: "failed"`; a success also brings its membership back to active, as Whop's would.
import type { RestApp, SandboxContext } from "./context.ts";
import { jsonResponse, whopError } from "./http.ts";
import { notFound } from "./validation.ts";

export function registerPaymentRoutes(app: RestApp, ctx: SandboxContext): void {
  const { state } = ctx;

  app.get("/api/v1/payments/:id", (c) => {
    const payment = state.payments.get(c.req.param("id"));
    return payment ? jsonResponse(payment) : notFound("Payment", c.req.param("id"));
  });

  app.post("/api/v1/payments/:id/retry", (c) => {
    const id = c.req.param("id");
    const payment = state.payments.get(id);
    if (!payment) return notFound("Payment", id);
    if (payment.status === "paid" || !payment.retryable) {
      return whopError(422, "payment_not_retryable", `Payment ${id} cannot be retried.`);
    }
    const now = new Date().toISOString();
    payment.last_payment_attempt = now;
    payment.updated_at = now;
    if ((state.retryOutcomes.get(id) ?? "succeeded") === "succeeded") {
      Object.assign(payment, {
        status: "paid",
        substatus: "succeeded",
        paid_at: now,
        failure_message: null,
        decline_code: null,
        next_payment_attempt: null,
        retryable: false,
        refundable: true,
      });
      if (payment.membership) {
        payment.membership.status = "active";
        const membership = state.memberships.get(payment.membership.id);
        if (membership) {
          membership.status = "active";
          membership.updated_at = now;
        }
      }
    } else {
      Object.assign(payment, {
        status: "open",
        substatus: "failed",
        payments_failed: (payment.payments_failed ?? 0) + 1,
        failure_message: payment.failure_message ?? "Your card was declined.",
      });
    }
    return jsonResponse(payment);
  });
}
