// Opens Blockpull's jobs page (/ui/) in headless Debian chromium (playwright-core), types the
// bearer token in, watches a throttled stream job's progress bar move, pauses and resumes it with
// the page's buttons, lifts its speed limit with "Set speed" and waits for it to complete. Leaves a
// screenshot of the running job for a human to look at.
//
//   node jobs-page.mjs <baseUrl> <token> <jobId> <screenshot.png>
//
// Exit code 0 = every step seen; anything else prints why. JobsPageBrowserTests runs it.
import { launchChromium, stepLogger } from './browser.mjs';

const [baseUrl, token, jobId, screenshot] = process.argv.slice(2);
if (!baseUrl || !token || !jobId || !screenshot) {
  console.error('usage: node jobs-page.mjs <baseUrl> <token> <jobId> <screenshot.png>');
  process.exit(2);
}

const step = stepLogger();
const browser = await launchChromium();
step('chromium started');
let failed = false;
const page = await browser.newPage({ viewport: { width: 1400, height: 500 } });
page.setDefaultTimeout(30_000);
page.on('pageerror', (e) => { console.error(`page error: ${e.message}`); failed = true; });
const row = page.locator(`tr.job[data-job-id="${jobId}"]`);
const percentOf = async () => Number(await row.getAttribute('data-percent'));
const statusIs = (status) => page.waitForFunction(
  ([id, s]) => document.querySelector(`tr.job[data-job-id="${id}"]`)?.dataset.status === s, [jobId, status]);
try {
  await page.goto(`${baseUrl}/ui/`);
  await page.locator('#message', { hasText: 'bearer token' }).waitFor();
  step('page loaded; the service asks for the token');
  await page.fill('#token', token);
  await page.click('#token-form button');
  await row.waitFor();
  await page.locator('#connection', { hasText: 'live' }).waitFor();
  step(`job row shown: ${await row.locator('.status').innerText()}, chain ${await row.locator('.chain').innerText()}`);

  const first = await percentOf();
  await page.waitForFunction(([id, p]) => Number(document.querySelector(`tr.job[data-job-id="${id}"]`)
    .dataset.percent) > p, [jobId, first]);
  step(`bar moved from ${first}% to ${await percentOf()}% (${await row.locator('.rate').innerText()})`);

  await row.getByRole('button', { name: 'Pause' }).click();
  await statusIs('paused');
  step('paused with the Pause button');
  await row.getByRole('button', { name: 'Resume' }).click();
  await statusIs('running');
  step('running again with the Resume button');
  await page.screenshot({ path: screenshot, fullPage: false });

  await row.locator('form.speed input').fill('0');
  await row.getByRole('button', { name: 'Set speed' }).click();
  await page.waitForFunction((id) => document.querySelector(`tr.job[data-job-id="${id}"]`)
    ?.dataset.result === 'completed', jobId);
  step(`completed at ${await percentOf()}%, chain now ${await row.locator('.chain').innerText()}`);
  console.log('jobs page: bar moved, paused, resumed, completed');
} catch (e) {
  console.error(`jobs page test failed: ${e.message}`);
  failed = true;
  await page.screenshot({ path: screenshot, fullPage: false }).catch((err) => console.error(err.message));
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
