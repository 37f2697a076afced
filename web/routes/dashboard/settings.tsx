// Settings: GET shows the company's settings; POST validates them (errors next to each field, the
// form keeps what was typed), saves through RLS as the viewer and audits the change, then redirects
// back with a notice. POSTs from other sites are refused for the whole dashboard (index.ts).
// Until the set-up is done the page starts with its checklist; the experience is chosen from the
// company's experiences on Whop, fetched with the app's API key on each visit.
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
import { SetupChecklist } from "../../components/onboarding/SetupChecklist.tsx";
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
  loadSetupState,
  type SaveOutcome,
  saveSettings,
  type SetupState,
} from "../../queries/settings.ts";
import { type ExperienceChoices, loadExperienceChoices } from "../../queries/whop_experiences.ts";
import type { Sql } from "../../../supabase/functions/_shared/db.ts";
import type { Viewer } from "../../lib/whop_auth.ts";
import type { DashboardDeps, DashboardEnv } from "./context.ts";

const MAX_FORM_BYTES = 256 * 1024;
const SAVED_NOTICES: Record<string, string> = {
  saved: "Settings saved. The next nudge uses them.",
  setup: "Set-up done. Churn Saver nudges at-risk members with these settings from now on.",
  unchanged: "Nothing to save: the settings were already like this.",
};

export function settingsRoutes(app: Hono<DashboardEnv>, deps: DashboardDeps) {
  app.get("/dashboard/:companyId/settings", async (c) => {
    const viewer = c.get("viewer");
    const [stored, experiences] = await Promise.all([
      loadPage(deps.sql, viewer),
      loadExperienceChoices(deps.whop, viewer.companyId),
    ]);
    const current = stored.settings ?? DEFAULT_SETTINGS;
    return renderSettings(c, {
      ...stored,
      values: settingsToForm(current, { incentiveChosen: stored.setup.incentiveChosen }),
      errors: {},
      saved: current,
      experiences,
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
        // "Set-up done" only for the save that completed it (the form's action says it was not done).
        const completed = outcome === "saved" && c.req.query("setup") === "1" &&
          (await withTenant(deps.sql, viewer, (tx) => loadSetupState(tx, viewer.companyId))).done;
        const notice = completed ? "setup" : outcome;
        return c.redirect(`/dashboard/${viewer.companyId}/settings?notice=${notice}`, 303);
      }
      if (outcome === "no_settings") {
        // A company row without its settings row: made by hand, never by ingest or a first visit.
        log.warn("settings: the company has no settings row", { company_id: viewer.companyId });
        errors = { form: "This company's settings could not be found. Reload the page and try again." };
      }
      const [stored, experiences] = await Promise.all([
        loadPage(deps.sql, viewer),
        loadExperienceChoices(deps.whop, viewer.companyId),
      ]);
      return renderSettings(c, {
        ...stored,
        values,
        errors,
        saved: stored.settings ?? DEFAULT_SETTINGS,
        experiences,
        status: 422,
      });
    },
  );
}

/** What the page shows besides the form: the saved settings, the sample currency, the set-up state. */
function loadPage(sql: Sql, viewer: Viewer) {
  return withTenant(sql, viewer, async (tx) => ({
    settings: await loadSettings(tx, viewer.companyId),
    currency: await latestCurrency(tx, viewer.companyId),
    setup: await loadSetupState(tx, viewer.companyId),
  }));
}

function renderSettings(
  c: Context<DashboardEnv>,
  page: {
    values: SettingsFormValues;
    errors: FieldErrors;
    saved: CompanySettings;
    setup: SetupState;
    experiences: ExperienceChoices;
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
    styles: ["/static/css/settings.css", "/static/css/onboarding.css"],
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
        <SetupChecklist state={page.setup} settingsHref="" />
        {page.saved.nudges_paused && !page.errors.nudges_paused && (
          <p class="notice warning">Nudges are paused: no nudge is sent until you turn the pause off.</p>
        )}
        <SettingsForm
          // Tells the save whether it completes the set-up, for the notice after the redirect.
          action={`/dashboard/${viewer.companyId}/settings${page.setup.done ? "" : "?setup=1"}`}
          values={page.values}
          errors={page.errors}
          experiences={page.experiences}
          timeZoneFromBrowser={!page.setup.timeZoneChosen && Object.keys(page.errors).length === 0}
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
