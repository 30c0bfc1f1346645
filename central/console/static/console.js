import { api, onUnauthorized, setCsrf } from './api.js';
import { el, form } from './dom.js';
import { PAGES } from './pages.js';

const main = document.getElementById('main');
const nav = document.getElementById('nav');
const who = document.getElementById('who');
// What a page hands to its next rendering: a token to show once, the audit filter.
const state = {};
let current;

function showLogin(message) {
  current = undefined;
  setCsrf('');
  nav.hidden = true;
  nav.replaceChildren();
  who.replaceChildren();
  window.onhashchange = null;
  main.replaceChildren(
    el(
      'section',
      { 'data-page': 'sign-in' },
      message ? el('p', { class: 'note', role: 'status', id: 'sign-in-message', text: message }) : '',
      form(
        'Sign in',
        [
          { name: 'name', label: 'User name' },
          { name: 'password', label: 'Password', type: 'password' },
        ],
        'Sign in',
        async (v) => {
          start(await api('POST', '/session', v));
        },
      ),
    ),
  );
}

function pageName() {
  const name = location.hash.slice(1);
  return PAGES[name] ? name : 'members';
}

async function show(session) {
  const name = pageName();
  const page = PAGES[name];
  for (const a of nav.querySelectorAll('a')) a.classList.toggle('current', a.dataset.page === name);
  const out = el('section', { 'data-page': name });
  const reload = () => (current === session ? show(session) : undefined);
  try {
    if (page.adminOnly && session.role !== 'administrator') throw new Error('only administrators see this page');
    await page.render(out, reload, state, session);
  } catch (err) {
    if (err.status === 401) return; // onUnauthorized has shown the sign-in page
    out.append(el('p', { class: 'error', role: 'alert', text: err.message }));
  }
  if (current === session) main.replaceChildren(el('h2', { text: page.title }), out);
}

function start(session) {
  current = session;
  setCsrf(session.csrfToken);
  const signOut = el('button', { id: 'sign-out', type: 'button', text: 'Sign out' });
  signOut.addEventListener('click', async () => {
    await api('DELETE', '/session').catch(() => {});
    showLogin('Signed out.');
  });
  who.replaceChildren(el('span', { id: 'user', text: `${session.name} (${session.role})` }), signOut);
  nav.replaceChildren(
    ...Object.entries(PAGES)
      .filter(([, p]) => !p.adminOnly || session.role === 'administrator')
      .map(([key, p]) => el('a', { href: `#${key}`, 'data-page': key, text: p.nav ?? p.title })),
  );
  nav.hidden = false;
  window.onhashchange = () => show(session);
  return show(session);
}

onUnauthorized((message) => showLogin(message));
// A first visit gets 401 too; only a session that ended (idle, too old, password changed) is worth saying.
api('GET', '/session').then(start, (err) => showLogin(err.status !== 401 || /ended|expired/i.test(err.message) ? err.message : ''));
