import { describe, expect, it } from 'vitest';
import { landingPageHtml } from '../../common/landing-page.js';

describe('landing pages', () => {
  it('escapes every piece of text and shows `…` spans as code', () => {
    const html = landingPageHtml({ title: 'A <b>title</b>', about: ['use `npx camdx <cmd>` & see'], links: [{ href: '/x?a=1&b="2"', text: '<i>link</i>', note: 'JSON `{}`' }] });
    expect(html).toContain('<title>A &lt;b&gt;title&lt;/b&gt;</title>');
    expect(html).toContain('<p>use <code>npx camdx &lt;cmd&gt;</code> &amp; see</p>');
    expect(html).toContain('<a href="/x?a=1&amp;b=&quot;2&quot;">&lt;i&gt;link&lt;/i&gt;</a> — JSON <code>{}</code>');
    expect(html).not.toMatch(/<(script|style|b|i)\b/);
  });
});
