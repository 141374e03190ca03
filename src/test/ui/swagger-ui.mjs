// Opens Swagger UI of a running Blockpull in headless Debian chromium (playwright-core, no browser
// download of its own), expands GET /nodes, clicks "Try it out" and "Execute", and waits for the
// response table to show 200. Leaves a screenshot for a human to look at.
//
//   node swagger-ui.mjs <baseUrl> <screenshot.png>
//
// Exit code 0 = 200 seen; anything else prints why. SwaggerUiBrowserTests runs it.
import { launchChromium, stepLogger } from './browser.mjs';

const [baseUrl, screenshot] = process.argv.slice(2);
if (!baseUrl || !screenshot) {
  console.error('usage: node swagger-ui.mjs <baseUrl> <screenshot.png>');
  process.exit(2);
}

const step = stepLogger();
const browser = await launchChromium();
step('chromium started');
let failed = false;
const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
page.setDefaultTimeout(30_000);
page.on('pageerror', (e) => console.error(`page error: ${e.message}`));
try {
  await page.goto(`${baseUrl}/swagger-ui.html`);
  step('Swagger UI loaded');
  // The operation block of GET /nodes; its id is built from the tag and the operationId.
  const operation = page.locator('.opblock-get').filter({
    has: page.locator('.opblock-summary-path', { hasText: /^\/nodes$/ }),
  }).first();
  await operation.locator('.opblock-summary').first().click();
  await operation.getByRole('button', { name: 'Try it out' }).click();
  await operation.getByRole('button', { name: 'Execute' }).click();
  step('executed GET /nodes');
  const status = operation.locator('.live-responses-table .response .response-col_status').first();
  await status.waitFor();
  const code = (await status.innerText()).trim();
  console.log(`GET /nodes answered ${code} in Swagger UI`);
  await operation.locator('.live-responses-table').scrollIntoViewIfNeeded();
  if (code !== '200') {
    failed = true;
  }
} catch (e) {
  console.error(`Swagger UI test failed: ${e.message}`);
  failed = true;
} finally {
  await page.screenshot({ path: screenshot, fullPage: false }).catch((e) => console.error(e.message));
  await browser.close();
}
process.exit(failed ? 1 : 0);
