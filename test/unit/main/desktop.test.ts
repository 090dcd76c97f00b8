import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { probeDesktop } from '../../../src-main/cli/desktop';

describe('probeDesktop', () => {
  it('names the command that downloads a missing Electron binary', () => {
    const nowhere = join(tmpdir(), 'scimdesk-no-electron-here');
    const probe = probeDesktop({ ELECTRON_OVERRIDE_DIST_PATH: nowhere }, 'linux');
    expect(probe.ok).toBe(false);
    if (probe.ok) return;
    expect(probe.reason).toMatch(/^the Electron binary is not installed \(no .+; .*'npx install-electron'/);
    expect(probe.reason).not.toContain('\n');
  });
});
