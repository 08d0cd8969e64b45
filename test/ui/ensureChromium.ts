import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** Where Debian's chromium package puts the browser. */
export const CHROMIUM = '/usr/bin/chromium';

/**
 * Debian's chromium for the browser tests, installed with apt-get when missing (CI starts from a fresh machine
 * as root). Returns its path, or undefined, after saying loudly why, when it cannot be installed here.
 */
export function ensureChromium(): string | undefined {
  if (existsSync(CHROMIUM)) return CHROMIUM;
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const apt = (...args: string[]) =>
    execFileSync('apt-get', args, { env, stdio: 'inherit', timeout: 900_000 });
  try {
    try {
      apt('install', '-y', '--no-install-recommends', 'chromium');
    } catch {
      // A fresh machine has no package lists yet.
      apt('update');
      apt('install', '-y', '--no-install-recommends', 'chromium');
    }
  } catch (error) {
    console.warn(
      `\n*** SKIPPING the Streaming UI browser test: ${CHROMIUM} is missing and apt-get could not install ` +
        `chromium (${String(error).split('\n')[0]}). Run as root on Debian, or install it: apt-get install -y chromium ***\n`,
    );
    return undefined;
  }
  return existsSync(CHROMIUM) ? CHROMIUM : undefined;
}
