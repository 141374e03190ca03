// What the browser tests share: headless Debian chromium driven by playwright-core (no browser
// download of its own), and a logger of timed steps.
import { chromium } from 'playwright-core';

export function launchChromium() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    // Without the background-networking flags chromium keeps dialling Google on a closed network.
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** A function that prints a step with the milliseconds since the script started. */
export function stepLogger() {
  const t0 = Date.now();
  return (what) => console.log(`[${String(Date.now() - t0).padStart(6)} ms] ${what}`);
}
