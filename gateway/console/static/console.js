import { api, apiIfServed, onUnauthorized, setCsrf } from './api.js';
import { el, form } from './dom.js';
import { PAGES, SETUP_PAGES } from './pages.js';

const main = document.getElementById('main');
const nav = document.getElementById('nav');
const who = document.getElementById('who');
const server = document.getElementById('server');
// What a page hands to its next rendering: a CSR to show once, a refresh's diff, settings just saved.
const state = {};
let current;
// A bare gateway shows its set-up and keys only, until it carries traffic.
let pages = PAGES;

function showLogin(message) {
  current = undefined;
  setCsrf('');
  nav.hidden = true;
  nav.replaceChildren();
  who.replaceChildren();
  server.textContent = '';
  window.onhashchange = null;
  main.replaceChildren(
    el(
      'section',
      { 'data-page': 'sign-in' },
      message ? el('p', { class: 'note', role: 'status', id: 'sign-in-message', text: message }) : '',
      form('Sign in', [{ name: 'token', label: 'Admin token', type: 'password' }], 'Sign in', async (v) => {
        start(await api('POST', '/session', { token: v.token.trim() }));
      }),
      el(
        'p',
        { class: 'note where' },
        'The admin token is in the file ',
        el('code', { text: 'admin-token' }),
        " in the gateway's state directory (the directory holding ",
        el('code', { text: 'gateway.yaml' }),
        '), readable by its owner only: ',
        el('code', { text: 'cat <state dir>/admin-token' }),
        '. The console trades it for a session; the page never keeps it.',
      ),
    ),
  );
}

function pageName() {
  const name = location.hash.slice(1);
  return pages[name] ? name : Object.keys(pages)[0];
}

async function show(session) {
  const name = pageName();
  const page = pages[name];
  for (const a of nav.querySelectorAll('a')) a.classList.toggle('current', a.dataset.page === name);
  const out = el('section', { 'data-page': name });
  const reload = () => (current === session ? show(session) : undefined);
  try {
    await page.render(out, reload, state);
  } catch (err) {
    if (err.status === 401) return; // onUnauthorized has shown the sign-in page
    out.append(el('p', { class: 'error', role: 'alert', text: err.message }));
  }
  if (current === session) main.replaceChildren(el('h2', { text: page.title }), out);
}

/** The server id is the auth certificate's serialNumber (CAMDX/COM/DEMOBANK/SS1); its owner, failing that. */
async function showServerId() {
  const certs = await api('GET', '/token-certificates').catch(() => undefined);
  const id = /(?:^|, )serialNumber=([^,]+)/.exec(certs?.auth?.subject ?? '')?.[1];
  if (id) server.textContent = id;
  else server.textContent = ((await api('GET', '/clients').catch(() => []))[0]?.id ?? '').split('/').slice(0, 3).join('/');
}

async function start(session) {
  current = session;
  setCsrf(session.csrfToken);
  const status = await apiIfServed('GET', '/initialization/status').catch(() => undefined);
  pages = status && !status.ready ? SETUP_PAGES : PAGES;
  state.setupMode = pages === SETUP_PAGES;
  const signOut = el('button', { id: 'sign-out', type: 'button', text: 'Sign out' });
  signOut.addEventListener('click', async () => {
    await api('DELETE', '/session').catch(() => {});
    showLogin('Signed out.');
  });
  who.replaceChildren(el('span', { id: 'user', text: `${session.name} (${session.role})` }), signOut);
  nav.replaceChildren(...Object.entries(pages).map(([key, p]) => el('a', { href: `#${key}`, 'data-page': key, text: p.nav ?? p.title })));
  nav.hidden = false;
  window.onhashchange = () => show(session);
  if (state.setupMode) server.textContent = status.serverId ?? '(not set up yet)';
  else void showServerId();
  return show(session);
}

onUnauthorized((message) => showLogin(message));
// A first visit gets 401 too; only a session that ended (idle, too old) is worth saying.
api('GET', '/session').then(start, (err) => showLogin(err.status !== 401 || /ended|expired/i.test(err.message) ? err.message : ''));
