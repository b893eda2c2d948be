// Opens marketsync's status page (GET /status of `marketsync serve`) in Debian's chromium (playwright-core,
// no downloaded browser), signed in the way a person is: HTTP Basic, any user name, the token as password.
// Checks that the page renders with its two charts and that the store with a failing integration shows
// red with its cause; prints one JSON line with what it saw and exits non-zero (with the reason) on the
// first thing that does not hold. tests/test_status_page_browser.py runs it.
//
// usage: node status_page.mjs BASE_URL TOKEN FAILING_STORE CAUSE_TEXT HEALTHY_STORE OUT_DIR
import { chromium } from "playwright-core";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const [base, token, failingStore, causeText, healthyStore, outDir] = process.argv.slice(2);
const seen = { status: null, headline: null, failing: {}, healthy: {}, charts: {}, console_errors: [], screenshots: [] };

function check(condition, message) {
  if (!condition) throw new Error(message);
}

const context = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), "marketsync-chromium-")), {
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  viewport: { width: 1440, height: 1000 },
  httpCredentials: { username: "operations", password: token },
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const page = context.pages()[0] || (await context.newPage());
page.setDefaultTimeout(30_000);
page.on("console", (message) => { if (message.type() === "error") seen.console_errors.push(message.text()); });
page.on("pageerror", (error) => seen.console_errors.push(String(error)));
try {
  const response = await page.goto(`${base}/status`);
  seen.status = response.status();
  check(seen.status === 200, `GET /status answered ${seen.status}`);
  seen.headline = (await page.locator("#headline").innerText()).trim();

  // The failing store: its row is red, in the list that needs attention, and its cause is visible.
  const row = page.locator(`#attention tr[data-store="${failingStore}"]`).first();
  await row.waitFor();
  seen.failing.state = await row.getAttribute("data-state");
  seen.failing.badge = (await row.locator(".badge").innerText()).trim();
  seen.failing.badge_color = await row.locator(".badge").evaluate((el) => getComputedStyle(el).color);
  const cause = row.getByText(causeText, { exact: false }).first();
  seen.failing.cause_visible = await cause.isVisible();
  seen.failing.cause = (await cause.innerText()).trim();
  check(seen.failing.state === "error" && seen.failing.badge === "red", `row of ${failingStore}: ${JSON.stringify(seen.failing)}`);
  check(seen.failing.cause_visible, `the cause of ${failingStore} is not visible`);

  // The healthy store: green, in the (folded) healthy list; unfolded on a click.
  const healthy = page.locator(`#healthy tr[data-store="${healthyStore}"]`).first();
  seen.healthy.state = await healthy.getAttribute("data-state");
  await page.locator("#healthy-list summary").click();
  seen.healthy.visible_after_unfolding = await healthy.isVisible();
  check(seen.healthy.state === "ok" && seen.healthy.visible_after_unfolding, `row of ${healthyStore}: ${JSON.stringify(seen.healthy)}`);

  // The charts: rendered SVG with their marks, laid out at a readable size.
  for (const id of ["orders-per-hour", "sync-durations"]) {
    const svg = page.locator(`#${id} svg`);
    const box = await svg.boundingBox();
    seen.charts[id] = {
      width: box ? Math.round(box.width) : 0, height: box ? Math.round(box.height) : 0,
      bars: await svg.locator("rect.bar").count(), lines: await svg.locator("polyline").count(),
      dots: await svg.locator("circle").count(), failed_dots: await svg.locator("circle.failed").count(),
      summary: (await page.locator(`#${id} figcaption span`).innerText()).trim(),
    };
    check(seen.charts[id].width > 250 && seen.charts[id].height > 80, `chart ${id} is not laid out: ${JSON.stringify(seen.charts[id])}`);
  }
  check(seen.charts["orders-per-hour"].bars === 24, `orders chart: ${JSON.stringify(seen.charts["orders-per-hour"])}`);
  check(seen.charts["sync-durations"].lines >= 1, `durations chart: ${JSON.stringify(seen.charts["sync-durations"])}`);

  const path = join(outDir, "status.png");
  await page.screenshot({ path, fullPage: true });
  seen.screenshots.push(path);
  check(seen.console_errors.length === 0, `the console reported errors: ${seen.console_errors.join(" | ")}`);
  console.log(JSON.stringify(seen));
} catch (error) {
  try {
    await page.screenshot({ path: join(outDir, "failure.png"), fullPage: true });
  } catch {
    // no page to shoot
  }
  console.error(`${error.message}\nseen so far: ${JSON.stringify(seen)}`);
  process.exitCode = 1;
} finally {
  await context.close();
}
