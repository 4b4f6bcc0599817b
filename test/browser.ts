/** Headless Chromium for tests that open pages: Debian's chromium, with the flags a closed network needs. */

/** The Chromium binary (GENLAB_CHROMIUM overrides Debian's /usr/bin/chromium). */
export const CHROMIUM = process.env.GENLAB_CHROMIUM ?? '/usr/bin/chromium';

/** Launch flags: headless, no sandbox (root), and no background traffic (refused on this network). */
export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
