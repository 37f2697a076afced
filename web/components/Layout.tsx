import type { ComponentChildren } from "preact";

/**
 * Whop's theme for apps in its iframe: the `whop-frosted-theme` cookie ("appearance:dark" or
 * "appearance:light"), the one Whop's own WhopThemeScript (@whop/react) reads. When it is there it
 * wins over the system's prefers-color-scheme, by switching the dark palette's <link> on or off
 * before the page is painted; without it (or without JavaScript) the link's media query decides.
 */
const WHOP_THEME_SCRIPT = `(function () {
  var m = document.cookie.match(/(?:^|;\\s*)whop-frosted-theme=appearance(?::|%3A)(light|dark)/i);
  if (!m) return;
  var dark = m[1].toLowerCase() === "dark";
  document.getElementById("dark-palette").media = dark ? "all" : "not all";
})();`;

/** The head every page shares: viewport, the light and dark palettes, Whop's theme. */
export function PageHead({ title, styles = [] }: { title: string; styles?: string[] }) {
  return (
    <head>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      <meta name="color-scheme" content="light dark" />
      <title>{title}</title>
      <link rel="stylesheet" href="/static/app.css" />
      <link id="dark-palette" rel="stylesheet" href="/static/dark.css" media="(prefers-color-scheme: dark)" />
      <script dangerouslySetInnerHTML={{ __html: WHOP_THEME_SCRIPT }} />
      {styles.map((href) => <link key={href} rel="stylesheet" href={href} />)}
    </head>
  );
}

export function Layout({ title, children }: { title: string; children: ComponentChildren }) {
  return (
    <html lang="en">
      <PageHead title={`${title} · Churn Saver`} />
      <body>
        <header class="topbar">
          <span class="brand">Churn Saver</span>
        </header>
        <main class="page">{children}</main>
      </body>
    </html>
  );
}
