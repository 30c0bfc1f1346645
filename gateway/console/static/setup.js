// The one-time setup URL (…/console/setup#CODE): the code is in the fragment, which the browser
// never sends, and leaves the address bar and the history before it is used. It opens one session.
import { api } from './api.js';
import { el } from './dom.js';

const code = location.hash.slice(1);
history.replaceState(null, '', location.pathname);
const main = document.getElementById('main');

function refused(message) {
  main.replaceChildren(
    el(
      'section',
      { 'data-page': 'setup-refused' },
      el('p', { class: 'error', role: 'alert', id: 'setup-refused', text: message }),
      el('p', {}, el('a', { href: '/console', text: 'Sign in with the admin token' }), ' instead: it is the file admin-token in the gateway directory.'),
    ),
  );
}

if (!code) refused('This address carries no setup code: open the whole link the gateway printed when it started.');
else
  api('POST', '/session', { setupCode: code }).then(
    () => location.replace('/console#setup'),
    (err) => refused(err.message),
  );
