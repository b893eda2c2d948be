// Drives the Dagster UI in Debian's chromium (playwright-core, no downloaded browser):
// the code location loads without errors, the asset graph renders, and one partition of an asset is
// materialised with the UI's own Materialize button. Prints one JSON line with what it saw; exits
// non-zero (with the reason) on the first thing that does not hold. tests/test_ui_browser.py runs it.
//
// usage: node dagster_ui.mjs BASE_URL ASSET_PATH GROUP PARTITION OUT_DIR   (ASSET_PATH like core/letzshop_catalog)
import { chromium } from "playwright-core";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const [base, assetPath, group, partition, outDir] = process.argv.slice(2);
const assetName = assetPath.split("/").pop();
const seen = { location: null, graph: false, launched_by: null, screenshots: [] };

async function graphql(page, query, variables = {}) {
  const answer = await page.request.post(`${base}/graphql`, { data: { query, variables } });
  return (await answer.json()).data;
}

// A fresh browser profile is greeted with a "Join the Dagster community" dialog over the page.
async function dismissCommunityDialog(page) {
  const skip = page.getByRole("button", { name: "Skip" });
  try {
    await skip.waitFor({ timeout: 5000 });
    await skip.click();
  } catch {
    // not shown
  }
}

async function shot(page, name) {
  const path = join(outDir, `${name}.png`);
  await page.screenshot({ path, fullPage: false });
  seen.screenshots.push(path);
}

const context = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), "marketsync-chromium-")), {
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  viewport: { width: 1600, height: 1000 },
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const page = context.pages()[0] || (await context.newPage());
page.setDefaultTimeout(90_000);
try {
  // 1. The code location loads without errors (the UI's page, and its own API for the status).
  await page.goto(`${base}/locations`);
  await dismissCommunityDialog(page);
  await page.getByText("marketsync", { exact: true }).first().waitFor();
  const workspace = await graphql(page, `{ workspaceOrError { __typename ... on Workspace { locationEntries {
      name loadStatus locationOrLoadError { __typename ... on PythonError { message } } } } } }`);
  const entry = workspace.workspaceOrError.locationEntries.find((e) => e.name === "marketsync");
  seen.location = entry && entry.locationOrLoadError && entry.locationOrLoadError.__typename;
  if (seen.location !== "RepositoryLocation") {
    throw new Error(`code location did not load: ${JSON.stringify(entry)}`);
  }
  await shot(page, "locations");

  // 2. The asset graph renders: the global lineage (groups) and the asset's group with its nodes.
  await page.goto(`${base}/asset-groups`);
  await page.getByText(group, { exact: true }).first().waitFor();
  await shot(page, "global-lineage");
  await page.goto(`${base}/locations/marketsync/asset-groups/${group}`);
  await dismissCommunityDialog(page);
  await page.getByText(assetName, { exact: true }).first().waitFor();
  seen.graph = true;
  await shot(page, "asset-graph");

  // 3. One partition materialised with the Materialize button on the asset's page.
  await page.goto(`${base}/assets/${assetPath}`);
  await page.locator("button", { hasText: /Materialize/ }).first().click();
  const dialog = page.getByRole("dialog");
  await dialog.waitFor();
  // The partition picker lists the dynamic partitions: pick the one under test.
  await dialog.getByText("Select a partition or create one").click();
  await page.keyboard.type(partition);
  await page.locator("[role=menuitem]").filter({ has: page.locator(`[title="${partition}"]`) }).first().click();
  await page.keyboard.press("Escape");
  await dialog.getByText("1 partition", { exact: true }).waitFor();
  await shot(page, "launch-dialog");
  await dialog.locator("button", { hasText: "Launch 1 run" }).click();
  seen.launched_by = "materialize button";
  // The launch leaves a run of that partition and asset behind (the test reads its outcome from the
  // instance); sensors may start other runs of the same store meanwhile.
  for (let i = 0; i < 120; i++) {
    const runs = await graphql(page, `query($filter: RunsFilter) { runsOrError(filter: $filter) {
        ... on Runs { results { runId status assetSelection { path } } } } }`,
      { filter: { tags: [{ key: "dagster/partition", value: partition }] } });
    const found = (runs.runsOrError.results || []).filter(
      (r) => (r.assetSelection || []).some((key) => key.path.join("/") === assetPath));
    if (found.length) { seen.run_ids = found.map((r) => r.runId); break; }
    await page.waitForTimeout(500);
  }
  if (!seen.run_ids) throw new Error("no run was launched for the partition");
  await page.goto(`${base}/runs/${seen.run_ids[0]}`);
  await page.waitForTimeout(2000);
  await shot(page, "run");
  console.log(JSON.stringify(seen));
} catch (error) {
  await shot(page, "failure").catch(() => {});
  console.log(JSON.stringify(seen));
  console.error(String(error && error.stack || error));
  process.exitCode = 1;
} finally {
  await context.close();
}
