import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';

const executablePath = '/usr/bin/chromium';

/** Opens a local HTML file in headless Chromium; answers console errors, page errors and a screenshot. */
export async function renderInChromium(file: string, screenshotPath: string) {
  if (!existsSync(executablePath)) {
    throw new Error(
      `${executablePath} is missing: install Debian's chromium (apt-get install chromium); CI installs it`,
    );
  }
  const browser = await chromium.launch({
    executablePath,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1250, height: 1400 } });
    const errors: string[] = [];
    const requests: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });
    page.on('pageerror', (error) => errors.push(error.message));
    page.on('request', (request) => {
      if (!request.url().startsWith('file://')) requests.push(request.url());
    });
    await page.goto(`file://${file}`);
    await page.waitForLoadState('load');
    const canvases = await page.locator('canvas').count();
    const chartTitles = await page.locator('.u-title').allTextContents();
    await page.screenshot({ path: screenshotPath, fullPage: true });
    return { errors, requests, canvases, chartTitles };
  } finally {
    await browser.close();
  }
}
