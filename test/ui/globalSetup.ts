import { ensureChromium } from './ensureChromium';

/**
 * Installs Debian's chromium once, before any test file runs: the browser tests of several files need it, and
 * apt-get run from two files at once would fight over dpkg's lock, or outlast a test's timeout.
 */
export function setup(): void {
  ensureChromium();
}
