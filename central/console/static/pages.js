import { api, idPath, refusalText } from './api.js';
import { actionButton, el, form, table } from './dom.js';
import { ADMIN_PAGES } from './pages-admin.js';

/** An enrolment token, in its own box. It lives only in `state` until the next rendering, so it is shown once. */
export function tokenBox(label, enrolment) {
  const tok = enrolment && (enrolment.signing ?? enrolment.auth);
  if (!tok) return el('p', { class: 'note', role: 'status', text: `${label}: done (no PKI configured, so no enrolment token)` });
  return el(
    'div',
    { class: 'token', role: 'status' },
    el('strong', { text: `${label}: enrolment token (${tok.profile ?? 'certificate'}), shown once, expires ${tok.expiresAt}` }),
    el('code', { text: tok.token }),
  );
}
export function takeNotice(state) {
  const box = el('div', { class: 'notice' }, state.notice ?? '');
  state.notice = undefined;
  return box;
}
export const list = (xs) => (xs.length ? xs.join(', ') : '—');
const short = (hash) => el('code', { title: hash, text: `${hash.slice(0, 16)}…` });

const members = {
  title: 'Members and subsystems',
  nav: 'Members',
  async render(out, reload, state) {
    const rows = await api('GET', '/members');
    const enrol = (m) =>
      actionButton('New signing token', { class: 'enrol' }, async () => {
        state.notice = tokenBox(`Member ${m.id}`, { signing: await api('POST', `/members/${idPath(m.id)}/enrolments`) });
        await reload();
      });
    const remove = (m) =>
      actionButton('Remove', { class: 'remove' }, async () => {
        await api('DELETE', `/members/${idPath(m.id)}`);
        await reload();
      });
    out.append(
      takeNotice(state),
      table(
        ['Member', 'Name', 'Subsystems', ''],
        rows.map((m) => [m.id, m.name, list(m.subsystems), el('div', { class: 'buttons' }, enrol(m), remove(m))]),
      ),
      el(
        'div',
        { class: 'forms' },
        form(
          'Add member',
          [
            { name: 'id', label: 'Member id', placeholder: 'CAMDX/COM/ACME' },
            { name: 'name', label: 'Name' },
          ],
          'Add member',
          async (v) => {
            const r = await api('POST', '/members', v);
            state.notice = tokenBox(`Member ${r.member.id}`, r.enrolment);
            await reload();
          },
        ),
        form('Add subsystem', [{ name: 'id', label: 'Subsystem id', placeholder: 'CAMDX/COM/ACME/APP' }], 'Add subsystem', async (v) => {
          const r = await api('POST', '/subsystems', v);
          state.notice = el('p', { class: 'note', role: 'status', text: `Subsystem ${r.id} added; it signs with its member's key, so it needs no token of its own.` });
          await reload();
        }),
      ),
    );
  },
};

const servers = {
  title: 'Security servers',
  nav: 'Servers',
  async render(out, reload, state) {
    const rows = await api('GET', '/servers');
    const enrol = (s) =>
      actionButton('New auth token', { class: 'enrol' }, async () => {
        state.notice = tokenBox(`Server ${s.id}`, await api('POST', `/servers/${idPath(s.id)}/enrolments`));
        await reload();
      });
    const remove = (s) =>
      actionButton('Remove', { class: 'remove' }, async () => {
        await api('DELETE', `/servers/${idPath(s.id)}`);
        await reload();
      });
    const certs = (s) => ((s.authCertHashes ?? []).length ? el('div', {}, s.authCertHashes.map(short)) : '—');
    out.append(
      takeNotice(state),
      table(
        ['Server', 'Owner', 'Address', 'Auth certificates (SHA-256)', 'Clients', ''],
        rows.map((s) => [s.id, s.owner, s.address, certs(s), list(s.clients ?? []), el('div', { class: 'buttons' }, enrol(s), remove(s))]),
      ),
      el(
        'div',
        { class: 'forms' },
        form(
          'Add security server',
          [
            { name: 'id', label: 'Server id', placeholder: 'CAMDX/COM/ACME/SS1' },
            { name: 'address', label: 'Address', placeholder: 'ss1.acme.example:5500' },
          ],
          'Add server',
          async (v) => {
            const r = await api('POST', '/servers', v);
            state.notice = tokenBox(`Server ${r.server.id}`, r.enrolment);
            await reload();
          },
        ),
        form(
          'Add client to a server',
          [
            { name: 'server', label: 'Server', options: rows.map((s) => s.id) },
            { name: 'client', label: 'Client subsystem', placeholder: 'CAMDX/COM/ACME/APP' },
          ],
          'Add client',
          async (v) => {
            await api('POST', `/servers/${idPath(v.server)}/clients`, { client: v.client });
            await reload();
          },
        ),
      ),
    );
  },
};

