// Tells link-preview fetchers, crawlers, scripts and prefetches apart from a member's own click.
// Their clicks are still recorded, with `is_bot = true`, and never count for attribution
// (private.case_attribution), so a chat app unfurling a nudge cannot make a recovery look
// click-through. Mistaking a person for a bot only costs one attribution; the reverse inflates it,
// so anything that does not look like a browser in a person's hands counts as a bot.
// HEAD requests are the route's concern: it records nothing for them.

/** Chat and social link unfurlers, search crawlers, headless browsers, scanners. */
const KNOWN_AGENTS = new RegExp(
  [
    "slackbot",
    "slack-imgproxy",
    "discordbot",
    "facebookexternalhit", // also Apple's iMessage link previews, which borrow this name
    "facebot",
    "facebookcatalog",
    "meta-externalagent",
    "twitterbot",
    "telegrambot",
    "whatsapp",
    "linkedinbot",
    "skypeuripreview",
    "microsoftpreview",
    "bingpreview",
    "googlebot",
    "google-inspectiontool",
    "googleother",
    "adsbot-google",
    "mediapartners-google",
    "feedfetcher-google",
    "google-pagerenderer",
    "bingbot",
    "applebot",
    "duckduckbot",
    "baiduspider",
    "redditbot",
    "embedly",
    "iframely",
    "vkshare",
    "headlesschrome",
    "phantomjs",
    "lighthouse",
    "chrome-lighthouse",
  ].join("|"),
  "i",
);

/** HTTP libraries and command-line tools: never a member in a browser. */
const SCRIPTS =
  /^(?:curl|wget|python|aiohttp|httpx|go-http-client|java|okhttp|apache-httpclient|axios|node-fetch|undici|node|deno|bun|libwww-perl|lwp|ruby|faraday|httpie|postmanruntime|insomnia|guzzle|dart|reqwest)\b/i;

/** The generic self-descriptions of crawlers: "SomethingBot/1.0", "(compatible; a-crawler)". */
const GENERIC = /(?:^|[\s;(+/])[\w.-]*(?:bot|crawler|spider|scraper|preview)(?=[\s;)/_-]|$)/i;

/** Phones whose model names end in "bot" (the Cubot brand): real people. */
const HUMAN_EXCEPTIONS = /\bcubot\b/i;

/** Headers browsers send when they fetch a page speculatively, before anyone clicks. */
const SPECULATIVE_HEADERS = ["purpose", "sec-purpose", "x-purpose", "x-moz"];
const SPECULATIVE = /prefetch|prerender|preview/i;

export function isBotOrPreview(userAgent: string | null, headers: Headers): boolean {
  if (SPECULATIVE_HEADERS.some((name) => SPECULATIVE.test(headers.get(name) ?? ""))) return true;
  const agent = userAgent?.trim() ?? "";
  if (agent === "") return true;
  if (KNOWN_AGENTS.test(agent) || SCRIPTS.test(agent)) return true;
  return GENERIC.test(agent) && !HUMAN_EXCEPTIONS.test(agent);
}
