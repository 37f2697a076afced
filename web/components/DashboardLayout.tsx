// The frame of every dashboard page: the company, the sections, and the page itself.
import type { ComponentChildren } from "preact";
import { PageHead } from "./Layout.tsx";

export const DASHBOARD_SECTIONS = [
  { id: "overview", label: "Overview", path: "" },
  { id: "cases", label: "Cases", path: "/cases" },
  { id: "settings", label: "Settings", path: "/settings" },
  { id: "activity", label: "Activity", path: "/activity" },
] as const;

export type DashboardSection = (typeof DASHBOARD_SECTIONS)[number]["id"];

export function DashboardLayout(
  { companyId, companyTitle, section, title, children, scripts = [], styles = [] }: {
    companyId: string;
    companyTitle: string | null;
    section: DashboardSection | null;
    title: string;
    children: ComponentChildren;
    /** Island bundles this page hydrates (paths under /static). */
    scripts?: string[];
    /** Extra stylesheets of this page (paths under /static). */
    styles?: string[];
  },
) {
  const base = `/dashboard/${companyId}`;
  return (
    <html lang="en">
      <PageHead title={`${title} · ${companyTitle ?? companyId} · Churn Saver`} styles={styles} />
      <body>
        <a class="skip-link" href="#main">Skip to content</a>
        <header class="topbar">
          <span class="brand">Churn Saver</span>
          <span class="company" title={companyId}>{companyTitle ?? companyId}</span>
        </header>
        <nav class="tabs" aria-label="Sections">
          {DASHBOARD_SECTIONS.map((item) => (
            <a
              key={item.id}
              href={`${base}${item.path}`}
              class={item.id === section ? "tab active" : "tab"}
              aria-current={item.id === section ? "page" : undefined}
            >
              {item.label}
            </a>
          ))}
        </nav>
        <main id="main" class="page">{children}</main>
        {scripts.map((src) => <script key={src} type="module" src={src}></script>)}
      </body>
    </html>
  );
}
