// A real browser for the dashboard tests: Debian's Chromium driven by playwright-core, with the
// Whop user token sent on every request the way Whop's proxy adds it inside the iframe.
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";

export const SCREENSHOTS = new URL("../../test-artifacts/screenshots/", import.meta.url);

export async function withBrowser(
  token: string,
  fn: (page: Page, context: BrowserContext) => Promise<void>,
) {
  const browser: Browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
  try {
    const context = await browser.newContext({
      extraHTTPHeaders: { "x-whop-user-token": token },
      viewport: { width: 1280, height: 900 },
      acceptDownloads: true,
    });
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    await fn(page, context);
  } finally {
    await browser.close();
  }
}

export const COLOR_SCHEMES = ["light", "dark"] as const;

/**
 * Saves full-page screenshots as test artifacts, one per colour scheme
 * (test-artifacts/screenshots/<name>.light.png and <name>.dark.png), then puts the page back in the
 * scheme it had.
 */
export async function screenshot(page: Page, name: string) {
  await Deno.mkdir(SCREENSHOTS, { recursive: true });
  const before = await page.evaluate(() => matchMedia("(prefers-color-scheme: dark)").matches);
  try {
    for (const colorScheme of COLOR_SCHEMES) {
      await page.emulateMedia({ colorScheme });
      await page.screenshot({
        path: new URL(`${name}.${colorScheme}.png`, SCREENSHOTS).pathname,
        fullPage: true,
      });
    }
  } finally {
    await page.emulateMedia({ colorScheme: before ? "dark" : "light" });
  }
}

/** Serves `fetch` on a free local port for the browser; stopped when `fn` is done. */
export async function served(
  fetch: (request: Request) => Response | Promise<Response>,
  fn: (origin: string) => Promise<void>,
) {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, fetch);
  try {
    await fn(`http://127.0.0.1:${server.addr.port}`);
  } finally {
    await server.shutdown();
  }
}
