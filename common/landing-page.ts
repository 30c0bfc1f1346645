import type { ServerResponse } from 'node:http';
import { escapeHtml } from './html.js';

/**
 * The `/` page of each service the `npm start` banner prints: what it is and where to go from
 * there, so a newcomer opening a printed URL in a browser is not met with 404 JSON.
 */
export interface LandingPage {
  readonly title: string;
  /** Paragraphs of plain text (escaped); `code` spans are written as `…` and shown as code. */
  readonly about: readonly string[];
  readonly links: ReadonlyArray<{ readonly href: string; readonly text: string; readonly note?: string }>;
}

/** Static HTML, nothing inline to run or style: the page needs no more than this allows. */
export const LANDING_PAGE_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
};

/** Escapes text, then shows `…` spans as <code>. */
const prose = (text: string) => escapeHtml(text).replace(/`([^`]+)`/g, '<code>$1</code>');

export function landingPageHtml(page: LandingPage): string {
  const links = page.links.map((l) => `<li><a href="${escapeHtml(l.href)}">${escapeHtml(l.text)}</a>${l.note ? ` — ${prose(l.note)}` : ''}</li>`).join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(page.title)}</title></head>
<body><h1>${escapeHtml(page.title)}</h1>
${page.about.map((p) => `<p>${prose(p)}</p>`).join('\n')}
<ul>
${links}
</ul>
<p><small>camdx-sim, a CamDX network on one machine</small></p>
</body></html>
`;
}

/** Sends the page with status 200 (plain Node responses and Express's alike). */
export function sendLandingPage(res: ServerResponse, page: LandingPage): void {
  const html = landingPageHtml(page);
  res.writeHead(200, { ...LANDING_PAGE_HEADERS, 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(html) });
  res.end(html);
}
