import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { loadImage } from '@napi-rs/canvas';
import { describe, expect, it } from 'vitest';
import { registerMoi } from '../../../cli/moi.js';
import { splitFrames } from '../../../members/moi/liveness/recording.js';
import { DEFAULT_POPULATION, personAt } from '../../../members/population/population.js';
import { tempDir } from '../../support/tmp.js';
import { requireTool } from '../../support/tools.js';

/** The `camdx` program with only the moi group, as cli/main.ts builds it. */
function camdx(stateDir: string, ...args: string[]) {
  const program = new Command('camdx').option('--state-dir <dir>').option('--log-level <level>').exitOverride();
  registerMoi(program);
  return program.parseAsync(['node', 'camdx', '--state-dir', stateDir, '--log-level', 'silent', 'moi', ...args]);
}

describe('camdx moi', () => {
  it('writes a sample card, a liveness recording and a photo for a registry person', requireTool('khmer-font'), async () => {
    const dir = tempDir();
    try {
      const p = personAt(DEFAULT_POPULATION.seed, 77);
      const card = join(dir.path, 'card.jpg');
      await camdx(dir.path, 'sample-card', p.idNumber, '--format', 'jpeg', '--quality', '70', '--out', card);
      const image = await loadImage(readFileSync(card));
      expect([image.width, image.height]).toEqual([1091, 1416]);
      const rec = join(dir.path, 'rec.mjpeg');
      await camdx(dir.path, 'sample-liveness', p.idNumber, '--actions', '3,1', '--out', rec);
      expect(splitFrames(readFileSync(rec)).length).toBeGreaterThan(10);
      const photo = join(dir.path, 'photo.png');
      await camdx(dir.path, 'photo', p.idNumber, '--size', '128', '--out', photo);
      expect((await loadImage(readFileSync(photo))).width).toBe(128);
    } finally {
      dir.cleanup();
    }
  });
});
