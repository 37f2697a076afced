// A page for a member (not a creator): it speaks in the creator's name, carries none of Churn
// Saver's branding (the member never chose Churn Saver) and always offers a way back into Whop.
import type { ComponentChildren } from "preact";

export const WHOP_HOME_URL = "https://whop.com/";

export function MemberPage(
  { creator, title, children }: { creator: string | null; title: string; children: ComponentChildren },
) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="robots" content="noindex" />
        <title>{creator ? `${title} · ${creator}` : title}</title>
        <link rel="stylesheet" href="/static/app.css" />
      </head>
      <body>
        <main class="page">
          <section class="card">
            {creator && <p class="muted">{creator}</p>}
            <h1>{title}</h1>
            {children}
            <p>
              <a class="button" href={WHOP_HOME_URL} target="_top" rel="noopener">Open Whop</a>
            </p>
          </section>
        </main>
      </body>
    </html>
  );
}
