import assert from "node:assert/strict";
import { isBotOrPreview } from "../../supabase/functions/_shared/bots.ts";

const none = new Headers();

const BOTS = [
  "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
  "Slack-ImgProxy (+https://api.slack.com/robots)",
  "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
  "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
  // iMessage's link previews
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_11_1) AppleWebKit/601.2.4 (KHTML, like Gecko) Version/9.0.1 " +
  "Safari/601.2.4 facebookexternalhit/1.1 Facebot Twitterbot/1.0",
  "Twitterbot/1.0",
  "TelegramBot (like TwitterBot)",
  "WhatsApp/2.23.20.0 A",
  "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)",
  "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
  "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; Googlebot/2.1; +http://www.google.com/bot.html) " +
  "Chrome/120.0.6099.129 Safari/537.36",
  "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/13.1.1 " +
  "Safari/605.1.15 (Applebot/0.1; +http://www.apple.com/go/applebot)",
  "Mozilla/5.0 (Windows NT 6.1; WOW64) SkypeUriPreview Preview/0.5",
  "Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)",
  "Mozilla/5.0 (compatible; Pinterestbot/1.0; +http://www.pinterest.com/bot.html)",
  "redditbot/1.0",
  "Mozilla/5.0 (compatible; SemrushBot/7~bl; +http://www.semrush.com/bot.html)",
  "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
  "Mozilla/5.0 (compatible; some-crawler/1.0)",
  "curl/8.5.0",
  "Wget/1.21.4",
  "python-requests/2.31.0",
  "Python-urllib/3.11",
  "Python/3.11 aiohttp/3.9.1",
  "Go-http-client/1.1",
  "Go-http-client/2.0",
  "okhttp/4.12.0",
  "axios/1.6.2",
  "node-fetch/1.0 (+https://github.com/bitinn/node-fetch)",
  "undici",
  "Deno/2.9.6",
  "Java/17.0.2",
  "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.0.0 Safari/537.36",
  "",
  "   ",
];

const HUMANS = [
  // Chrome on Windows, Safari on iPhone, Firefox, Samsung Internet, Edge
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 " +
  "Mobile/15E148 Safari/604.1",
  "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
  "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/24.0 " +
  "Chrome/117.0.0.0 Mobile Safari/537.36",
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 " +
  "Safari/537.36 Edg/124.0.0.0",
  // In-app browsers are people: Instagram, Facebook, Snapchat, Pinterest
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 " +
  "Instagram 326.0.3.30.91",
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 " +
  "[FBAN/FBIOS;FBAV/460.0.0.32.109;FBBV/580000000]",
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 " +
  "Snapchat/12.80.0.40 (like Safari/8617.2.4.10.8, panda)",
  "Mozilla/5.0 (Linux; Android 13; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile " +
  "Safari/537.36 [Pinterest/Android]",
  // A phone brand whose name ends in "bot"
  "Mozilla/5.0 (Linux; Android 10; CUBOT P40) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile " +
  "Safari/537.36",
];

Deno.test("link-preview fetchers, crawlers, scripts and empty user agents are bots", () => {
  for (const agent of BOTS) assert.equal(isBotOrPreview(agent, none), true, agent);
  assert.equal(isBotOrPreview(null, none), true, "no user agent");
});

Deno.test("browsers in people's hands are not bots", () => {
  for (const agent of HUMANS) assert.equal(isBotOrPreview(agent, none), false, agent);
});

Deno.test("speculative fetches (prefetch, prerender, preview) are not clicks", () => {
  const browser = HUMANS[0];
  for (
    const [name, value] of [
      ["Purpose", "prefetch"],
      ["Sec-Purpose", "prefetch"],
      ["Sec-Purpose", "prefetch;prerender"],
      ["X-Purpose", "preview"],
      ["X-Moz", "prefetch"],
    ]
  ) {
    assert.equal(isBotOrPreview(browser, new Headers({ [name]: value })), true, `${name}: ${value}`);
  }
  assert.equal(isBotOrPreview(browser, new Headers({ "Sec-Fetch-Mode": "navigate" })), false);
});
