import { api, apiIfServed, idPath } from './api.js';
import { actionButton, el, form } from './dom.js';
import { centralAnswer } from './pages-rights.js';

/**
 * Maintenance mode as the polled configuration has it; "in progress" while a change this page
 * sent is not carried yet (the request reached central, the next poll brings it).
 */
function maintenanceStatus(m, sent) {
  const carried = sent === undefined || sent.maintenance === m.maintenance;
  const now = m.maintenance ? el('span', { class: 'fail', text: `in maintenance mode: ${m.message || '(no message)'}` }) : el('span', { class: 'ok', text: 'in service' });
  return el(
    'p',
    { class: 'maintenance-status', 'data-maintenance': String(m.maintenance) },
    el('strong', { text: 'Now: ' }),
    now,
    carried ? '' : [' — ', el('span', { class: 'pending', text: `${sent.maintenance ? 'maintenance on' : 'maintenance off'}: in progress` })],
  );
}

function maintenanceControls(m, reload, state) {
  const on = form('Maintenance mode on', [{ name: 'message', label: 'Message to callers', placeholder: 'upgrading until 14:00' }], 'Turn on', async (v) => {
    const r = await api('POST', '/maintenance', { message: v.message.trim() });
    state.maintenanceSent = { maintenance: true };
    state.serverNotice = centralAnswer('Maintenance mode on', r);
    await reload();
  });
  const off = actionButton('End maintenance mode', { class: 'maintenance-off' }, async () => {
    const r = await api('DELETE', '/maintenance');
    state.maintenanceSent = { maintenance: false };
    state.serverNotice = centralAnswer('Maintenance mode off', r);
    await reload();
  });
  return [m.maintenance ? el('div', { class: 'buttons' }, off) : '', el('div', { class: 'forms' }, on)];
}

const addressForm = (reload, state) =>
  form('Change the server address', [{ name: 'address', label: 'New address (host:port of the peer port)', placeholder: 'ss1.acme.example:5500' }], 'Change', async (v) => {
    const r = await api('PUT', '/server/address', { address: v.address.trim() });
    state.serverNotice = centralAnswer(`Address ${r.address ?? v.address.trim()}`, r);
    await reload();
  });

export const server = {
  title: 'Server state',
  nav: 'Server',
  async render(out, reload, state) {
    const m = await apiIfServed('GET', '/maintenance');
    if (m === undefined) {
      out.append(el('p', { class: 'note', id: 'not-served', text: 'This gateway does not serve /api/v1/maintenance yet.' }));
      return;
    }
    // The configuration carries what was sent: nothing is in progress any more.
    if (state.maintenanceSent?.maintenance === m.maintenance) state.maintenanceSent = undefined;
    const notice = state.serverNotice ?? '';
    state.serverNotice = undefined;
    out.append(
      notice,
      el(
        'p',
        { class: 'summary' },
        actionButton('Reload', { class: 'reload' }, reload),
        `What takes ${m.server} out of service and back. Each is a request signed by the owner; central applies a reduction (maintenance on) at once, and callers see it within a poll.`,
      ),
      el('h3', { text: 'Maintenance mode' }),
      maintenanceStatus(m, state.maintenanceSent),
      el('p', { class: 'note where', text: "Callers' gateways skip a server in maintenance when its provider has another; else they answer Server.ClientProxy.MaintenanceMode with the message." }),
      ...maintenanceControls(m, reload, state),
      el('h3', { text: 'Address' }),
      el('p', { class: 'note where', text: 'Peers use the new address once the global configuration carries it (they pin the authentication certificate, not the address).' }),
      el('div', { class: 'forms' }, addressForm(reload, state)),
    );
  },
};

/**
 * A client's disable, enable and delete (ug-ss §4.7; clientDisable, clientEnable, clientDeletion):
 * what central answered goes into `state.clientsNotice`, shown on the next rendering.
 */
export function clientActions(c, reload, state) {
  const act = (label, cls, method, suffix, what, here) =>
    actionButton(label, { class: cls, 'data-client': c.id }, async () => {
      state.clientsNotice = centralAnswer(`${what} ${c.id}`, await api(method, `/clients/${idPath(c.id)}${suffix}`), here);
      await reload();
    });
  // GET /clients may not say whether a client is disabled: then both are offered, and central refuses the one that does not apply.
  return el(
    'div',
    { class: 'buttons' },
    c.disabled === true ? '' : act('Disable', 'disable', 'POST', '/disable', 'Disabling', 'disabled here now'),
    c.disabled === false ? '' : act('Enable', 'enable', 'POST', '/enable', 'Enabling'),
    act('Delete', 'delete', 'DELETE', '', 'Deleting'),
  );
}
