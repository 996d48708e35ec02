/**
 * The shell's CSP (script-src 'self', style-src 'self', nothing remote) must not break the renderer:
 * its page may only reference its own bundled files. Checked on the page Vite builds from; the
 * bundles themselves come from Vite as separate files (no inline code in a production build).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const html = readFileSync(path.resolve(__dirname, '../../src-renderer/index.html'), 'utf8');
const withoutComments = html.replace(/<!--[\s\S]*?-->/g, '');

describe('renderer page vs the shell CSP', () => {
  it('has no inline script (every <script> has a same-origin src)', () => {
    const scripts = [...withoutComments.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)];
    expect(scripts.length).toBeGreaterThan(0);
    for (const [, attrs, body] of scripts) {
      expect(attrs).toMatch(/\bsrc=/);
      expect(body!.trim()).toBe('');
      expect(attrs).not.toMatch(/src=["']?(https?:)?\/\//);
    }
  });

  it('has no inline <style>, style attributes, inline event handlers or remote resources', () => {
    expect(withoutComments).not.toMatch(/<style\b/i);
    expect(withoutComments).not.toMatch(/\sstyle=/i);
    expect(withoutComments).not.toMatch(/\son[a-z]+=/i);
    expect(withoutComments).not.toMatch(/(src|href)=["']?(https?:)?\/\//i);
  });
});
