// The CamDigiKey login page's poll (members/camdigikey/web.ts). It asks /login/status once a
// second and, once the user has answered in the app, follows the redirect the service chose.
// Everything it needs comes from the page's data attributes (escaped HTML), never from request
// data written into a script, and it only ever navigates to an http(s) address.
const root = document.getElementById('login');
const state = document.getElementById('state');
const statusUrl = root && root.dataset.statusUrl;

function say(text) {
  if (state) state.textContent = text;
}

async function poll() {
  try {
    const res = await fetch(statusUrl, { cache: 'no-store', credentials: 'same-origin' });
    const answer = await res.json();
    if (answer.state === 'INVALID') return say('This login link is not valid. Start the login again from the website.');
    if (answer.redirect) {
      const target = new URL(answer.redirect, window.location.href);
      if (target.protocol !== 'https:' && target.protocol !== 'http:') return say('The website gave a return address this page will not open.');
      say(answer.state === 'APPROVED' ? 'Approved. Returning to the website…' : 'Returning to the website…');
      window.location.assign(target.href);
      return;
    }
  } catch {
    // A network hiccup: ask again on the next turn.
  }
  setTimeout(poll, 1000);
}

if (statusUrl) poll();
