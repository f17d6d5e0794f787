// The lab's browser: Debian's Chromium, headless, driven by playwright-core (no browser
// download), recording a HAR of one login with cookies and bodies, as DevTools' "Export HAR (with
// sensitive data)" would. It opens START, signs in at each page with a password field (LOGIN and
// PASSWORD from the environment; at most SIGNINS times), and stops when the page reaches a URL
// starting with STOP, when the browser has made MAX navigations (a login that loops), or after
// SECONDS.
// Usage: node browse.mjs START STOP HAR_PATH  → prints one JSON line: {url, status, navigations,
// cookies: [{name, size}], text}.
import { chromium } from 'playwright-core';

const [start, stop, harPath] = process.argv.slice(2);
const login = process.env.LOGIN ?? 'alice';
const password = process.env.PASSWORD ?? '';
const max = Number(process.env.MAX ?? 12);
const seconds = Number(process.env.SECONDS ?? 20);
const signins = Number(process.env.SIGNINS ?? 3);

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  headless: true,
  // The lab runs as root in a network namespace with no route out: no sandbox, nothing fetched
  // in the background.
  args: [
    '--no-sandbox',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-domain-reliability',
    '--no-pings',
    '--dns-prefetch-disable',
  ],
});
const context = await browser.newContext({
  recordHar: { path: harPath, content: 'embed', mode: 'full' },
});
const page = await context.newPage();
let navigations = 0;
let last = null;
page.on('framenavigated', (f) => {
  if (f === page.mainFrame()) navigations += 1;
});
page.on('response', (r) => {
  if (r.request().isNavigationRequest() && r.frame() === page.mainFrame()) last = r.status();
});
const deadline = Date.now() + seconds * 1000;
let signedIn = 0;
try {
  await page.goto(start, { waitUntil: 'load', timeout: seconds * 1000 });
} catch (e) {
  // A refused connection or an error page: the HAR holds what the browser met.
}
while (Date.now() < deadline && navigations < max) {
  if (page.url().startsWith(stop)) break;
  const field = await page.$('input[type=password]').catch(() => null);
  if (field && signedIn < signins) {
    signedIn += 1;
    await page.fill('input[name=login]', login).catch(() => {});
    await field.fill(password).catch(() => {});
    await Promise.all([
      page.waitForNavigation({ timeout: 5000 }).catch(() => {}),
      page.click('button[type=submit]').catch(() => {}),
    ]);
    continue;
  }
  await page.waitForTimeout(200);
}
const cookies = (await context.cookies()).map((c) => ({ name: c.name, size: c.name.length + c.value.length }));
const text = ((await page.textContent('body').catch(() => '')) ?? '').trim().slice(0, 300);
const out = { url: page.url(), status: last, navigations, cookies, text };
await context.close();
await browser.close();
console.log(JSON.stringify(out));
