// Settings: GET shows the company's settings; POST validates them (errors next to each field, the
// form keeps what was typed), saves through RLS as the viewer and audits the change, then redirects
// back with a notice. POSTs from other sites are refused for the whole dashboard (index.ts).
import type { Context, Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { HttpError } from "../../../supabase/functions/_shared/http.ts";
import { log } from "../../../supabase/functions/_shared/log.ts";
import {
  type FieldErrors,
  formValuesFromBody,
  parseSettingsForm,
  type SettingsFormValues,
  settingsToForm,
  templateStepCount,
} from "../../components/settings/form_model.ts";
import { SettingsForm } from "../../components/settings/SettingsForm.tsx";
import { PageHeader } from "../../components/ui.tsx";
import { TEMPLATE_PREVIEW_ISLAND } from "../../islands/template_preview.tsx";
import { islandScript } from "../../lib/islands.ts";
import { renderDashboard } from "../../lib/render_dashboard.tsx";
import { withTenant } from "../../lib/tenant.ts";
import {
  type CompanySettings,
  DEFAULT_SETTINGS,
  latestCurrency,
  loadSettings,
  type SaveOutcome,
  saveSettings,
} from "../../queries/settings.ts";
import type { DashboardDeps, DashboardEnv } from "./context.ts";

const MAX_FORM_BYTES = 256 * 1024;
const SAVED_NOTICES: Record<string, string> = {
  saved: "Settings saved. The next nudge uses them.",
  unchanged: "Nothing to save: the settings were already like this.",
};

export function settingsRoutes(app: Hono<DashboardEnv>, deps: DashboardDeps) {
  app.get("/dashboard/:companyId/settings", async (c) => {
    const viewer = c.get("viewer");
    const { settings, currency } = await withTenant(deps.sql, viewer, async (tx) => ({
      settings: await loadSettings(tx, viewer.companyId),
      currency: await latestCurrency(tx, viewer.companyId),
    }));
    const current = settings ?? DEFAULT_SETTINGS;
    return renderSettings(c, {
      values: settingsToForm(current),
      errors: {},
      saved: current,
      exists: settings !== null,
      currency,
      notice: SAVED_NOTICES[c.req.query("notice") ?? ""],
    });
  });

  app.post(
    "/dashboard/:companyId/settings",
    bodyLimit({
      maxSize: MAX_FORM_BYTES,
      onError: () => {
        throw new HttpError(
          413,
          "payload_too_large",
          "The form is too large to save. Shorten the templates.",
        );
      },
    }),
    async (c) => {
      const viewer = c.get("viewer");
      const values = formValuesFromBody(await c.req.parseBody());
      const parsed = parseSettingsForm(values);
      let outcome: SaveOutcome | null = null;
      let errors: FieldErrors = parsed.ok ? {} : parsed.errors;
      if (parsed.ok) {
        try {
          outcome = await withTenant(deps.sql, viewer, (tx) => saveSettings(tx, viewer, parsed.settings));
        } catch (error) {
          errors = constraintErrors(error);
        }
      }
      if (outcome === "saved" || outcome === "unchanged") {
        return c.redirect(`/dashboard/${viewer.companyId}/settings?notice=${outcome}`, 303);
      }
      if (outcome === "no_settings") {
        errors = {
          form: "Settings can be saved once Churn Saver has received a first event from this company.",
        };
      }
      const { settings, currency } = await withTenant(deps.sql, viewer, async (tx) => ({
        settings: await loadSettings(tx, viewer.companyId),
        currency: await latestCurrency(tx, viewer.companyId),
      }));
      return renderSettings(c, {
        values,
        errors,
        saved: settings ?? DEFAULT_SETTINGS,
        exists: settings !== null,
        currency,
        status: 422,
      });
    },
  );
}

function renderSettings(
  c: Context<DashboardEnv>,
  page: {
    values: SettingsFormValues;
    errors: FieldErrors;
    saved: CompanySettings;
    exists: boolean;
    currency: string;
    notice?: string;
    status?: 422;
  },
) {
  const viewer = c.get("viewer");
  const script = islandScript(TEMPLATE_PREVIEW_ISLAND);
  const submittedSteps = Object.keys(page.values.templates).map((key) => Number(key.split(".")[1]) + 1);
  const stepCount = submittedSteps.length ? Math.max(...submittedSteps) : templateStepCount(page.saved);
  return renderDashboard(c, {
    section: "settings",
    title: "Settings",
    status: page.status,
    styles: ["/static/css/settings.css"],
    scripts: script ? [script] : [],
    body: (
      <>
        <PageHeader
          title="Settings"
          subtitle="When and how Churn Saver nudges members whose payment failed."
        />
        <div aria-live="polite">
          {page.notice && <p class="notice" role="status">{page.notice}</p>}
        </div>
        {!page.exists && (
          <p class="notice warning">
            Churn Saver has not received an event from this company yet. These are the defaults; you can save
            settings once the first webhook has arrived.
          </p>
        )}
        {page.saved.nudges_paused && !page.errors.nudges_paused && (
          <p class="notice warning">Nudges are paused: no nudge is sent until you turn the pause off.</p>
        )}
        <SettingsForm
          action={`/dashboard/${viewer.companyId}/settings`}
          values={page.values}
          errors={page.errors}
          offsets={page.saved.nudge_offsets_days}
          stepCount={stepCount}
          preview={{
            currency: page.currency,
            companyName: c.get("companyTitle"),
            sampleLink: `${new URL(c.req.url).origin}/r/preview-link`,
          }}
        />
      </>
    ),
  });
}

/** What a database check (or a missing settings row) means for the form. */
function constraintErrors(error: unknown): FieldErrors {
  const code = (error as { code?: string }).code;
  const constraint = (error as { constraint_name?: string }).constraint_name ?? "";
  if (code === "23514" && constraint.includes("time_zone")) {
    return { time_zone: "This time zone is not known to our database. Choose another one nearby." };
  }
  if (code === "23514") {
    log.warn("settings rejected by a database check", { constraint });
    return { form: "One of the values is not allowed. Check the fields and try again." };
  }
  throw error;
}