const services = {
  title: 'Services',
  async render(out) {
    const rows = await api('GET', '/services');
    const doc = (s) =>
      s.openApi
        ? el(
            'div',
            {},
            el('a', { href: `/catalogue/services/${idPath(s.id)}/openapi.yaml`, text: 'openapi.yaml' }),
            ' ',
            el('a', { href: `/catalogue/services/${idPath(s.id)}/openapi.json`, text: 'openapi.json' }),
            el('details', {}, el('summary', { text: `document (${s.openApi.length} characters)` }), el('pre', { text: s.openApi })),
          )
        : '—';
    out.append(
      table(
        ['Service', 'Provider', 'Endpoints', 'OpenAPI document'],
        rows.map((s) => [
          s.id,
          s.provider,
          el(
            'ul',
            { class: 'plain' },
            s.endpoints.map((e) => el('li', {}, el('code', { text: `${e.method} ${e.path}` }))),
          ),
          doc(s),
        ]),
      ),
      el('p', { class: 'note' }, 'Every service, rendered, is in the ', el('a', { href: '/catalogue', text: 'API catalogue' }), '.'),
    );
  },
};

const rights = {
  title: 'Access rights',
  nav: 'Rights',
  async render(out, reload) {
    const [held, svcs, mems, groups] = await Promise.all([api('GET', '/access-rights'), api('GET', '/services'), api('GET', '/members'), api('GET', '/groups')]);
    const subjects = [...new Set([...mems.flatMap((m) => m.subsystems.map((code) => `${m.id}/${code}`)), ...groups.map((g) => g.id), ...held.map((r) => r.subject)])].sort();
    // Rebuilt by every reload, so after a grant both inputs are back to "any method, any path".
    const method = el(
      'select',
      { name: 'method' },
      ['*', 'GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'].map((m) => el('option', { value: m, text: m })),
    );
    const path = el('input', { name: 'path', value: '/**', size: 24 });
    const fieldError = Object.fromEntries(['method', 'path'].map((f) => [f, el('span', { class: 'error field-error', 'data-field': f, role: 'alert' })]));
    const cell = (subject, service) =>
      el(
        'div',
        { class: 'cell' },
        held
          .filter((r) => r.subject === subject && r.service === service.id)
          .map((r) =>
            el(
              'span',
              { class: 'right' },
              actionButton(
                `✕ ${r.method} ${r.path}`,
                { class: 'revoke', title: `revoke ${r.method} ${r.path} (origin ${r.origin})`, 'data-right': r.id, 'data-subject': subject, 'data-service': service.id },
                async () => {
                  await api('DELETE', `/access-rights/${r.id}`);
                  await reload();
                },
              ),
              // Who made it: central's console or API, or the provider's signed request.
              el('small', { class: 'origin', 'data-origin': r.origin, text: r.origin.startsWith('request:') ? ` by ${r.origin}` : '' }),
            ),
          ),
        actionButton('+ grant', { class: 'grant', 'data-subject': subject, 'data-service': service.id }, async () => {
          for (const e of Object.values(fieldError)) e.textContent = '';
          try {
            await api('POST', '/access-rights', { subject, service: service.id, method: method.value, path: path.value });
          } catch (err) {
            // A bad method or path is the narrowing inputs' fault: say so next to them, not in the cell.
            if (!fieldError[err.field]) throw err;
            fieldError[err.field].textContent = refusalText(err);
            return;
          }
          await reload();
        }),
      );
    out.append(
      el(
        'p',
        { class: 'narrow' },
        el('label', {}, 'A grant is narrowed to method ', method, fieldError.method),
        el('label', {}, ' and path ', path, fieldError.path),
        el('span', { class: 'note', text: ' (an endpoint pattern: /items/*, /items/**, /items/{id})' }),
      ),
      el(
        'div',
        { class: 'scroll' },
        table(
          ['Subject \\ service', ...svcs.map((s) => s.id)],
          subjects.map((subj) => [subj, ...svcs.map((s) => cell(subj, s))]),
          'no subsystems or groups yet',
        ),
      ),
    );
  },
};

const groups = {
  title: 'Global groups',
  nav: 'Groups',
  async render(out, reload) {
    const rows = await api('GET', '/groups');
    const code = (g) => g.code ?? g.id.split('/')[1];
    const memberList = (g) =>
      g.members.length
        ? el(
            'ul',
            { class: 'plain' },
            g.members.map((m) =>
              el(
                'li',
                {},
                m,
                ' ',
                actionButton('✕', { class: 'remove', title: `remove ${m}` }, async () => {
                  await api('DELETE', `/groups/${encodeURIComponent(code(g))}/members/${idPath(m)}`);
                  await reload();
                }),
              ),
            ),
          )
        : '—';
    out.append(
      table(
        ['Group', 'Description', 'Members'],
        rows.map((g) => [g.id, g.description, memberList(g)]),
      ),
      el(
        'div',
        { class: 'forms' },
        form(
          'Add global group',
          [
            { name: 'code', label: 'Code' },
            { name: 'description', label: 'Description' },
          ],
          'Add group',
          async (v) => {
            await api('POST', '/groups', v);
            await reload();
          },
        ),
        form(
          'Add group member',
          [
            { name: 'group', label: 'Group', options: rows.map(code) },
            { name: 'member', label: 'Subsystem', placeholder: 'CAMDX/COM/ACME/APP' },
          ],
          'Add to group',
          async (v) => {
            await api('POST', `/groups/${encodeURIComponent(v.group)}/members`, { member: v.member });
            await reload();
          },
        ),
      ),
    );
  },
};

export const PAGES = { members, servers, services, rights, groups, ...ADMIN_PAGES };
