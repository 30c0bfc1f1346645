import jsqrModule from 'jsqr';
import { chromium, type Browser } from 'playwright-core';
import { PNG } from 'pngjs';
import { chromiumPath } from './tools.js';

// jsqr is CommonJS whose types declare an ES default export; at runtime the module is the function.
const jsQR = ((jsqrModule as unknown as { default?: unknown }).default ?? jsqrModule) as typeof jsqrModule.default;

/** Debian's chromium (CHROMIUM_PATH, or on PATH; `npm test`'s pretest installs it): playwright-core drives it, it downloads nothing. */
export async function launchChromium(): Promise<Browser> {
  const executablePath = chromiumPath();
  if (!executablePath) throw new Error(`no Chromium at ${process.env.CHROMIUM_PATH ?? 'chromium on PATH'}: apt-get install -y chromium, or set CHROMIUM_PATH`);
  return chromium.launch({
    executablePath,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking', '--no-first-run', '--disable-extensions'],
  });
}

/** The text of the QR code in a PNG (a screenshot), or undefined if none decodes. */
export function decodeQr(png: Buffer): string | undefined {
  const image = PNG.sync.read(png);
  return jsQR(new Uint8ClampedArray(image.data.buffer, image.data.byteOffset, image.data.length), image.width, image.height)?.data;
}
