import { existsSync, mkdirSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

/** Debian's chromium (a tool's own browser download does not work on a closed network). */
export const CHROMIUM = process.env.CTP_TEST_CHROMIUM ?? '/usr/bin/chromium';

/** Where screenshots go; CI keeps this folder. */
export const SCREENSHOTS = 'test-artifacts/screenshots';

/**
 * Launches headless chromium with the flags this machine needs (no sandbox as root, no
 * background networking on a closed network). Undefined, with a visible line, when chromium is
 * missing outside CI; under CI=true a missing browser fails the suite (`.ci/run` installs it).
 */
export async function launchBrowser(): Promise<Browser | undefined> {
  if (!existsSync(CHROMIUM)) {
    if (process.env.CI === 'true')
      throw new Error(`${CHROMIUM} is missing under CI=true (.ci/run installs Debian's chromium)`);
    process.stdout.write(
      `# SKIPPING browser tests: ${CHROMIUM} not found (apt-get install chromium)\n`,
    );
    return undefined;
  }
  mkdirSync(SCREENSHOTS, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
