import { api } from './api.js';
import { el, form } from './dom.js';

const done = (yes, text) => el('li', { class: yes ? 'ok' : 'pending', 'data-done': yes ? 'yes' : 'no' }, el('span', { text: yes ? '✓ ' : '○ ' }), text);

function ownerForm(reload) {
  return form(
    'Owner and server code',
    [
      { name: 'ownerId', label: 'Owner member', placeholder: 'CAMDX/COM/ACME' },
      { name: 'serverCode', label: 'Server code', placeholder: 'SS1' },
    ],
    'Save',
    async (v) => {
      await api('POST', '/initialization', { ownerId: v.ownerId.trim(), serverCode: v.serverCode.trim() });
      await reload();
    },
  );
}

/** X-Road's initial configuration, then what keeps the consumer and peer ports closed; watched until they open. */
export const setup = {
  title: 'Set-up',
  async render(out, reload, state) {
    const s = await api('GET', '/initialization/status');
    if (s.serverId) document.getElementById('server').textContent = s.serverId;
    if (s.ready) {
      // Set up: the whole console, with every page.
      history.replaceState(null, '', '/console#keys');
      return void location.reload();
    }
    out.append(
      el('p', {
        class: 'note',
        text:
          'This security server carries no traffic yet: its consumer and peer ports stay closed until it has an owner, a signing and an authentication ' +
          "certificate, and central's global configuration lists the authentication certificate.",
      }),
      el(
        'ol',
        { class: 'setup-steps' },
        done(s.serverOwnerInitialized, s.serverId ? `owner and server code: ${s.serverId}` : 'owner and server code'),
        done(s.certificates.signing, 'signing certificate imported'),
        done(s.certificates.auth, 'authentication certificate imported'),
        done(s.authCertRegistered, 'authentication certificate registered with central and listed in its configuration'),
      ),
      el(
        'p',
        { class: 'setup-next', id: 'setup-next' },
        el('strong', { text: 'Next: ' }),
        s.next,
        s.step === 'certificates' || s.step === 'registration' ? [' — ', el('a', { href: '#keys', text: 'Keys and certificates' })] : '',
      ),
      s.serverOwnerInitialized ? '' : ownerForm(reload),
    );
    // Until the ports open, look again every 2 s: registration ends with central's next configuration, not a click.
    clearTimeout(state.setupTimer);
    if (s.serverOwnerInitialized) state.setupTimer = setTimeout(() => location.hash === '#setup' && reload(), 2000);
  },
};
