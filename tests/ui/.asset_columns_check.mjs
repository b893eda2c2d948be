// ad-hoc (not committed): open an asset's page and screenshot its columns section
import { chromium } from "playwright-core";
const [base, assetPath, out] = process.argv.slice(2);
const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", headless: true });
const page = await browser.newPage({ viewport: { width: 1500, height: 1400 } });
await page.goto(`${base}/assets/${assetPath}`);
try { await page.getByRole("button", { name: "Skip" }).click({ timeout: 5000 }); } catch {}
await page.waitForTimeout(10000);
const text = await page.locator("body").innerText();
console.log(JSON.stringify({ hasTable: text.includes("core.orders") || text.includes("core.order"), buyerKey: text.includes("buyer_key"), pseudo: text.includes("pseudonymous"), snippet: text.slice(text.indexOf("Columns"), text.indexOf("Columns") + 600) }));
await page.screenshot({ path: out, fullPage: true });
await browser.close();
